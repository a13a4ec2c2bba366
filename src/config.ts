// Operator settings from flags (`--name value`, `--name=value`, bare `--flag` for a boolean)
// and environment variables (MSOP_NAME); a flag wins over the environment. A new setting is
// one line in FLAGS and one in loadConfig.
import { parseArgs } from 'node:util';
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
  /** The Lease's name; two releases in one namespace need two names (the chart sets <fullname>-leader). */
  leaderElectionId: string;
  /** Only Microservices whose labels match this selector are reconciled here (one shard); unset: all. */
  shardSelector?: string;
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

interface Flag {
  type: 'string' | 'boolean';
  /** What --help shows as the value. */
  value?: string;
  help: string;
}

/** Every flag; each is read from the environment too, as MSOP_<NAME>. */
const FLAGS = {
  'watch-namespaces': { type: 'string', value: 'a,b', help: 'namespaces to watch (default: all)' },
  concurrency: { type: 'string', value: 'N', help: 'Microservices reconciled at once (default 10)' },
  'resync-seconds': {
    type: 'string',
    value: 'N',
    help: 'reconcile every Microservice at least this often (default 600)',
  },
  'log-level': { type: 'string', value: 'LEVEL', help: `${LOG_LEVELS.join(', ')} (default info)` },
  'log-format': { type: 'string', value: 'FORMAT', help: 'json, or pretty for people (default json)' },
  'default-resources': { type: 'string', value: 'JSON', help: 'container resources when a Microservice sets none' },
  'leader-elect': { type: 'boolean', help: 'only the holder of the Lease reconciles (default false)' },
  'leader-election-namespace': { type: 'string', value: 'NS', help: 'namespace of the Lease (default POD_NAMESPACE)' },
  'leader-election-id': { type: 'string', value: 'NAME', help: 'name of the Lease (default msop-leader)' },
  'health-port': { type: 'string', value: 'PORT', help: '/healthz and /readyz; 0 picks a free port (default 8081)' },
  'metrics-port': { type: 'string', value: 'PORT', help: '/metrics; 0 picks a free port (default 8080)' },
  'prometheus-address': { type: 'string', value: 'URL', help: 'Prometheus for analyses that name none' },
  'prometheus-auth-secret': { type: 'string', value: '[NS/]NAME', help: "Secret with that Prometheus' credentials" },
  'default-router': { type: 'string', value: 'ROUTER', help: `${TRAFFIC_ROUTERS.join(', ')} (default replicas)` },
  'default-analysis': { type: 'string', value: 'JSON', help: 'spec.release.analysis for Microservices that set none' },
  'comparator-image': { type: 'string', value: 'IMAGE', help: "the comparator pods' image (the operator's own)" },
  'shard-selector': {
    type: 'string',
    value: 'SELECTOR',
    help: 'reconcile only Microservices with these labels (a shard)',
  },
} as const satisfies Record<string, Flag>;

type FlagName = keyof typeof FLAGS;

const envName = (flag: string) => `MSOP_${flag.toUpperCase().replaceAll('-', '_')}`;

/** True when the arguments ask for --help (or -h): main prints usage() and exits 0. */
export function helpRequested(argv: string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

export function usage(): string {
  const rows = Object.entries(FLAGS as Record<string, Flag>).map(([name, flag]) => [
    `  --${name}${flag.value ? ` ${flag.value}` : ''}`,
    `${flag.help}; env ${envName(name)}`,
  ]);
  const width = Math.max(...rows.map(([left]) => left!.length)) + 2;
  return [
    'Usage: msop [flags]',
    '',
    'The msop operator. Flags take --name value or --name=value; a boolean may be bare (--leader-elect)',
    'or --name=true|false. Each flag can also be set by its environment variable; a flag wins.',
    '',
    ...rows.map(([left, right]) => left!.padEnd(width) + right),
    '  -h, --help'.padEnd(width) + 'show this help',
    '',
  ].join('\n');
}

/** --flag=true|false for a boolean, as Go's flag package takes it; parseArgs wants --flag / --no-flag. */
function normalizeBooleans(argv: string[]): string[] {
  return argv.map((arg) => {
    const match = /^--([a-z0-9-]+)=(.*)$/s.exec(arg);
    if (!match || (FLAGS as Record<string, Flag>)[match[1]!]?.type !== 'boolean') return arg;
    if (match[2] === 'true') return `--${match[1]}`;
    if (match[2] === 'false') return `--no-${match[1]}`;
    throw new ConfigError(`--${match[1]} must be true or false, got "${match[2]}"`);
  });
}

function parseFlags(argv: string[]): Partial<Record<FlagName, string | boolean>> {
  try {
    return parseArgs({
      args: normalizeBooleans(argv),
      options: { ...FLAGS, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
      allowNegative: true,
    }).values;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const { code, message } = err as { code?: string; message: string };
    const named = /'([^']+)'/.exec(message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      throw new ConfigError(`Unknown flag ${named}: msop --help lists the flags`, { cause: err });
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
      throw new ConfigError(`Unexpected argument "${named}": msop takes flags only (--name value or --name=value)`, {
        cause: err,
      });
    throw new ConfigError(`${message} (msop --help lists the flags)`, { cause: err });
  }
}

function settings(argv: string[], env: NodeJS.ProcessEnv): (name: FlagName) => string | undefined {
  const flags = parseFlags(argv);
  return (name) => {
    const value = flags[name];
    return value === undefined ? env[envName(name)] : String(value);
  };
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

// A Kubernetes quantity as resource requirements take it: 100m, 0.5, 128Mi, 1e3 (no sign: never negative).
const QUANTITY = /^(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;
const RESOURCES_EXAMPLE = '{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"memory":"256Mi"}}';

/** --default-resources: requests and limits of resource names to quantities, checked before any Pod needs them. */
function resourceRequirements(raw: string | undefined): V1ResourceRequirements | undefined {
  const value = jsonObject<Record<string, unknown>>('default-resources', raw, RESOURCES_EXAMPLE);
  if (!value) return undefined;
  for (const [section, quantities] of Object.entries(value)) {
    if (section !== 'requests' && section !== 'limits')
      throw new ConfigError(`--default-resources takes "requests" and "limits" only, got "${section}"`);
    if (typeof quantities !== 'object' || quantities === null || Array.isArray(quantities))
      throw new ConfigError(`--default-resources: ${section} must be an object like {"cpu":"100m"}`);
    for (const [resource, quantity] of Object.entries(quantities as Record<string, unknown>)) {
      const valid =
        (typeof quantity === 'string' && QUANTITY.test(quantity)) ||
        (typeof quantity === 'number' && Number.isFinite(quantity) && quantity >= 0);
      if (!valid)
        throw new ConfigError(
          `--default-resources: ${section}.${resource} must be a quantity such as "100m", "0.5" or "128Mi", got ${JSON.stringify(quantity)}`,
        );
    }
  }
  return value as V1ResourceRequirements;
}

// One requirement of a label selector, as the API server parses it: key, !key, key=v, key==v, key!=v,
// key in (a,b), key notin (a,b). A bad selector is refused at start rather than failing every list.
const LABEL_KEY = '([A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const LABEL_VALUE = '([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?';
const REQUIREMENT = new RegExp(
  `^(!?${LABEL_KEY}|${LABEL_KEY}\\s*(==?|!=)\\s*${LABEL_VALUE}|${LABEL_KEY}\\s+(in|notin)\\s*\\(\\s*${LABEL_VALUE}(\\s*,\\s*${LABEL_VALUE})*\\s*\\))$`,
);

function labelSelector(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const requirements = raw.split(/,(?![^(]*\))/).map((r) => r.trim());
  const bad = requirements.find((r) => !REQUIREMENT.test(r));
  if (bad !== undefined)
    throw new ConfigError(
      `--${name} must be a label selector such as msop.dev/shard=b or !msop.dev/shard; "${bad}" is not a requirement`,
    );
  return requirements.join(',');
}

/** The Lease's name: a DNS subdomain, as the API server checks it. */
function leaseName(raw: string | undefined): string {
  if (raw === undefined || raw === '') return 'msop-leader';
  if (!DNS_SUBDOMAIN.test(raw))
    throw new ConfigError(
      `--leader-election-id must be a Lease name (lower-case letters, digits, '-' and '.'), got "${raw}"`,
    );
  return raw;
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
  const defaultResources = resourceRequirements(get('default-resources')) ?? DEFAULT_RESOURCES;
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
    concurrency: positiveInt('concurrency', get('concurrency'), 10),
    resyncSeconds: positiveInt('resync-seconds', get('resync-seconds'), 600),
    logLevel,
    logFormat,
    defaultResources,
    leaderElect,
    ...(leaderElectionNamespace ? { leaderElectionNamespace } : {}),
    leaderElectionId: leaseName(get('leader-election-id')),
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
    ...optional('shardSelector', labelSelector('shard-selector', get('shard-selector'))),
  };
}
