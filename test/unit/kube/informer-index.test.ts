// The label index keeps up with every way the cache changes: the first list, watch events that add,
// relabel and delete, and a relist that drops what is gone. A loopback server plays the API server.
import type { KubernetesObject } from '@kubernetes/client-node';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { KubeClient } from '../../../src/kube/client';
import { Informer } from '../../../src/kube/informer';

const LABEL = 'msop.dev/microservice';
const cm = (name: string, rv: string, owner?: string, namespace = 'ns'): KubernetesObject => ({
  metadata: { name, namespace, resourceVersion: rv, labels: owner ? { [LABEL]: owner } : {} },
});

test('listByLabel follows lists, watch events and relists', async () => {
  let listed = [cm('a', '1', 'x'), cm('b', '2', 'y'), cm('c', '3'), cm('d', '4', 'x', 'other')];
  let watch: ServerResponse | undefined;
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url?.includes('watch=true')) {
      watch = res;
      return;
    }
    res.end(JSON.stringify({ kind: 'ConfigMapList', metadata: { resourceVersion: '10' }, items: listed }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new KubeClient({
    name: 'test',
    cluster: { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, insecureSkipTLSVerify: false },
    user: {},
  });
  const informer = new Informer<KubernetesObject>(
    client,
    { apiVersion: 'v1', kind: 'ConfigMap', indexLabel: LABEL },
    pino({ level: 'silent' }),
  );
  const names = (namespace: string, owner: string) =>
    informer
      .listByLabel(namespace, owner)
      .map((o) => o.metadata!.name)
      .sort();
  const until = async (what: string, ok: () => boolean) => {
    for (const deadline = Date.now() + 5_000; !ok();) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const send = (type: string, object: KubernetesObject) => watch!.write(`${JSON.stringify({ type, object })}\n`);
  try {
    informer.start();
    await until('the first list and the watch', () => informer.hasSynced() && watch !== undefined);
    expect([names('ns', 'x'), names('ns', 'y'), names('other', 'x')]).toEqual([['a'], ['b'], ['d']]);

    send('MODIFIED', cm('a', '11', 'y')); // relabelled: leaves x, joins y
    send('ADDED', cm('e', '12', 'x'));
    send('DELETED', cm('b', '13', 'y'));
    send('MODIFIED', cm('c', '14', 'x')); // gains the label
    await until('the watch events', () => informer.get('ns', 'c')?.metadata?.resourceVersion === '14');
    expect([names('ns', 'x'), names('ns', 'y')]).toEqual([['c', 'e'], ['a']]);

    // The watch ends with 410 Gone: the relist drops e (gone meanwhile) from the index too.
    listed = [cm('a', '20', 'y'), cm('c', '21', 'x')];
    const gone = watch!;
    watch = undefined;
    gone.end(
      `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } })}\n`,
    );
    await until('the relist', () => informer.get('ns', 'e') === undefined);
    expect([names('ns', 'x'), names('ns', 'y'), names('other', 'x')]).toEqual([['c'], ['a'], []]);
  } finally {
    await informer.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
