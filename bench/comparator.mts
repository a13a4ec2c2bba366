// The parallel-run comparator's throughput and added latency, on loopback, no cluster.
// Called by `npm run bench` (alone with `npm run bench -- --comparator`). Not a test: it asserts nothing.
//
// The comparator (dist/main.js comparator) runs pinned to one core with taskset; two tiny upstreams
// (the "old" and "new" versions, identical ~1 KB JSON answers) and this load generator are pinned to
// the other core when there is one. Per run:
//   - latency: one request at a time, alternating blocks sent straight to an upstream and through the
//     comparator with --respond=after-comparison (it answers once both answers are in and compared);
//     the added latency is the difference of the percentiles;
//   - throughput: a closed loop of --concurrency requests through the comparator, bounded by
//     --comparator-requests and --comparator-seconds; mirrored requests per second, and the same per
//     second of the comparator's CPU time (its own core may be shared on a busy machine).
// Prints medians over --comparator-runs runs.
//
//   node bench/comparator.mts [--comparator-runs=5 --comparator-requests=20000 --comparator-seconds=10
//                              --latency-requests=2000 --concurrency=32]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';
import { flag, median } from './stats.mts';

const ROOT = path.join(import.meta.dirname, '..');
const RUNS = flag('comparator-runs', 5);
const REQUESTS = flag('comparator-requests', 20_000);
const SECONDS = flag('comparator-seconds', 10);
const LATENCY_REQUESTS = flag('latency-requests', 2_000);
const CONCURRENCY = flag('concurrency', 32);
const log = (message: string) => console.error(`[bench comparator] ${message}`);

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const cores = os.availableParallelism();
const TASKSET = hasTaskset();
// The comparator gets core 0; everything else here moves to core 1.
if (TASKSET && cores > 1) execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });

/** An order with ten lines and a generatedAt the comparator is told to ignore. */
function order(id: number): string {
  return JSON.stringify({
    id,
    customer: { id: id % 97, name: 'Ann Example', tier: 'gold' },
    lines: Array.from({ length: 10 }, (_, i) => ({ sku: `SKU-${1000 + i}`, qty: 1 + (i % 3), price: 9.99 + i })),
    total: 149.85,
    currency: 'EUR',
    generatedAt: new Date().toISOString(),
  });
}

// Made once: the upstreams should cost as little as possible, the comparator is what is measured.
const ORDERS = Array.from({ length: 100 }, (_, id) => order(id));

function upstream(): Promise<Server> {
  const server = createServer((req, res) => {
    const id = Number(/[?&]id=(\d+)/.exec(req.url ?? '')?.[1] ?? 0);
    res.writeHead(200, { 'content-type': 'application/json', 'x-version': '1' });
    res.end(ORDERS[id % ORDERS.length]);
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
const portOf = (server: Server) => (server.address() as AddressInfo).port;

interface Comparator {
  child: ChildProcess;
  port: number;
  metricsPort: number;
}

async function startComparator(primary: number, candidate: number): Promise<Comparator> {
  const node = path.join(ROOT, 'node_modules', '.bin', 'node');
  const args = [
    'dist/main.js',
    'comparator',
    `--primary=http://127.0.0.1:${primary}`,
    `--candidate=http://127.0.0.1:${candidate}`,
    '--port=0',
    '--metrics-port=0',
    '--ignore-json-path=$.generatedAt',
    '--respond=after-comparison',
  ];
  const child = TASKSET
    ? spawn('taskset', ['-c', '0', node, ...args], { cwd: ROOT })
    : spawn(node, args, { cwd: ROOT });
  child.stderr!.pipe(process.stderr);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the comparator exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg: string; port?: number; metricsPort?: number };
      if (entry.msg === 'Started comparator') resolve({ child, port: entry.port!, metricsPort: entry.metricsPort! });
    });
  });
}

/** The comparator's user+system CPU seconds, from /proc (taskset execs node, so the pid is node's). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function get(pool: Pool, url: string): Promise<number> {
  const res = await pool.request({ method: 'GET', path: url });
  await res.body.dump();
  return res.statusCode;
}

async function latency(direct: Pool, via: Pool): Promise<{ direct: number[]; via: number[] }> {
  const out = { direct: [] as number[], via: [] as number[] };
  const block = 100;
  for (let sent = 0; sent < LATENCY_REQUESTS; sent += block) {
    for (const [pool, into] of [
      [direct, out.direct],
      [via, out.via],
    ] as const) {
      for (let i = 0; i < block; i++) {
        const started = performance.now();
        const status = await get(pool, `/orders?id=${sent + i}`);
        into.push(performance.now() - started);
        if (status >= 300) throw new Error(`unexpected status ${status}`);
      }
    }
  }
  return out;
}

async function throughput(via: Pool, pid: number): Promise<{ rps: number; cpuRps: number; cpu: number }> {
  const deadline = performance.now() + SECONDS * 1000;
  let issued = 0;
  const cpuBefore = cpuSeconds(pid);
  const started = performance.now();
  const worker = async () => {
    while (issued < REQUESTS && performance.now() < deadline) {
      issued++;
      await get(via, `/orders?id=${issued}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const wall = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(pid) - cpuBefore;
  return { rps: issued / wall, cpuRps: issued / cpu, cpu: cpu / wall };
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

const table = (header: string[], rows: string[][]) => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
};

const [primary, candidate] = await Promise.all([upstream(), upstream()]);
const results: { p50: number; p99: number; d50: number; d99: number; rps: number; cpuRps: number; cpu: number }[] = [];
let compared = 0;
let matching = 0;
try {
  for (let run = 1; run <= RUNS; run++) {
    const comparator = await startComparator(portOf(primary!), portOf(candidate!));
    const direct = new Pool(`http://127.0.0.1:${portOf(primary!)}`, { connections: 1 });
    const via = new Pool(`http://127.0.0.1:${comparator.port}`, { connections: CONCURRENCY });
    try {
      // Warm up the JIT and the connection pools.
      for (let i = 0; i < 500; i++) await get(via, `/orders?id=${i}`);
      const l = await latency(direct, via);
      const t = await throughput(via, comparator.child.pid!);
      compared += await metric(comparator.metricsPort, 'msop_parallel_run_compared_total');
      matching += await metric(comparator.metricsPort, 'msop_parallel_run_matching_total');
      const result = {
        d50: percentile(l.direct, 50),
        d99: percentile(l.direct, 99),
        p50: percentile(l.via, 50),
        p99: percentile(l.via, 99),
        ...t,
      };
      results.push(result);
      log(
        `run ${run}: ${result.rps.toFixed(0)} req/s (comparator CPU ${(result.cpu * 100).toFixed(0)}%, ` +
          `${result.cpuRps.toFixed(0)} per CPU second); added p50 ${(result.p50 - result.d50).toFixed(3)} ms, ` +
          `p99 ${(result.p99 - result.d99).toFixed(3)} ms`,
      );
    } finally {
      await Promise.all([direct.close(), via.close()]);
      const exited = new Promise((resolve) => comparator.child.once('exit', resolve));
      comparator.child.kill('SIGTERM');
      await exited;
    }
  }
} finally {
  primary!.close();
  candidate!.close();
  primary!.closeAllConnections();
  candidate!.closeAllConnections();
}

const m = (pick: (r: (typeof results)[number]) => number, digits = 3) => median(results.map(pick)).toFixed(digits);
console.log(
  `\nmsop comparator, Node ${process.versions.node}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ` +
    `${TASKSET ? 'pinned to core 0 (taskset)' : 'not pinned (no taskset)'}; ~1 KB JSON answers, identical; ` +
    `medians over ${RUNS} runs (${compared} compared, ${matching} matching); ` +
    `load average ${os.loadavg()[0]!.toFixed(1)} on ${cores} cores\n`,
);
console.log(
  table(
    ['mirrored requests/s', 'per CPU second', 'comparator CPU', `concurrency`],
    [[m((r) => r.rps, 0), m((r) => r.cpuRps, 0), `${m((r) => r.cpu * 100, 0)}%`, String(CONCURRENCY)]],
  ),
);
console.log(`\nlatency, one request at a time, ${LATENCY_REQUESTS} each way per run (ms):\n`);
console.log(
  table(
    ['', 'p50', 'p99'],
    [
      ['one upstream directly', m((r) => r.d50), m((r) => r.d99)],
      ['through the comparator (both answers, compared)', m((r) => r.p50), m((r) => r.p99)],
      ['added by the comparator', m((r) => r.p50 - r.d50), m((r) => r.p99 - r.d99)],
    ],
  ),
);
