// The HTTP endpoints on free loopback ports.
import pino from 'pino';
import { OperatorMetrics } from '../../../src/observability/metrics';
import { type RunningServers, startServers } from '../../../src/observability/server';

const log = pino({ level: 'silent' });
let servers: RunningServers;
let ready = false;
const metrics = new OperatorMetrics();

beforeAll(async () => {
  servers = await startServers({ healthPort: 0, metricsPort: 0, host: '127.0.0.1', ready: () => ready, metrics }, log);
});

afterAll(async () => {
  await servers?.close();
});

const get = (port: number, path: string, method = 'GET') => fetch(`http://127.0.0.1:${port}${path}`, { method });

test('listens on two different ports', () => {
  expect(servers.healthPort).toBeGreaterThan(0);
  expect(servers.metricsPort).toBeGreaterThan(0);
  expect(servers.healthPort).not.toBe(servers.metricsPort);
});

test('/healthz is always ok', async () => {
  const res = await get(servers.healthPort, '/healthz');
  expect(res.status).toBe(200);
  expect(await res.text()).toBe('ok\n');
});

test('/readyz is 503 until the informers have synced, then 200', async () => {
  ready = false;
  const before = await get(servers.healthPort, '/readyz');
  expect(before.status).toBe(503);
  expect(await before.text()).toMatch(/not synced/);
  ready = true;
  expect((await get(servers.healthPort, '/readyz')).status).toBe(200);
});

test('/metrics serves the Prometheus text format on the metrics port only', async () => {
  metrics.observeReconcile('success', 0.01);
  const res = await get(servers.metricsPort, '/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const body = await res.text();
  expect(body).toContain('# TYPE controller_runtime_reconcile_total counter');
  expect(body).toContain('controller_runtime_reconcile_total{controller="microservice",result="success"} 1');
  expect((await get(servers.healthPort, '/metrics')).status).toBe(404);
  expect((await get(servers.metricsPort, '/healthz')).status).toBe(404);
});

test.each([
  ['an unknown path', '/nope', 'GET', 404],
  ['a query string', '/healthz?verbose', 'GET', 200],
  ['HEAD', '/healthz', 'HEAD', 200],
  ['POST', '/healthz', 'POST', 405],
])('answers %s', async (_name, path, method, status) => {
  expect((await get(servers.healthPort, path, method)).status).toBe(status);
});

test('a port already taken fails start with the error, and frees the other port', async () => {
  await expect(
    startServers(
      { healthPort: 0, metricsPort: servers.metricsPort, host: '127.0.0.1', ready: () => true, metrics },
      log,
    ),
  ).rejects.toThrow(
    `port ${servers.metricsPort} is already in use: choose another with --metrics-port (0 picks a free one)`,
  );
});

test('a health port already taken names --health-port', async () => {
  await expect(
    startServers(
      { healthPort: servers.healthPort, metricsPort: 0, host: '127.0.0.1', ready: () => true, metrics },
      log,
    ),
  ).rejects.toThrow(
    `port ${servers.healthPort} is already in use: choose another with --health-port (0 picks a free one)`,
  );
});
