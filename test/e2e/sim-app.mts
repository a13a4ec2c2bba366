// One simulated application pod for the end-to-end tests: an HTTP server whose
// error rate and latency come from the profile of its image tag.
// Run by test/e2e/pods.ts as `node test/e2e/sim-app.mts` (Node strips the types),
// one process per ready pod, on 127.0.0.1. It prints `{"port":N}` on stdout once it
// listens, and exits when its stdin closes, so it never outlives the test process.
// In the node tier it is the entrypoint of a real container (hack/node/images.sh):
// SIM_PORT set, it listens on every address of the pod and ends on SIGTERM only.
//
//   SIM_PROFILES  JSON: {"<tag>": {"errorRate": 0.005, "latencyMs": 20, "latencySpread": 0.25, "body": "json"}, ...}
//   SIM_TAG       the pod's image tag, a key of SIM_PROFILES
//   SIM_PORT      listen on 0.0.0.0:SIM_PORT (a container); absent: 127.0.0.1, a random port
//   SIM_READY_AFTER_MS  /healthz answers 503 until this long after the start (a slow-starting app)
//
// GET /         500 with probability errorRate (overload.errorRate above overload.rps), else 200,
//               after a latency drawn around latencyMs; with body "json" the answer is an order list (below)
// GET /healthz  200 (503 before SIM_READY_AFTER_MS), not counted
// GET /metrics  prom-client: http_requests_total{code,method} and the
//               http_request_duration_seconds histogram, for requests to / only
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';

export interface SimProfile {
  /** Probability that GET / answers 500. */
  errorRate: number;
  /** Median latency of GET /, in milliseconds. */
  latencyMs: number;
  /** Log-normal spread (sigma) of the latency; 0 makes it constant. Default 0.25: p99 ≈ 1.8 × the median. */
  latencySpread?: number;
  /**
   * A version that fails only under load: above `rps` requests per second to this pod (counted over the
   * last second), GET / answers 500 with probability `errorRate` instead. Light test traffic passes.
   */
  overload?: { rps: number; errorRate: number };
  /**
   * What a 200 from GET / carries: "text" (default) `ok`, or "json": `{"orders":[...],"generatedAt":"<now>"}`
   * with a random `x-request-id` header. Two versions that answer "json" give the same answer but for
   * those two, which differ on every request (what parallelRun.compare's ignores are for).
   */
  body?: 'text' | 'json';
  /**
   * With body "json": every `differEvery`-th answer of this process to GET / (the 50th, the 100th, ...:
   * deterministic, 1/differEvery of its answers) has a different total in its second order.
   */
  differEvery?: number;
}

/** The buckets, in seconds, suit latencies from a few milliseconds to seconds. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

function profileFromEnv(): SimProfile {
  const tag = process.env.SIM_TAG ?? '';
  let profiles: Record<string, SimProfile>;
  try {
    profiles = JSON.parse(process.env.SIM_PROFILES ?? '') as Record<string, SimProfile>;
  } catch (err) {
    throw new Error(`SIM_PROFILES is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const profile = profiles[tag];
  if (!profile)
    throw new Error(`no profile for image tag "${tag}"; SIM_PROFILES has: ${Object.keys(profiles).join(', ')}`);
  if (!(profile.errorRate >= 0 && profile.errorRate <= 1)) throw new Error(`errorRate of "${tag}" must be in [0, 1]`);
  if (!(profile.latencyMs >= 0)) throw new Error(`latencyMs of "${tag}" must be >= 0`);
  if (profile.differEvery !== undefined && !(Number.isInteger(profile.differEvery) && profile.differEvery >= 1))
    throw new Error(`differEvery of "${tag}" must be a whole number >= 1`);
  return profile;
}

/** A standard normal draw (Box-Muller). */
function normal(): number {
  const u = 1 - Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
}

const profile = profileFromEnv();
const spread = profile.latencySpread ?? 0.25;
const registry = new Registry();
const requests = new Counter({
  name: 'http_requests_total',
  help: 'Requests to /, by status code and method',
  labelNames: ['code', 'method'],
  registers: [registry],
});
const duration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Latency of requests to /, in seconds',
  labelNames: ['code', 'method'],
  buckets: DURATION_BUCKETS,
  registers: [registry],
});
// Both series exist from the first scrape: rate() and increase() ignore the first sample of a
// series, so an error series born at 1 would hide this pod's first error from every query.
for (const code of ['200', '500']) {
  requests.inc({ code, method: 'GET' }, 0);
  duration.zero({ code, method: 'GET' });
}

/** The JSON answer; the `differing` one has another total in its second order. */
function ordersBody(differing: boolean): string {
  return JSON.stringify({
    orders: [
      { id: 1, item: 'book', total: 10 },
      { id: 2, item: 'lamp', total: differing ? 26 : 25 },
    ],
    generatedAt: new Date().toISOString(),
  });
}
let answered = 0;

/** Arrival times of the requests to / in the last second, for the overload profile. */
const recent: number[] = [];

const readyAt = Date.now() + Number(process.env.SIM_READY_AFTER_MS ?? 0);
const server = createServer((req, res) => {
  const url = req.url ?? '/';
  if (url === '/healthz') {
    if (Date.now() < readyAt) res.writeHead(503, { 'content-type': 'text/plain' }).end('starting\n');
    else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  if (url === '/metrics') {
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(err.message),
    );
    return;
  }
  if (url !== '/' && !url.startsWith('/?')) {
    res.writeHead(404).end();
    return;
  }
  const started = process.hrtime.bigint();
  const now = Date.now();
  recent.push(now);
  while (recent.length > 0 && recent[0]! <= now - 1_000) recent.shift();
  const overloaded = profile.overload !== undefined && recent.length > profile.overload.rps;
  const errorRate = overloaded ? profile.overload!.errorRate : profile.errorRate;
  const code = Math.random() < errorRate ? 500 : 200;
  const delayMs = profile.latencyMs * Math.exp(spread * normal());
  setTimeout(() => {
    const method = req.method ?? 'GET';
    const labels = { code: String(code), method };
    requests.inc(labels);
    duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    if (code === 200 && profile.body === 'json') {
      answered++;
      const differing = profile.differEvery !== undefined && answered % profile.differEvery === 0;
      res
        .writeHead(200, { 'content-type': 'application/json', 'x-request-id': Math.random().toString(36).slice(2) })
        .end(ordersBody(differing));
      return;
    }
    res.writeHead(code, { 'content-type': 'text/plain' }).end(code === 200 ? 'ok\n' : 'simulated error\n');
  }, delayMs);
});
server.keepAliveTimeout = 60_000;

const containerPort = process.env.SIM_PORT ? Number(process.env.SIM_PORT) : undefined;
server.listen(containerPort ?? 0, containerPort ? '0.0.0.0' : '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});

// The parent holds our stdin open; when it closes it (or goes away), drain and exit. The pod
// mirror has already taken us out of the endpoints, so only requests in flight can still come:
// give them a moment to arrive, answer them, then close (which also drops idle keep-alive sockets).
let ending = false;
function drainAndExit(): void {
  if (ending) return;
  ending = true;
  setTimeout(() => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 5_000).unref();
  }, 300);
}
if (containerPort === undefined) {
  process.stdin.resume();
  process.stdin.on('end', drainAndExit);
  process.stdin.on('error', drainAndExit);
}
process.on('SIGTERM', drainAndExit);
