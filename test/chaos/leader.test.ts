// Two operator replicas (dist/main.js) with leader election; the leader SIGKILLed mid-release. The standby
// takes the Lease when it runs out and finishes the release, with the invariants held over every write and
// no orphan.
import type { Lease } from '../../src/kube/lease';
import {
  client,
  createNamespace,
  eventually,
  getMicroservice,
  getOrUndefined,
  microservice,
  type OperatorProcess,
  startOperatorProcess,
  waitReady,
} from '../cluster/harness';
import { ReleaseRecorder } from '../cluster/release-recorder';
import { footprint, orphans } from './chaos';

let ns: Awaited<ReturnType<typeof createNamespace>>;
const operators: OperatorProcess[] = [];

beforeAll(async () => {
  ns = await createNamespace('chaos-leader');
});

afterAll(async () => {
  await Promise.all(operators.map((op) => op.stop('SIGKILL')));
  await ns?.cleanup();
});

function replica(identity: string): OperatorProcess {
  const op = startOperatorProcess({
    args: ['--leader-elect=true', `--leader-election-namespace=${ns.name}`, `--watch-namespaces=${ns.name}`],
    env: { HOSTNAME: identity },
  });
  operators.push(op);
  return op;
}

const holder = async () =>
  (await getOrUndefined<Lease & { metadata: object }>('coordination.k8s.io/v1', 'Lease', ns.name, 'msop-leader'))?.spec
    ?.holderIdentity ?? '';

test('the leader SIGKILLed mid-release: the standby takes over and finishes the release', async () => {
  const a = replica('chaos-a');
  await a.waitForLog('Became leader');
  const b = replica('chaos-b');
  await b.waitForLog('Another replica leads, standing by');
  const name = 'failover';
  await client.create(
    microservice(ns.name, name, {
      image: 'ghcr.io/example/app:1.0.0',
      replicas: 4,
      release: {
        strategy: 'Canary',
        canary: {
          traffic: { router: 'replicas' },
          steps: [{ setWeight: 25 }, { pause: { duration: '2s' } }, { setWeight: 50 }, { pause: { duration: '2s' } }],
        },
      },
    }),
  );
  const before = await waitReady(ns.name, name, 60_000);
  const atRest = await footprint(ns.name, name);
  const recorder = new ReleaseRecorder(ns.name, name, []);
  await recorder.start();
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
    spec: { image: 'ghcr.io/example/app:2.0.0' },
  });
  await eventually(async () => ((await getMicroservice(ns.name, name)).status?.currentStep ?? 0) >= 1, {
    message: 'the first weight step',
    intervalMs: 50,
  });
  const killed = Date.now();
  expect(await a.stop('SIGKILL')).toBeNull();
  const mid = await getMicroservice(ns.name, name);
  expect(mid.status?.phase).toBe('Progressing');

  await b.waitForLog('Became leader', 30_000);
  const tookOver = Date.now();
  expect(await holder()).toMatch(/^chaos-b_/);
  const after = await eventually(
    async () => {
      const ms = await getMicroservice(ns.name, name);
      return ms.status?.phase === 'Ready' && ms.status.stableRevision !== before.status?.stableRevision
        ? ms
        : undefined;
    },
    { message: 'the standby to finish the release', timeoutMs: 120_000, intervalMs: 100 },
  );
  const finished = Date.now();
  console.log(
    `leader SIGKILLed at step ${mid.status?.currentStep}: the standby led after ${((tookOver - killed) / 1000).toFixed(1)} s ` +
      `and finished the release ${((finished - killed) / 1000).toFixed(1)} s after the kill`,
  );
  expect(after.spec.image).toBe('ghcr.io/example/app:2.0.0');
  expect(await orphans(ns.name, name, atRest)).toEqual([]);
  await recorder.stop();
  expect(recorder.violations()).toEqual([]);
  expect(b.child.exitCode).toBeNull();
  expect(await b.stop('SIGTERM')).toBe(0);
});
