import type {
  V1Affinity,
  V1Container,
  V1EnvVar,
  V1PodSpec,
  V1PodTemplateSpec,
  V1ResourceRequirements,
  V1Toleration,
  V1TopologySpreadConstraint,
} from '@kubernetes/client-node';
import { LABEL_TRACK, TRACK_STABLE } from '../api/constants';
import type { Microservice, MicroserviceSpec } from '../api/types';
import { cloneJson } from './clone';
import { compact, nonEmpty, nonEmptyMap } from './compact';
import { DEFAULT_PROTOCOL, portsOf, type RenderDefaults } from './defaults';
import { podLabels, trackSelector } from './labels';
import { deepMerge } from './merge';
import { identityOf } from './ownership';
import { renderProbes } from './probes';
import { canonicalQuantity, compareQuantities, QuantityError } from './quantity';

export const APP_CONTAINER = 'app';
/**
 * How long a terminating pod keeps serving before its container gets SIGTERM: the time for the
 * EndpointSlice change to reach every kube-proxy (or mesh) and stop sending it new connections.
 * Without it, measured on a real node, a rolling update refused or lost ~10% of requests.
 */
export const PRE_STOP_SLEEP_SECONDS = 5;
const TMP_VOLUME = 'tmp';
const ZONE_KEY = 'topology.kubernetes.io/zone';
const HOSTNAME_KEY = 'kubernetes.io/hostname';

/**
 * The stable pod template, before its revision label is added: msop's container and restricted
 * security defaults, then the user's podTemplate override merged on top.
 */
export function renderPodTemplate(microservice: Microservice, defaults: RenderDefaults): V1PodTemplateSpec {
  const { name } = identityOf(microservice);
  const { spec } = microservice;
  const generated: V1PodSpec = compact({
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [appContainer(spec, defaults)],
    // readOnlyRootFilesystem leaves the app a writable /tmp only.
    volumes: [{ name: TMP_VOLUME, emptyDir: {} }],
    // Passed through as written: the CRD keeps these core/v1 shapes unvalidated.
    nodeSelector: nonEmptyMap(spec.placement?.nodeSelector),
    tolerations: nonEmpty(spec.placement?.tolerations) as V1Toleration[] | undefined,
    affinity: spec.placement?.affinity as V1Affinity | undefined,
    topologySpreadConstraints: nonEmpty(spreadConstraints(name, spec)),
  });
  const override = spec.podTemplate ?? {};
  return {
    metadata: compact({
      // msop's labels win: the Deployment selector and the Services depend on them.
      labels: { ...override.metadata?.labels, ...podLabels(name, TRACK_STABLE) },
      annotations: nonEmptyMap(override.metadata?.annotations),
    }),
    spec: deepMerge(generated, override.spec) as V1PodSpec,
  };
}

function appContainer(spec: MicroserviceSpec, defaults: RenderDefaults): V1Container {
  return compact({
    name: APP_CONTAINER,
    image: spec.image,
    imagePullPolicy: spec.imagePullPolicy,
    command: nonEmpty(spec.command),
    args: nonEmpty(spec.args),
    env: nonEmpty(spec.env) as V1EnvVar[] | undefined,
    envFrom: nonEmpty(spec.envFrom),
    // Protocol is always sent: it is part of the ports list-map key under server-side apply.
    ports: portsOf(spec).map((port) => ({
      name: port.name,
      containerPort: port.containerPort,
      protocol: port.protocol ?? DEFAULT_PROTOCOL,
    })),
    resources: resourcesOf(spec, defaults),
    ...renderProbes(spec),
    // The sleep action needs no shell or sleep binary in the image.
    lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SLEEP_SECONDS } } },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [{ name: TMP_VOLUME, mountPath: '/tmp' }],
  });
}

/**
 * Requests and limits each fall back to the operator defaults when unset, as the CRD documents. A default
 * never contradicts what the spec sets: the API server refuses a request above its limit, so a default request
 * above the spec's limit takes the limit (as Kubernetes defaults requests to limits), and a default limit below
 * the spec's request takes the request.
 */
function resourcesOf(spec: MicroserviceSpec, defaults: RenderDefaults): V1ResourceRequirements | undefined {
  const requests = quantities(spec.resources?.requests);
  const limits = quantities(spec.resources?.limits);
  const resources = compact({
    requests: requests ?? boundedBy(quantities(defaults.resources.requests), limits, 1),
    limits: limits ?? boundedBy(quantities(defaults.resources.limits), requests, -1),
  });
  return Object.keys(resources).length > 0 ? resources : undefined;
}

/** The defaults, each replaced by the spec's value for that resource where it compares as `beyond` (1: above). */
function boundedBy(
  defaults: Record<string, string> | undefined,
  own: Record<string, string> | undefined,
  beyond: 1 | -1,
): Record<string, string> | undefined {
  if (!defaults || !own) return defaults;
  const contradicts = (value: string, mine: string): boolean => {
    try {
      return compareQuantities(value, mine) === beyond;
    } catch (err) {
      // A spelling that is no quantity is left for the API server to name.
      if (err instanceof QuantityError) return false;
      throw err;
    }
  };
  return Object.fromEntries(
    Object.entries(defaults).map(([key, value]) => {
      const mine = own[key];
      return [key, mine !== undefined && contradicts(value, mine) ? mine : value];
    }),
  );
}

/** In the API server's canonical form, which is what reading the object back gives. */
function quantities(values: Record<string, number | string> | undefined): Record<string, string> | undefined {
  if (!values) return undefined;
  return nonEmptyMap(Object.fromEntries(Object.entries(values).map(([key, value]) => [key, canonicalOrAsIs(value)])));
}

/** A spelling that is no quantity is sent as written, so the API server's refusal names it. */
function canonicalOrAsIs(value: number | string): string {
  try {
    return canonicalQuantity(value);
  } catch (err) {
    if (err instanceof QuantityError) return String(value);
    throw err;
  }
}

/**
 * Spread across zones and nodes unless turned off. The constraints do not depend on the replica
 * count, so scaling (kubectl scale, an HPA) never changes the template and never starts a release;
 * for a single pod they are harmless. ScheduleAnyway keeps a small or single-zone cluster schedulable.
 */
function spreadConstraints(name: string, spec: MicroserviceSpec): V1TopologySpreadConstraint[] {
  const keys = [
    ...(spec.placement?.spreadAcrossZones !== false ? [ZONE_KEY] : []),
    ...(spec.placement?.spreadAcrossNodes !== false ? [HOSTNAME_KEY] : []),
  ];
  return keys.map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: trackSelector(name, TRACK_STABLE) },
  }));
}

/**
 * The same template for another track (canary, baseline): the track label on the pods and in
 * msop's spread constraints changes, nothing else, so the revision still names the same content.
 */
export function withTrack(template: V1PodTemplateSpec, track: string): V1PodTemplateSpec {
  const copy = cloneJson(template);
  if (copy.metadata?.labels) copy.metadata.labels[LABEL_TRACK] = track;
  for (const constraint of copy.spec?.topologySpreadConstraints ?? []) {
    const matchLabels = constraint.labelSelector?.matchLabels;
    if (matchLabels && LABEL_TRACK in matchLabels) matchLabels[LABEL_TRACK] = track;
  }
  return copy;
}
