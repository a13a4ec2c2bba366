// The comparator's command line: `msop comparator --primary=URL --candidate=URL [flags]`.
// The operator renders these flags into the comparator pod; a bad one exits 2 before anything listens.
import { parseArgs } from 'node:util';
import { DurationError, parseDuration } from '../api/duration';
import { JsonPathError, type PathSegment, parseJsonPath } from './json-path';

export type RespondMode = 'immediately' | 'after-comparison';

export interface ComparatorOptions {
  primary: URL;
  candidate: URL;
  secondary?: URL;
  port: number;
  metricsPort: number;
  /** Lower-case. */
  ignoreHeaders: string[];
  /** As written, for logs and /differences. */
  ignoreJsonPathsText: string[];
  ignoreJsonPaths: PathSegment[][];
  route: string;
  maxExamples: number;
  timeoutMs: number;
  maxBodyBytes: number;
  /** Methods whose counters start at 0, so Prometheus sees the first difference as an increase. */
  methods: string[];
  maxInFlight: number;
  respond: RespondMode;
  logLevel: string;
}

export class FlagError extends Error {
  override name = 'FlagError';
}

export const USAGE = `Usage: msop comparator --primary=URL --candidate=URL [flags]

Receives mirrored requests, sends each to the primary (the old version, trusted) and to the
candidate (the new version), compares the answers and exports Prometheus counters.

  --primary=URL            the old version, trusted (required), e.g. http://orders-baseline.shop.svc:80
  --candidate=URL          the new version (required), e.g. http://orders-canary.shop.svc:80
  --secondary=URL          a second copy of the old version; primary-vs-secondary differences count as noise
  --port=8080              where mirrored requests arrive
  --metrics-port=9102      GET /metrics, /healthz and /differences (JSON)
  --ignore-header=NAME     a response header not compared (repeatable, case-insensitive)
  --ignore-json-path=PATH  a JSON body field not compared: $.a.b, $.items[0].id, $.items[*].id (repeatable)
  --route=NAME             the route label of the counters (default "default")
  --max-examples=5         differing requests kept as examples
  --timeout=5s             per upstream request; the comparator never retries
  --max-body-bytes=1048576 larger bodies are compared by length and sha256 only
  --methods=GET,HEAD,OPTIONS  methods whose counters are exported at 0 from the start
  --max-in-flight=1000     comparisons running at once; more are dropped and counted
  --respond=immediately    answer each mirrored request with 204 at once, or after-comparison
  --log-level=info         debug logs each upstream error
  --help                   this text
`;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function int(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max)
    throw new FlagError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return value;
}

function upstream(name: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FlagError(`--${name} must be a URL such as http://orders-canary.shop.svc:80, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new FlagError(`--${name} must be an http or https URL, got "${raw}"`);
  if (url.search || url.hash || url.username || url.password)
    throw new FlagError(`--${name} takes no query, fragment or credentials, got "${raw}"`);
  return url;
}

/** Throws FlagError; returns undefined for --help. */
export function parseComparatorFlags(argv: string[]): ComparatorOptions | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        primary: { type: 'string' },
        candidate: { type: 'string' },
        secondary: { type: 'string' },
        port: { type: 'string', default: '8080' },
        'metrics-port': { type: 'string', default: '9102' },
        'ignore-header': { type: 'string', multiple: true, default: [] },
        'ignore-json-path': { type: 'string', multiple: true, default: [] },
        route: { type: 'string', default: 'default' },
        'max-examples': { type: 'string', default: '5' },
        timeout: { type: 'string', default: '5s' },
        'max-body-bytes': { type: 'string', default: '1048576' },
        methods: { type: 'string', default: 'GET,HEAD,OPTIONS' },
        'max-in-flight': { type: 'string', default: '1000' },
        respond: { type: 'string', default: 'immediately' },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new FlagError((err as Error).message, { cause: err });
  }
  if (values.help) return undefined;
  if (values.primary === undefined) throw new FlagError('--primary=URL is required: the old version to trust');
  if (values.candidate === undefined) throw new FlagError('--candidate=URL is required: the new version');
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(values.timeout);
  } catch (err) {
    if (err instanceof DurationError) throw new FlagError(`--timeout: ${err.message}`);
    throw err;
  }
  if (timeoutMs <= 0) throw new FlagError(`--timeout must be more than 0, got "${values.timeout}"`);
  const ignoreJsonPaths = values['ignore-json-path'].map((path) => {
    try {
      return parseJsonPath(path);
    } catch (err) {
      if (err instanceof JsonPathError) throw new FlagError(`--ignore-json-path: ${err.message}`);
      throw err;
    }
  });
  const ignoreHeaders = values['ignore-header'].map((name) => {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      throw new FlagError(`--ignore-header must be a header name such as x-request-id, got "${name}"`);
    return name.toLowerCase();
  });
  if (values.route === '') throw new FlagError('--route must not be empty');
  const methods = values.methods
    .split(',')
    .map((m) => m.trim().toUpperCase())
    .filter((m) => m !== '');
  const badMethod = methods.find((m) => !/^[A-Z]+$/.test(m));
  if (badMethod !== undefined)
    throw new FlagError(`--methods must list HTTP methods like GET,HEAD, got "${badMethod}"`);
  if (values.respond !== 'immediately' && values.respond !== 'after-comparison')
    throw new FlagError(`--respond must be immediately or after-comparison, got "${values.respond}"`);
  if (!LOG_LEVELS.includes(values['log-level']))
    throw new FlagError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${values['log-level']}"`);
  const options: ComparatorOptions = {
    primary: upstream('primary', values.primary),
    candidate: upstream('candidate', values.candidate),
    port: int('port', values.port, 0, 65535),
    metricsPort: int('metrics-port', values['metrics-port'], 0, 65535),
    ignoreHeaders,
    ignoreJsonPathsText: values['ignore-json-path'],
    ignoreJsonPaths,
    route: values.route,
    maxExamples: int('max-examples', values['max-examples'], 0, 100),
    timeoutMs,
    maxBodyBytes: int('max-body-bytes', values['max-body-bytes'], 1, 256 * 2 ** 20),
    methods,
    maxInFlight: int('max-in-flight', values['max-in-flight'], 1, 100_000),
    respond: values.respond,
    logLevel: values['log-level'],
  };
  if (values.secondary !== undefined) options.secondary = upstream('secondary', values.secondary);
  return options;
}
