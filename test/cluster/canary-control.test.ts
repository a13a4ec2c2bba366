// Controlling a canary release: the manual gate and promote, abort and retry,
// rollback on the progress deadline, a new revision mid-release, and pause.
import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import type { CanaryStep, Microservice, MicroserviceSpec } from '../../src/api/types';
import {
  client,
  condition,
  eventually,
  getMicroservice,
  kubectl,
  microservice,
  operatorNamespace,
  releaseHelpers,
  waitReady,
} from './harness';
import { ReleaseRecorder } from './release-recorder';

const ns = operatorNamespace('control');
const { setImage, untilStatus, eventsOf } = releaseHelpers(() => ns.name);

const gated: CanaryStep[] = [{ setWeight: 50 }, { pause: {} }, { setWeight: 75 }];

async function readyCanary(
  name: string,
  steps: CanaryStep[],
  extra: Partial<MicroserviceSpec> = {},
): Promise<Microservice> {
  await client.create(
    microservice(ns.name, name, {
      image: 'ghcr.io/example/app:1.0.0',
      replicas: 2,
      release: { strategy: 'Canary', canary: { steps } },
      ...extra,
    }),
  );
  return waitReady(ns.name, name);
}

const canaries = async (name: string) =>
  (
    await client.list<V1ReplicaSet>('apps/v1', 'ReplicaSet', ns.name, {
      labelSelector: `msop.dev/microservice=${name},msop.dev/track=canary`,
    })
  ).items;

const stableImage = async (name: string) =>
  (await client.get<V1Deployment>('apps/v1', 'Deployment', ns.name, name)).spec?.template.spec?.containers[0]?.image;

test('a manual gate waits until promote, which skips the remaining steps', async () => {
  const before = await readyCanary('gate', gated);
  await setImage('gate', 'ghcr.io/example/app:2.0.0');
  const paused = await untilStatus(
    'gate',
    'phase Paused at the gate',
    (ms) => ms.status?.phase === 'Paused' && ms.status?.currentStep === 1,
  );
  expect(paused.status?.message).toMatch(/waiting for promotion/);
  expect(paused.status?.canaryWeight).toBe(50);
  expect(condition(paused, 'Ready')).toMatchObject({ status: 'False', reason: 'Paused' });
  expect(await stableImage('gate')).toBe('ghcr.io/example/app:1.0.0');

  await kubectl('annotate', 'msvc', 'gate', '-n', ns.name, 'msop.dev/action=promote');
  const promoted = await untilStatus(
    'gate',
    'promotion',
    (ms) => ms.status?.phase === 'Ready' && ms.status.stableRevision !== before.status?.stableRevision,
  );
  expect(promoted.status?.stableRevision).toBe(paused.status?.canaryRevision);
  expect(promoted.metadata.annotations?.['msop.dev/action']).toBeUndefined();
  expect(condition(promoted, 'Released')).toMatchObject({ status: 'True' });
  expect(await stableImage('gate')).toBe('ghcr.io/example/app:2.0.0');
  expect(await canaries('gate')).toEqual([]);
  const events = await eventsOf('gate');
  expect(events).toContain('Normal|PromoteRequested|');
  expect(events).toContain(`Normal|Promoted|Promoted revision ${promoted.status?.stableRevision} to stable`);
});

test('abort rolls back and the revision is not retried until asked', async () => {
  const before = await readyCanary('aborted', gated);
  await setImage('aborted', 'ghcr.io/example/app:2.0.0');
  const paused = await untilStatus('aborted', 'the gate', (ms) => ms.status?.phase === 'Paused');
  const failedRevision = paused.status?.canaryRevision;

  await kubectl('annotate', 'msvc', 'aborted', '-n', ns.name, 'msop.dev/action=abort');
  const rolledBack = await untilStatus('aborted', 'phase RolledBack', (ms) => ms.status?.phase === 'RolledBack');
  expect(rolledBack.status).toMatchObject({ failedRevision, stableRevision: before.status?.stableRevision });
  expect(rolledBack.status?.canaryRevision).toBeUndefined();
  expect(condition(rolledBack, 'Released')).toMatchObject({ status: 'False', reason: 'Aborted' });
  expect(condition(rolledBack, 'Stalled')).toMatchObject({ status: 'True' });
  expect(
    await eventually(async () => (await canaries('aborted')).length === 0, { message: 'the canary to be removed' }),
  ).toBe(true);
  expect(await stableImage('aborted')).toBe('ghcr.io/example/app:1.0.0');
  expect(await eventsOf('aborted')).toMatch(/Warning\|RolledBack\|Rolled back revision \w+: aborted on request/);

  // Several reconciles later, the failed revision has still not been retried on its own.
  const reconciles = ns.operator.manager.reconciles;
  await kubectl('annotate', 'msvc', 'aborted', '-n', ns.name, 'example.com/nudge=1');
  await eventually(() => ns.operator.manager.reconciles > reconciles, { message: 'a reconcile' });
  expect((await getMicroservice(ns.name, 'aborted')).status?.phase).toBe('RolledBack');
  expect(await canaries('aborted')).toEqual([]);

  await kubectl('annotate', 'msvc', 'aborted', '-n', ns.name, 'msop.dev/action=retry');
  const retried = await untilStatus(
    'aborted',
    'a new release of the same revision',
    (ms) => ms.status?.canaryRevision === failedRevision && ms.status?.phase === 'Paused',
  );
  expect(retried.status?.failedRevision).toBeUndefined();
});

test('a canary whose pods are never ready is rolled back after progressDeadlineSeconds', async () => {
  const before = await readyCanary('deadline', [{ setWeight: 50 }, { pause: {} }], {
    release: { strategy: 'Canary', progressDeadlineSeconds: 3, canary: { steps: [{ setWeight: 50 }, { pause: {} }] } },
  });
  // No node carries this label, so the canary's pods stay Pending.
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'deadline', {
    spec: { image: 'ghcr.io/example/app:2.0.0', placement: { nodeSelector: { 'example.com/nowhere': 'true' } } },
  });
  const rolledBack = await untilStatus(
    'deadline',
    'rollback on the deadline',
    (ms) => ms.status?.phase === 'RolledBack',
    30_000,
  );
  expect(condition(rolledBack, 'Released')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
  expect(rolledBack.status?.message).toMatch(/Rolled back revision \w+: canary \w+ had 0\/1 ready pods after \d+s/);
  expect(rolledBack.status?.stableRevision).toBe(before.status?.stableRevision);
  expect(
    await eventually(async () => (await canaries('deadline')).length === 0, { message: 'the canary to be removed' }),
  ).toBe(true);
  const deployment = await client.get<V1Deployment>('apps/v1', 'Deployment', ns.name, 'deadline');
  expect(deployment.spec?.template.metadata?.labels?.['msop.dev/revision']).toBe(before.status?.stableRevision);
  expect(deployment.spec?.replicas).toBe(2);
});

test('a new revision mid-release replaces the canary and starts again at step 0; stable is untouched', async () => {
  const before = await readyCanary('moving', gated);
  const recorder = new ReleaseRecorder(ns.name, 'moving', []);
  await recorder.start();
  await setImage('moving', 'ghcr.io/example/app:2.0.0');
  const first = await untilStatus('moving', 'the gate of the first release', (ms) => ms.status?.phase === 'Paused');
  await setImage('moving', 'ghcr.io/example/app:3.0.0');
  const second = await untilStatus(
    'moving',
    'the gate of the second release',
    (ms) => ms.status?.phase === 'Paused' && ms.status?.canaryRevision !== first.status?.canaryRevision,
  );
  expect(second.status?.currentStep).toBe(1);
  const [canary, ...others] = await canaries('moving');
  expect(others).toEqual([]);
  expect(canary?.metadata?.labels?.['msop.dev/revision']).toBe(second.status?.canaryRevision);
  expect(canary?.spec?.template?.spec?.containers[0]?.image).toBe('ghcr.io/example/app:3.0.0');
  expect(await stableImage('moving')).toBe('ghcr.io/example/app:1.0.0');
  expect(second.status?.stableRevision).toBe(before.status?.stableRevision);

  await kubectl('annotate', 'msvc', 'moving', '-n', ns.name, 'msop.dev/action=promote');
  await untilStatus(
    'moving',
    'promotion of the second revision',
    (ms) => ms.status?.phase === 'Ready' && ms.status.stableRevision === second.status?.canaryRevision,
  );
  await recorder.stop();
  expect(recorder.violations()).toEqual([]);
});

test('spec.release.paused holds a canary at its step until resumed', async () => {
  await readyCanary('holding', [{ setWeight: 50 }, { pause: { duration: '1s' } }]);
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'holding', {
    spec: { release: { paused: true } },
  });
  await setImage('holding', 'ghcr.io/example/app:2.0.0');
  const held = await untilStatus(
    'holding',
    'phase Paused',
    (ms) => ms.status?.phase === 'Paused' && ms.status.observedGeneration === ms.metadata.generation,
  );
  expect(held.status?.currentStep).toBe(0);
  expect(held.status?.message).toMatch(/paused \(spec.release.paused\)/);
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'holding', {
    spec: { release: { paused: false } },
  });
  const done = await untilStatus(
    'holding',
    'promotion after resume',
    (ms) => ms.status?.phase === 'Ready' && ms.status.stableRevision === held.status?.canaryRevision,
  );
  expect(done.status?.canaryRevision).toBeUndefined();
});

test('promote continues past the current pause only; promote --full skips every step left', async () => {
  const twoGates: CanaryStep[] = [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: {} }];
  await readyCanary('gates', twoGates, { replicas: 4 });
  await setImage('gates', 'ghcr.io/example/app:2.0.0');
  await untilStatus('gates', 'the first gate', (ms) => ms.status?.phase === 'Paused' && ms.status.currentStep === 1);

  await kubectl('annotate', 'msvc', 'gates', '-n', ns.name, 'msop.dev/action=promote');
  const second = await untilStatus(
    'gates',
    'the second gate, at 50%',
    (ms) => ms.status?.phase === 'Paused' && ms.status.currentStep === 3,
  );
  expect(second.status).toMatchObject({ desiredWeight: 50, canaryWeight: 50 });
  expect(await stableImage('gates')).toBe('ghcr.io/example/app:1.0.0');

  // The plugin's promote --full writes promote-full.
  await kubectl('annotate', 'msvc', 'gates', '-n', ns.name, 'msop.dev/action=promote-full');
  await untilStatus(
    'gates',
    'promotion',
    (ms) => ms.status?.phase === 'Ready' && ms.status.stableRevision === second.status?.canaryRevision,
  );
  expect(await stableImage('gates')).toBe('ghcr.io/example/app:2.0.0');
});

test('kubectl scale mid-release keeps the weight: 25% of 4 scaled to 8 is canary 2, stable 6', async () => {
  await readyCanary('scaled', [{ setWeight: 25 }, { pause: {} }], { replicas: 4 });
  await setImage('scaled', 'ghcr.io/example/app:2.0.0');
  await untilStatus(
    'scaled',
    'the gate at 25%',
    (ms) => ms.status?.phase === 'Paused' && ms.status.canaryWeight === 25,
  );
  await kubectl('scale', 'msvc', 'scaled', '-n', ns.name, '--replicas=8');
  const scaled = await untilStatus(
    'scaled',
    'canary 2 and stable 6, all ready',
    (ms) => ms.status?.canaryReplicas === 2 && ms.status.canaryReadyReplicas === 2 && ms.status.ready === '8/8',
  );
  expect(scaled.status?.canaryWeight).toBe(25);
  expect((await client.get<V1Deployment>('apps/v1', 'Deployment', ns.name, 'scaled')).spec?.replicas).toBe(6);
});
