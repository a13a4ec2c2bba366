import type { V1Probe } from '@kubernetes/client-node';
import type { MicroserviceSpec, Probe } from '../api/types';
import { compact } from './compact';
import { primaryPort } from './defaults';

/** The container's probes from the shorthand. Readiness defaults to a TCP check on the primary port. */
export function renderProbes(spec: MicroserviceSpec): {
  readinessProbe: V1Probe;
  livenessProbe?: V1Probe;
  startupProbe?: V1Probe;
} {
  const port = primaryPort(spec).containerPort;
  const probes = spec.probes ?? {};
  return compact({
    readinessProbe: toProbe(probes.readiness ?? {}, port),
    livenessProbe: probes.liveness && toProbe(probes.liveness, port),
    startupProbe: probes.startup && toProbe(probes.startup, port),
  });
}

/** Maps one shorthand probe; a handler without a port, or a probe without a handler, targets `defaultPort`. */
export function toProbe(probe: Probe, defaultPort: number): V1Probe {
  return compact({
    ...handlerOf(probe, defaultPort),
    initialDelaySeconds: probe.initialDelaySeconds,
    periodSeconds: probe.periodSeconds,
    timeoutSeconds: probe.timeoutSeconds,
    failureThreshold: probe.failureThreshold,
    successThreshold: probe.successThreshold,
  });
}

function handlerOf(probe: Probe, defaultPort: number): Pick<V1Probe, 'httpGet' | 'tcpSocket' | 'grpc' | 'exec'> {
  if (probe.httpGet) {
    const { path, port, scheme } = probe.httpGet;
    return { httpGet: compact({ path, port: port ?? defaultPort, scheme }) };
  }
  if (probe.grpc) {
    return { grpc: compact({ port: probe.grpc.port ?? defaultPort, service: probe.grpc.service }) };
  }
  if (probe.exec) return { exec: { command: [...probe.exec.command] } };
  return { tcpSocket: { port: probe.tcpSocket?.port ?? defaultPort } };
}
