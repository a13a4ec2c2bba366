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
}

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

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigError(`--${name} must be a positive whole number, got "${raw}"`);
  return value;
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
  };
}
