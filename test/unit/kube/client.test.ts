// The HTTP layer against a loopback server: what each verb sends, how answers and failures come back,
// and how a watch ends (a clean close, a reset connection, the caller's abort). The cluster tier runs the
// same client against a real API server.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeClient, type WatchEvent } from '../../../src/kube/client';
import { ApiError, UnreachableError } from '../../../src/kube/errors';

type Named = { metadata: { name: string } };

interface Seen {
  method?: string;
  url?: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let client: KubeClient;
let handle: (req: IncomingMessage, res: ServerResponse) => void;
const seen: Seen[] = [];
const codes: (number | string)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      handle(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new KubeClient(
    {
      name: 'test',
      cluster: { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, insecureSkipTLSVerify: false },
      user: { token: 'secret', impersonate: { user: 'jane' } },
    },
    (code) => codes.push(code),
  );
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
  codes.length = 0;
});

function json(status: number, body: unknown) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
}

test('server-side apply: the path, the query, the content type, the credentials, and the answer parsed', async () => {
  handle = json(200, { kind: 'ConfigMap', metadata: { name: 'a', resourceVersion: '7' } });
  const written = await client.apply<KubernetesObject>(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'shop' } },
    'msop',
  );
  expect(written.metadata?.resourceVersion).toBe('7');
  expect(seen).toEqual([
    expect.objectContaining({
      method: 'PATCH',
      url: '/api/v1/namespaces/shop/configmaps/a?fieldManager=msop&force=true&fieldValidation=Ignore',
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'shop' } }),
    }),
  ]);
  expect(seen[0]!.headers).toMatchObject({
    authorization: 'Bearer secret',
    'impersonate-user': 'jane',
    'content-type': 'application/apply-patch+yaml',
    accept: 'application/json',
    connection: 'keep-alive',
  });
  expect(codes).toEqual([200]);
});

test('requests share one keep-alive connection', async () => {
  const ports: number[] = [];
  handle = (req, res) => {
    ports.push(req.socket.remotePort!);
    json(200, { items: [], metadata: {} })(req, res);
  };
  for (let i = 0; i < 3; i++) await client.list('v1', 'ConfigMap', 'shop');
  expect(new Set(ports).size).toBe(1);
});

test('a Status answer becomes an ApiError with the server message; a 404 on delete is what delete wants', async () => {
  handle = json(409, { kind: 'Status', reason: 'Conflict', message: 'the object has been modified' });
  const err = (await client.get('apps/v1', 'Deployment', 'shop', 'orders').catch((e: unknown) => e)) as ApiError;
  expect(err).toBeInstanceOf(ApiError);
  expect([err.statusCode, err.reason, err.detail]).toEqual([409, 'Conflict', 'the object has been modified']);
  handle = json(404, { kind: 'Status', reason: 'NotFound', message: 'not found' });
  await expect(client.delete('apps/v1', 'Deployment', 'shop', 'orders', 'uid-1')).resolves.toBeUndefined();
  expect(JSON.parse(seen.at(-1)!.body)).toMatchObject({ preconditions: { uid: 'uid-1' } });
});

test('a request that gets no answer in time is an UnreachableError naming the server', async () => {
  handle = () => undefined; // never answers
  const err = (await client.request('GET', '/api/v1/namespaces', { timeoutMs: 200 }).catch((e: unknown) => e)) as Error;
  expect(err).toBeInstanceOf(UnreachableError);
  expect(err.message).toMatch(/^cannot reach the API server at 127\.0\.0\.1:\d+: no answer in 200 ms$/);
  expect(codes).toEqual(['<error>']);
});

describe('watch', () => {
  const start = (body: string, after: (req: IncomingMessage, res: ServerResponse) => void) => {
    handle = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(body);
      setTimeout(() => after(req, res), 50);
    };
  };
  const line = (name: string) => `${JSON.stringify({ type: 'ADDED', object: { metadata: { name } } })}\n`;

  test('events arrive line by line, split anywhere, and a clean close resolves', async () => {
    const events: WatchEvent<Named>[] = [];
    const both = line('a') + line('b');
    start(both.slice(0, 10), (_req, res) => res.end(both.slice(10)));
    await client.watch<Named>(
      '/api/v1/pods',
      { resourceVersion: '5' },
      undefined,
      (e) => events.push(e),
      new AbortController().signal,
    );
    expect(events.map((e) => e.object.metadata.name)).toEqual(['a', 'b']);
    expect(seen[0]!.url).toBe('/api/v1/pods?resourceVersion=5&watch=true');
  });

  test('a connection reset rejects, and so does the caller abort, after the events before it', async () => {
    const names: string[] = [];
    start(line('a'), (req) => req.socket.destroy());
    await expect(
      client.watch<Named>('/w', {}, undefined, (e) => names.push(e.object.metadata.name), new AbortController().signal),
    ).rejects.toThrow();
    const abort = new AbortController();
    start(line('b'), () => abort.abort());
    await expect(
      client.watch<Named>('/w', {}, undefined, (e) => names.push(e.object.metadata.name), abort.signal),
    ).rejects.toThrow();
    expect(names).toEqual(['a', 'b']);
  });
});
