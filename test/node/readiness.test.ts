// Real readiness: on a real node Ready comes from the kubelet running the readiness
// probe against the container, not from kwok. examples/hello.yaml with the simulated
// app's image becomes Ready only once its pods answer /healthz, and a probe that
// never passes leaves a status that says what is stuck.
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { load } from 'js-yaml';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Microservice } from '../../src/api/types';
import { client, condition, createNamespace, eventually, getMicroservice, waitReady } from '../cluster/harness';
import { ROOT, SIM_IMAGE, isReady } from './harness';

let ns: Awaited<ReturnType<typeof createNamespace>>;
beforeAll(async () => {
  ns = await createNamespace('node-ready');
});
afterAll(async () => {
  await ns?.cleanup();
});

function hello(): Microservice {
  const ms = load(readFileSync(path.join(ROOT, 'examples', 'hello.yaml'), 'utf8')) as Microservice;
  ms.metadata = { ...ms.metadata, namespace: ns.name };
  ms.spec.image = SIM_IMAGE;
  return ms;
}

async function pods(name: string): Promise<V1Pod[]> {
  const list = await client.list<V1Pod>('v1', 'Pod', ns.name, { labelSelector: `msop.dev/microservice=${name}` });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

test('examples/hello.yaml is Ready only once its real pods pass the readiness probe', async () => {
  const ms = hello();
  // The app answers /healthz with 503 for its first 8 s, as a slow starter would.
  ms.spec.env = [{ name: 'SIM_READY_AFTER_MS', value: '8000' }];
  await client.create(ms);
  // Containers running, probe not yet passing: the Microservice must not be Ready.
  const running = await eventually(
    async () => {
      const list = await pods('hello');
      const started = list.filter((p) => p.status?.containerStatuses?.[0]?.state?.running);
      return started.length === 3 ? list : undefined;
    },
    { timeoutMs: 120_000, message: 'three hello containers running' },
  );
  expect(running.filter(isReady)).toHaveLength(0);
  const early = await getMicroservice(ns.name, 'hello');
  expect(condition(early, 'Ready')?.status).not.toBe('True');

  const ready = await waitReady(ns.name, 'hello', 120_000);
  expect(ready.status?.ready).toBe('3/3');
  const list = await pods('hello');
  expect(list.filter(isReady)).toHaveLength(3);
  // Each pod really serves: straight to its address on the node's bridge.
  for (const pod of list) {
    const response = await fetch(`http://${pod.status!.podIP}:8080/healthz`, { signal: AbortSignal.timeout(3_000) });
    expect([pod.metadata!.name, response.status]).toEqual([pod.metadata!.name, 200]);
  }
});

test('a readiness probe that never passes leaves the Microservice not Ready, with a message naming it', async () => {
  const ms = hello();
  ms.metadata!.name = 'never';
  ms.spec.replicas = 2;
  ms.spec.probes = { readiness: { httpGet: { path: '/no-such-path' } } };
  ms.spec.release = { progressDeadlineSeconds: 20 };
  await client.create(ms);
  const stalled = await eventually(
    async () => {
      const current = await getMicroservice(ns.name, 'never');
      return condition(current, 'Stalled')?.status === 'True' ? current : undefined;
    },
    { timeoutMs: 120_000, message: 'the Microservice never to be Stalled' },
  );
  expect(condition(stalled, 'Ready')?.status).toBe('False');
  expect(stalled.status?.phase).toBe('Failed');
  expect(stalled.status?.message).toMatch(/Deployment never exceeded its progress deadline/);
  // The containers run; only the probe fails, so nothing restarts them, and the kubelet says why.
  for (const pod of await pods('never')) {
    expect(pod.status?.containerStatuses?.[0]?.state?.running).toBeDefined();
    expect(isReady(pod)).toBe(false);
  }
  const events = await client.list<CoreV1Event>('v1', 'Event', ns.name, { fieldSelector: 'reason=Unhealthy' });
  expect(events.items.map((e) => e.message)).toContainEqual(
    expect.stringContaining('Readiness probe failed: HTTP probe failed with statuscode: 404'),
  );
});
