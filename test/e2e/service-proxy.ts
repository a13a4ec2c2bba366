// A Service's ClusterIP, played on loopback for the processes the pod mirror runs (the comparator
// calls `<name>-baseline` and `<name>-canary` by their Service URLs): each connection's requests
// go round-robin to the serving simulated apps of the ready pods the Service selects now, as
// kube-proxy would. With no ready pod the connection is reset, as kube-proxy rejects it.
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServiceProxyStats {
  /** Requests forwarded to a pod's app. */
  forwarded: number;
  /** Requests that met no ready pod behind the Service (reset). */
  noReadyEndpoint: number;
  /** Requests that waited for a ready pod's app to start (harness lag). */
  waitedForSimApp: number;
  /** Transport errors towards the app. */
  errors: number;
}

export interface ServiceProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  stats: ServiceProxyStats;
  close(): Promise<void>;
}

export interface ServiceBackends {
  /** Ready pods the Service selects, serving or not. */
  ready: number;
  /** http://127.0.0.1:PORT of those whose app is serving. */
  serving: string[];
}

/** How long a request waits for a ready pod's app to come up. */
const SIM_APP_WAIT_MS = 2_000;

export async function startServiceProxy(backends: () => ServiceBackends): Promise<ServiceProxy> {
  const stats: ServiceProxyStats = { forwarded: 0, noReadyEndpoint: 0, waitedForSimApp: 0, errors: 0 };
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let next = 0;

  const target = async (): Promise<string | undefined> => {
    let found = backends();
    if (found.serving.length === 0 && found.ready > 0) {
      stats.waitedForSimApp++;
      const until = Date.now() + SIM_APP_WAIT_MS;
      while (found.serving.length === 0 && found.ready > 0 && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        found = backends();
      }
    }
    if (found.serving.length === 0) return undefined;
    return found.serving[next++ % found.serving.length];
  };

  const server = createServer((req, res) => {
    void target().then((url) => {
      if (!url) {
        stats.noReadyEndpoint++;
        res.socket?.destroy();
        return;
      }
      stats.forwarded++;
      const upstream = request(
        `${url}${req.url ?? '/'}`,
        { method: req.method, headers: req.headers, agent },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        stats.errors++;
        res.socket?.destroy();
      });
      req.pipe(upstream);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
