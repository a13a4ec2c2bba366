// Drift is put back, deletion cascades only to what msop owns, and msop never
// takes over an object someone else made.
import type { KubernetesObject, V1Deployment, V1Service } from '@kubernetes/client-node';
import {
  client,
  condition,
  eventually,
  getMicroservice,
  getOrUndefined,
  kubectl,
  microservice,
  operatorNamespace,
  waitReady,
} from './harness';

const ns = operatorNamespace('ownership');

beforeAll(async () => {
  await client.create(
    microservice(ns.name, 'web', { image: 'ghcr.io/example/web:1.0.0', replicas: 2, service: { trackServices: true } }),
  );
  await waitReady(ns.name, 'web');
});

test.each([
  ['Deployment', 'apps/v1', 'web'],
  ['Service', 'v1', 'web'],
  ['Service', 'v1', 'web-stable'],
  ['PodDisruptionBudget', 'policy/v1', 'web'],
])('a deleted %s %s is put back', async (kind, apiVersion, name) => {
  const before = await client.get(apiVersion, kind, ns.name, name);
  await kubectl('delete', kind.toLowerCase(), name, '-n', ns.name, '--wait=true');
  const after = await eventually(
    async () => {
      const found = await getOrUndefined(apiVersion, kind, ns.name, name);
      return found && found.metadata?.uid !== before.metadata?.uid ? found : undefined;
    },
    { timeoutMs: 15_000, message: `${kind} ${name} to be recreated` },
  );
  expect(after.metadata?.ownerReferences?.[0]?.name).toBe('web');
});

test('an edit to a field msop owns is put back', async () => {
  await kubectl('set', 'image', 'deployment/web', 'app=ghcr.io/example/web:tampered', '-n', ns.name);
  await kubectl(
    'patch',
    'service',
    'web-stable',
    '-n',
    ns.name,
    '--type=merge',
    '-p',
    '{"spec":{"selector":{"msop.dev/track":"other"}}}',
  );
  await eventually(
    async () => {
      const deployment = await client.get<V1Deployment>('apps/v1', 'Deployment', ns.name, 'web');
      const service = await client.get<V1Service>('v1', 'Service', ns.name, 'web-stable');
      return (
        deployment.spec?.template.spec?.containers[0]?.image === 'ghcr.io/example/web:1.0.0' &&
        service.spec?.selector?.['msop.dev/track'] === 'stable'
      );
    },
    { timeoutMs: 15_000, message: 'the image and the selector to be restored' },
  );
  await waitReady(ns.name, 'web');
});

test('an existing object of the same name is not taken over: Stalled until it is removed', async () => {
  const foreign = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'api', namespace: ns.name, labels: { team: 'other' } },
    spec: { selector: { app: 'legacy' }, ports: [{ port: 80 }] },
  };
  await client.create(foreign);
  await client.create(microservice(ns.name, 'api', { image: 'ghcr.io/example/api:1.0.0' }));
  const stalled = await eventually(
    async () => {
      const ms = await getMicroservice(ns.name, 'api');
      return condition(ms, 'Stalled')?.status === 'True' ? ms : undefined;
    },
    { message: 'Stalled=True' },
  );
  expect(condition(stalled, 'Stalled')).toMatchObject({ reason: 'NotOwned' });
  expect(condition(stalled, 'Stalled')?.message).toMatch(
    /Service .*\/api already exists and is not managed by Microservice api/,
  );
  expect(stalled.status?.phase).toBe('Failed');
  const untouched = await client.get<V1Service>('v1', 'Service', ns.name, 'api');
  expect(untouched.spec?.selector).toEqual({ app: 'legacy' });
  expect(untouched.metadata?.ownerReferences).toBeUndefined();

  await kubectl('delete', 'service', 'api', '-n', ns.name);
  const recovered = await waitReady(ns.name, 'api');
  expect(condition(recovered, 'Stalled')).toBeUndefined();
});

test('deleting the Microservice removes everything it owns and nothing else', async () => {
  await client.create({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'unrelated', namespace: ns.name, labels: { 'msop.dev/microservice': 'web' } },
    data: { a: '1' },
  });
  await kubectl('delete', 'msvc', 'web', '-n', ns.name);
  const owned: [string, string, string][] = [
    ['apps/v1', 'Deployment', 'web'],
    ['v1', 'Service', 'web'],
    ['v1', 'Service', 'web-stable'],
    ['policy/v1', 'PodDisruptionBudget', 'web'],
  ];
  await eventually(
    async () => {
      const left = await Promise.all(
        owned.map(([apiVersion, kind, name]) => getOrUndefined(apiVersion, kind, ns.name, name)),
      );
      return left.every((o) => o === undefined);
    },
    { timeoutMs: 30_000, message: 'the garbage collector to remove the owned objects' },
  );
  expect(await getOrUndefined('v1', 'ConfigMap', ns.name, 'unrelated')).toBeDefined();
  expect(await getOrUndefined('v1', 'Service', ns.name, 'api')).toBeDefined();
});

test('the HTTPRoute msop generates exists before any release, is put back by the next reconcile after an edit, and follows the spec', async () => {
  type Route = KubernetesObject & {
    spec: { hostnames?: string[]; rules: { backendRefs: { name: string; weight: number }[] }[] };
  };
  const route = () => getOrUndefined<Route>('gateway.networking.k8s.io/v1', 'HTTPRoute', ns.name, 'edge');
  await client.create(
    microservice(ns.name, 'edge', {
      image: 'ghcr.io/example/edge:1.0.0',
      release: {
        strategy: 'Canary',
        canary: {
          traffic: {
            router: 'gatewayAPI',
            gatewayAPI: { parentRefs: [{ name: 'public' }], hostnames: ['a.example.com'] },
          },
        },
      },
    }),
  );
  await waitReady(ns.name, 'edge');
  const created = await eventually(route, { message: 'the generated HTTPRoute' });
  expect(created.spec.rules[0]?.backendRefs.map((r) => [r.name, r.weight])).toEqual([
    ['edge-stable', 100],
    ['edge-canary', 0],
  ]);
  await kubectl(
    'patch',
    'httproute',
    'edge',
    '-n',
    ns.name,
    '--type=merge',
    '-p',
    '{"spec":{"hostnames":["tampered.example.com"]}}',
  );
  // Nothing watches HTTPRoutes (the Gateway API may not be installed): the next reconcile puts the route right,
  // at the latest after --resync-seconds. Any change to the Microservice brings that reconcile now.
  await kubectl('annotate', 'msvc', 'edge', '-n', ns.name, 'example.com/nudge=1');
  await eventually(async () => (await route())?.spec.hostnames?.[0] === 'a.example.com', {
    message: 'the hostnames to be restored',
  });
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'edge', {
    spec: { release: { canary: { traffic: { gatewayAPI: { hostnames: ['b.example.com'] } } } } },
  });
  await eventually(async () => (await route())?.spec.hostnames?.[0] === 'b.example.com', {
    message: 'the route to follow the spec',
  });
});
