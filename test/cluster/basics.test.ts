// The walking skeleton's core promises, against the real control plane.
import type { V1Deployment, V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { Microservice } from '../../src/api/types';
import {
  client,
  eventually,
  getMicroservice,
  getOrUndefined,
  kubectl,
  kubectlResult,
  microservice,
  operatorNamespace,
  waitReady,
} from './harness';
import { ReleaseRecorder } from './release-recorder';

const ns = operatorNamespace('basics');

const deploymentOf = (name: string) => client.get<V1Deployment>('apps/v1', 'Deployment', ns.name, name);
const revisionOf = (d: V1Deployment) => d.spec?.template.metadata?.labels?.['msop.dev/revision'];

test('examples/hello.yaml becomes Ready 3/3 and kubectl wait returns 0', async () => {
  await kubectl('apply', '-n', ns.name, '-f', 'examples/hello.yaml');
  const wait = await kubectlResult('wait', '-n', ns.name, '--for=condition=Ready', 'msvc/hello', '--timeout=60s');
  expect(wait).toMatchObject({ code: 0 });

  const ms = await waitReady(ns.name, 'hello');
  expect(ms.status).toMatchObject({
    phase: 'Ready',
    ready: '3/3',
    replicas: 3,
    readyReplicas: 3,
    selector: 'msop.dev/microservice=hello',
  });
  expect(ms.status?.observedGeneration).toBe(ms.metadata.generation);

  const deployment = await deploymentOf('hello');
  expect(revisionOf(deployment)).toBe(ms.status?.stableRevision);
  expect(deployment.metadata?.ownerReferences?.[0]).toMatchObject({
    kind: 'Microservice',
    name: 'hello',
    uid: ms.metadata.uid,
    controller: true,
  });
  expect(await getOrUndefined('v1', 'Service', ns.name, 'hello')).toBeDefined();
  // No per-track Service unasked: nothing sends to one.
  expect(await getOrUndefined('v1', 'Service', ns.name, 'hello-stable')).toBeUndefined();
  expect(await getOrUndefined('policy/v1', 'PodDisruptionBudget', ns.name, 'hello')).toBeDefined();

  const table = await kubectl('get', 'msvc', 'hello', '-n', ns.name);
  // The Weight and Canary columns stay empty outside a canary release.
  expect(table).toMatch(/NAME\s+PHASE\s+WEIGHT\s+READY\s+STABLE\s+CANARY\s+AGE/);
  expect(table).toMatch(new RegExp(`hello\\s+Ready\\s+3/3\\s+${ms.status?.stableRevision}`));
});

test('kubectl explain prints the field descriptions', async () => {
  const explained = await kubectl('explain', 'microservice.spec.replicas');
  expect(explained).toMatch(/DESCRIPTION:/);
  expect(explained).toMatch(/ignored while autoscaling is set/i);
});

test('kubectl scale works through the scale subresource without a new revision', async () => {
  const before = await waitReady(ns.name, 'hello');
  await kubectl('scale', '-n', ns.name, 'msvc/hello', '--replicas=5');
  const after = await eventually(
    async () => {
      const ms = await getMicroservice(ns.name, 'hello');
      return ms.status?.ready === '5/5' && ms.status.phase === 'Ready' ? ms : undefined;
    },
    { message: 'hello to be Ready with 5/5' },
  );
  expect((await deploymentOf('hello')).spec?.replicas).toBe(5);
  expect(after.status?.stableRevision).toBe(before.status?.stableRevision);
  expect(await kubectl('get', 'msvc', 'hello', '-n', ns.name, '-o', 'jsonpath={.spec.replicas}')).toBe('5');
});

test('an image change rolls the Deployment with maxUnavailable 0 to a new revision', async () => {
  const before = await waitReady(ns.name, 'hello');
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'hello', {
    spec: { image: 'ghcr.io/example/hello:1.1.0' },
  });
  const after = await eventually(
    async () => {
      const ms = await waitReady(ns.name, 'hello');
      return ms.status?.stableRevision !== before.status?.stableRevision ? ms : undefined;
    },
    { message: 'a new stable revision' },
  );
  const deployment = await deploymentOf('hello');
  expect(deployment.spec?.strategy).toEqual({
    type: 'RollingUpdate',
    rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' },
  });
  expect(deployment.spec?.template.spec?.containers[0]?.image).toBe('ghcr.io/example/hello:1.1.0');
  expect(revisionOf(deployment)).toBe(after.status?.stableRevision);
  const events = await kubectl(
    'get',
    'events',
    '-n',
    ns.name,
    '--field-selector',
    'involvedObject.kind=Microservice',
    '-o',
    'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}',
  );
  expect(events).toContain(`Updated Deployment hello to revision ${after.status?.stableRevision}`);
});

test('a change to a referenced ConfigMap is a new revision', async () => {
  await client.create({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings', namespace: ns.name },
    data: { LOG_LEVEL: 'info' },
  });
  await client.create(
    microservice(ns.name, 'configured', {
      image: 'ghcr.io/example/hello:1.0.0',
      envFrom: [{ configMapRef: { name: 'settings' } }],
    }),
  );
  const first = await waitReady(ns.name, 'configured');
  await client.mergePatch('v1', 'ConfigMap', ns.name, 'settings', { data: { LOG_LEVEL: 'debug' } });
  const second = await eventually(
    async () => {
      const ms = await waitReady(ns.name, 'configured');
      return ms.status?.stableRevision !== first.status?.stableRevision ? ms : undefined;
    },
    { message: 'the ConfigMap change to make a new revision' },
  );
  expect(revisionOf(await deploymentOf('configured'))).toBe(second.status?.stableRevision);
});

test('autoscaling renders an HPA, leaves replicas to it, and removing it prunes the HPA', async () => {
  await client.create(
    microservice(ns.name, 'scaled', {
      image: 'ghcr.io/example/hello:1.0.0',
      autoscaling: { minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 70 },
    }),
  );
  await waitReady(ns.name, 'scaled');
  const hpa = await eventually(
    () =>
      getOrUndefined<{ spec: { minReplicas: number; maxReplicas: number } } & Microservice>(
        'autoscaling/v2',
        'HorizontalPodAutoscaler',
        ns.name,
        'scaled',
      ),
    {
      message: 'the HPA',
    },
  );
  expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
  const managedReplicas = (await deploymentOf('scaled')).metadata?.managedFields?.some(
    (f) => f.manager === 'msop' && JSON.stringify(f.fieldsV1).includes('"f:replicas"'),
  );
  expect(managedReplicas).toBe(false);

  await client.request('PATCH', `/apis/msop.dev/v1alpha1/namespaces/${ns.name}/microservices/scaled`, {
    body: [{ op: 'remove', path: '/spec/autoscaling' }],
    contentType: 'application/json-patch+json',
  });
  await eventually(
    async () => (await getOrUndefined('autoscaling/v2', 'HorizontalPodAutoscaler', ns.name, 'scaled')) === undefined,
    {
      message: 'the HPA to be pruned',
    },
  );
  await waitReady(ns.name, 'scaled');
});

test('service.trackServices makes the per-track Services, a canary one during a release, and unsetting it prunes them', async () => {
  const name = 'tracked';
  const services = async () =>
    (await client.list('v1', 'Service', ns.name, { labelSelector: `msop.dev/microservice=${name}` })).items
      .map((s) => s.metadata!.name!)
      .sort();
  await client.create(
    microservice(ns.name, name, {
      image: 'ghcr.io/example/hello:1.0.0',
      replicas: 2,
      service: { trackServices: true },
      release: { strategy: 'Canary', canary: { steps: [{ setWeight: 50 }, { pause: {} }] } },
    }),
  );
  await waitReady(ns.name, name);
  expect(await services()).toEqual([name, `${name}-canary`, `${name}-stable`]);
  const stable = await client.get<V1Service>('v1', 'Service', ns.name, `${name}-stable`);
  expect(stable.spec?.selector).toEqual({ 'msop.dev/microservice': name, 'msop.dev/track': 'stable' });

  // During a release the canary Service selects the canary's pod.
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
    spec: { image: 'ghcr.io/example/hello:2.0.0' },
  });
  await eventually(
    async () => {
      const slices = await client.list<V1EndpointSlice>('discovery.k8s.io/v1', 'EndpointSlice', ns.name, {
        labelSelector: `kubernetes.io/service-name=${name}-canary`,
      });
      return slices.items.flatMap((s) => s.endpoints ?? []).length === 1;
    },
    { message: `the ${name}-canary Service to have the canary's pod` },
  );

  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
    spec: { service: { trackServices: null } },
  });
  await eventually(async () => (await services()).join() === name, {
    message: `${name}-stable and ${name}-canary to be pruned, the apex kept`,
  });
});

test('spec.release.paused holds a new revision until it is set back to false', async () => {
  await client.create(microservice(ns.name, 'held', { image: 'ghcr.io/example/hello:1.0.0', replicas: 2 }));
  const ready = await waitReady(ns.name, 'held');
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'held', {
    spec: { image: 'ghcr.io/example/hello:2.0.0', release: { paused: true } },
  });
  const paused = await eventually(
    async () => {
      const ms = await getMicroservice(ns.name, 'held');
      return ms.status?.phase === 'Paused' && ms.status.observedGeneration === ms.metadata.generation ? ms : undefined;
    },
    { message: 'phase Paused' },
  );
  expect(paused.status?.message).toMatch(/Release paused/);
  expect((await deploymentOf('held')).spec?.template.spec?.containers[0]?.image).toBe('ghcr.io/example/hello:1.0.0');
  expect(revisionOf(await deploymentOf('held'))).toBe(ready.status?.stableRevision);

  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'held', {
    spec: { release: { paused: false } },
  });
  const resumed = await waitReady(ns.name, 'held');
  expect(resumed.status?.stableRevision).not.toBe(ready.status?.stableRevision);
  expect((await deploymentOf('held')).spec?.template.spec?.containers[0]?.image).toBe('ghcr.io/example/hello:2.0.0');
});

test('turning autoscaling on keeps the running replicas: spec.replicas is handed to the HPA, not reset', async () => {
  await client.create(microservice(ns.name, 'growing', { image: 'ghcr.io/example/hello:1.0.0', replicas: 5 }));
  await waitReady(ns.name, 'growing');
  const recorder = new ReleaseRecorder(ns.name, 'growing', []);
  await recorder.start();
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'growing', {
    spec: { autoscaling: { minReplicas: 5, maxReplicas: 8 } },
  });
  await eventually(() => getOrUndefined('autoscaling/v2', 'HorizontalPodAutoscaler', ns.name, 'growing'), {
    message: 'the HPA',
  });
  await eventually(
    async () => {
      const deployment = await deploymentOf('growing');
      return !deployment.metadata?.managedFields?.some(
        (f) => f.manager === 'msop' && JSON.stringify(f.fieldsV1).includes('"f:replicas"'),
      );
    },
    { message: 'msop to stop managing spec.replicas' },
  );
  await recorder.stop();
  const replicas = recorder.events
    .filter((e) => e.kind === 'Deployment')
    .map((e) => (e.object as V1Deployment).spec?.replicas);
  expect(replicas.length).toBeGreaterThan(0);
  expect(replicas.filter((r) => r !== 5)).toEqual([]);
});
