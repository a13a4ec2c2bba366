// examples/environments: the same Microservice, applied unchanged to shop-dev, shop-staging and
// shop-prod, becomes what each namespace's Environment says.
import type { V1Deployment, V1PodDisruptionBudget, V1Pod } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Microservice } from '../../src/api/types';
import {
  client,
  eventually,
  getMicroservice,
  getOrUndefined,
  kubectl,
  kubectlResult,
  type RunningOperator,
  startOperator,
  waitReady,
} from './harness';

const dir = path.join(__dirname, '..', '..', 'examples', 'environments');
const NAMESPACES = ['shop-dev', 'shop-staging', 'shop-prod'] as const;
let operator: RunningOperator;

beforeAll(async () => {
  await kubectl('apply', '-f', path.join(dir, 'environments.yaml'));
  for (const ns of NAMESPACES) {
    await eventually(() => getOrUndefined('v1', 'ServiceAccount', ns, 'default'), {
      message: `the default ServiceAccount in ${ns}`,
    });
  }
  operator = await startOperator(NAMESPACES[0], { watchNamespaces: [...NAMESPACES] });
  for (const ns of NAMESPACES) await kubectl('apply', '-n', ns, '-f', path.join(dir, 'microservice.yaml'));
});

afterAll(async () => {
  await operator?.stop();
  await kubectlResult('delete', '-f', path.join(dir, 'environments.yaml'), '--wait=false');
});

const deployment = (ns: string) => client.get<V1Deployment>('apps/v1', 'Deployment', ns, 'orders');
const sources = (ms: Microservice) =>
  Object.fromEntries((ms.status?.defaulted ?? []).map((d) => [d.field, [d.source, JSON.parse(d.value)]]));
const zoneSpread = (d: V1Deployment) =>
  (d.spec?.template.spec?.topologySpreadConstraints ?? []).some((c) => c.topologyKey === 'topology.kubernetes.io/zone');

test('the three Microservices are the same manifest, unchanged', async () => {
  const specs = await Promise.all(NAMESPACES.map(async (ns) => (await getMicroservice(ns, 'orders')).spec));
  expect(specs[1]).toEqual(specs[0]);
  expect(specs[2]).toEqual(specs[0]);
  expect(Object.keys(specs[0]!).sort()).toEqual(['image', 'ports', 'probes']);
});

test('dev: 1 replica, Rolling, no analysis', async () => {
  const ms = await waitReady('shop-dev', 'orders');
  expect(ms.status?.environment).toBe('dev');
  const d = await deployment('shop-dev');
  expect(d.spec?.replicas).toBe(1);
  expect(zoneSpread(d)).toBe(false);
  expect(sources(ms)['release.strategy']).toEqual(['Environment/dev', 'Rolling']);
  expect(
    Object.keys(sources(ms)).filter((f) => f.startsWith('release.analysis') || f.startsWith('release.canary')),
  ).toEqual([]);
  expect(await getOrUndefined('policy/v1', 'PodDisruptionBudget', 'shop-dev', 'orders')).toBeUndefined();
  expect(d.spec?.template.spec?.containers[0]?.env).toContainEqual({ name: 'ENVIRONMENT', value: 'dev' });
});

test('staging: 2 replicas, a canary with thresholds', async () => {
  const ms = await waitReady('shop-staging', 'orders');
  expect(ms.status?.environment).toBe('staging');
  expect((await deployment('shop-staging')).spec?.replicas).toBe(2);
  const s = sources(ms);
  expect(s['release.strategy']).toEqual(['Environment/staging', 'Canary']);
  expect(s['release.canary.stepWeight']).toEqual(['Environment/staging', 50]);
  const metrics = s['release.analysis.metrics']![1] as { name: string; thresholdRange?: unknown; kind?: string }[];
  expect(metrics.map((m) => [m.name, m.kind ?? 'Threshold', m.thresholdRange !== undefined])).toEqual([
    ['success-rate', 'Threshold', true],
    ['latency-p99', 'Threshold', true],
  ]);
});

test('prod: 4 replicas over two zones, a canary with a CountComparison', async () => {
  const ms = await waitReady('shop-prod', 'orders', 60_000);
  expect(ms.status?.environment).toBe('production');
  const d = await deployment('shop-prod');
  expect(d.spec?.replicas).toBe(4);
  expect(zoneSpread(d)).toBe(true);
  const pdb = await client.get<V1PodDisruptionBudget>('policy/v1', 'PodDisruptionBudget', 'shop-prod', 'orders');
  expect(pdb.spec?.maxUnavailable).toBe(1);
  const s = sources(ms);
  expect(s['release.strategy']).toEqual(['Environment/production', 'Canary']);
  const metrics = s['release.analysis.metrics']![1] as { name: string; kind?: string }[];
  expect(metrics.map((m) => m.kind ?? 'Threshold')).toContain('CountComparison');
  expect(d.spec?.template.spec?.containers[0]?.envFrom).toEqual([{ configMapRef: { name: 'production-settings' } }]);
  expect(d.spec?.template.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '200m', memory: '256Mi' });
  // The scheduler spread the four pods over the cluster's two zones.
  const zones = await eventually(
    async () => {
      const pods = await client.list<V1Pod>('v1', 'Pod', 'shop-prod', {
        labelSelector: 'msop.dev/microservice=orders',
      });
      const nodes = pods.items.map((p) => p.spec?.nodeName).filter((n): n is string => !!n);
      if (nodes.length < 4) return undefined;
      const zoneOf = new Map(
        (
          await kubectl(
            'get',
            'nodes',
            '-o',
            'jsonpath={range .items[*]}{.metadata.name}={.metadata.labels.topology\\.kubernetes\\.io/zone}{"\\n"}{end}',
          )
        )
          .trim()
          .split('\n')
          .map((line) => line.split('=') as [string, string]),
      );
      return new Set(nodes.map((node) => zoneOf.get(node)));
    },
    { message: 'four scheduled pods' },
  );
  expect(zones.size).toBe(2);
});

test('kubectl msop explain prints the effective spec and where each field came from', async () => {
  await waitReady('shop-prod', 'orders', 60_000);
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: process.env.MSOP_TEST_KUBECONFIG };
  delete env.NODE_OPTIONS;
  const plugin = path.join(__dirname, '..', '..', 'bin', 'kubectl-msop');
  const { stdout } = await promisify(execFile)(process.execPath, [plugin, 'explain', 'orders', '-n', 'shop-prod'], {
    env,
  });
  const rows = Object.fromEntries(
    stdout
      .split('\n')
      .slice(3)
      .filter((line) => line.trim() !== '')
      .map((line): [string, [string, string]] => {
        const [field = '', from = '', ...value] = line.split(/\s{2,}/);
        return [field, [from, value.join('  ')]];
      }),
  );
  expect(stdout.split('\n')[0]).toBe('Microservice shop-prod/orders: Environment production');
  expect(rows).toMatchObject({
    image: ['Microservice', 'ghcr.io/example/orders:1.4.2'],
    replicas: ['Environment/production', '4'],
    'release.strategy': ['Environment/production', 'Canary'],
    'release.canary.stepWeight': ['Environment/production', '10'],
    'release.canary.traffic.router': ['operator', 'replicas'],
    'env[ENVIRONMENT]': ['Environment/production', '{"name":"ENVIRONMENT","value":"production"}'],
    'placement.spreadAcrossNodes': ['built-in', 'true'],
  });
});

test('kubectl explain documents the Environment', async () => {
  const limits = await kubectl('explain', 'environment.spec.limits.maxReplicas');
  expect(limits).toMatch(/The most pods a Microservice may ask for/);
  const release = await kubectl('explain', 'environment.spec.defaults.release.canary.stepWeight');
  expect(release).toMatch(/DESCRIPTION:/);
});
