// An analysis webhook that hangs: every check waits out the webhook's timeout and gets no answer. No answer
// is missing data, not a verdict: no step advances and nothing is promoted while it hangs, onInconclusive
// applies at inconclusiveLimit (Pause here; Rollback in the unit tests), and the release resumes and is
// promoted once the webhook answers again.
import type { MicroserviceSpec } from '../../src/api/types';
import { client, eventually, getMicroservice, microservice, operatorNamespace, waitReady } from '../cluster/harness';
import { ReleaseRecorder } from '../cluster/release-recorder';
import { footprint, orphans, webhookAnalysis, WebhookReceiver } from './chaos';

const ns = operatorNamespace('chaos-hook');
const hook = new WebhookReceiver();
beforeAll(() => hook.start());
afterAll(() => hook.stop());

test('a hanging webhook: no promotion, onInconclusive Pause applied, and the release resumes once it answers', async () => {
  const name = 'hang';
  const release = (verdict: 'pass' | 'fail') =>
    ({
      strategy: 'Canary',
      canary: {
        traffic: { router: 'replicas' },
        steps: [{ setWeight: 25 }, { pause: { duration: '1s' } }, { setWeight: 50 }],
      },
      analysis: webhookAnalysis(hook.url, verdict, { onInconclusive: 'Pause' }),
    }) as MicroserviceSpec['release'];
  await client.create(
    microservice(ns.name, name, { image: 'ghcr.io/example/app:1.0.0', replicas: 4, release: release('pass') }),
  );
  const before = await waitReady(ns.name, name, 60_000);
  const atRest = await footprint(ns.name, name);
  const recorder = new ReleaseRecorder(ns.name, name, []);
  await recorder.start();

  hook.hang = true;
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
    spec: { image: 'ghcr.io/example/app:2.0.0' },
  });
  const paused = await eventually(
    async () => {
      const ms = await getMicroservice(ns.name, name);
      return ms.status?.phase === 'Paused' ? ms : undefined;
    },
    { message: 'onInconclusive Pause', timeoutMs: 60_000, intervalMs: 100 },
  );
  expect(paused.status?.message).toMatch(/analysis inconclusive/);
  expect(paused.status?.message).toMatch(/no answer within 2s/);
  expect(paused.status?.analysis).toMatchObject({ failures: 0, inconclusive: 3 });
  // The canary took its first step's pods, but no check passed, so no step after it began.
  expect(paused.status?.currentStep ?? 0).toBe(0);
  expect(paused.status?.stableRevision).toBe(before.status?.stableRevision);
  const callsWhilePaused = hook.calls;
  // It keeps checking while paused, and still does not move.
  await eventually(() => hook.calls > callsWhilePaused + 1, { message: 'more checks while paused', timeoutMs: 30_000 });
  const still = await getMicroservice(ns.name, name);
  expect(still.status).toMatchObject({ phase: 'Paused', currentStep: paused.status?.currentStep ?? 0 });
  expect(still.status?.stableRevision).toBe(before.status?.stableRevision);

  hook.hang = false;
  const after = await eventually(
    async () => {
      const ms = await getMicroservice(ns.name, name);
      return ms.status?.phase === 'Ready' && ms.status.stableRevision !== before.status?.stableRevision
        ? ms
        : undefined;
    },
    { message: 'promotion once the webhook answers', timeoutMs: 60_000, intervalMs: 100 },
  );
  expect(after.spec.image).toBe('ghcr.io/example/app:2.0.0');
  expect(await orphans(ns.name, name, atRest)).toEqual([]);
  await recorder.stop();
  expect(recorder.violations()).toEqual([]);
});
