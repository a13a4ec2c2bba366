// Leader election with real processes: two operators (dist/main.js) on one Lease,
// client-go's timings. Only the leader writes; when it is SIGKILLed the standby takes
// over within 20 s; a leader stopped with SIGTERM hands the Lease over at once.
import type { V1Deployment } from '@kubernetes/client-node';
import type { Lease } from '../../src/kube/lease';
import {
  client,
  createNamespace,
  eventually,
  getOrUndefined,
  kubectl,
  type OperatorProcess,
  startOperatorProcess,
  waitReady,
} from './harness';

let ns: Awaited<ReturnType<typeof createNamespace>>;
const operators: OperatorProcess[] = [];

beforeAll(async () => {
  ns = await createNamespace('leader');
});

afterAll(async () => {
  await Promise.all(operators.map((op) => op.stop('SIGKILL')));
  await ns?.cleanup();
});

/** An operator replica with leader election on, watching only the test namespace, named by HOSTNAME. */
function replica(name: string): OperatorProcess {
  const op = startOperatorProcess({
    args: ['--leader-elect=true', `--leader-election-namespace=${ns.name}`, `--watch-namespaces=${ns.name}`],
    env: { HOSTNAME: name },
  });
  operators.push(op);
  return op;
}

const holder = async () =>
  (await getOrUndefined<Lease & { metadata: object }>('coordination.k8s.io/v1', 'Lease', ns.name, 'msop-leader'))?.spec
    ?.holderIdentity ?? '';

/** Log lines of a reconcile (they carry its reconcileID), which only a leader may print. */
const reconcileLines = (op: OperatorProcess, before = Infinity) =>
  op.lines.slice(0, before).filter((l) => l.json && 'reconcileID' in l.json);

const indexOfLog = (op: OperatorProcess, msg: string) => op.lines.findIndex((l) => l.json?.msg === msg);

async function eventsBy(instance: string): Promise<{ reason: string; at: number }[]> {
  const list = await client.list<{
    metadata: { name?: string };
    reportingInstance?: string;
    reason?: string;
    firstTimestamp?: string;
  }>('v1', 'Event', ns.name);
  return list.items
    .filter((e) => e.reportingInstance === instance)
    .map((e) => ({ reason: e.reason ?? '', at: Date.parse(e.firstTimestamp ?? '') }));
}

let a: OperatorProcess;
let b: OperatorProcess;

test('one replica leads and reconciles; the other only keeps its caches warm', async () => {
  a = replica('op-a');
  await a.waitForLog('Became leader');
  b = replica('op-b');
  await b.waitForLog('Caches synced');
  await b.waitForLog('Another replica leads, standing by');
  expect(await holder()).toMatch(/^op-a_[0-9a-f]{8}$/);

  await kubectl('apply', '-n', ns.name, '-f', 'examples/hello.yaml');
  await waitReady(ns.name, 'hello');

  // Both are ready (synced), only the leader says so on leader_election_master_status.
  for (const [op, leading] of [
    [a, 1],
    [b, 0],
  ] as const) {
    const { healthPort, metricsPort } = await op.ports();
    expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(200);
    const body = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(body).toContain(`leader_election_master_status{name="msop-leader"} ${leading}`);
    const reconciled = /^controller_runtime_reconcile_total\{controller="microservice",result="success"\} (\d+)/m;
    expect(Number(reconciled.exec(body)?.[1]) > 0).toBe(leading === 1);
  }
  expect(reconcileLines(a).length).toBeGreaterThan(0);
  expect(reconcileLines(b)).toEqual([]);
  expect(indexOfLog(b, 'Starting workers')).toBe(-1);
  expect((await eventsBy('op-a')).length).toBeGreaterThan(0);
  expect(await eventsBy('op-b')).toEqual([]);
});

test('when the leader is SIGKILLed the standby takes over within 20 s and repairs drift', async () => {
  const killedAt = Date.now();
  expect(await a.stop('SIGKILL')).toBeNull();
  await eventually(async () => (await holder()).startsWith('op-b_'), {
    timeoutMs: 30_000,
    intervalMs: 100,
    message: 'op-b to hold the Lease',
  });
  const failoverMs = Date.now() - killedAt;
  console.log(`leader failover after SIGKILL: ${(failoverMs / 1000).toFixed(1)} s`);
  expect(failoverMs).toBeLessThan(20_000);
  // The Lease moved; its log line may still be on its way through the pipe.
  await b.waitForLog('Became leader', 5_000);
  const became = indexOfLog(b, 'Became leader');
  // Nothing reconciled on b before it led.
  expect(reconcileLines(b, became)).toEqual([]);

  const before = await client.get<V1Deployment>('apps/v1', 'Deployment', ns.name, 'hello');
  await kubectl('delete', 'deployment', 'hello', '-n', ns.name, '--wait=false');
  const restored = await eventually(
    async () => {
      const d = await getOrUndefined<V1Deployment>('apps/v1', 'Deployment', ns.name, 'hello');
      return d && d.metadata?.uid !== before.metadata?.uid ? d : undefined;
    },
    { message: 'the Deployment to be restored by the new leader' },
  );
  expect(restored.spec?.replicas).toBe(3);
  await waitReady(ns.name, 'hello');
  const byB = await eventsBy('op-b');
  expect(byB.length).toBeGreaterThan(0);
  // Events are stamped with whole seconds.
  for (const event of byB) expect(event.at).toBeGreaterThanOrEqual(Math.floor(killedAt / 1000) * 1000);
});

test('a leader stopped with SIGTERM hands the Lease back, and a standby takes over at once', async () => {
  const c = replica('op-c');
  await c.waitForLog('Another replica leads, standing by');
  const stoppedAt = Date.now();
  expect(await b.stop('SIGTERM')).toBe(0);
  expect(b.lines.some((l) => l.json?.msg === 'Released the leader Lease')).toBe(true);
  await c.waitForLog('Became leader', 10_000);
  const handoverMs = Date.now() - stoppedAt;
  console.log(`leader hand-over after SIGTERM: ${(handoverMs / 1000).toFixed(1)} s`);
  expect(handoverMs).toBeLessThan(5_000);
  expect(await holder()).toMatch(/^op-c_/);
});
