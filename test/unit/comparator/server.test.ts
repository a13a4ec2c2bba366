// The comparator end to end on loopback: real HTTP upstreams on 127.0.0.1, the real server,
// its real /metrics and /differences.
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import pino from 'pino';
import { parseComparatorFlags } from '../../../src/comparator/flags';
import { type RunningComparator, startComparator } from '../../../src/comparator/server';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Upstream {
  url: string;
  seen: Seen[];
  server: Server;
}

type Handler = (req: Seen) => {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  delayMs?: number;
  /** Answers only once this settles. */
  gate?: Promise<void>;
};

/** Holds /gated answers until the test opens it. */
function newGate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, resolve: () => open() };
}
let gate = newGate();

async function upstream(handler: Handler): Promise<Upstream> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = {
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(request);
      const answer = handler(request);
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
        res.end(req.method === 'HEAD' ? undefined : (answer.body ?? '{}'));
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else if (answer.gate) void answer.gate.then(send);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

/** The version of the orders service: v2 answers a different price for id 3. */
const orders =
  (version: string): Handler =>
  (req) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/slow') return { delayMs: 2_000 };
    if (url.pathname === '/gated') return { gate: gate.promise };
    if (url.pathname === '/gzip')
      return {
        headers: version === 'v1' ? {} : ({ 'content-encoding': 'gzip' } as Record<string, string>),
        body: version === 'v1' ? '{"ok":true}' : zlib.gzipSync('{"ok":true}'),
      };
    if (url.pathname === '/random') return { body: JSON.stringify({ n: Math.random(), ok: true }) };
    const id = Number(url.searchParams.get('id') ?? 0);
    const price = version === 'v2' && id === 3 ? 11 : 10;
    return {
      headers: { 'x-served-by': `orders-${version}-${Math.random()}` },
      body: JSON.stringify({ id, price, generatedAt: Date.now() + Math.random() }),
    };
  };

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)!;
      const labels: Record<string, string> = {};
      for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
        labels[k!] = JSON.parse(`"${v}"`) as string;
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

const silent = pino({ level: 'silent' });
const started: RunningComparator[] = [];
const upstreams: Upstream[] = [];

async function comparator(
  extra: string[],
  ups: { primary: Upstream; candidate: Upstream | string; secondary?: Upstream },
) {
  const options = parseComparatorFlags([
    `--primary=${ups.primary.url}`,
    `--candidate=${typeof ups.candidate === 'string' ? ups.candidate : ups.candidate.url}`,
    ...(ups.secondary ? [`--secondary=${ups.secondary.url}`] : []),
    '--port=0',
    '--metrics-port=0',
    '--route=orders',
    ...extra,
  ])!;
  const running = await startComparator(options, silent, '127.0.0.1');
  started.push(running);
  const base = `http://127.0.0.1:${running.port}`;
  const admin = `http://127.0.0.1:${running.metricsPort}`;
  return {
    mirror: (path: string, init?: RequestInit) => fetch(base + path, init),
    /** node:http, which, unlike fetch, sends Host and Connection as given. */
    raw: (path: string, method: string, headers: Record<string, string>, body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${base}${path}`, { method, headers }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end(body);
      }),
    metrics: async () => parseMetrics(await (await fetch(`${admin}/metrics`)).text()),
    value: async (name: string, labels: Record<string, string>) =>
      parseMetrics(await (await fetch(`${admin}/metrics`)).text()).find(
        (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
      )?.value,
    differences: async () =>
      (await (await fetch(`${admin}/differences`)).json()) as {
        route: string;
        examples: { method: string; path: string; differences: string[]; noise?: string[]; time: string }[];
      },
    admin,
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.close()));
  await Promise.all(
    upstreams.splice(0).map(
      (u) =>
        new Promise<void>((resolve) => {
          u.server.close(() => resolve());
          u.server.closeAllConnections();
        }),
    ),
  );
});

async function pair(primaryVersion = 'v1', candidateVersion = 'v2') {
  const primary = await upstream(orders(primaryVersion));
  const candidate = await upstream(orders(candidateVersion));
  upstreams.push(primary, candidate);
  return { primary, candidate };
}

const IGNORE = ['--ignore-header=x-served-by', '--ignore-json-path=$.generatedAt', '--respond=after-comparison'];

test('counts matching and differing answers and keeps a redacted example', async () => {
  const ups = await pair();
  const c = await comparator(IGNORE, ups);
  for (const id of [1, 2, 3, 4]) expect((await c.mirror(`/orders?id=${id}&token=s3cret`)).status).toBe(204);

  const labels = { route: 'orders', method: 'GET' };
  expect(await c.value('msop_parallel_run_compared_total', labels)).toBe(4);
  expect(await c.value('msop_parallel_run_matching_total', labels)).toBe(3);
  expect(await c.value('msop_parallel_run_differing_total', labels)).toBe(1);
  // Methods named by --methods exist at 0 before any request, so increase() sees the first one.
  expect(await c.value('msop_parallel_run_differing_total', { route: 'orders', method: 'HEAD' })).toBe(0);
  expect(await c.value('msop_parallel_run_duration_seconds_count', { route: 'orders' })).toBe(4);

  const { route, examples } = await c.differences();
  expect(route).toBe('orders');
  expect(examples).toEqual([
    {
      method: 'GET',
      path: '/orders?id=*&token=*',
      differences: ['body $.price: 10 != 11'],
      time: expect.any(String) as string,
    },
  ]);
  expect(Date.parse(examples[0]!.time)).not.toBeNaN();
  expect(await c.value('msop_parallel_run_difference_info', { path: '/orders?id=*&token=*' })).toBe(1);
  expect((await c.metrics()).find((s) => s.name === 'msop_parallel_run_difference_info')!.labels).toEqual({
    route: 'orders',
    method: 'GET',
    path: '/orders?id=*&token=*',
    difference: 'body $.price: 10 != 11',
  });
});

test('sends the same method, path, query, headers and body to both, minus hop-by-hop headers, once', async () => {
  const ups = await pair('v1', 'v1');
  const c = await comparator(IGNORE, ups);
  const status = await c.raw(
    '/orders/7?x=1&x=2',
    'POST',
    {
      'content-type': 'application/json',
      authorization: 'Bearer t',
      'x-request-id': 'r1',
      connection: 'keep-alive, x-hop',
      'x-hop': 'gone',
      host: 'orders.example.com',
    },
    '{"qty":2}',
  );
  expect(status).toBe(204);
  for (const side of [ups.primary, ups.candidate]) {
    expect(side.seen).toHaveLength(1);
    const [seen] = side.seen;
    expect(seen).toMatchObject({ method: 'POST', url: '/orders/7?x=1&x=2', body: '{"qty":2}' });
    expect(seen!.headers).toMatchObject({
      'content-type': 'application/json',
      authorization: 'Bearer t',
      'x-request-id': 'r1',
      'x-forwarded-host': 'orders.example.com',
    });
    expect(seen!.headers['x-hop']).toBeUndefined();
    expect(seen!.headers.host).toBe(new URL(side.url).host);
  }
  expect(await c.value('msop_parallel_run_matching_total', { method: 'POST' })).toBe(1);

  await c.mirror('/orders/7', { method: 'HEAD' });
  expect(ups.primary.seen.at(-1)!.method).toBe('HEAD');
  expect(await c.value('msop_parallel_run_matching_total', { method: 'HEAD' })).toBe(1);
});

test('a gzip answer equals a plain one with the same JSON inside', async () => {
  const ups = await pair('v1', 'v2');
  const c = await comparator(IGNORE, ups);
  await c.mirror('/gzip');
  expect(await c.value('msop_parallel_run_matching_total', { method: 'GET' })).toBe(1);
});

test('upstream failures are errors labelled by upstream, never differences, and are not retried', async () => {
  const primary = await upstream(orders('v1'));
  upstreams.push(primary);
  const closed = await upstream(orders('v2'));
  await new Promise<void>((resolve) => closed.server.close(() => resolve()));
  const c = await comparator([...IGNORE, '--timeout=200ms'], { primary, candidate: closed.url });
  await c.mirror('/orders?id=1');
  const labels = { route: 'orders', method: 'GET' };
  expect(await c.value('msop_parallel_run_errors_total', { ...labels, upstream: 'candidate' })).toBe(1);
  expect(await c.value('msop_parallel_run_compared_total', labels)).toBe(0);
  expect(await c.value('msop_parallel_run_differing_total', labels)).toBe(0);

  const ups = await pair('v1', 'v1');
  const t = await comparator([...IGNORE, '--timeout=200ms'], ups);
  await t.mirror('/slow');
  expect(await t.value('msop_parallel_run_errors_total', { ...labels, upstream: 'primary' })).toBe(1);
  expect(await t.value('msop_parallel_run_errors_total', { ...labels, upstream: 'candidate' })).toBe(1);
  expect(await t.value('msop_parallel_run_compared_total', labels)).toBe(0);
  expect(ups.primary.seen).toHaveLength(1);
  expect(ups.candidate.seen).toHaveLength(1);
});

test('a secondary copy of the old version counts non-determinism as noise', async () => {
  const ups = await pair('v1', 'v1');
  const secondary = await upstream(orders('v1'));
  upstreams.push(secondary);
  const c = await comparator(['--respond=after-comparison'], { ...ups, secondary });
  await c.mirror('/random');
  const labels = { route: 'orders', method: 'GET' };
  expect(await c.value('msop_parallel_run_noise_compared_total', labels)).toBe(1);
  expect(await c.value('msop_parallel_run_noise_differing_total', labels)).toBe(1);
  expect(await c.value('msop_parallel_run_differing_total', labels)).toBe(1);
  const [example] = (await c.differences()).examples;
  expect(example!.differences).toEqual([expect.stringMatching(/^body \$\.n: 0\.\d+ != 0\.\d+$/)]);
  expect(example!.noise).toEqual([expect.stringMatching(/^body \$\.n: 0\.\d+ != 0\.\d+$/)]);
});

test('without a secondary there are no noise series', async () => {
  const c = await comparator(IGNORE, await pair());
  expect((await c.metrics()).some((s) => s.name.startsWith('msop_parallel_run_noise'))).toBe(false);
});

test('keeps only the last --max-examples and removes the series of older ones', async () => {
  const ups = await pair('v1', 'v2');
  const c = await comparator([...IGNORE, '--max-examples=2'], ups);
  for (const path of ['/a?id=3', '/b?id=3', '/c?id=3']) await c.mirror(path);
  expect((await c.differences()).examples.map((e) => e.path)).toEqual(['/b?id=*', '/c?id=*']);
  const info = (await c.metrics()).filter((s) => s.name === 'msop_parallel_run_difference_info');
  expect(info.map((s) => s.labels.path).sort()).toEqual(['/b?id=*', '/c?id=*']);
});

test('answers at once by default and compares afterwards', async () => {
  const ups = await pair('v1', 'v1');
  const c = await comparator(['--ignore-header=x-served-by', '--ignore-json-path=$.generatedAt'], ups);
  gate = newGate();
  // The upstreams hold /gated until the mirror has had its answer.
  expect((await c.mirror('/gated')).status).toBe(204);
  await until('both upstreams to be asked', async () =>
    ups.primary.seen.length === 1 && ups.candidate.seen.length === 1 ? true : undefined,
  );
  expect(await c.value('msop_parallel_run_compared_total', { method: 'GET' })).toBe(0);
  gate.resolve();
  await until('the comparison', async () =>
    (await c.value('msop_parallel_run_compared_total', { method: 'GET' })) === 1 ? true : undefined,
  );
  expect(await c.value('msop_parallel_run_matching_total', { method: 'GET' })).toBe(1);
});

test('a request body over the cap is an error of the request, not sent upstream', async () => {
  const ups = await pair('v1', 'v1');
  const c = await comparator([...IGNORE, '--max-body-bytes=10'], ups);
  expect((await c.mirror('/orders', { method: 'PUT', body: 'x'.repeat(100) })).status).toBe(413);
  expect(await c.value('msop_parallel_run_errors_total', { method: 'PUT', upstream: 'request' })).toBe(1);
  expect(ups.primary.seen).toHaveLength(0);
});

test('the admin port serves /healthz and refuses the rest', async () => {
  const c = await comparator(IGNORE, await pair());
  expect((await fetch(`${c.admin}/healthz`)).status).toBe(200);
  expect((await fetch(`${c.admin}/nope`)).status).toBe(404);
  expect((await fetch(`${c.admin}/metrics`, { method: 'POST' })).status).toBe(405);
});
