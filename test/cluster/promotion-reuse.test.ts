// A canary promotion under the replicas router reuses the canary's running
// pods: the stable Deployment adopts the canary's ReplicaSet, so the only pods
// deleted by a release are the old stable ones (as with Argo Rollouts), and
// every release invariant holds over every write.
import type { KubernetesObject, V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { CanaryStep, Microservice } from '../../src/api/types';
import { resourcePath, resourceType } from '../../src/kube/resources';
import { client, microservice, operatorNamespace, releaseHelpers, waitReady } from './harness';
import { ReleaseRecorder } from './release-recorder';

const ns = operatorNamespace('reuse');
const { setImage, untilStatus } = releaseHelpers(() => ns.name);

/** Every pod ADDED and DELETED in the namespace, from a watch started before the release. */
async function watchPods(namespace: string) {
  const added = new Map<string, V1Pod>();
  const deleted = new Set<string>();
  const abort = new AbortController();
  const list = await client.list<V1Pod>('v1', 'Pod', namespace);
  const stream = client
    .watch<KubernetesObject>(
      resourcePath(resourceType('v1', 'Pod'), namespace),
      { resourceVersion: list.metadata.resourceVersion },
      undefined,
      (event) => {
        const pod = event.object as V1Pod;
        const uid = pod.metadata?.uid ?? '';
        if (event.type === 'ADDED') added.set(uid, pod);
        if (event.type === 'DELETED') deleted.add(uid);
      },
      abort.signal,
    )
    .catch(() => undefined);
  return {
    before: list.items,
    added,
    deleted,
    stop: async () => {
      abort.abort();
      await stream;
    },
  };
}

/** A Canary Microservice on image 1.0.0, once Ready. */
async function readyCanary(name: string, replicas: number, steps: CanaryStep[]): Promise<Microservice> {
  await client.create(
    microservice(ns.name, name, {
      image: 'ghcr.io/example/app:1.0.0',
      replicas,
      release: { strategy: 'Canary', canary: { steps } },
    }),
  );
  return waitReady(ns.name, name);
}

test('promotion keeps every canary pod: the Deployment adopts the canary ReplicaSet, only the old stable pods go', async () => {
  const name = 'reuse';
  const before = await readyCanary(name, 3, [{ setWeight: 50 }, { pause: { duration: '1s' } }]);
  const recorder = new ReleaseRecorder(ns.name, name, []);
  await recorder.start();
  const pods = await watchPods(ns.name);
  const oldStable = new Set(pods.before.map((p) => p.metadata!.uid!));
  expect(oldStable.size).toBe(3);

  await setImage(name, 'ghcr.io/example/app:2.0.0');
  const released = await untilStatus(
    name,
    'the new revision stable and Ready',
    (ms) =>
      ms.status?.phase === 'Ready' &&
      ms.status.stableRevision !== before.status?.stableRevision &&
      !ms.status.canaryRevision,
    60_000,
  );
  const revision = released.status!.stableRevision!;
  const deployment = await client.get<V1Deployment>('apps/v1', 'Deployment', ns.name, name);
  await pods.stop();
  await recorder.stop();

  // Every pod the release created was a canary pod, and each one is now a stable pod: none was recreated.
  const created = [...pods.added.values()].filter((p) => !oldStable.has(p.metadata!.uid!));
  expect(created.map((p) => p.metadata?.labels?.['msop.dev/track'])).toEqual(['canary', 'canary', 'canary']);
  const running = (
    await client.list<V1Pod>('v1', 'Pod', ns.name, { labelSelector: `msop.dev/microservice=${name}` })
  ).items.filter((p) => !p.metadata?.deletionTimestamp);
  expect(new Set(running.map((p) => p.metadata!.uid!))).toEqual(new Set(created.map((p) => p.metadata!.uid!)));
  for (const pod of running)
    expect(pod.metadata?.labels).toMatchObject({ 'msop.dev/track': 'stable', 'msop.dev/revision': revision });
  // The only pods deleted were the old stable ones.
  expect(new Set(pods.deleted)).toEqual(oldStable);

  // The canary's ReplicaSet is the Deployment's now, and the Deployment rolls as usual again.
  const sets = (await client.list<V1ReplicaSet>('apps/v1', 'ReplicaSet', ns.name)).items.filter(
    (rs) => (rs.spec?.replicas ?? 0) > 0,
  );
  expect(sets.map((rs) => rs.metadata?.name)).toEqual([`${name}-canary-${revision}`]);
  expect(sets[0]!.metadata?.ownerReferences).toEqual([
    expect.objectContaining({ kind: 'Deployment', name, uid: deployment.metadata?.uid, controller: true }),
  ]);
  expect(deployment.spec?.paused).toBeFalsy();
  expect(deployment.spec?.strategy?.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: '25%' });
  expect(deployment.status).toMatchObject({ replicas: 3, updatedReplicas: 3, availableReplicas: 3 });
  expect(recorder.violations()).toEqual([]);
});

test('a revert to a revision the Deployment still has a ReplicaSet of rolls instead, and finishes', async () => {
  // The Deployment controller would take its own old ReplicaSet of that template (the oldest that matches) as
  // the new one, not the canary's, and the handover could never complete: msop rolls as before.
  const name = 'revert';
  const first = await readyCanary(name, 2, [{ setWeight: 50 }]);
  await setImage(name, 'ghcr.io/example/app:2.0.0');
  await untilStatus(
    name,
    'revision 2.0.0 stable',
    (ms) => ms.status?.phase === 'Ready' && ms.status.stableRevision !== first.status?.stableRevision,
    60_000,
  );
  const recorder = new ReleaseRecorder(ns.name, name, []);
  await recorder.start();
  await setImage(name, 'ghcr.io/example/app:1.0.0');
  const reverted = await untilStatus(
    name,
    'revision 1.0.0 stable again, no canary left',
    (ms) =>
      ms.status?.phase === 'Ready' &&
      ms.status.stableRevision === first.status?.stableRevision &&
      !ms.status.canaryRevision,
    60_000,
  );
  await recorder.stop();
  const deployment = await client.get<V1Deployment>('apps/v1', 'Deployment', ns.name, name);
  expect(deployment.spec?.paused).toBeFalsy();
  expect(deployment.status).toMatchObject({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
  // Rolled, not handed over: the Deployment's own ReplicaSet of 1.0.0 runs the pods, and the canary's are gone.
  const running = (
    await client.list<V1Pod>('v1', 'Pod', ns.name, { labelSelector: `msop.dev/microservice=${name}` })
  ).items.filter((p) => !p.metadata?.deletionTimestamp);
  expect(running.map((p) => p.metadata?.labels?.['msop.dev/track'])).toEqual(['stable', 'stable']);
  expect(running.every((p) => p.metadata?.labels?.['msop.dev/revision'] === reverted.status?.stableRevision)).toBe(
    true,
  );
  expect(running.every((p) => p.metadata?.ownerReferences?.[0]?.name?.startsWith(`${name}-canary-`) === false)).toBe(
    true,
  );
  expect(recorder.violations()).toEqual([]);
});
