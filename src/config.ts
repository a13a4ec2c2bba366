// Operator settings from flags (--name=value) and environment variables
// (MSOP_NAME); a flag wins over the environment.
import type { V1ResourceRequirements } from '@kubernetes/client-node';

export interface OperatorConfig {
  /** Namespaces to watch; empty means all namespaces. */
  watchNamespaces: string[];
  /** Microservices reconciled at the same time. */
  concurrency: number;
  /** Every Microservice is reconciled at least this often, even with no event. */
  resyncSeconds: number;
  logLevel: string;
  logFormat: 'json' | 'pretty';
  /** Container resources for Microservices that set none. */
  defaultResources: V1ResourceRequirements;
  /** Only the holder of the Lease reconciles; the others keep warm caches and wait. */
  leaderElect: boolean;
  /** Where the Lease lives: --leader-election-namespace, else POD_NAMESPACE. */
  leaderElectionNamespace?: string;
  /** /healthz and /readyz; 0 picks a free port. */
  healthPort: number;
  /** /metrics; 0 picks a free port. */
  metricsPort: number;
  /** Prometheus for analyses that name none. */
  prometheusAddress?: string;
  /**
   * The Secret with the credentials of the operator's Prometheus ("name" in the operator's namespace, POD_NAMESPACE,
   * or "namespace/name"); used for analyses whose Prometheus address is the operator's own.
   */
  prometheusAuthSecret?: { namespace?: string; name: string };
  /** Traffic router for Microservices that name none. */
  defaultRouter: TrafficRouter;
  /** spec.release.analysis for Microservices that set none; undefined when not configured. */
  defaultAnalysis?: Record<string, unknown>;
  /** The operator's own image, run as the comparator of a parallel run (the chart sets it). */
  comparatorImage?: string;
}

export const TRAFFIC_ROUTERS = ['replicas', 'gatewayAPI', 'istio', 'nginx'] as const;
export type TrafficRouter = (typeof TRAFFIC_ROUTERS)[number];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const DEFAULT_RESOURCES: V1ResourceRequirements = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { memory: '256Mi' },
};

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

function settings(argv: string[], env: NodeJS.ProcessEnv): (name: string) => string | undefined {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z0-9-]+)=(.*)$/.exec(arg);
    if (!match) throw new ConfigError(`Unknown argument "${arg}": flags take the form --name=value`);
    flags.set(match[1]!, match[2]!);
  }
  return (name) => flags.get(name) ?? env[`MSOP_${name.toUpperCase().replaceAll('-', '_')}`];
}

function port(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535)
    throw new ConfigError(`--${name} must be a port number from 0 to 65535 (0 picks a free port), got "${raw}"`);
  return value;
}

function bool(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ConfigError(`--${name} must be true or false, got "${raw}"`);
}

// RFC 1123 names as Kubernetes checks them: a namespace is a label, a Secret name a subdomain.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function namespaceName(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!DNS_LABEL.test(raw))
    throw new ConfigError(`--${name} must be a namespace name (lower-case letters, digits and '-'), got "${raw}"`);
  return raw;
}

function httpUrl(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(
      `--${name} must be an http or https URL such as http://prometheus.monitoring:9090, got "${raw}"`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(
      `--${name} must be an http or https URL such as http://prometheus.monitoring:9090, got "${raw}"`,
    );
  return raw.replace(/\/+$/, '');
}

function secretRef(name: string, raw: string | undefined): { namespace?: string; name: string } | undefined {
  if (raw === undefined || raw === '') return undefined;
  const parts = raw.split('/');
  const valid =
    (parts.length === 1 && DNS_SUBDOMAIN.test(parts[0]!)) ||
    (parts.length === 2 && DNS_LABEL.test(parts[0]!) && DNS_SUBDOMAIN.test(parts[1]!));
  if (!valid) throw new ConfigError(`--${name} must be a Secret name, or namespace/name, got "${raw}"`);
  return parts.length === 2 ? { namespace: parts[0]!, name: parts[1]! } : { name: parts[0]! };
}

/** A bare Secret name lives in the operator's own namespace (POD_NAMESPACE), as the chart's RBAC grants it. */
function authSecret(
  raw: string | undefined,
  podNamespace: string | undefined,
): { namespace?: string; name: string } | undefined {
  const ref = secretRef('prometheus-auth-secret', raw);
  if (!ref || ref.namespace || !podNamespace) return ref;
  return { namespace: podNamespace, name: ref.name };
}

function jsonObject<T>(name: string, raw: string | undefined, example: string): T | undefined {
  if (raw === undefined || raw === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`--${name} must be JSON like ${example}: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(`--${name} must be a JSON object like ${example}, got ${JSON.stringify(value)}`);
  return value as T;
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigError(`--${name} must be a positive whole number, got "${raw}"`);
  return value;
}

/** Leaves a setting out when unset, so the config holds no undefined values. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

export function loadConfig(
  argv: string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): OperatorConfig {
  const get = settings(argv, env);
  const logLevel = get('log-level') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const logFormat = get('log-format') ?? 'json';
  if (logFormat !== 'json' && logFormat !== 'pretty')
    throw new ConfigError(`--log-format must be json or pretty, got "${logFormat}"`);
  let defaultResources = DEFAULT_RESOURCES;
  const resources = get('default-resources');
  if (resources) {
    try {
      defaultResources = JSON.parse(resources) as V1ResourceRequirements;
    } catch (err) {
      throw new ConfigError(
        `--default-resources must be JSON like {"requests":{"cpu":"100m"}}: ${(err as Error).message}`,
      );
    }
  }
  const leaderElect = bool('leader-elect', get('leader-elect'), false);
  const leaderElectionNamespace =
    namespaceName('leader-election-namespace', get('leader-election-namespace')) ??
    namespaceName('leader-election-namespace', env.POD_NAMESPACE);
  if (leaderElect && !leaderElectionNamespace)
    throw new ConfigError(
      '--leader-elect=true needs the namespace of the Lease: set --leader-election-namespace or POD_NAMESPACE',
    );
  const defaultRouter = get('default-router') || 'replicas';
  if (!(TRAFFIC_ROUTERS as readonly string[]).includes(defaultRouter))
    throw new ConfigError(`--default-router must be one of ${TRAFFIC_ROUTERS.join(', ')}, got "${defaultRouter}"`);
  const healthPort = port('health-port', get('health-port'), 8081);
  const metricsPort = port('metrics-port', get('metrics-port'), 8080);
  if (healthPort !== 0 && healthPort === metricsPort)
    throw new ConfigError(`--health-port and --metrics-port must differ, both are ${healthPort}`);
  return {
    watchNamespaces: (get('watch-namespaces') ?? '')
      .split(',')
      .map((ns) => ns.trim())
      .filter((ns) => ns !== ''),
    concurrency: positiveInt('concurrency', get('concurrency'), 4),
    resyncSeconds: positiveInt('resync-seconds', get('resync-seconds'), 600),
    logLevel,
    logFormat,
    defaultResources,
    leaderElect,
    ...(leaderElectionNamespace ? { leaderElectionNamespace } : {}),
    healthPort,
    metricsPort,
    ...optional('prometheusAddress', httpUrl('prometheus-address', get('prometheus-address'))),
    ...optional('prometheusAuthSecret', authSecret(get('prometheus-auth-secret'), env.POD_NAMESPACE)),
    defaultRouter: defaultRouter as TrafficRouter,
    ...optional(
      'defaultAnalysis',
      jsonObject<Record<string, unknown>>(
        'default-analysis',
        get('default-analysis'),
        '{"interval":"1m","metrics":[{"name":"success-rate","template":"request-success-rate"}]}',
      ),
    ),
    ...optional('comparatorImage', get('comparator-image') || undefined),
  };
}
