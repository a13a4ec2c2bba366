// The comparator's two listeners: mirrored traffic on --port, and /metrics, /healthz and
// /differences on --metrics-port (a mirrored request for /metrics is mirrored traffic like any other).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../observability/logger';
import type { ComparatorOptions } from './flags';
import { ComparatorMetrics } from './metrics';
import { ParallelRun } from './parallel-run';

export interface RunningComparator {
  port: number;
  metricsPort: number;
  close: () => Promise<void>;
}

type ReadBody = { body: Buffer | undefined } | { failed: 'too large' | 'aborted' };

function readBody(req: IncomingMessage, max: number): Promise<ReadBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= max) chunks.push(chunk);
    });
    req.on('end', () =>
      resolve(
        length > max ? { failed: 'too large' } : { body: length > 0 ? Buffer.concat(chunks, length) : undefined },
      ),
    );
    req.on('error', () => resolve({ failed: 'aborted' }));
    // A client that goes away mid-body ends the request without 'end'.
    req.on('close', () => {
      if (!req.complete) resolve({ failed: 'aborted' });
    });
  });
}

function listen(server: Server, port: number, host: string | undefined, flag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`port ${port} is already in use: choose another with --${flag} (0 picks a free one)`, {
              cause: err,
            })
          : err,
      ),
    );
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function reply(res: ServerResponse, status: number, body = '', contentType = 'text/plain; charset=utf-8'): void {
  if (body === '') res.writeHead(status).end();
  else res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
}

/** Starts both listeners; `host` defaults to all interfaces. */
export async function startComparator(
  options: ComparatorOptions,
  log: Logger,
  host?: string,
): Promise<RunningComparator> {
  const metrics = new ComparatorMetrics(options.route, options.methods, options.secondary !== undefined);
  const run = new ParallelRun(options, metrics, log);
  let inFlight = 0;

  const mirror = createServer((req, res) => {
    void (async () => {
      const method = req.method ?? 'GET';
      const read = await readBody(req, options.maxBodyBytes);
      if ('failed' in read) {
        run.failedRequest(method);
        return reply(res, read.failed === 'too large' ? 413 : 400);
      }
      if (inFlight >= options.maxInFlight) {
        metrics.dropped.inc({ route: options.route, method });
        return reply(res, 503);
      }
      // The data plane discards a mirror's answer; answering at once frees its connection.
      if (options.respond === 'immediately') reply(res, 204);
      inFlight++;
      try {
        await run.run({ method, url: req.url ?? '/', headers: req.headers, body: read.body });
      } catch (err) {
        log.error({ err: (err as Error).message }, 'Comparison failed');
      } finally {
        inFlight--;
      }
      if (options.respond === 'after-comparison') reply(res, 204);
    })();
  });
  mirror.keepAliveTimeout = 65_000;

  const admin = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'method not allowed\n');
      if (path === '/healthz') return reply(res, 200, 'ok\n');
      if (path === '/metrics') {
        const { contentType, body } = await metrics.render();
        return reply(res, 200, body, contentType);
      }
      if (path === '/differences')
        return reply(
          res,
          200,
          JSON.stringify({ route: options.route, examples: run.examples.list() }, null, 2) + '\n',
          'application/json',
        );
      return reply(res, 404, 'not found\n');
    })().catch((err: unknown) => {
      log.error({ err: (err as Error).message }, 'HTTP handler failed');
      if (!res.headersSent) reply(res, 500, 'internal error\n');
    });
  });
  admin.keepAliveTimeout = 5_000;

  await listen(mirror, options.port, host, 'port');
  try {
    await listen(admin, options.metricsPort, host, 'metrics-port');
  } catch (err) {
    await close(mirror);
    throw err;
  }
  const port = (mirror.address() as AddressInfo).port;
  const metricsPort = (admin.address() as AddressInfo).port;
  log.info(
    {
      port,
      metricsPort,
      route: options.route,
      primary: options.primary.href,
      candidate: options.candidate.href,
      secondary: options.secondary?.href,
      ignoreHeaders: options.ignoreHeaders,
      ignoreJsonPaths: options.ignoreJsonPathsText,
    },
    'Started comparator',
  );
  return {
    port,
    metricsPort,
    close: async () => {
      await Promise.all([close(mirror), close(admin)]);
      await run.close();
    },
  };
}
