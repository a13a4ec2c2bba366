// The Event recorder against a loopback server: record() only queues, a repeat bumps the count of the Event
// already written (several repeats in flight become one patch), a failed write is dropped and logged, and
// flush() waits for what is queued, and a repeat more than ten minutes after the last one is a new Event.
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino from 'pino';
import type { KubeClient } from '../../../src/kube/client';
import { EventRecorder } from '../../../src/kube/events';
import { type Loopback, loopback } from './loopback';

interface Seen {
  method?: string;
  url?: string;
  body: Record<string, unknown>;
}

let api: Loopback;
let client: KubeClient;
const seen: Seen[] = [];
/** Held answers: a test releases them to control when a write completes. */
let hold: (() => void)[] = [];
let holding = false;
let failCreates = false;

beforeAll(async () => {
  api = await loopback((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, body: JSON.parse(body || '{}') as Record<string, unknown> });
      const answer = () => {
        const status = failCreates && req.method === 'POST' ? 403 : 200;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(
            status === 200 ? JSON.parse(body || '{}') : { kind: 'Status', code: 403, reason: 'Forbidden' },
          ),
        );
      };
      if (holding) hold.push(answer);
      else answer();
    });
  });
  client = api.client;
});

afterAll(() => api.close());

beforeEach(() => {
  seen.length = 0;
  hold = [];
  holding = false;
  failCreates = false;
});

const object = {
  apiVersion: 'msop.dev/v1alpha1',
  kind: 'Microservice',
  metadata: { name: 'orders', namespace: 'shop', uid: 'u1' },
};
const quiet = pino({ level: 'silent' });

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('record() returns before the write; flush() waits for it; the Event names its object and count 1', async () => {
  const recorder = new EventRecorder(client, quiet, 'msop', 'pod-1');
  holding = true;
  const returned = recorder.record(object, 'Normal', 'Created', 'Created Deployment orders');
  expect(returned).toBeUndefined();
  await until('the create to arrive', () => hold.length === 1);
  let flushed = false;
  const flush = recorder.flush(5_000).then(() => (flushed = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(flushed).toBe(false);
  hold.shift()!();
  await flush;
  expect(seen).toHaveLength(1);
  expect(seen[0]).toMatchObject({
    method: 'POST',
    url: '/api/v1/namespaces/shop/events',
    body: {
      involvedObject: { kind: 'Microservice', name: 'orders', uid: 'u1' },
      type: 'Normal',
      reason: 'Created',
      message: 'Created Deployment orders',
      count: 1,
      reportingInstance: 'pod-1',
    },
  });
});

test('repeats while the create is in flight become one count patch with the final count', async () => {
  const recorder = new EventRecorder(client, quiet);
  holding = true;
  recorder.record(object, 'Warning', 'Failed', 'same');
  await until('the create', () => hold.length === 1);
  recorder.record(object, 'Warning', 'Failed', 'same');
  recorder.record(object, 'Warning', 'Failed', 'same');
  holding = false;
  hold.shift()!();
  await recorder.flush(5_000);
  expect(seen.map((s) => s.method)).toEqual(['POST', 'PATCH']);
  const name = (seen[0]!.body.metadata as { name: string }).name;
  expect(seen[1]!.url).toBe(`/api/v1/namespaces/shop/events/${name}`);
  expect(seen[1]!.body).toMatchObject({ count: 3 });
  // An idle Event's repeat is one more patch.
  recorder.record(object, 'Warning', 'Failed', 'same');
  await recorder.flush(5_000);
  expect(seen.map((s) => s.method)).toEqual(['POST', 'PATCH', 'PATCH']);
  expect(seen[2]!.body).toMatchObject({ count: 4 });
});

test('a refused create is dropped; the next occurrence creates a new Event', async () => {
  const recorder = new EventRecorder(client, quiet);
  failCreates = true;
  recorder.record(object, 'Normal', 'Scaled', 'x');
  await recorder.flush(5_000);
  failCreates = false;
  recorder.record(object, 'Normal', 'Scaled', 'x');
  await recorder.flush(5_000);
  expect(seen.map((s) => [s.method, (s.body as { count?: number }).count])).toEqual([
    ['POST', 1],
    ['POST', 1],
  ]);
});

test('different events are written concurrently, at most four at a time', async () => {
  const recorder = new EventRecorder(client, quiet);
  holding = true;
  for (let i = 0; i < 6; i += 1) recorder.record(object, 'Normal', 'Step', `step ${i}`);
  await until('four writes in flight', () => hold.length === 4);
  await new Promise((resolve) => setTimeout(resolve, 30));
  expect(hold).toHaveLength(4);
  holding = false;
  for (const answer of hold.splice(0)) answer();
  await recorder.flush(5_000);
  expect(seen.map((s) => (s.body as { message: string }).message).sort()).toEqual(
    [0, 1, 2, 3, 4, 5].map((i) => `step ${i}`),
  );
});

test('a repeat within ten minutes of the last one bumps the count; a later one is a new Event', async () => {
  // Only Date is faked: the loopback server and the polling keep real timers.
  jest.useFakeTimers({
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
  try {
    const start = new Date('2026-01-01T00:00:00Z').getTime();
    const minutes = (m: number) => jest.setSystemTime(start + m * 60_000);
    const recorder = new EventRecorder(client, quiet);
    minutes(0);
    recorder.record(object, 'Normal', 'Updated', 'a');
    recorder.record(object, 'Normal', 'Updated', 'b');
    await recorder.flush(5_000);
    minutes(6);
    recorder.record(object, 'Normal', 'Updated', 'a');
    await recorder.flush(5_000);
    minutes(11);
    // "b" was last seen 11 minutes ago, "a" 5 minutes ago.
    recorder.record(object, 'Normal', 'Updated', 'b');
    recorder.record(object, 'Normal', 'Updated', 'a');
    await recorder.flush(5_000);
    expect(seen.map((s) => [s.method, s.body.message ?? s.body.count])).toEqual([
      ['POST', 'a'],
      ['POST', 'b'],
      ['PATCH', 2],
      ['POST', 'b'],
      ['PATCH', 3],
    ]);
  } finally {
    jest.useRealTimers();
  }
});
