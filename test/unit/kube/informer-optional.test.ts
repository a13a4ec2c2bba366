// An optional informer (a kind whose CRD may be missing) counts a 404 as an empty, synced cache, so the
// operator still starts; any other failure keeps it unsynced. A cluster-scoped object has the namespace ''.
import type { KubernetesObject } from '@kubernetes/client-node';
import pino from 'pino';
import type { KubeClient } from '../../../src/kube/client';
import { ApiError } from '../../../src/kube/errors';
import { Informer } from '../../../src/kube/informer';

function failingClient(statusCode: number): { client: KubeClient; calls: () => number } {
  let calls = 0;
  const client = {
    request: () => {
      calls++;
      return Promise.reject(new ApiError(statusCode, 'NotFound', 'the server could not find the requested resource'));
    },
  } as unknown as KubeClient;
  return { client, calls: () => calls };
}

const silent = pino({ level: 'silent' });

test.each<[string, boolean, number, boolean]>([
  ['optional, the CRD is missing (404)', true, 404, true],
  ['not optional, 404', false, 404, false],
  ['optional, forbidden (403)', true, 403, false],
])('%s: synced is %s', async (_name, optional, statusCode, synced) => {
  const { client, calls } = failingClient(statusCode);
  // The informer logs once it has handled the failure: that is when to look.
  const logged: string[] = [];
  const log = pino(
    { level: 'warn' },
    { write: (line: string) => logged.push((JSON.parse(line) as { msg: string }).msg) },
  );
  const informer = new Informer<KubernetesObject>(
    client,
    { apiVersion: 'msop.dev/v1alpha1', kind: 'Environment', optional },
    log,
  );
  informer.start();
  const deadline = Date.now() + 2_000;
  while (logged.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(logged).toEqual([
    synced ? 'The Environment API is not installed; apply its CRD to use it' : 'Informer failed, restarting',
  ]);
  expect(calls()).toBe(1);
  expect(informer.hasSynced()).toBe(synced);
  expect(informer.list()).toEqual([]);
  await informer.stop();
});

test('a cluster-scoped object is found with the namespace ""', () => {
  const informer = new Informer<KubernetesObject>({} as KubeClient, { apiVersion: 'v1', kind: 'Namespace' }, silent);
  informer.recordWrite(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', resourceVersion: '1' } },
    undefined,
  );
  expect(informer.get('', 'shop')?.metadata?.name).toBe('shop');
  expect(informer.get('shop', 'shop')).toBeUndefined();
});

test('stop() ends a retry wait at once: a shutdown never waits out the backoff (up to 30 s)', async () => {
  // Fake timers never fire unless advanced: if stop() resolves, it did not wait for the retry's timer.
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  try {
    const { client } = failingClient(404);
    const informer = new Informer<KubernetesObject>(
      client,
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', optional: true },
      silent,
    );
    informer.start();
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 100 && !informer.hasSynced(); i++) await tick();
    expect(informer.hasSynced()).toBe(true);
    let stopped = false;
    const stopping = informer.stop().then(() => (stopped = true));
    for (let i = 0; i < 100 && !stopped; i++) await tick();
    expect(stopped).toBe(true);
    await stopping;
  } finally {
    jest.useRealTimers();
  }
});
