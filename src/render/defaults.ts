// The same defaults the CRD schema applies, so a spec that skipped admission defaulting
// (a unit test, an older stored object) renders the same objects.
import type { V1ResourceRequirements } from '@kubernetes/client-node';
import { TRACK_CANARY, TRACK_PREVIEW } from '../api/constants';
import type { MicroserviceSpec, ServicePort, TrafficSettings } from '../api/types';

export const DEFAULT_PORTS: readonly ServicePort[] = [{ name: 'http', containerPort: 8080, servicePort: 80 }];
export const DEFAULT_REPLICAS = 1;
export const DEFAULT_MIN_REPLICAS = 1;
export const DEFAULT_CPU_UTILIZATION = 80;
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
export const DEFAULT_PROTOCOL = 'TCP';
export const REVISION_HISTORY_LIMIT = 3;

/** The declared ports, or the default port list when none are declared. */
export function portsOf(spec: MicroserviceSpec): readonly ServicePort[] {
  return spec.ports && spec.ports.length > 0 ? spec.ports : DEFAULT_PORTS;
}

/** The first port is the primary one: default probes target it. */
export function primaryPort(spec: MicroserviceSpec): ServicePort {
  return portsOf(spec)[0]!;
}

/** The most replicas the Microservice asks for: the HPA ceiling under autoscaling, else spec.replicas. */
export function desiredReplicas(spec: MicroserviceSpec): number {
  return spec.autoscaling ? spec.autoscaling.maxReplicas : (spec.replicas ?? DEFAULT_REPLICAS);
}

/** Operator-wide settings render needs (from the Helm values). */
export interface RenderDefaults {
  /** Container resources when spec.resources is absent, e.g. requests {cpu: 100m, memory: 128Mi}, limits {memory: 256Mi}. */
  resources: V1ResourceRequirements;
  /** The operator's own image, which also runs the comparator of a parallel run (--comparator-image). */
  comparatorImage?: string;
}

export const isCanary = (spec: MicroserviceSpec): boolean => spec.release?.strategy === 'Canary';
export const isBlueGreen = (spec: MicroserviceSpec): boolean => spec.release?.strategy === 'BlueGreen';
/** A strategy that runs the new revision beside the stable one (Canary or BlueGreen), rather than Rolling. */
export const isProgressive = (spec: MicroserviceSpec): boolean => isCanary(spec) || isBlueGreen(spec);

/** The traffic settings of the release strategy: release.canary.traffic, or release.blueGreen.traffic. */
export const trafficOf = (spec: MicroserviceSpec): TrafficSettings | undefined =>
  isBlueGreen(spec) ? spec.release?.blueGreen?.traffic : spec.release?.canary?.traffic;

/** The traffic router of a release; replicas when none is set. */
export const routerOf = (spec: MicroserviceSpec): 'replicas' | 'gatewayAPI' | 'istio' | 'nginx' =>
  trafficOf(spec)?.router ?? 'replicas';

/** The track of the new revision's ReplicaSet: canary, or preview under BlueGreen. */
export const newTrackOf = (spec: MicroserviceSpec): string => (isBlueGreen(spec) ? TRACK_PREVIEW : TRACK_CANARY);
