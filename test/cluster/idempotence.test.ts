// Level-triggered and idempotent: once a Microservice is Ready, resyncs read
// state and write nothing, whatever spelling its quantities use.
import type { KubernetesObject, V1Deployment, V1ResourceRequirements } from '@kubernetes/client-node';
import type { MicroserviceSpec } from '../../src/api/types';
import { client, eventually, microservice, operatorNamespace, waitReady } from './harness';

const ns = operatorNamespace('idempotence', { resyncSeconds: 1 });

async function resourceVersions(): Promise<Record<string, string | undefined>> {
  const objects: [string, string, string][] = [
    ['msop.dev/v1alpha1', 'Microservice', 'steady'],
    ['apps/v1', 'Deployment', 'steady'],
    ['v1', 'Service', 'steady'],
    ['v1', 'Service', 'steady-stable'],
    ['policy/v1', 'PodDisruptionBudget', 'steady'],
    ['autoscaling/v2', 'HorizontalPodAutoscaler', 'steady'],
    ['msop.dev/v1alpha1', 'Microservice', 'spelled-a'],
    ['apps/v1', 'Deployment', 'spelled-a'],
    ['msop.dev/v1alpha1', 'Microservice', 'spelled-b'],
    ['apps/v1', 'Deployment', 'spelled-b'],
  ];
  const found = await Promise.all(
    objects.map(([apiVersion, kind, name]) => client.get<KubernetesObject>(apiVersion, kind, ns.name, name)),
  );
  return Object.fromEntries(found.map((o) => [`${o.kind}/${o.metadata?.name}`, o.metadata?.resourceVersion]));
}

test('an unchanged Microservice causes zero writes across several resyncs, whatever its quantity spellings', async () => {
  await client.create({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'steady-config', namespace: ns.name },
    data: { A: '1' },
  });
  await client.create(
    microservice(ns.name, 'steady', {
      image: 'ghcr.io/example/steady:1.0.0',
      envFrom: [{ configMapRef: { name: 'steady-config' } }],
      probes: { readiness: { httpGet: { path: '/healthz' } }, liveness: { tcpSocket: {} } },
      resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { memory: '128Mi' } },
      autoscaling: { minReplicas: 2, maxReplicas: 4 },
      service: { annotations: { 'example.com/team': 'shop' }, trackServices: true },
      podTemplate: { metadata: { annotations: { 'example.com/owner': 'shop' } } },
    }),
  );
  // Spellings the API server stores in another form (0.5 as 500m, 1024Mi as 1Gi, 1000m as 1), and as they are stored.
  const spellings: Record<string, [MicroserviceSpec['resources'], V1ResourceRequirements]> = {
    'spelled-a': [
      { requests: { cpu: '0.5', memory: '1024Mi' }, limits: { cpu: '1000m', memory: '1.5Gi' } },
      { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '1536Mi' } },
    ],
    'spelled-b': [
      { requests: { cpu: 1, memory: '1e9' }, limits: { cpu: '+1.5', memory: '2048000k' } },
      { requests: { cpu: '1', memory: '1e9' }, limits: { cpu: '1500m', memory: '2048M' } },
    ],
  };
  for (const [name, [resources]] of Object.entries(spellings))
    await client.create(microservice(ns.name, name, { image: 'ghcr.io/example/steady:1.0.0', resources }));
  await Promise.all(['steady', ...Object.keys(spellings)].map((name) => waitReady(ns.name, name)));
  for (const [name, [, stored]] of Object.entries(spellings)) {
    const deployment = await client.get<V1Deployment>('apps/v1', 'Deployment', ns.name, name);
    expect(deployment.spec?.template.spec?.containers[0]?.resources).toEqual(stored);
  }
  // Let the Deployment, HPA and PDB controllers settle their own status writes.
  let before = await resourceVersions();
  await eventually(
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const now = await resourceVersions();
      const stable = JSON.stringify(now) === JSON.stringify(before);
      before = now;
      return stable;
    },
    { timeoutMs: 30_000, message: 'the cluster to settle' },
  );

  const writesBefore = ns.operator.client.writes.length;
  const reconcilesBefore = ns.operator.manager.reconciles;
  await eventually(() => ns.operator.manager.reconciles >= reconcilesBefore + 3, {
    timeoutMs: 15_000,
    message: 'three resyncs',
  });

  expect(ns.operator.client.writes.slice(writesBefore)).toEqual([]);
  expect(await resourceVersions()).toEqual(before);
});
