// A stable Deployment deleted mid-release comes back on the stable revision, from the template msop kept in
// status.release, and the release goes on from where it was: the new revision never reaches the stable track
// before its promotion.
import type { V1Deployment } from '@kubernetes/client-node';
import { client, eventually, kubectl, microservice, operatorNamespace, releaseHelpers, waitReady } from './harness';

const ns = operatorNamespace('stable-deleted');
const { setImage, untilStatus } = releaseHelpers(() => ns.name);

const deploymentOf = (name: string) => client.get<V1Deployment>('apps/v1', 'Deployment', ns.name, name);

test('a stable Deployment deleted mid-release is recreated on the stable revision, and the release finishes', async () => {
  await client.create(
    microservice(ns.name, 'orders', {
      image: 'ghcr.io/example/orders:1.0.0',
      replicas: 2,
      release: { strategy: 'Canary', canary: { steps: [{ setWeight: 50 }, { pause: {} }] } },
    }),
  );
  const ready = await waitReady(ns.name, 'orders');
  const stableRevision = ready.status!.stableRevision!;
  await setImage('orders', 'ghcr.io/example/orders:2.0.0');
  const paused = await untilStatus('orders', 'paused at the gate', (ms) => ms.status?.phase === 'Paused');
  expect(JSON.parse(paused.status?.release?.stablePodTemplate ?? '{}')).toMatchObject({
    metadata: { labels: { 'msop.dev/revision': stableRevision } },
  });
  const before = await deploymentOf('orders');

  await kubectl('delete', 'deployment', 'orders', '-n', ns.name, '--wait=true');
  const recreated = await eventually(
    async () => {
      const deployment = await deploymentOf('orders').catch(() => undefined);
      return deployment && deployment.metadata?.uid !== before.metadata?.uid ? deployment : undefined;
    },
    { message: 'the Deployment recreated', timeoutMs: 15_000 },
  );
  expect(recreated.spec?.template.metadata?.labels?.['msop.dev/revision']).toBe(stableRevision);
  expect(recreated.spec?.template.spec?.containers[0]?.image).toBe('ghcr.io/example/orders:1.0.0');
  const still = await untilStatus('orders', 'still paused at the gate', (ms) => ms.status?.phase === 'Paused');
  expect(still.status?.stableRevision).toBe(stableRevision);

  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'orders', {
    metadata: { annotations: { 'msop.dev/action': 'promote' } },
  });
  const promoted = await waitReady(ns.name, 'orders');
  expect(promoted.status?.stableRevision).not.toBe(stableRevision);
  expect(promoted.status?.release?.stablePodTemplate).toBeUndefined();
  expect((await deploymentOf('orders')).spec?.template.spec?.containers[0]?.image).toBe('ghcr.io/example/orders:2.0.0');
});
