// Sends one mirrored request to one upstream, once: same method, path, query and end-to-end
// headers; never a retry. The body is read up to the cap, then only hashed.
import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';
import type { Answer } from './answer';

export interface MirroredRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body?: Buffer;
}

// RFC 9110 section 7.6.1, plus what undici sets itself (host, content-length) or refuses (expect).
const HOP_BY_HOP = new Set([
  'connection',
  'content-length',
  'expect',
  'host',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The headers to send upstream: the received ones minus hop-by-hop ones and those Connection names. */
export function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const listed = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase()),
  );
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  // Host names the upstream Service (a sidecar routes on it); the host the user called is kept here.
  if (headers.host !== undefined && out['x-forwarded-host'] === undefined) out['x-forwarded-host'] = headers.host;
  return out;
}

export type UpstreamFailure = 'timeout' | 'refused' | 'reset' | 'other';

export class UpstreamError extends Error {
  override name = 'UpstreamError';
  constructor(
    readonly failure: UpstreamFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

function classify(err: unknown, timedOut: boolean): UpstreamError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const message = (err as Error).message ?? String(err);
  if (timedOut || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return new UpstreamError('timeout', `timed out: ${message}`, { cause: err });
  if (code === 'ECONNREFUSED') return new UpstreamError('refused', `connection refused: ${message}`, { cause: err });
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE')
    return new UpstreamError('reset', `connection reset: ${message}`, { cause: err });
  return new UpstreamError('other', message, { cause: err });
}

export class Upstream {
  private readonly pool: Pool;
  private readonly prefix: string;

  constructor(
    readonly url: URL,
    private readonly timeoutMs: number,
    private readonly maxBodyBytes: number,
  ) {
    this.pool = new Pool(url.origin, { keepAliveTimeout: 30_000 });
    this.prefix = url.pathname.replace(/\/+$/, '');
  }

  /** The answer, or an UpstreamError saying why there is none. */
  async send(request: MirroredRequest): Promise<Answer> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await this.pool.request({
        method: request.method,
        path: this.prefix + request.url,
        headers: forwardedHeaders(request.headers),
        body: request.body,
        signal,
      });
      const chunks: Buffer[] = [];
      let hash: Hash | undefined;
      let length = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        length += chunk.length;
        if (hash) hash.update(chunk);
        else if (length <= this.maxBodyBytes) chunks.push(chunk);
        else {
          // Past the cap: hash what was kept and everything after, keep nothing.
          hash = createHash('sha256');
          for (const kept of chunks) hash.update(kept);
          hash.update(chunk);
          chunks.length = 0;
        }
      }
      return {
        status: response.statusCode,
        headers: response.headers,
        body: hash ? { length, sha256: hash.digest('hex') } : Buffer.concat(chunks, length),
      };
    } catch (err) {
      throw classify(err, signal.aborted);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
