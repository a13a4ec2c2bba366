// Read-your-writes: an object msop wrote replaces the cached one only if the cache still holds the version
// msop read; a newer version the watch delivered meanwhile is never overwritten.
import type { KubernetesObject } from '@kubernetes/client-node';
import pino from 'pino';
import type { KubeClient } from '../../../src/kube/client';
import { Informer } from '../../../src/kube/informer';

const object = (rv: string, note: string): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'a', namespace: 'ns', resourceVersion: rv, annotations: { note } },
});

// Never started: recordWrite and get touch only the cache, so no client is needed.
const informer = () =>
  new Informer<KubernetesObject>({} as KubeClient, { apiVersion: 'v1', kind: 'ConfigMap' }, pino({ level: 'silent' }));

test.each<[string, KubernetesObject | undefined, string | undefined, string]>([
  ['an empty cache takes the written object', undefined, undefined, 'written'],
  ['the version msop read is replaced by its write', object('10', 'read'), '10', 'written'],
  ['a newer version from the watch is kept', object('12', 'from the watch'), '10', 'from the watch'],
])('%s', (_name, cached, readVersion, expected) => {
  const cache = informer();
  if (cached) cache.recordWrite(cached, undefined);
  cache.recordWrite(object('11', 'written'), readVersion);
  expect(cache.get('ns', 'a')?.metadata?.annotations?.note).toBe(expected);
});
