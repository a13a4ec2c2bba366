// callWebhook (src/analysis/webhooks.ts) against a local HTTP stub on 127.0.0.1.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { callWebhook, type Webhook } from '../../../src/analysis/webhooks';

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Reply = { status: number; body?: string } | 'hang';

/** A webhook receiver that records every request and answers each path from a script. */
class Stub {
  readonly seen: Seen[] = [];
  readonly replies = new Map<string, Reply>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        this.seen.push({ method: req.method!, path: req.url!, headers: req.headers, body });
        const reply = this.replies.get(req.url!) ?? { status: 200 };
        if (reply === 'hang') return;
        res.writeHead(reply.status, { 'content-type': 'text/plain' });
        res.end(reply.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const PAYLOAD = {
  name: 'shop',
  namespace: 'prod',
  phase: 'Progressing',
  stableRevision: 'aaa',
  canaryRevision: 'bbb',
  weight: 20,
};

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('callWebhook', () => {
  const stub = new Stub();
  beforeAll(() => stub.start());
  afterAll(() => stub.stop());
  beforeEach(() => {
    stub.seen.length = 0;
    stub.replies.clear();
  });

  const hook = (path: string, over: Partial<Webhook> = {}): Webhook => ({
    name: 'smoke',
    type: 'pre-rollout',
    url: `${stub.url}${path}`,
    ...over,
  });

  test.each<[string, Reply, { passed: boolean; answered: boolean; reason: string }]>([
    ['200 passes', { status: 200 }, { passed: true, answered: true, reason: 'webhook smoke answered 200' }],
    ['204 passes', { status: 204 }, { passed: true, answered: true, reason: 'webhook smoke answered 204' }],
    [
      'any 2xx passes, whatever the body',
      { status: 299, body: 'not ok' },
      { passed: true, answered: true, reason: 'webhook smoke answered 299' },
    ],
    [
      '500 with a body fails; the reason has the status and the body',
      { status: 500, body: 'smoke test failed: /checkout 502' },
      { passed: false, answered: true, reason: 'webhook smoke answered 500: smoke test failed: /checkout 502' },
    ],
    [
      '404 without a body fails with the status alone',
      { status: 404 },
      { passed: false, answered: true, reason: 'webhook smoke answered 404' },
    ],
    [
      'the body is trimmed before it is quoted',
      { status: 503, body: '\n  not yet  \n' },
      { passed: false, answered: true, reason: 'webhook smoke answered 503: not yet' },
    ],
    ['a 3xx is not a pass', { status: 304 }, { passed: false, answered: true, reason: 'webhook smoke answered 304' }],
  ])('%s', async (_name, reply, expected) => {
    stub.replies.set('/hook', reply);
    expect(await callWebhook(hook('/hook'), PAYLOAD)).toEqual({ name: 'smoke', ...expected });
  });

  test('a long error body is cut to 200 characters', async () => {
    const body = `${'x'.repeat(150)}${'y'.repeat(150)}`;
    stub.replies.set('/hook', { status: 500, body });
    const outcome = await callWebhook(hook('/hook'), PAYLOAD);
    expect(outcome.passed).toBe(false);
    expect(outcome.reason).toBe(`webhook smoke answered 500: ${'x'.repeat(150)}${'y'.repeat(50)}`);
  });

  test('no answer within timeoutSeconds fails with the time waited', async () => {
    stub.replies.set('/slow', 'hang');
    const started = Date.now();
    const outcome = await callWebhook(hook('/slow', { name: 'slow', timeoutSeconds: 1 }), PAYLOAD);
    const waited = Date.now() - started;
    expect(outcome).toEqual({
      name: 'slow',
      passed: false,
      answered: false,
      reason: `webhook slow (${stub.url}/slow) failed: no answer within 1s`,
    });
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(2_500);
    expect(stub.seen).toHaveLength(1);
  });

  test('a refused connection fails with a reason that names the URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/hook`;
    const outcome = await callWebhook({ name: 'gone', type: 'rollout', url }, PAYLOAD);
    expect(outcome.name).toBe('gone');
    expect(outcome.passed).toBe(false);
    expect(outcome.answered).toBe(false);
    // undici says "fetch failed" (the ECONNREFUSED is in its cause).
    expect(outcome.reason.startsWith(`webhook gone (${url}) failed: fetch failed`)).toBe(true);
  });

  test('POSTs JSON with the payload, the hook type and its metadata', async () => {
    await callWebhook(
      hook('/hook', { type: 'confirm-promotion', metadata: { team: 'payments', ticket: 'OPS-1' } }),
      PAYLOAD,
    );
    expect(stub.seen).toHaveLength(1);
    const [request] = stub.seen;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/hook');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request!.body)).toEqual({
      name: 'shop',
      namespace: 'prod',
      phase: 'Progressing',
      type: 'confirm-promotion',
      stableRevision: 'aaa',
      canaryRevision: 'bbb',
      weight: 20,
      metadata: { team: 'payments', ticket: 'OPS-1' },
    });
  });

  test('metadata defaults to {}, and an unknown stable revision is left out', async () => {
    await callWebhook(hook('/hook', { type: 'rollback' }), { ...PAYLOAD, stableRevision: undefined, weight: 0 });
    expect(JSON.parse(stub.seen[0]!.body)).toEqual({
      name: 'shop',
      namespace: 'prod',
      phase: 'Progressing',
      type: 'rollback',
      canaryRevision: 'bbb',
      weight: 0,
      metadata: {},
    });
  });
});
