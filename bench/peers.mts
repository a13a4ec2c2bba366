// npm run bench -- --peers: msop beside Argo Rollouts and the control plane's own pace (the floor: the
// same Deployments and Services applied straight), one tool at a time, each on the same fresh local
// cluster (CLUSTER_NAME, default msop-bench; removed afterwards unless --keep). Per tool and N: time to
// all Ready, time to release all N (an image change; steps 50% then a 1 s pause), the controller's CPU
// seconds and RSS (peak, and settled after the release), the API requests by verb and by resource from
// the API server's apiserver_request_total (all clients: the bench's own polling included, the same for
// every tool), the Events recorded by component and reason, pods deleted, and the writes in a
// steady-state window. Each figure is also given as a
// ratio to Argo's and to the floor's of the same run. Not a test; it asserts nothing.
//
//   npm run bench -- --peers [--n=100,300] [--runs=1] [--tools=floor,floor-qps,msop,argo[,argo-qps]]
//                            [--steady-seconds=120] [--settle-seconds=30] [--out=bench/results] [--keep]
//                            [--check]   (make test-bench: exit 1 unless every tool gave every figure)
//
// floor runs on a cluster whose kube-controller-manager keeps its default client rate limit (20 QPS);
// floor-qps, msop and argo on one where it is raised to 1000, so that the operators' own cost shows.
// argo is Argo Rollouts as installed, with its client limit of 40 QPS per clientset; argo-qps raises it
// to 1000 (burst 2000), so a release that the limit paces can be told from one the machine paces.
// Argo Rollouts is built from its Go module by hack/bench/build-argo-rollouts.sh (cached).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { imageNodeOptions } from './image-node-options.mts';
import { median } from './stats.mts';

const ROOT = path.join(import.meta.dirname, '..');
const arg = (name: string, fallback: string): string =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const SIZES = arg('n', '100').split(',').map(Number);
const RUNS = Number(arg('runs', '1'));
const TOOLS = arg('tools', 'floor,floor-qps,msop,argo').split(',') as Tool[];
const STEADY_S = Number(arg('steady-seconds', '120'));
const SETTLE_S = Number(arg('settle-seconds', '30'));
const OUT = path.resolve(ROOT, arg('out', 'bench/results'));
const KEEP = process.argv.includes('--keep');
const CHECK = process.argv.includes('--check');
const CLUSTER = process.env.CLUSTER_NAME ?? 'msop-bench';
const IMAGE = 'registry.example/bench/app';

type Tool = 'floor' | 'floor-qps' | 'msop' | 'argo' | 'argo-qps';
const isArgo = (tool: Tool) => tool === 'argo' || tool === 'argo-qps';
const hasController = (tool: Tool) => tool === 'msop' || isArgo(tool);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message: string) => console.error(`[peers] ${new Date().toISOString().slice(11, 19)} ${message}`);

function sh(script: string, env: NodeJS.ProcessEnv = {}): string {
  return execFileSync('bash', ['-c', script], {
    cwd: ROOT,
    env: { ...process.env, CLUSTER_NAME: CLUSTER, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
  });
}

// ---- the cluster ----

interface Cluster {
  kubeconfig: string;
  bin: string;
  dir: string;
}

/**
 * A fresh cluster; `raisedQps` lifts kube-controller-manager's client limit to 1000 QPS. kwokctl's Service
 * range is a /24, and every tool makes a Service per instance, so a second ServiceCIDR (a /16) is added.
 */
function freshCluster(raisedQps: boolean): Cluster {
  sh('hack/cluster/down.sh >/dev/null 2>&1 || true');
  const extra = raisedQps
    ? 'kube-controller-manager=kube-api-qps=1000 kube-controller-manager=kube-api-burst=1000'
    : '';
  const [kubeconfig, bin, dir] = sh(
    '. hack/cluster/env.sh && hack/cluster/up.sh >&2 && echo "$KUBECONFIG" && echo "$CLUSTER_BIN" && echo "$KWOK_WORKDIR/clusters/$CLUSTER_NAME"',
    { CLUSTER_EXTRA_ARGS: extra },
  )
    .trim()
    .split('\n');
  const c = { kubeconfig: kubeconfig!, bin: bin!, dir: dir! };
  // The flag must have reached the process, or floor-qps would silently measure the default limit.
  const kcm = readFileSync(path.join(c.dir, 'pids', 'kube-controller-manager.pid'), 'utf8').trim();
  const args = readFileSync(`/proc/${kcm}/cmdline`, 'utf8').split('\0');
  if (raisedQps !== args.includes('--kube-api-qps=1000'))
    throw new Error(`kube-controller-manager runs with ${args.join(' ')}; expected kube-api-qps raised: ${raisedQps}`);
  kubectl(
    c,
    ['apply', '--server-side', '-f', '-'],
    JSON.stringify({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'ServiceCIDR',
      metadata: { name: 'bench-wide' },
      spec: { cidrs: ['10.96.0.0/16'] },
    }),
  );
  return c;
}

function kubectl(c: Cluster, args: string[], input?: string): string {
  return execFileSync(path.join(c.bin, 'kubectl'), args, {
    env: { ...process.env, KUBECONFIG: c.kubeconfig },
    encoding: 'utf8',
    input,
    maxBuffer: 256 * 1024 * 1024,
  });
}

/** apiserver_request_total by "verb resource[/subresource]", summed over codes and scopes. */
function requestCounts(c: Cluster): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of kubectl(c, ['get', '--raw', '/metrics']).split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels: Record<string, string | undefined> = Object.fromEntries(
      [...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    if (labels.verb === 'WATCH' || labels.verb === 'CONNECT') continue;
    const resource = labels.subresource ? `${labels.resource}/${labels.subresource}` : labels.resource;
    const key = `${labels.verb} ${resource}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}

function delta(after: Map<string, number>, before: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of after) {
    const d = value - (before.get(key) ?? 0);
    if (d > 0) out[key] = d;
  }
  return out;
}

/** Each Event's count by name; an Event written with series (events.k8s.io) counts its series. */
function eventCounts(c: Cluster, namespace: string): Map<string, { key: string; count: number }> {
  const list = JSON.parse(kubectl(c, ['get', 'events', '-n', namespace, '-o', 'json'])) as {
    items: {
      metadata: { name: string };
      reason?: string;
      count?: number;
      series?: { count?: number };
      source?: { component?: string };
      reportingComponent?: string;
    }[];
  };
  return new Map(
    list.items.map((e) => [
      e.metadata.name,
      {
        key: `${e.reportingComponent || e.source?.component || '?'} ${e.reason ?? '?'}`,
        count: e.series?.count ?? e.count ?? 1,
      },
    ]),
  );
}

/** Occurrences recorded between two snapshots, by "component reason". */
function eventDelta(
  after: Map<string, { key: string; count: number }>,
  before: Map<string, { key: string; count: number }>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, { key, count }] of after) {
    const d = count - (before.get(name)?.count ?? 0);
    if (d > 0) out[key] = (out[key] ?? 0) + d;
  }
  return out;
}

const WRITE_VERBS = ['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY'];
/** Writes but the control plane's own Lease renewals (kube-controller-manager, kube-scheduler, kwok nodes). */
const controllerWrites = (requests: Record<string, number>) =>
  writesOf(Object.fromEntries(Object.entries(requests).filter(([key]) => !key.endsWith(' leases'))));
const writesOf = (requests: Record<string, number>) =>
  Object.entries(requests)
    .filter(([key]) => WRITE_VERBS.includes(key.split(' ')[0]!))
    .reduce((sum, [, v]) => sum + v, 0);

// ---- a controller process: CPU and RSS from /proc ----

interface Proc {
  pid: number;
  child?: ChildProcess;
  peakRssMiB: number;
  sampler?: NodeJS.Timeout;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds of every control-plane process kwokctl started (its pid files), by component. */
function planeCpu(c: Cluster): Map<string, number> {
  const dir = path.join(c.dir, 'pids');
  return new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith('.pid'))
      .map((f) => [f.slice(0, -4), cpuSeconds(Number(readFileSync(path.join(dir, f), 'utf8').trim()))]),
  );
}

/** The machine's busy and total CPU seconds since boot, from /proc/stat (idle and iowait count as idle). */
function machineCpu(): { busy: number; total: number } {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: (total - ticks[3]! - ticks[4]!) / 100, total: total / 100 };
}

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

function track(pid: number, child?: ChildProcess): Proc {
  const proc: Proc = { pid, child, peakRssMiB: 0 };
  proc.sampler = setInterval(() => {
    try {
      proc.peakRssMiB = Math.max(proc.peakRssMiB, rssMiB(pid));
    } catch {
      // Gone.
    }
  }, 250);
  return proc;
}

function stop(proc: Proc): Promise<void> {
  clearInterval(proc.sampler);
  const child = proc.child;
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

function startController(c: Cluster, tool: Tool, namespace: string, argoBin: string): Proc {
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: c.kubeconfig };
  // msop as the image runs it; a NODE_OPTIONS of the bench's own environment wins (to compare settings).
  if (tool === 'msop') env.NODE_OPTIONS = process.env.NODE_OPTIONS ?? imageNodeOptions();
  const child =
    tool === 'msop'
      ? spawn(
          path.join(ROOT, 'node_modules', '.bin', 'node'),
          [
            path.join(ROOT, 'dist', 'main.js'),
            `--watch-namespaces=${namespace}`,
            '--health-port=0',
            '--metrics-port=0',
            '--log-level=warn',
          ],
          { env, stdio: ['ignore', 'ignore', 'inherit'] },
        )
      : spawn(
          argoBin,
          [
            `--kubeconfig=${c.kubeconfig}`,
            '--namespaced',
            `--namespace=${namespace}`,
            '--loglevel=warn',
            '--leader-elect=false',
            '--healthzPort=0',
            '--metricsport=0',
            ...(tool === 'argo-qps' ? ['--qps=1000', '--burst=2000'] : []),
          ],
          { env, stdio: ['ignore', 'ignore', 'ignore'] },
        );
  return track(child.pid!, child);
}

// ---- the objects each tool's users write ----

function objects(tool: Tool, namespace: string, n: number, version: string): string {
  const docs: unknown[] = [];
  const steps = [{ setWeight: 50 }, { pause: { duration: '1s' } }];
  for (let i = 0; i < n; i += 1) {
    const name = `svc-${i}`;
    const image = `${IMAGE}:${version}`;
    const labels = { app: name };
    const template = {
      metadata: { labels },
      spec: { containers: [{ name: 'app', image, ports: [{ name: 'http', containerPort: 8080 }] }] },
    };
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace },
      spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    };
    if (tool === 'msop')
      docs.push({
        apiVersion: 'msop.dev/v1alpha1',
        kind: 'Microservice',
        metadata: { name, namespace },
        spec: { image, replicas: 1, release: { strategy: 'Canary', canary: { steps } } },
      });
    else if (isArgo(tool))
      docs.push(service, {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        metadata: { name, namespace },
        spec: { replicas: 1, selector: { matchLabels: labels }, template, strategy: { canary: { steps } } },
      });
    else
      docs.push(service, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace },
        spec: { replicas: 1, selector: { matchLabels: labels }, template },
      });
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs });
}

const RESOURCE: Record<Tool, string> = {
  floor: 'deployments.apps',
  'floor-qps': 'deployments.apps',
  msop: 'microservices.msop.dev',
  argo: 'rollouts.argoproj.io',
  'argo-qps': 'rollouts.argoproj.io',
};

interface Item {
  metadata: { name: string; generation?: number };
  spec: { image?: string; template?: { spec: { containers: { image: string }[] } } };
  status?: Record<string, unknown>;
}

/** Done: Ready on the version, per tool. */
function done(tool: Tool, item: Item, version: string): boolean {
  const s = item.status ?? {};
  const image = `${IMAGE}:${version}`;
  if (tool === 'msop') {
    const ready = s.phase === 'Ready' && s.observedGeneration === item.metadata.generation;
    return ready && item.spec.image === image && !s.canaryRevision && s.readyReplicas === 1;
  }
  if (item.spec.template?.spec.containers[0]?.image !== image) return false;
  if (isArgo(tool))
    return (
      s.phase === 'Healthy' &&
      String(s.observedGeneration) === String(item.metadata.generation) &&
      s.stableRS !== undefined &&
      s.stableRS === s.currentPodHash &&
      s.availableReplicas === 1
    );
  return (
    s.observedGeneration === item.metadata.generation &&
    s.updatedReplicas === 1 &&
    s.availableReplicas === 1 &&
    s.replicas === 1
  );
}

/** Seconds from `start` (before the apply) until every object is done on `version`. */
async function untilAllDone(
  c: Cluster,
  tool: Tool,
  namespace: string,
  n: number,
  version: string,
  start: number,
): Promise<number> {
  const deadline = start + Math.max(600_000, n * 3_000);
  for (;;) {
    const items = (JSON.parse(kubectl(c, ['get', RESOURCE[tool], '-n', namespace, '-o', 'json'])) as { items: Item[] })
      .items;
    const count = items.filter((item) => done(tool, item, version)).length;
    if (count === n) return (Date.now() - start) / 1000;
    if (Date.now() > deadline)
      throw new Error(`${tool}: ${count}/${n} done on ${version} after ${deadline - start} ms`);
    await sleep(2_000);
  }
}

// ---- one tool, one N ----

interface Figures {
  tool: Tool;
  n: number;
  initSeconds: number;
  releaseSeconds: number;
  controllerCpuInit?: number;
  controllerCpuRelease?: number;
  kcmCpuRelease: number;
  apiserverCpuRelease: number;
  etcdCpuRelease: number;
  machineBusyRelease: number;
  rssIdleMiB?: number;
  rssPeakMiB?: number;
  rssSettledMiB?: number;
  podsDeleted: number;
  writesInit: number;
  writesRelease: number;
  steadyWrites: number;
  steadyCpuSeconds?: number;
  requestsRelease: Record<string, number>;
  eventsRelease: Record<string, number>;
}

async function runTool(c: Cluster, tool: Tool, n: number, argoBin: string): Promise<Figures> {
  const namespace = `bench-${tool}`;
  kubectl(c, ['create', 'namespace', namespace]);
  for (let i = 0; i < 120; i += 1) {
    try {
      kubectl(c, ['get', 'serviceaccount', 'default', '-n', namespace]);
      break;
    } catch {
      await sleep(500);
    }
  }
  const controller = hasController(tool) ? startController(c, tool, namespace, argoBin) : undefined;
  let rssIdleMiB: number | undefined;
  if (controller) {
    await sleep(10_000);
    rssIdleMiB = rssMiB(controller.pid);
  }
  const cpu = () => (controller ? cpuSeconds(controller.pid) : 0);

  log(`${tool} N=${n}: applying`);
  let requests = requestCounts(c);
  let cpuMark = cpu();
  const initStart = Date.now();
  kubectl(c, ['apply', '--server-side', '--field-manager=bench', '-f', '-'], objects(tool, namespace, n, '1'));
  const initSeconds = await untilAllDone(c, tool, namespace, n, '1', initStart);
  const afterInit = requestCounts(c);
  const writesInit = writesOf(delta(afterInit, requests));
  const controllerCpuInit = cpu() - cpuMark;
  log(`${tool} N=${n}: all Ready in ${initSeconds.toFixed(1)} s`);
  await sleep(5_000);

  if (controller) controller.peakRssMiB = 0;
  requests = requestCounts(c);
  cpuMark = cpu();
  const planeMark = planeCpu(c);
  const machineMark = machineCpu();
  const eventsMark = eventCounts(c, namespace);
  const releaseStart = Date.now();
  kubectl(c, ['apply', '--server-side', '--field-manager=bench', '-f', '-'], objects(tool, namespace, n, '2'));
  const releaseSeconds = await untilAllDone(c, tool, namespace, n, '2', releaseStart);
  const requestsRelease = delta(requestCounts(c), requests);
  const eventsRelease = eventDelta(eventCounts(c, namespace), eventsMark);
  const controllerCpuRelease = cpu() - cpuMark;
  const plane = planeCpu(c);
  const planeDelta = (component: string) => (plane.get(component) ?? 0) - (planeMark.get(component) ?? 0);
  const machine = machineCpu();
  // Busy share of all cores: near 100% means the release waits on CPU, whoever spends it.
  const machineBusyRelease = (100 * (machine.busy - machineMark.busy)) / (machine.total - machineMark.total);
  const rssPeakMiB = controller?.peakRssMiB;
  log(`${tool} N=${n}: released in ${releaseSeconds.toFixed(1)} s`);

  await sleep(SETTLE_S * 1000);
  const rssSettledMiB = controller ? rssMiB(controller.pid) : undefined;
  const steadyStart = requestCounts(c);
  const steadyCpuMark = cpu();
  await sleep(STEADY_S * 1000);
  const steady = delta(requestCounts(c), steadyStart);
  const steadyCpuSeconds = controller ? cpu() - steadyCpuMark : undefined;

  if (controller) await stop(controller);
  kubectl(c, ['delete', 'namespace', namespace, '--wait=true', '--timeout=600s']);
  return {
    tool,
    n,
    initSeconds,
    releaseSeconds,
    controllerCpuInit: controller ? controllerCpuInit : undefined,
    controllerCpuRelease: controller ? controllerCpuRelease : undefined,
    kcmCpuRelease: planeDelta('kube-controller-manager'),
    apiserverCpuRelease: planeDelta('kube-apiserver'),
    etcdCpuRelease: planeDelta('etcd'),
    machineBusyRelease,
    rssIdleMiB,
    rssPeakMiB,
    rssSettledMiB,
    podsDeleted: requestsRelease['DELETE pods'] ?? 0,
    writesInit,
    writesRelease: writesOf(requestsRelease),
    // The bench only reads in this window; the control plane's Lease renewals are left out.
    steadyWrites: controllerWrites(steady),
    steadyCpuSeconds,
    requestsRelease,
    eventsRelease,
  };
}

// ---- the report ----

const ROWS: [keyof Figures, string][] = [
  ['initSeconds', 'apply → all Ready (s)'],
  ['releaseSeconds', 'release of all N (s)'],
  ['controllerCpuInit', 'controller CPU during init (s)'],
  ['controllerCpuRelease', 'controller CPU during the release (s)'],
  ['kcmCpuRelease', 'kube-controller-manager CPU during the release (s)'],
  ['apiserverCpuRelease', 'kube-apiserver CPU during the release (s)'],
  ['etcdCpuRelease', 'etcd CPU during the release (s)'],
  ['machineBusyRelease', 'machine CPU busy during the release (% of all cores)'],
  ['rssIdleMiB', 'RSS idle, before any object (MiB)'],
  ['rssPeakMiB', 'RSS peak during the release (MiB)'],
  ['rssSettledMiB', `RSS ${SETTLE_S} s after the release (MiB)`],
  ['podsDeleted', 'pod DELETE requests during the release'],
  ['writesInit', 'API writes during init, all clients'],
  ['writesRelease', 'API writes during the release, all clients'],
  ['steadyWrites', `API writes in ${STEADY_S} s at steady state (Lease renewals aside)`],
  ['steadyCpuSeconds', `controller CPU in ${STEADY_S} s at steady state (s)`],
];

function table(results: Figures[], n: number): string {
  const by = (tool: Tool) => results.filter((r) => r.tool === tool && r.n === n);
  const med = (tool: Tool, key: keyof Figures) => {
    const xs = by(tool)
      .map((r) => r[key])
      .filter((x): x is number => typeof x === 'number');
    return xs.length > 0 ? median(xs) : undefined;
  };
  const fmt = (x: number | undefined) => (x === undefined ? '–' : Number.isInteger(x) ? String(x) : x.toFixed(1));
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || b === 0 ? '–' : (a / b).toFixed(2);
  const runs = Math.max(...TOOLS.map((t) => by(t).length));
  const lines = [`### N = ${n}, replicas 1 (median of ${runs} run${runs > 1 ? 's' : ''})`, ''];
  // The unthrottled Argo's columns only when it ran, so the usual table keeps its shape.
  const unthrottled = TOOLS.includes('argo-qps');
  const extra = (cells: string[]) => (unthrottled ? ` ${cells.join(' | ')} |` : '');
  lines.push(
    '| | floor (kcm 20 QPS) | floor (kcm 1000 QPS) | msop | Argo Rollouts | msop / Argo | msop / floor (1000 QPS) |' +
      extra(['Argo Rollouts, 1000 QPS', 'msop / Argo, 1000 QPS']),
    '|---|---|---|---|---|---|---|' + extra(['---', '---']),
  );
  for (const [key, label] of ROWS) {
    const [f, fq, m, a, aq] = (['floor', 'floor-qps', 'msop', 'argo', 'argo-qps'] as Tool[]).map((t) => med(t, key));
    lines.push(
      `| ${label} | ${fmt(f)} | ${fmt(fq)} | ${fmt(m)} | ${fmt(a)} | ${ratio(m, a)} | ${ratio(m, fq)} |` +
        extra([fmt(aq), ratio(m, aq)]),
    );
  }
  lines.push('', 'API requests during the release, by verb and resource (all clients, first run):', '');
  const first = (tool: Tool) => by(tool)[0]?.requestsRelease ?? {};
  const keys = [...new Set(TOOLS.flatMap((t) => Object.keys(first(t))))].sort();
  lines.push('| request | ' + TOOLS.join(' | ') + ' |', '|---|' + TOOLS.map(() => '---|').join(''));
  for (const key of keys) lines.push(`| ${key} | ${TOOLS.map((t) => first(t)[key] ?? 0).join(' | ')} |`);
  lines.push('', 'Events recorded during the release, by component and reason (first run):', '');
  const events = (tool: Tool) => by(tool)[0]?.eventsRelease ?? {};
  const reasons = [...new Set(TOOLS.flatMap((t) => Object.keys(events(t))))].sort();
  lines.push('| event | ' + TOOLS.join(' | ') + ' |', '|---|' + TOOLS.map(() => '---|').join(''));
  for (const key of reasons) lines.push(`| ${key} | ${TOOLS.map((t) => events(t)[key] ?? 0).join(' | ')} |`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  if (TOOLS.includes('msop')) sh('npm run -s build >&2');
  const argoBin = TOOLS.some(isArgo)
    ? path.join(sh('hack/bench/build-argo-rollouts.sh').trim().split('\n').pop()!, 'bin', 'rollouts-controller')
    : '';
  const results: Figures[] = [];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const save = () => {
    writeFileSync(path.join(OUT, `peers-${stamp}.json`), JSON.stringify(results, null, 2));
    const report = [
      `# npm run bench -- --peers (${stamp}; N=${SIZES.join(',')}, runs ${RUNS}, tools ${TOOLS.join(',')})`,
      '',
      ...SIZES.map((n) => table(results, n)),
    ].join('\n\n');
    writeFileSync(path.join(OUT, `peers-${stamp}.md`), `${report}\n`);
    return report;
  };
  try {
    for (const n of SIZES) {
      for (let run = 0; run < RUNS; run += 1) {
        // floor on a cluster with the default kcm limit; the others share one with it raised.
        if (TOOLS.includes('floor')) {
          const c = freshCluster(false);
          results.push(await runTool(c, 'floor', n, argoBin));
          save();
        }
        const others = TOOLS.filter((t) => t !== 'floor');
        if (others.length > 0) {
          const c = freshCluster(true);
          if (others.some(isArgo)) {
            const crds = path.join(path.dirname(path.dirname(argoBin)), 'crds');
            kubectl(c, ['apply', '--server-side', '-f', crds]);
          }
          if (others.includes('msop')) kubectl(c, ['apply', '--server-side', '-f', path.join(ROOT, 'crds')]);
          for (const tool of others) {
            results.push(await runTool(c, tool, n, argoBin));
            save();
          }
        }
      }
    }
  } finally {
    if (!KEEP) sh('hack/cluster/down.sh >/dev/null 2>&1 || true');
  }
  console.log(save());
  if (CHECK) {
    const problems = check(results);
    for (const problem of problems) console.error(`[peers] check failed: ${problem}`);
    if (problems.length > 0) process.exit(1);
    console.error(`[peers] check passed: ${results.length} tool runs gave every figure`);
  }
}

/** What --check asks of a run: every tool and N measured, with times, CPU and RSS where a controller runs. */
function check(results: Figures[]): string[] {
  const problems: string[] = [];
  for (const n of SIZES)
    for (const tool of TOOLS) {
      const r = results.find((x) => x.tool === tool && x.n === n);
      if (!r) {
        problems.push(`${tool} N=${n}: no figures`);
        continue;
      }
      if (!(r.initSeconds > 0 && r.releaseSeconds > 0)) problems.push(`${tool} N=${n}: no init or release time`);
      if (!(r.writesRelease > 0)) problems.push(`${tool} N=${n}: no API writes counted in the release`);
      if (!(r.apiserverCpuRelease > 0 && r.etcdCpuRelease > 0 && r.machineBusyRelease > 0))
        problems.push(`${tool} N=${n}: no kube-apiserver, etcd or machine CPU in the release`);
      const controller = hasController(tool);
      if (controller && !((r.controllerCpuRelease ?? 0) > 0 && (r.rssPeakMiB ?? 0) > 0 && (r.rssIdleMiB ?? 0) > 0))
        problems.push(`${tool} N=${n}: no controller CPU or RSS`);
    }
  return problems;
}

await main();
