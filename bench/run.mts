// npm run bench: the operator's resident memory (RSS) at idle and with 100 Microservices,
// and the leader failover time after SIGKILL, on a local control plane of its own
// (CLUSTER_NAME=msop-bench, removed afterwards unless --keep); then the parallel-run
// comparator's throughput and added latency on loopback (bench/comparator.mts). Prints medians
// over several samples. Not a test: it asserts nothing and is not part of `make test`.
//
//   npm run bench [-- --microservices=100 --samples=10 --failover-runs=3 --keep
//                      --node-options="--max-old-space-size=96"   (NODE_OPTIONS of the operator; default: the image's)
//                      --no-build                                 (run dist/ as it is)
//                      --comparator                               (only the comparator, no cluster)
//                      --memory-only                              (only the memory table)
//                      --comparator-runs=5 ...]                   (see bench/comparator.mts)
//   npm run bench -- --peers [...]: see bench/peers.mts
//   npm run bench -- --status-writes [...]: see bench/status-writes.mts
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { imageNodeOptions } from './image-node-options.mts';
import { createInterface } from 'node:readline';
import { flag, median } from './stats.mts';

// --peers: msop beside Argo Rollouts and the control plane's own pace (bench/peers.mts).
if (process.argv.includes('--peers')) {
  const peers = './peers.mts';
  await import(peers);
  process.exit(0);
}
// --status-writes: kube-apiserver's CPU per Microservice status write (bench/status-writes.mts).
if (process.argv.includes('--status-writes')) {
  const statusWrites = './status-writes.mts';
  await import(statusWrites);
  process.exit(0);
}

const ROOT = path.join(import.meta.dirname, '..');
const MICROSERVICES = flag('microservices', 100);
const SAMPLES = flag('samples', 10);
const FAILOVER_RUNS = flag('failover-runs', 3);
const KEEP = process.argv.includes('--keep');
const MEMORY_ONLY = process.argv.includes('--memory-only');
// The operator's NODE_OPTIONS: the image's (the Dockerfile's ENV) unless --node-options says otherwise.
const NODE_OPTIONS =
  process.argv.find((a) => a.startsWith('--node-options='))?.slice('--node-options='.length) ?? imageNodeOptions();
const CLUSTER = process.env.CLUSTER_NAME ?? 'msop-bench';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message: string) => console.error(`[bench] ${message}`);

function sh(script: string): string {
  return execFileSync('bash', ['-c', script], {
    cwd: ROOT,
    env: { ...process.env, CLUSTER_NAME: CLUSTER },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

function comparatorBench(): void {
  execFileSync(
    path.join(ROOT, 'node_modules', '.bin', 'node'),
    [path.join(ROOT, 'bench', 'comparator.mts'), ...process.argv.slice(2)],
    { cwd: ROOT, stdio: 'inherit' },
  );
}

if (process.argv.includes('--comparator')) {
  if (!process.argv.includes('--no-build')) {
    log('building dist/');
    execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
  comparatorBench();
  process.exit(0);
}

const [kubeconfig, bin] = sh(
  '. hack/cluster/env.sh && hack/cluster/up.sh >&2 && echo "$KUBECONFIG" && echo "$CLUSTER_BIN"',
)
  .trim()
  .split('\n');
const kubectl = (args: string[], input?: string): string =>
  execFileSync(path.join(bin!, 'kubectl'), args, {
    env: { ...process.env, KUBECONFIG: kubeconfig },
    encoding: 'utf8',
    input,
    maxBuffer: 64 * 1024 * 1024,
  });

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = probe();
      if (value !== undefined && value !== false) return value;
    } catch {
      // Not yet.
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface Operator {
  child: ChildProcess;
  messages: string[];
  metricsPort?: number;
}

const running: Operator[] = [];

function startOperator(args: string[], env: NodeJS.ProcessEnv = {}): Operator {
  const child = spawn(
    path.join(ROOT, 'node_modules', '.bin', 'node'),
    ['dist/main.js', '--health-port=0', '--metrics-port=0', ...args],
    {
      cwd: ROOT,
      env: { ...process.env, KUBECONFIG: kubeconfig, NODE_OPTIONS, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const op: Operator = { child, messages: [] };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const entry = JSON.parse(line) as { msg: string; metricsPort?: number };
      op.messages.push(entry.msg);
      if (entry.metricsPort) op.metricsPort = entry.metricsPort;
    } catch {
      op.messages.push(line);
    }
  });
  running.push(op);
  return op;
}

async function stop(op: Operator, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (op.child.exitCode !== null || op.child.signalCode !== null) return;
  const exited = new Promise((resolve) => op.child.once('exit', resolve));
  op.child.kill(signal);
  await exited;
}

async function metric(op: Operator, name: string): Promise<number> {
  const body = await (await fetch(`http://127.0.0.1:${op.metricsPort}/metrics`)).text();
  const line = body.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no ${name} in /metrics`);
  return Number(line.split(' ')[1]);
}

/** RSS and heap in MiB, one sample a second. */
async function sample(op: Operator): Promise<{ rss: number[]; heap: number[] }> {
  const rss: number[] = [];
  const heap: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    rss.push((await metric(op, 'process_resident_memory_bytes')) / 2 ** 20);
    heap.push((await metric(op, 'nodejs_heap_size_used_bytes')) / 2 ** 20);
    await sleep(1_000);
  }
  return { rss, heap };
}

function microservices(namespace: string, count: number): string {
  const items = Array.from({ length: count }, (_, i) => ({
    apiVersion: 'msop.dev/v1alpha1',
    kind: 'Microservice',
    metadata: { name: `svc-${String(i).padStart(3, '0')}`, namespace },
    spec: { image: `example.invalid/svc-${i}:1.0.0`, replicas: 2 },
  }));
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

function readyCount(namespace: string): number {
  const list = JSON.parse(kubectl(['get', 'msvc', '-n', namespace, '-o', 'json'])) as {
    items: { status?: { conditions?: { type: string; status: string }[] } }[];
  };
  return list.items.filter((ms) => ms.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .length;
}

async function memoryBench(): Promise<string[][]> {
  const namespace = `bench-${randomBytes(3).toString('hex')}`;
  kubectl(['create', 'namespace', namespace]);
  const op = startOperator([]);
  await until('the operator to sync its caches', 60_000, () => op.messages.includes('Caches synced'));
  await until('the metrics port', 10_000, () => op.metricsPort);
  log('idle: settling 5 s, then sampling');
  await sleep(5_000);
  const idle = await sample(op);

  log(`creating ${MICROSERVICES} Microservices (2 replicas each)`);
  const started = Date.now();
  kubectl(['apply', '--server-side', '-f', '-'], microservices(namespace, MICROSERVICES));
  await until(`${MICROSERVICES} Microservices to be Ready`, 600_000, () => readyCount(namespace) === MICROSERVICES);
  const readyS = (Date.now() - started) / 1000;
  log(`all Ready after ${readyS.toFixed(1)} s; settling 10 s, then sampling`);
  await sleep(10_000);
  const loaded = await sample(op);
  const reconciles = await metric(op, 'controller_runtime_reconcile_time_seconds_count{controller="microservice"}');
  await stop(op);
  kubectl(['delete', 'namespace', namespace, '--wait=false']);
  const row = (state: string, s: { rss: number[]; heap: number[] }) => [
    state,
    median(s.rss).toFixed(1),
    Math.min(...s.rss).toFixed(1),
    Math.max(...s.rss).toFixed(1),
    median(s.heap).toFixed(1),
  ];
  return [
    row('idle (0 Microservices)', idle),
    row(`${MICROSERVICES} Microservices, Ready`, loaded),
    [`(${MICROSERVICES} Ready in ${readyS.toFixed(1)} s, ${reconciles} reconciles)`, '', '', '', ''],
  ];
}

async function failoverBench(): Promise<number[]> {
  const times: number[] = [];
  for (let run = 1; run <= FAILOVER_RUNS; run++) {
    const namespace = `bench-lease-${randomBytes(3).toString('hex')}`;
    kubectl(['create', 'namespace', namespace]);
    const args = ['--leader-elect=true', `--leader-election-namespace=${namespace}`, `--watch-namespaces=${namespace}`];
    const a = startOperator(args, { HOSTNAME: 'bench-a' });
    await until('a to lead', 60_000, () => a.messages.includes('Became leader'));
    const b = startOperator(args, { HOSTNAME: 'bench-b' });
    await until('b to stand by', 60_000, () => b.messages.includes('Another replica leads, standing by'));
    // Kill at a random point of the renew cycle.
    await sleep(2_000 + Math.random() * 2_000);
    const killedAt = Date.now();
    await stop(a, 'SIGKILL');
    await until('b to lead', 60_000, () => b.messages.includes('Became leader'));
    times.push((Date.now() - killedAt) / 1000);
    log(`failover run ${run}: ${times.at(-1)!.toFixed(1)} s`);
    await stop(b);
    kubectl(['delete', 'namespace', namespace, '--wait=false']);
  }
  return times;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

try {
  if (!process.argv.includes('--no-build')) {
    log('building dist/');
    execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
  kubectl(['apply', '--server-side', '-f', path.join(ROOT, 'crds', 'microservice.yaml')]);
  // Not `kubectl wait`: right after the apply the CRD has no conditions yet, and kubectl wait fails on that.
  for (let i = 0; i < 300; i += 1) {
    const established = kubectl([
      'get',
      'crd',
      'microservices.msop.dev',
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Established")].status}',
    ]);
    if (established.trim() === 'True') break;
    await sleep(200);
  }
  const memory = await memoryBench();
  const failover = MEMORY_ONLY ? [] : await failoverBench();
  console.log(
    `\nmsop operator, Node ${process.versions.node}${NODE_OPTIONS ? ` (NODE_OPTIONS=${NODE_OPTIONS})` : ''}, ` +
      `${SAMPLES} samples a second apart (MiB)\n`,
  );
  console.log(table(['state', 'RSS median', 'RSS min', 'RSS max', 'heap used median'], memory));
  if (!MEMORY_ONLY) {
    console.log(
      `\nleader failover after SIGKILL (lease 15 s, renew deadline 10 s, retry 2 s), ${FAILOVER_RUNS} runs:\n`,
    );
    console.log(
      table(
        ['median', 'min', 'max'],
        [[median(failover), Math.min(...failover), Math.max(...failover)].map((s) => `${s.toFixed(1)} s`)],
      ),
    );
  }
} finally {
  await Promise.all(running.map((op) => stop(op, 'SIGKILL')));
  if (!KEEP) sh('hack/cluster/down.sh');
}
if (!MEMORY_ONLY) comparatorBench();
