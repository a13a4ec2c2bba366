// The operator's HTTP endpoints, on two ports as controller-runtime has them: the
// probes (/healthz, /readyz) on one, /metrics on the other, so the metrics port can
// be exposed by a Service while the probe port stays for the kubelet.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger';
import type { OperatorMetrics } from './metrics';

export interface ServerOptions {
  /** 0 picks a free port. */
  healthPort: number;
  /** 0 picks a free port. */
  metricsPort: number;
  /** Ready once the informers have synced. */
  ready: () => boolean;
  metrics: OperatorMetrics;
  /** Where to listen; all interfaces by default. */
  host?: string;
}

export interface RunningServers {
  healthPort: number;
  metricsPort: number;
  close: () => Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

function reply(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

function route(routes: Record<string, Handler>, log: Logger): Handler {
  return async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const handler = routes[path];
    if (!handler) return reply(res, 404, 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'method not allowed\n');
    try {
      await handler(req, res);
    } catch (err) {
      log.error({ path, err }, 'HTTP handler failed');
      if (!res.headersSent) reply(res, 500, 'internal error\n');
    }
  };
}

function listen(handler: Handler, port: number, host: string | undefined, flag: string): Promise<Server> {
  const server = createServer((req, res) => void handler(req, res));
  // Probes and scrapes are short; never let an idle keep-alive connection hold shutdown up.
  server.keepAliveTimeout = 5_000;
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
      resolve(server);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startServers(options: ServerOptions, log: Logger): Promise<RunningServers> {
  const health = await listen(
    route(
      {
        '/healthz': (_req, res) => reply(res, 200, 'ok\n'),
        '/readyz': (_req, res) =>
          options.ready() ? reply(res, 200, 'ok\n') : reply(res, 503, 'informers have not synced yet\n'),
      },
      log,
    ),
    options.healthPort,
    options.host,
    'health-port',
  );
  let metrics: Server;
  try {
    metrics = await listen(
      route(
        {
          '/metrics': async (_req, res) => {
            const { contentType, body } = await options.metrics.render();
            reply(res, 200, body, contentType);
          },
        },
        log,
      ),
      options.metricsPort,
      options.host,
      'metrics-port',
    );
  } catch (err) {
    await close(health);
    throw err;
  }
  const healthPort = (health.address() as AddressInfo).port;
  const metricsPort = (metrics.address() as AddressInfo).port;
  log.info({ healthPort, metricsPort }, 'Serving /healthz and /readyz, and /metrics');
  return {
    healthPort,
    metricsPort,
    close: async () => {
      await Promise.all([close(health), close(metrics)]);
    },
  };
}
