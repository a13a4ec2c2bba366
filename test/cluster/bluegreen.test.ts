// Blue-green releases against the real control plane: the preview and its
// Service, the switch (a selector swap, or a route at 100), the warm old pods,
// abort, scaling both stacks, a new revision mid-release, and the invariants
// checked over every write (ReleaseRecorder.blueGreenViolations).
import type { KubernetesObject, V1Deployment, V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import type { BlueGreenSettings, Microservice } from '../../src/api/types';
import {
  client,
  condition,
  eventually,
  getMicroservice,
  getOrUndefined,
  kubectl,
  microservice,
  operatorNamespace,
  releaseHelpers,
  waitReady,
} from './harness';
import { ReleaseRecorder, type WeightReader } from './release-recorder';

const ns = operatorNamespace('bluegreen');
const { setImage, untilStatus, eventsOf } = releaseHelpers(() => ns.name);
const promote = (name: string, action = 'promote') =>
  kubectl('annotate', '--overwrite', 'msvc', name, '-n', ns.name, `msop.dev/action=${action}`);

async function readyBlueGreen(name: string, blueGreen: BlueGreenSettings = {}, replicas = 3): Promise<Microservice> {
  await client.create(
    microservice(ns.name, name, {
      image: 'ghcr.io/example/app:1.0.0',
      replicas,
      release: {
        strategy: 'BlueGreen',
        blueGreen: { scaleDownDelaySeconds: 2, abortScaleDownDelaySeconds: 2, ...blueGreen },
      },
    }),
  );
  return waitReady(ns.name, name);
}

const previews = async (name: string) =>
  (
    await client.list<V1ReplicaSet>('apps/v1', 'ReplicaSet', ns.name, {
      labelSelector: `msop.dev/microservice=${name},msop.dev/track=preview`,
    })
  ).items;

const selector = async (name: string) => (await client.get<V1Service>('v1', 'Service', ns.name, name)).spec?.selector;
const stableImage = async (name: string) =>
  (await client.get<V1Deployment>('apps/v1', 'Deployment', ns.name, name)).spec?.template.spec?.containers[0]?.image;
const stableReplicas = async (name: string) =>
  (await client.get<V1Deployment>('apps/v1', 'Deployment', ns.name, name)).spec?.replicas;
test('a full blue-green release under the replicas router: preview, promote, switch, warm old pods, hand-back', async () => {
  const before = await readyBlueGreen('bg');
  const recorder = new ReleaseRecorder(ns.name, 'bg', ['Service', 'EndpointSlice']);
  await recorder.start();
  try {
    await setImage('bg', 'ghcr.io/example/app:2.0.0');
    const waiting = await untilStatus(
      'bg',
      'the preview ready and waiting for promotion',
      (ms) => ms.status?.phase === 'Paused',
    );
    const revision = waiting.status!.canaryRevision!;
    expect(waiting.status?.message).toMatch(/waiting for promotion/);
    // A full-size preview and its own Service; the live Service and the Deployment untouched.
    const [preview] = await previews('bg');
    expect(preview?.metadata?.name).toBe(`bg-preview-${revision}`);
    expect(preview?.spec?.replicas).toBe(3);
    expect((await client.get<V1Service>('v1', 'Service', ns.name, 'bg-preview')).spec?.selector).toEqual({
      'msop.dev/microservice': 'bg',
      'msop.dev/track': 'preview',
    });
    expect(await selector('bg')).toEqual({ 'msop.dev/microservice': 'bg', 'msop.dev/track': 'stable' });
    expect(await stableImage('bg')).toBe('ghcr.io/example/app:1.0.0');
    expect(waiting.status?.canaryWeight).toBe(0);

    await promote('bg');
    const live = await untilStatus('bg', 'the switch', (ms) => ms.status?.release?.switchTime !== undefined);
    expect(await selector('bg')).toEqual({ 'msop.dev/microservice': 'bg', 'msop.dev/revision': revision });
    expect(live.status?.canaryWeight).toBe(100);
    // The old pods stay warm during scaleDownDelaySeconds.
    expect(await stableImage('bg')).toBe('ghcr.io/example/app:1.0.0');
    expect(await stableReplicas('bg')).toBe(3);

    const done = await untilStatus(
      'bg',
      'Ready on the new revision',
      (ms) => ms.status?.phase === 'Ready' && ms.status.stableRevision === revision,
    );
    expect(done.status?.stableRevision).not.toBe(before.status?.stableRevision);
    expect(condition(done, 'Released')).toMatchObject({ status: 'True' });
    expect(done.status?.release).toBeUndefined();
    expect(done.status?.canaryRevision).toBeUndefined();
    expect(await stableImage('bg')).toBe('ghcr.io/example/app:2.0.0');
    expect(await selector('bg')).toEqual({ 'msop.dev/microservice': 'bg', 'msop.dev/track': 'stable' });
    await eventually(async () => (await previews('bg')).length === 0, { message: 'the preview removed' });
    const events = await eventsOf('bg');
    for (const reason of ['ReleaseStarted', 'PreviewReady', 'PromoteRequested', 'Switched', 'Promoted'])
      expect(events).toContain(`|${reason}|`);
  } finally {
    await recorder.stop();
  }
  expect(recorder.blueGreenViolations()).toEqual([]);
});

test('abort after the switch sends traffic straight back to the warm old pods and keeps the preview a while', async () => {
  await readyBlueGreen('abort', { scaleDownDelaySeconds: 600, abortScaleDownDelaySeconds: 3 });
  const recorder = new ReleaseRecorder(ns.name, 'abort', ['Service', 'EndpointSlice']);
  await recorder.start();
  try {
    await setImage('abort', 'ghcr.io/example/app:2.0.0');
    await untilStatus('abort', 'the preview waiting', (ms) => ms.status?.phase === 'Paused');
    await promote('abort');
    const live = await untilStatus('abort', 'the switch', (ms) => ms.status?.release?.switchTime !== undefined);
    const revision = live.status!.canaryRevision!;
    await promote('abort', 'abort');
    const rolledBack = await untilStatus('abort', 'RolledBack', (ms) => ms.status?.phase === 'RolledBack');
    expect(rolledBack.status?.failedRevision).toBe(revision);
    expect(condition(rolledBack, 'Released')).toMatchObject({ status: 'False', reason: 'Aborted' });
    expect(await selector('abort')).toEqual({ 'msop.dev/microservice': 'abort', 'msop.dev/track': 'stable' });
    expect(await stableImage('abort')).toBe('ghcr.io/example/app:1.0.0');
    // Kept for abortScaleDownDelaySeconds, for debugging through abort-preview, then removed.
    expect((await previews('abort')).map((rs) => rs.spec?.replicas)).toEqual([3]);
    await eventually(async () => (await previews('abort')).length === 0, { message: 'the aborted preview removed' });
    expect(await eventsOf('abort')).toContain('Warning|RolledBack|');
  } finally {
    await recorder.stop();
  }
  expect(recorder.blueGreenViolations()).toEqual([]);
});

test('kubectl scale mid-release resizes both stacks', async () => {
  await readyBlueGreen('scale', {}, 2);
  await setImage('scale', 'ghcr.io/example/app:2.0.0');
  await untilStatus('scale', 'the preview waiting', (ms) => ms.status?.phase === 'Paused');
  await kubectl('scale', 'msvc', 'scale', '-n', ns.name, '--replicas=4');
  await eventually(
    async () => (await stableReplicas('scale')) === 4 && (await previews('scale'))[0]?.spec?.replicas === 4,
    { message: 'both stacks at 4' },
  );
  const ms = await untilStatus('scale', 'all 8 pods ready', (m) => m.status?.ready === '8/8');
  expect(ms.status?.phase).toBe('Paused');
});

test('a new revision mid-release replaces the preview and starts again; the live stack is never touched', async () => {
  await readyBlueGreen('again');
  await setImage('again', 'ghcr.io/example/app:2.0.0');
  const first = await untilStatus('again', 'the first preview', (ms) => ms.status?.phase === 'Paused');
  await setImage('again', 'ghcr.io/example/app:3.0.0');
  const second = await untilStatus(
    'again',
    'the second preview',
    (ms) => ms.status?.phase === 'Paused' && ms.status.canaryRevision !== first.status?.canaryRevision,
  );
  const sets = await previews('again');
  expect(sets.map((rs) => rs.metadata?.labels?.['msop.dev/revision'])).toEqual([second.status?.canaryRevision]);
  expect(await stableImage('again')).toBe('ghcr.io/example/app:1.0.0');
  expect(await selector('again')).toEqual({ 'msop.dev/microservice': 'again', 'msop.dev/track': 'stable' });
});

test('autoPromotionSeconds 0 switches on its own, once the EndpointSlices list every preview pod', async () => {
  await readyBlueGreen('auto', { autoPromotionSeconds: 0, scaleDownDelaySeconds: 1 }, 4);
  const recorder = new ReleaseRecorder(ns.name, 'auto', ['Service', 'EndpointSlice']);
  await recorder.start();
  try {
    await setImage('auto', 'ghcr.io/example/app:2.0.0');
    const releasing = await untilStatus('auto', 'the release started', (ms) => ms.status?.canaryRevision !== undefined);
    const revision = releasing.status!.canaryRevision!;
    const done = await untilStatus(
      'auto',
      'Ready on the new revision, never promoted by hand',
      (ms) => ms.status?.phase === 'Ready' && ms.status.stableRevision === revision,
    );
    expect(await stableImage('auto')).toBe('ghcr.io/example/app:2.0.0');
    expect(done.status?.canaryRevision).toBeUndefined();
    expect(await eventsOf('auto')).not.toContain('|PromoteRequested|');
  } finally {
    await recorder.stop();
  }
  expect(recorder.blueGreenViolations()).toEqual([]);
});

type Ref = { name?: string; weight?: number };
const previewWeight =
  (route: string, name: string): WeightReader =>
  (objects) => {
    const refs = (objects.get(`HTTPRoute/${route}`) as { spec?: { rules?: { backendRefs?: Ref[] }[] } } | undefined)
      ?.spec?.rules?.[0]?.backendRefs;
    const weight = (target: string) => refs?.find((r) => r.name === target)?.weight;
    const stable = weight(`${name}-stable`) ?? 1;
    const preview = weight(`${name}-preview`) ?? 0;
    return stable + preview === 0 ? 0 : Math.round((100 * preview) / (stable + preview));
  };

test('a blue-green release with the gatewayAPI router: the route goes 0 → 100, then back to the stable Service', async () => {
  const name = 'gw';
  await client.create({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: `${name}-route`, namespace: ns.name },
    spec: { parentRefs: [{ name: 'public' }], rules: [{ backendRefs: [{ name: `${name}-stable`, port: 80 }] }] },
  } as KubernetesObject);
  await client.create(
    microservice(ns.name, name, {
      image: 'ghcr.io/example/app:1.0.0',
      replicas: 2,
      release: {
        strategy: 'BlueGreen',
        blueGreen: {
          scaleDownDelaySeconds: 1,
          traffic: { router: 'gatewayAPI', gatewayAPI: { httpRoute: `${name}-route` } },
        },
      },
    }),
  );
  await waitReady(ns.name, name);
  const readWeight = previewWeight(`${name}-route`, name);
  const recorder = new ReleaseRecorder(ns.name, name, ['HTTPRoute', 'Service', 'EndpointSlice'], readWeight);
  await recorder.start();
  try {
    await setImage(name, 'ghcr.io/example/app:2.0.0');
    await untilStatus(name, 'the preview waiting', (ms) => ms.status?.phase === 'Paused');
    expect(await selector(name)).toEqual({ 'msop.dev/microservice': name, 'msop.dev/track': 'stable' });
    const waiting = await getMicroservice(ns.name, name);
    await promote(name);
    await untilStatus(
      name,
      'Ready on the new revision',
      (ms) => ms.status?.phase === 'Ready' && ms.status.stableRevision === waiting.status?.canaryRevision,
    );
    expect(await stableImage(name)).toBe('ghcr.io/example/app:2.0.0');
  } finally {
    await recorder.stop();
  }
  expect(recorder.weights()).toEqual([0, 100, 0]);
  expect(recorder.blueGreenViolations()).toEqual([]);
  const route = await getOrUndefined<KubernetesObject & { spec: { rules: { backendRefs: Ref[] }[] } }>(
    'gateway.networking.k8s.io/v1',
    'HTTPRoute',
    ns.name,
    `${name}-route`,
  );
  expect(route?.spec.rules[0]?.backendRefs.find((r) => r.name === `${name}-preview`)?.weight ?? 0).toBe(0);
});

test('admission refuses blueGreen settings without strategy BlueGreen, and canary settings with it', async () => {
  const refuse = async (release: object) => {
    try {
      await client.create({
        ...microservice(ns.name, 'refused', { image: 'x:1' }),
        spec: { image: 'x:1', release },
      } as Microservice);
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };
  expect(await refuse({ strategy: 'Canary', blueGreen: {} })).toContain(
    'release.blueGreen needs release.strategy BlueGreen',
  );
  expect(await refuse({ strategy: 'BlueGreen', canary: { stepWeight: 10 } })).toContain(
    'release.canary does not apply to strategy BlueGreen',
  );
  expect(await refuse({ strategy: 'BlueGreen', analysis: { baseline: { mode: 'Fresh' } } })).toContain(
    'analysis.baseline.mode Fresh is for Canary releases',
  );
});

test('under an HPA the preview takes the stable current replica count, not the HPA minimum', async () => {
  await client.create(
    microservice(ns.name, 'hpa', {
      image: 'ghcr.io/example/app:1.0.0',
      autoscaling: { minReplicas: 2, maxReplicas: 8 },
      release: { strategy: 'BlueGreen', blueGreen: { scaleDownDelaySeconds: 1 } },
    }),
  );
  await waitReady(ns.name, 'hpa');
  // The HPA has no metrics here, so it leaves the count where it is: as if it had scaled up to 5 under load.
  await kubectl('scale', 'deployment', 'hpa', '-n', ns.name, '--replicas=5');
  await eventually(async () => (await getMicroservice(ns.name, 'hpa')).status?.ready === '5/5', {
    message: 'the stable at 5 ready pods',
  });
  await setImage('hpa', 'ghcr.io/example/app:2.0.0');
  await untilStatus('hpa', 'the preview waiting', (ms) => ms.status?.phase === 'Paused');
  expect((await previews('hpa'))[0]?.spec?.replicas).toBe(5);
  await promote('hpa');
  await untilStatus(
    'hpa',
    'Ready on the new revision',
    (ms) => ms.status?.phase === 'Ready' && ms.status.release === undefined,
  );
  expect(await stableImage('hpa')).toBe('ghcr.io/example/app:2.0.0');
  expect(await stableReplicas('hpa')).toBe(5);
});
