// The platform team's defaults take effect: --default-router, --default-analysis and
// --prometheus-auth-secret (Helm values defaults.router, defaults.analysis, prometheus.authSecret).
// Each test fails if its flag were ignored: no generated HTTPRoute, no webhook call, no credentials.
import type { KubernetesObject, V1Secret, V1Service } from '@kubernetes/client-node';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MicroserviceSpec } from '../../src/api/types';
import {
  client,
  createNamespace,
  eventually,
  getMicroservice,
  getOrUndefined,
  microservice,
  type RunningOperator,
  startOperator,
  waitReady,
} from './harness';

interface Stub {
  url: string;
  requests: { path: string; authorization?: string; body: string }[];
  close: () => Promise<void>;
}

/** A local HTTP server that records every request and answers with `answer`. */
async function stub(answer: (req: IncomingMessage) => { status: number; body: unknown }): Promise<Stub> {
  const requests: Stub['requests'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', authorization: req.headers.authorization, body });
      const { status, body: out } = answer(req);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(prefix: string, options: Parameters<typeof startOperator>[1]) {
  const ns = await createNamespace(prefix);
  cleanups.push(ns.cleanup);
  const operator: RunningOperator = await startOperator(ns.name, options);
  cleanups.push(operator.stop);
  return { ns: ns.name, operator };
}

const canary = (extra: Partial<MicroserviceSpec> = {}): MicroserviceSpec => ({
  image: 'ghcr.io/example/orders:1.0.0',
  replicas: 2,
  ...extra,
  release: { strategy: 'Canary', canary: { stepWeight: 50, maxWeight: 50, stepInterval: '1s' }, ...extra.release },
});

test('--default-router: a canary that names no router uses the operator default (gatewayAPI: a generated HTTPRoute)', async () => {
  const { ns } = await setup('default-router', { defaultRouter: 'gatewayAPI' });
  await client.create(
    microservice(
      ns,
      'orders',
      canary({
        release: {
          strategy: 'Canary',
          canary: { traffic: { gatewayAPI: { parentRefs: [{ name: 'gateway', namespace: ns }] } } },
        },
      }),
    ),
  );
  const ready = await waitReady(ns, 'orders');
  expect(ready.status?.defaulted).toContainEqual({
    field: 'release.canary.traffic.router',
    source: 'operator',
    value: '"gatewayAPI"',
  });
  const route = await eventually(
    () =>
      getOrUndefined<KubernetesObject & { spec: { rules: { backendRefs: unknown[] }[] } }>(
        'gateway.networking.k8s.io/v1',
        'HTTPRoute',
        ns,
        'orders',
      ),
    { message: 'the generated HTTPRoute orders' },
  );
  expect(route.spec.rules[0]!.backendRefs).toContainEqual(
    expect.objectContaining({ name: 'orders-stable', weight: 100 }),
  );
  // Under a weighted router the apex Service selects stable pods only.
  const apex = await client.get<V1Service>('v1', 'Service', ns, 'orders');
  expect(apex.spec?.selector).toMatchObject({ 'msop.dev/track': 'stable' });
});

test('--default-analysis: a canary without analysis gets the operator default (its pre-rollout webhook is called)', async () => {
  const gate = await stub(() => ({ status: 200, body: {} }));
  cleanups.push(gate.close);
  const { ns } = await setup('default-analysis', {
    defaultAnalysis: {
      interval: '1s',
      webhooks: [
        { name: 'smoke', type: 'pre-rollout', url: `${gate.url}/smoke` },
        // An analysis passes a step on a check that judged something: here the rollout webhook.
        { name: 'check', type: 'rollout', url: `${gate.url}/check` },
      ],
    },
  });
  await client.create(microservice(ns, 'orders', canary()));
  const first = await waitReady(ns, 'orders');
  expect(first.status?.defaulted?.map((d) => [d.field, d.source])).toContainEqual([
    'release.analysis.webhooks',
    'operator',
  ]);
  expect(gate.requests).toEqual([]);

  // A new revision is a canary release, and the default analysis gates it.
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns, 'orders', {
    spec: { image: 'ghcr.io/example/orders:1.1.0' },
  });
  const call = await eventually(() => gate.requests.find((r) => r.path === '/smoke'), {
    timeoutMs: 30_000,
    message: 'the default analysis to call the pre-rollout webhook',
  });
  expect(JSON.parse(call.body)).toMatchObject({ name: 'orders', namespace: ns, type: 'pre-rollout' });
  const promoted = await eventually(
    async () => {
      const ms = await getMicroservice(ns, 'orders');
      return ms.status?.phase === 'Ready' &&
        ms.status.canaryRevision === undefined &&
        ms.status.stableRevision !== first.status?.stableRevision
        ? ms
        : undefined;
    },
    { timeoutMs: 60_000, message: 'the release to be promoted' },
  );
  expect(promoted.status?.analysis?.webhooks).toContain('smoke');
  expect(gate.requests.some((r) => r.path === '/check')).toBe(true);
});

test("--prometheus-auth-secret: the operator's Prometheus is queried with the operator's credentials", async () => {
  const prometheus = await stub(() => ({
    status: 200,
    body: { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '1'] }] } },
  }));
  cleanups.push(prometheus.close);
  const ns = await createNamespace('prom-auth');
  cleanups.push(ns.cleanup);
  // The Secret lives with the operator, not with the Microservice.
  const operatorNs = await createNamespace('prom-auth-operator');
  cleanups.push(operatorNs.cleanup);
  await client.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'prom-token', namespace: operatorNs.name },
    stringData: { token: 's3cret' },
  } as V1Secret & { apiVersion: string; kind: string });
  const operator = await startOperator(ns.name, {
    prometheusAddress: prometheus.url,
    prometheusAuthSecret: { namespace: operatorNs.name, name: 'prom-token' },
    defaultAnalysis: { interval: '1s', metrics: [{ name: 'up', query: 'vector(1)', thresholdRange: { min: 0 } }] },
  });
  cleanups.push(operator.stop);

  await client.create(microservice(ns.name, 'orders', canary()));
  await waitReady(ns.name, 'orders');
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'orders', {
    spec: { image: 'ghcr.io/example/orders:1.1.0' },
  });
  const query = await eventually(() => prometheus.requests.find((r) => r.path.startsWith('/api/v1/query')), {
    timeoutMs: 30_000,
    message: 'an analysis query to the operator Prometheus',
  });
  expect(query.authorization).toBe('Bearer s3cret');
  expect(prometheus.requests.every((r) => r.authorization === 'Bearer s3cret')).toBe(true);
});
