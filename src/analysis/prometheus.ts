import type { Dispatcher } from 'undici';
import { undici } from './undici';
import {
  MultipleSeriesError,
  NaNError,
  NoDataError,
  PrometheusError,
  PrometheusQueryError,
  PrometheusResponseError,
  PrometheusTimeoutError,
  PrometheusUnreachableError,
} from './errors';

/**
 * Where metric values come from. The seam of Flagger's `providers.Interface {RunQuery, IsOnline}`:
 * the judge never sees HTTP, and tests can hand it a table of numbers.
 */
export interface MetricsProvider {
  /** One number: the query must give exactly one finite sample at `at` (default: now). */
  query(promql: string, at?: Date): Promise<number>;
  /** The values of exactly one series between start and end; NaN points are kept as NaN. */
  querySeries(promql: string, start: Date, end: Date, stepSeconds: number): Promise<number[]>;
  /** True when the backend answers a trivial query. */
  isOnline(): Promise<boolean>;
}

export type PrometheusAuth = { type: 'Bearer'; token: string } | { type: 'Basic'; username: string; password: string };

export interface PrometheusOptions {
  /** Base URL; may carry a path prefix (http://mimir/prometheus). */
  address: string;
  timeoutMs?: number;
  headers?: Record<string, string>;
  auth?: PrometheusAuth;
  /** PEM bundle trusted for an https address, in addition to nothing else. */
  ca?: string;
}

export const DEFAULT_PROMETHEUS_TIMEOUT_MS = 10_000;

/** The subset of the Prometheus HTTP API answer we read (prometheus.io/docs/prometheus/latest/querying/api). */
interface ApiResponse {
  status?: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: {
    resultType?: 'vector' | 'matrix' | 'scalar' | 'string';
    result?: unknown;
  };
}

type Sample = [number, string];

/**
 * Turns a Secret's decoded data into credentials: `token` for a bearer token, or `username` and
 * `password` for basic auth, plus an optional `ca.crt`. The caller reads and decodes the Secret.
 */
export function prometheusCredentials(data: Record<string, string>): { auth?: PrometheusAuth; ca?: string } {
  const out: { auth?: PrometheusAuth; ca?: string } = {};
  if (data.token) out.auth = { type: 'Bearer', token: data.token.trim() };
  else if (data.username !== undefined && data.password !== undefined)
    out.auth = { type: 'Basic', username: data.username, password: data.password };
  if (data['ca.crt']) out.ca = data['ca.crt'];
  return out;
}

export class PrometheusProvider implements MetricsProvider {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  // One Agent per custom CA, made at the first query; without one, undici's global dispatcher and
  // system roots apply.
  private dispatcher: Dispatcher | undefined;

  constructor(private readonly options: PrometheusOptions) {
    this.base = options.address.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PROMETHEUS_TIMEOUT_MS;
    this.headers = { ...options.headers, ...authorization(options.auth) };
  }

  async query(promql: string, at?: Date): Promise<number> {
    const params: Record<string, string> = { query: promql };
    if (at) params.time = unixSeconds(at);
    const data = await this.post('/api/v1/query', params, promql);
    switch (data.resultType) {
      case 'scalar':
        return finite(data.result as Sample, promql);
      case 'vector':
      case 'matrix': {
        const series = (data.result ?? []) as { value?: Sample; values?: Sample[] }[];
        if (series.length === 0) throw new NoDataError(promql);
        if (series.length > 1) throw new MultipleSeriesError(series.length, promql);
        const only = series[0]!;
        if (!only.value)
          // An instant query of a bare range selector (foo[5m]) answers a matrix.
          throw new PrometheusQueryError(
            'bad_data',
            'the query returns a range vector; wrap it in a function such as rate() or increase()',
            promql,
          );
        return finite(only.value, promql);
      }
      default:
        throw new PrometheusQueryError('bad_data', `expected a number, got a ${data.resultType} result`, promql);
    }
  }

  /** The labels of each series of an instant vector (info-style series, whose value is always 1). */
  async queryLabels(promql: string): Promise<Record<string, string>[]> {
    const data = await this.post('/api/v1/query', { query: promql }, promql);
    if (data.resultType !== 'vector')
      throw new PrometheusQueryError('bad_data', `expected a vector, got a ${data.resultType} result`, promql);
    return ((data.result ?? []) as { metric?: Record<string, string> }[]).map((series) => series.metric ?? {});
  }

  async querySeries(promql: string, start: Date, end: Date, stepSeconds: number): Promise<number[]> {
    const params = { query: promql, start: unixSeconds(start), end: unixSeconds(end), step: String(stepSeconds) };
    const data = await this.post('/api/v1/query_range', params, promql);
    if (data.resultType !== 'matrix')
      throw new PrometheusQueryError('bad_data', `expected a series, got a ${data.resultType} result`, promql);
    const series = (data.result ?? []) as { values?: Sample[] }[];
    if (series.length === 0) throw new NoDataError(promql);
    if (series.length > 1) throw new MultipleSeriesError(series.length, promql);
    const values = series[0]!.values ?? [];
    if (values.length === 0) throw new NoDataError(promql);
    return values.map(([, value]) => parseValue(value));
  }

  /** Closes the connection pool of a custom CA; a provider is meant to be reused across runs. */
  async close(): Promise<void> {
    await this.dispatcher?.close();
  }

  async isOnline(): Promise<boolean> {
    try {
      return (await this.query('vector(1)')) === 1;
    } catch {
      return false;
    }
  }

  private async post(
    path: string,
    params: Record<string, string>,
    promql: string,
  ): Promise<NonNullable<ApiResponse['data']>> {
    // Prometheus evaluates the query under its own deadline too, so a slow query stops on both sides.
    // Plain seconds: its duration syntax refuses fractions such as "0.5s".
    const form = new URLSearchParams({ ...params, timeout: String(this.timeoutMs / 1000) });
    let status: number;
    let text: string;
    const { Agent, fetch } = await undici();
    if (this.options.ca) this.dispatcher ??= new Agent({ connect: { ca: this.options.ca } });
    try {
      const response = await fetch(this.base + path, {
        method: 'POST',
        headers: { ...this.headers, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
        dispatcher: this.dispatcher,
      });
      status = response.status;
      text = await response.text();
    } catch (err) {
      if (isTimeout(err)) throw new PrometheusTimeoutError(this.options.address, this.timeoutMs, { cause: err });
      throw new PrometheusUnreachableError(this.options.address, describe(err), { cause: err });
    }
    let body: ApiResponse;
    try {
      body = JSON.parse(text) as ApiResponse;
    } catch {
      throw new PrometheusResponseError(this.options.address, status, text);
    }
    if (body.status === 'error') throw new PrometheusQueryError(body.errorType ?? 'error', body.error ?? '', promql);
    if (status < 200 || status > 299 || body.status !== 'success' || !body.data)
      throw new PrometheusResponseError(this.options.address, status, text);
    return body.data;
  }
}

function authorization(auth: PrometheusAuth | undefined): Record<string, string> {
  if (!auth) return {};
  if (auth.type === 'Bearer') return { authorization: `Bearer ${auth.token}` };
  return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
}

function unixSeconds(at: Date): string {
  return (at.getTime() / 1000).toFixed(3);
}

// Prometheus sends sample values as strings so that NaN and ±Inf survive JSON.
function parseValue(value: string): number {
  return value === '+Inf' ? Infinity : value === '-Inf' ? -Infinity : Number(value);
}

function finite(sample: Sample, promql: string): number {
  const value = parseValue(sample[1]);
  if (!Number.isFinite(value)) throw new NaNError(sample[1], promql);
  return value;
}

// Duck-typed: the DOMException that AbortSignal.timeout() raises may come from another realm.
function isTimeout(err: unknown): boolean {
  const named = err as { name?: string; cause?: { name?: string } } | undefined;
  return named?.name === 'TimeoutError' || named?.cause?.name === 'TimeoutError';
}

// fetch() wraps the real reason (ECONNREFUSED, ENOTFOUND, a TLS failure) in `cause`.
function describe(err: unknown): string {
  if (err instanceof PrometheusError) return err.message;
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const detail = cause?.message ?? (err instanceof Error ? err.message : String(err));
  const code = cause?.code;
  const hint =
    code === 'ECONNREFUSED'
      ? '; is Prometheus running and is the port right?'
      : code === 'ENOTFOUND'
        ? '; check the host name in prometheus.address'
        : code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)
          ? '; put the CA that signed its certificate in the auth Secret as ca.crt'
          : '';
  return `${detail}${code && !detail.includes(code) ? ` (${code})` : ''}${hint}`;
}
