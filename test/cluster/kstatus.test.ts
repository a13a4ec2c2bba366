// GitOps health, by the real library: kstatus (sigs.k8s.io/cli-utils), which Flux's health
// checks use and Argo CD's follow, run over real Microservices through hack/kstatus. A Ready
// Microservice is Current; one in a release, at a pause or held back by spec.release.paused is
// InProgress; a Stalled one is Failed.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Microservice } from '../../src/api/types';
import {
  client,
  condition,
  getMicroservice,
  microservice,
  operatorNamespace,
  releaseHelpers,
  waitReady,
} from './harness';

const run = promisify(execFile);
const ns = operatorNamespace('kstatus');
const { setImage, untilStatus } = releaseHelpers(() => ns.name);

/** What kstatus computes for the Microservice as the API server has it now. */
async function kstatus(name: string): Promise<{ status: string; message: string; ms: Microservice }> {
  const bin = path.join(process.env.MSOP_TEST_BIN ?? '', 'kstatus');
  if (!existsSync(bin))
    throw new Error(`${bin} is missing: build it with hack/kstatus/build.sh (hack/test-cluster.sh does)`);
  const ms = await getMicroservice(ns.name, name);
  const child = run(bin, [], { timeout: 10_000 });
  child.child.stdin!.end(JSON.stringify(ms));
  const { stdout } = await child;
  return { ...(JSON.parse(stdout) as { status: string; message: string }), ms };
}

async function readyMicroservice(name: string, spec: Partial<Microservice['spec']> = {}): Promise<void> {
  await client.create(microservice(ns.name, name, { image: 'ghcr.io/example/app:1.0.0', replicas: 2, ...spec }));
  await waitReady(ns.name, name);
}

test('a Ready Microservice is Current', async () => {
  await readyMicroservice('ready');
  const { status, ms } = await kstatus('ready');
  expect([ms.status?.phase, status]).toEqual(['Ready', 'Current']);
});

test('a canary release under way, and one waiting at a pause step for promote, are InProgress', async () => {
  await readyMicroservice('canary', {
    release: {
      strategy: 'Canary',
      canary: { steps: [{ setWeight: 50 }, { pause: { duration: '1h' } }, { pause: {} }] },
    },
  });
  await setImage('canary', 'ghcr.io/example/app:2.0.0');
  await untilStatus('canary', 'at the timed pause (step 1)', (ms) => ms.status?.currentStep === 1);
  const during = await kstatus('canary');
  expect([during.ms.status?.phase, during.status]).toEqual([
    expect.stringMatching(/^(Progressing|Paused)$/),
    'InProgress',
  ]);

  // Skip the timed pause: the release now waits for a person at pause {}.
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'canary', {
    metadata: { annotations: { 'msop.dev/action': 'promote' } },
  });
  await untilStatus(
    'canary',
    'Paused at the manual gate (step 2)',
    (ms) => ms.status?.phase === 'Paused' && ms.status?.currentStep === 2,
  );
  const gated = await kstatus('canary');
  expect(gated.status).toBe('InProgress');
  // msop clears Reconciling at a pause; kstatus reads the Ready=False condition, which names why it waits.
  expect(condition(gated.ms, 'Ready')).toMatchObject({ status: 'False', reason: 'Paused' });
  expect(gated.message).toBe(condition(gated.ms, 'Ready')?.message);
});

test('a new revision held back by spec.release.paused is InProgress, and Current once released', async () => {
  await readyMicroservice('held');
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'held', {
    spec: { image: 'ghcr.io/example/app:2.0.0', release: { paused: true } },
  });
  await untilStatus('held', 'Paused', (ms) => ms.status?.phase === 'Paused');
  expect((await kstatus('held')).status).toBe('InProgress');
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'held', {
    spec: { release: { paused: false } },
  });
  await waitReady(ns.name, 'held');
  expect((await kstatus('held')).status).toBe('Current');
});

test('a Stalled Microservice is Failed, with its message', async () => {
  await client.create(
    microservice(ns.name, 'stalled', {
      image: 'ghcr.io/example/app:1.0.0',
      envFrom: [{ configMapRef: { name: 'missing-config' } }],
    }),
  );
  await untilStatus('stalled', 'Stalled', (ms) => condition(ms, 'Stalled')?.status === 'True');
  const { status, message } = await kstatus('stalled');
  expect(status).toBe('Failed');
  expect(message).toContain('missing-config');
});
