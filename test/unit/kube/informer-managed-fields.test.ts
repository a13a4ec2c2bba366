// The cache drops metadata.managedFields unless asked to keep them, and trims objects as asked, on every way
// in: the first list, watch events and the operator's own writes. A loopback server plays the API server.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ServerResponse } from 'node:http';
import pino from 'pino';
import type { KubeClient } from '../../../src/kube/client';
import { withoutDeploymentTemplate } from '../../../src/controller/manager';
import { Informer } from '../../../src/kube/informer';
import { type Loopback, loopback } from './loopback';

const managed = [{ manager: 'msop', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }];
const template = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } };
// A ReplicaSet of a Deployment: the cache of msop's ReplicaSets keeps it without its pod template.
const cm = (name: string, rv: string): KubernetesObject =>
  ({
    metadata: {
      name,
      namespace: 'ns',
      resourceVersion: rv,
      managedFields: managed,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'a', uid: 'u1', controller: true }],
    },
    spec: { replicas: 1, template },
  }) as KubernetesObject;
const templateOf = (o: KubernetesObject | undefined) =>
  (o as { spec?: { template?: unknown } } | undefined)?.spec?.template;

let api: Loopback;
let client: KubeClient;
let watches: ServerResponse[] = [];

beforeAll(async () => {
  api = await loopback((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url?.includes('watch=true')) {
      watches.push(res);
      return;
    }
    res.end(JSON.stringify({ kind: 'ConfigMapList', metadata: { resourceVersion: '10' }, items: [cm('a', '1')] }));
  });
  client = api.client;
});

afterAll(() => api.close());

async function until(what: string, ok: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 5_000; !ok();) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test.each([
  ['dropped by default', {}, undefined, template],
  ['kept with keepManagedFields', { keepManagedFields: true }, managed, template],
  ['dropped, and the pod template trimmed', { trim: withoutDeploymentTemplate }, undefined, undefined],
])('managedFields are %s: list, watch and recordWrite', async (_, extra, expected, expectedTemplate) => {
  watches = [];
  const informer = new Informer<KubernetesObject>(
    client,
    { apiVersion: 'v1', kind: 'ConfigMap', ...extra },
    pino({ level: 'silent' }),
  );
  informer.start();
  try {
    await until('the list and the watch', () => informer.hasSynced() && watches.length === 1);
    expect(informer.get('ns', 'a')?.metadata?.managedFields).toEqual(expected);
    expect(templateOf(informer.get('ns', 'a'))).toEqual(expectedTemplate);
    watches[0]!.write(`${JSON.stringify({ type: 'ADDED', object: cm('b', '11') })}\n`);
    await until('the watch event', () => informer.get('ns', 'b') !== undefined);
    expect(informer.get('ns', 'b')?.metadata?.managedFields).toEqual(expected);
    expect(templateOf(informer.get('ns', 'b'))).toEqual(expectedTemplate);
    const written = cm('a', '12');
    informer.recordWrite(written, '1');
    expect(informer.get('ns', 'a')?.metadata?.resourceVersion).toBe('12');
    expect(informer.get('ns', 'a')?.metadata?.managedFields).toEqual(expected);
    expect(templateOf(informer.get('ns', 'a'))).toEqual(expectedTemplate);
    // The caller's object is left as it was.
    expect(written.metadata?.managedFields).toEqual(managed);
    expect(templateOf(written)).toEqual(template);
  } finally {
    for (const w of watches) w.end();
    await informer.stop();
  }
});

test('only a Deployment’s ReplicaSets lose their template: msop reads its own sets’ templates', () => {
  const own = {
    metadata: {
      name: 'c',
      ownerReferences: [
        { apiVersion: 'msop.dev/v1alpha1', kind: 'Microservice', name: 'a', uid: 'u2', controller: true },
      ],
    },
    spec: { replicas: 1, template },
  } as KubernetesObject;
  expect(withoutDeploymentTemplate(own)).toBe(own);
  expect(templateOf(withoutDeploymentTemplate(cm('a', '1')))).toBeUndefined();
});
