// The API server SIGKILLed mid-release and started again 20 s later: the operator (dist/main.js, one
// replica, no leader election) stays up, its informers retry with jittered backoff (not in lockstep) and
// relist, and the release finishes with the invariants held over every write and no orphan.
import {
  client,
  createNamespace,
  eventually,
  getMicroservice,
  microservice,
  type OperatorProcess,
  startOperatorProcess,
  waitReady,
} from '../cluster/harness';
import { ReleaseRecorder } from '../cluster/release-recorder';
import { ControlPlane } from './control-plane';
import { footprint, orphans, sleep } from './chaos';

const OUTAGE_MS = 20_000;

let ns: Awaited<ReturnType<typeof createNamespace>>;
let operator: OperatorProcess | undefined;
const controlPlane = new ControlPlane();
let unsupervise: (() => void) | undefined;

beforeAll(async () => {
  ns = await createNamespace('chaos-api');
});

afterAll(async () => {
  unsupervise?.();
  await operator?.stop('SIGKILL');
  await ns?.cleanup();
});

test('the API server stopped for 20 s mid-release: the operator stays up, relists with jittered backoff, and the release finishes', async () => {
  operator = startOperatorProcess({ args: [`--watch-namespaces=${ns.name}`, '--log-level=info'] });
  await operator.waitForLog('Starting workers');
  const name = 'outage';
  await client.create(
    microservice(ns.name, name, {
      image: 'ghcr.io/example/app:1.0.0',
      replicas: 4,
      release: {
        strategy: 'Canary',
        canary: {
          traffic: { router: 'gatewayAPI', gatewayAPI: { parentRefs: [{ name: 'public' }] } },
          steps: [{ setWeight: 25 }, { pause: { duration: '3s' } }, { setWeight: 50 }, { pause: { duration: '3s' } }],
        },
      },
    }),
  );
  const before = await waitReady(ns.name, name, 60_000);
  const atRest = await footprint(ns.name, name);
  const recorder = new ReleaseRecorder(ns.name, name, ['HTTPRoute'], (objects) => {
    const route = objects.get(`HTTPRoute/${name}`) as
      { spec?: { rules?: { backendRefs?: { name: string; weight?: number }[] }[] } } | undefined;
    const refs = route?.spec?.rules?.[0]?.backendRefs ?? [];
    const stable = refs.find((r) => r.name === `${name}-stable`)?.weight;
    const canary = refs.find((r) => r.name === `${name}-canary`)?.weight ?? 0;
    return stable === undefined ? undefined : Math.round((100 * canary) / (stable + canary || 1));
  });
  await recorder.start();
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
    spec: { image: 'ghcr.io/example/app:2.0.0' },
  });
  await eventually(async () => ((await getMicroservice(ns.name, name)).status?.currentStep ?? 0) >= 1, {
    message: 'the first weight step',
    intervalMs: 50,
  });

  // Kill in the pause after the first weight, once the recorder has every write so far: a write in flight
  // at the kill is in etcd but never reaches a watch, and the record would have a hole.
  await eventually(() => recorder.caughtUp(), { message: 'the recorder to hold every write so far', intervalMs: 20 });
  expect((await getMicroservice(ns.name, name)).status?.phase).toBe('Progressing');

  const linesBefore = operator.lines.length;
  unsupervise = controlPlane.supervise();
  await controlPlane.kill('kube-apiserver');
  const down = Date.now();
  try {
    await sleep(OUTAGE_MS);
    expect(operator.child.exitCode).toBeNull();
  } finally {
    await controlPlane.start('kube-apiserver');
  }
  const up = Date.now();
  console.log(`API server down for ${((up - down) / 1000).toFixed(1)} s (restart included)`);

  const after = await eventually(
    async () => {
      const ms = await getMicroservice(ns.name, name);
      return ms.status?.phase === 'Ready' && ms.status.stableRevision !== before.status?.stableRevision
        ? ms
        : undefined;
    },
    { message: 'the release to finish after the outage', timeoutMs: 120_000, intervalMs: 100 },
  ).catch(async (err: Error) => {
    const ms = await getMicroservice(ns.name, name);
    const log = operator!.lines.slice(linesBefore).map((l) => l.text);
    throw new Error(`${err.message}\nphase ${ms.status?.phase}: ${ms.status?.message}\n${log.join('\n')}`);
  });
  const finished = Date.now();
  console.log(
    `release finished ${((finished - up) / 1000).toFixed(1)} s after the API server was back; restarted on their own exit: ` +
      controlPlane.restarts.map((r) => `${r.component} (+${((r.at - down) / 1000).toFixed(1)} s)`).join(', '),
  );
  expect(after.spec.image).toBe('ghcr.io/example/app:2.0.0');
  expect(await orphans(ns.name, name, atRest)).toEqual([]);
  await recorder.stop();
  expect(recorder.violations()).toEqual([]);
  expect(recorder.weights()).toEqual([0, 25, 50, 100, 0]);

  // Still the same process, and it never logged a crash.
  expect(operator.child.exitCode).toBeNull();
  const outage = operator.lines.slice(linesBefore);
  expect(outage.filter((l) => !l.json).map((l) => l.text)).toEqual([]);
  expect(outage.filter((l) => l.json?.msg === 'Unhandled rejection')).toEqual([]);

  // Every informer failed and retried; their delays differ (jitter), so they do not relist in lockstep.
  const retries = outage.filter((l) => l.json?.msg === 'Informer failed, restarting').map((l) => l.json!);
  const byKind = new Map<string, number[]>();
  for (const r of retries)
    byKind.set(r.kind as string, [...(byKind.get(r.kind as string) ?? []), r.retryInMs as number]);
  console.log(
    `informer retries during the outage: ${[...byKind].map(([kind, delays]) => `${kind} ${delays.join('/')}`).join(', ')}`,
  );
  expect(byKind.size).toBeGreaterThanOrEqual(5);
  const firsts = [...byKind.values()].map((delays) => delays[0]!);
  expect(new Set(firsts).size).toBeGreaterThanOrEqual(Math.ceil(firsts.length / 2));
  for (const delays of byKind.values()) for (const d of delays) expect(d).toBeLessThanOrEqual(30_000);
  expect(await operator.stop('SIGTERM')).toBe(0);
});
