// The effective Microservice: its own spec, then the Environment that selects its namespace, then the
// operator's flags and Helm values, then msop's built-in defaults. Pure: the caller passes the Environments,
// the namespace's labels and the operator's settings in, and gets the effective Microservice with where each
// defaulted field came from, or the error a person must fix (two Environments, an exceeded limit).
import type { V1EnvVar, V1ResourceRequirements } from '@kubernetes/client-node';
import type { Environment, EnvironmentDefaults } from '../api/environment.generated';
import type { EnvFromSource, Microservice, MicroserviceSpec } from '../api/types';
import { cloneJson } from '../render/clone';
import { DEFAULT_PROGRESS_DEADLINE_SECONDS, DEFAULT_REPLICAS, desiredReplicas } from '../render/defaults';
import { selects } from './selector';

/** The operator's settings that fill fields a Microservice and its Environment leave unset. */
export interface OperatorDefaults {
  /** --default-resources: used by render when neither the Microservice nor the Environment sets resources. */
  resources: V1ResourceRequirements;
  /** --default-router: the traffic router of Canary and BlueGreen releases that name none. */
  router: string;
  /** --default-analysis: the analysis of Canary and BlueGreen releases, under the Microservice's and the Environment's fields. */
  analysis?: Record<string, unknown>;
  /** --prometheus-address: the Prometheus of analyses that name none. */
  prometheusAddress?: string;
}

/** One field of the effective spec that the Microservice leaves unset. */
export interface DefaultedField {
  /** The path under spec: replicas, release.canary.stepWeight, env[ENVIRONMENT], envFrom[configMapRef=settings]. */
  field: string;
  /** Environment/<name>, operator or built-in. */
  source: string;
  /** The value, as JSON. */
  value: string;
}

export type Resolution =
  | { ok: true; microservice: Microservice; environment?: string; defaulted: DefaultedField[] }
  | {
      ok: false;
      reason: string;
      message: string;
      /** False for a passing state (the namespace is not in the cache yet): retry with backoff. */
      terminal: boolean;
    };

export const SOURCE_OPERATOR = 'operator';
export const SOURCE_BUILT_IN = 'built-in';
export const environmentSource = (name: string): string => `Environment/${name}`;

type Json = Record<string, unknown>;
interface Layer {
  source: string;
  value: Json;
}

/** Merged whole: a higher layer that sets them replaces them, never merged key by key. */
const ATOMIC = new Set([
  'resources.requests',
  'resources.limits',
  'placement.nodeSelector',
  'placement.affinity',
  'disruptionBudget',
  'release.analysis.prometheus.headers',
  'release.analysis.prometheus.authSecretRef',
]);
/** Explicit steps and the shorthand exclude each other: the highest layer that defines either wins. */
const SHORTHAND = ['stepWeight', 'maxWeight', 'stepInterval'];

/**
 * Resolves the effective Microservice. `namespaceLabels` is undefined when the namespace is not known
 * (yet): that is retried rather than guessed, since it could select an Environment.
 */
export function resolveMicroservice(
  microservice: Microservice,
  environments: readonly Environment[],
  namespaceLabels: Record<string, string> | undefined,
  operator: OperatorDefaults,
): Resolution {
  const namespace = microservice.metadata.namespace ?? '';
  if (namespaceLabels === undefined) {
    return {
      ok: false,
      reason: 'NamespaceUnknown',
      message: `Namespace ${namespace} is not in msop's cache yet, so its Environment is not known; retrying`,
      terminal: false,
    };
  }
  const selecting = environments
    .filter((env) => selects(env.spec?.namespaceSelector, namespaceLabels))
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  if (selecting.length > 1) {
    const names = selecting.map((env) => env.metadata?.name ?? '');
    return {
      ok: false,
      reason: 'AmbiguousEnvironment',
      message:
        `Namespace ${namespace} is selected by ${names.length} Environments (${names.join(', ')}); msop applies none ` +
        `of them and leaves what runs untouched. Change the namespaceSelector of all but one, or the namespace's labels`,
      terminal: true,
    };
  }
  const environment = selecting[0];
  const envName = environment?.metadata?.name;
  const envSource = envName ? environmentSource(envName) : '';
  const own = microservice.spec;

  // The strategy decides which release defaults apply: canary or blueGreen settings, and analysis for either.
  const strategy = own.release?.strategy ?? environment?.spec.defaults?.release?.strategy;
  const progressive = strategy === 'Canary' || strategy === 'BlueGreen' ? strategy : undefined;
  const layers: Layer[] = [
    { source: '', value: withoutLists(own) },
    ...(environment
      ? [{ source: envSource, value: environmentLayer(environment.spec.defaults ?? {}, own, progressive) }]
      : []),
    ...(progressive ? [{ source: SOURCE_OPERATOR, value: operatorLayer(operator, progressive) }] : []),
  ];
  exclusiveSteps(layers);
  const origins = new Map<string, { source: string; value: unknown }>();
  const merged = mergeLayers(layers, '', origins) as unknown as MicroserviceSpec;

  const defaulted: DefaultedField[] = [];
  for (const [field, { source, value }] of origins) {
    if (source !== '') defaulted.push({ field, source, value: JSON.stringify(value) });
  }

  // env and envFrom: the Environment's entries first, so the Microservice's own win.
  const ownNames = new Set((own.env ?? []).map((e) => e.name));
  const addedEnv = ((environment?.spec.env ?? []) as V1EnvVar[]).filter((e) => !ownNames.has(e.name));
  for (const entry of addedEnv)
    defaulted.push({ field: `env[${entry.name}]`, source: envSource, value: JSON.stringify(entry) });
  const addedEnvFrom = environment?.spec.envFrom ?? [];
  for (const entry of addedEnvFrom)
    defaulted.push({ field: `envFrom[${envFromKey(entry)}]`, source: envSource, value: JSON.stringify(entry) });
  const spec: MicroserviceSpec = { ...merged };
  if (addedEnv.length > 0 || own.env) spec.env = [...addedEnv, ...(own.env ?? [])];
  if (addedEnvFrom.length > 0 || own.envFrom) spec.envFrom = [...addedEnvFrom, ...(own.envFrom ?? [])];

  const invalid = invalidRouter(spec, origins);
  if (invalid) return { ok: false, reason: 'InvalidTraffic', message: invalid, terminal: true };

  const maxReplicas = environment?.spec.limits?.maxReplicas;
  const asked = desiredReplicas(spec);
  if (maxReplicas !== undefined && asked > maxReplicas) {
    const field = spec.autoscaling ? 'spec.autoscaling.maxReplicas' : 'spec.replicas';
    const from = spec.autoscaling || own.replicas !== undefined ? '' : ` (from ${envSource}'s defaults.replicas)`;
    return {
      ok: false,
      reason: 'EnvironmentLimitExceeded',
      message:
        `${field} asks for ${asked} replicas${from}, more than the ${maxReplicas} that Environment ${envName} allows ` +
        `(spec.limits.maxReplicas); msop leaves what runs untouched. Lower ${field}, or raise the limit`,
      terminal: true,
    };
  }

  defaulted.push(...reported(spec, origins, operator));
  defaulted.sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
  return {
    ok: true,
    microservice: { ...microservice, spec },
    ...(envName ? { environment: envName } : {}),
    defaulted,
  };
}

/** The Microservice's own fields, without env and envFrom (added separately: they are lists merged by entry). */
function withoutLists(spec: MicroserviceSpec): Json {
  const rest = cloneJson(spec) as unknown as Json;
  delete rest.env;
  delete rest.envFrom;
  return rest;
}

function environmentLayer(
  defaults: EnvironmentDefaults,
  own: MicroserviceSpec,
  strategy: 'Canary' | 'BlueGreen' | undefined,
): Json {
  const layer = cloneJson(defaults) as Json & EnvironmentDefaults;
  // Under autoscaling the HorizontalPodAutoscaler decides the replicas.
  if (own.autoscaling) delete layer.replicas;
  if (layer.release) {
    if (strategy !== 'Canary') delete layer.release.canary;
    if (strategy !== 'BlueGreen') delete layer.release.blueGreen;
    if (!strategy) delete layer.release.analysis;
  }
  return layer;
}

function operatorLayer(operator: OperatorDefaults, strategy: 'Canary' | 'BlueGreen'): Json {
  return {
    release: {
      [strategy === 'Canary' ? 'canary' : 'blueGreen']: { traffic: { router: operator.router } },
      ...(operator.analysis ? { analysis: cloneJson(operator.analysis) } : {}),
    },
  };
}

/** The highest layer that defines steps or the shorthand decides which of the two the release uses. */
function exclusiveSteps(layers: Layer[]): void {
  const canaryOf = (layer: Layer) => (layer.value.release as Json | undefined)?.canary as Json | undefined;
  const first = layers.find((layer) => {
    const c = canaryOf(layer);
    return c !== undefined && (c.steps !== undefined || SHORTHAND.some((key) => c[key] !== undefined));
  });
  if (!first) return;
  const explicit = canaryOf(first)!.steps !== undefined;
  for (const layer of layers) {
    const c = canaryOf(layer);
    if (!c || layer === first) continue;
    if (explicit) for (const key of SHORTHAND) delete c[key];
    else if (layers.indexOf(layer) > layers.indexOf(first)) delete c.steps;
  }
}

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Objects merge key by key; lists, scalars and the ATOMIC paths come whole from the first layer that sets them. */
function mergeLayers(layers: Layer[], path: string, origins: Map<string, { source: string; value: unknown }>): Json {
  const out: Json = {};
  const keys = [...new Set(layers.flatMap((layer) => Object.keys(layer.value)))];
  for (const key of keys) {
    const field = path === '' ? key : `${path}.${key}`;
    const setting = layers.filter((layer) => layer.value[key] !== undefined);
    if (setting.length === 0) continue;
    const top = setting[0]!;
    const value = top.value[key];
    if (isObject(value) && !ATOMIC.has(field)) {
      const nested = setting
        .filter((layer) => isObject(layer.value[key]))
        .map((layer) => ({ source: layer.source, value: layer.value[key] as Json }));
      out[key] = mergeLayers(nested, field, origins);
    } else {
      out[key] = cloneJson(value);
      origins.set(field, { source: top.source, value });
    }
  }
  return out;
}

function envFromKey(entry: EnvFromSource): string {
  if (entry.configMapRef) return `configMapRef=${entry.configMapRef.name}`;
  if (entry.secretRef) return `secretRef=${entry.secretRef.name}`;
  return JSON.stringify(entry);
}

/** A weighted router needs its own settings; a router that came from a default may find none. */
function invalidRouter(spec: MicroserviceSpec, origins: Map<string, { source: string }>): string | undefined {
  const strategy = spec.release?.strategy;
  if (strategy !== 'Canary' && strategy !== 'BlueGreen') return undefined;
  const block = strategy === 'Canary' ? 'canary' : 'blueGreen';
  const traffic = spec.release?.[block]?.traffic;
  const router = traffic?.router;
  if (router === undefined || router === 'replicas' || traffic?.[router] !== undefined) return undefined;
  const source = origins.get(`release.${block}.traffic.router`)?.source ?? '';
  const from =
    source === SOURCE_OPERATOR
      ? " (the operator's --default-router, Helm value defaults.router)"
      : source
        ? ` (from ${source})`
        : '';
  const needs = {
    gatewayAPI: 'gatewayAPI (httpRoute or parentRefs)',
    istio: 'istio.virtualService',
    nginx: 'nginx.ingress',
  };
  return (
    `release.${block}.traffic.router is ${router}${from}, but release.${block}.traffic.${needs[router]} is not set: ` +
    `set it, or set release.${block}.traffic.router in the Microservice`
  );
}

/** Defaults render applies itself (built-in, and the operator's resources), reported so that explain shows them. */
function reported(
  spec: MicroserviceSpec,
  origins: Map<string, { source: string }>,
  operator: OperatorDefaults,
): DefaultedField[] {
  const out: DefaultedField[] = [];
  const add = (field: string, source: string, value: unknown) =>
    out.push({ field, source, value: JSON.stringify(value) });
  if (!spec.autoscaling && spec.replicas === undefined) add('replicas', SOURCE_BUILT_IN, DEFAULT_REPLICAS);
  if (spec.placement?.spreadAcrossZones === undefined) add('placement.spreadAcrossZones', SOURCE_BUILT_IN, true);
  if (spec.placement?.spreadAcrossNodes === undefined) add('placement.spreadAcrossNodes', SOURCE_BUILT_IN, true);
  if (spec.release?.strategy === undefined) add('release.strategy', SOURCE_BUILT_IN, 'Rolling');
  if (spec.release?.progressDeadlineSeconds === undefined)
    add('release.progressDeadlineSeconds', SOURCE_BUILT_IN, DEFAULT_PROGRESS_DEADLINE_SECONDS);
  if (!spec.disruptionBudget && desiredReplicas(spec) > 1) add('disruptionBudget.maxUnavailable', SOURCE_BUILT_IN, 1);
  for (const part of ['requests', 'limits'] as const) {
    const value = operator.resources[part];
    if (spec.resources?.[part] === undefined && value && Object.keys(value).length > 0)
      add(`resources.${part}`, SOURCE_OPERATOR, value);
  }
  if (spec.release?.analysis && !spec.release.analysis.prometheus?.address && operator.prometheusAddress)
    add('release.analysis.prometheus.address', SOURCE_OPERATOR, operator.prometheusAddress);
  // Leaves the merge already reported are not repeated.
  return out.filter((entry) => !origins.has(entry.field));
}
