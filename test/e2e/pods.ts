// The pod mirror: kwok runs no containers, so for every ready pod of one
// Microservice the mirror runs a simulated app (sim-app.mts) on loopback with the
// behaviour of that pod's image tag, and tells Prometheus to scrape it with the
// labels Kubernetes pod discovery plus the relabelling in docs/analysis.md give:
// namespace, pod, msop_dev_microservice, msop_dev_track and msop_dev_revision.
// A pod that is deleted, terminating or not ready loses its process at once.
//
// A comparator pod (track comparator, a parallel run's) runs the real comparator instead,
// `node dist/main.js` with the pod's own args, its Service URLs pointed at loopback proxies
// that play those Services (service-proxy.ts) and its ports at free loopback ones.
//
// The label names are written out here rather than imported from src/, so the
// harness reads what msop wrote the way Kubernetes and Prometheus would.
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pino from 'pino';
import type { KubeClient } from '../../src/kube/client';
import { Informer } from '../../src/kube/informer';
import { client as testClient, eventually } from '../cluster/harness';
import type { PrometheusTarget } from './prometheus';
import { type ServiceProxy, type ServiceProxyStats, startServiceProxy } from './service-proxy';

/** How a simulated version behaves; the same shape sim-app.mts reads from SIM_PROFILES. */
export interface SimProfile {
  /** Probability that GET / answers 500. */
  errorRate: number;
  /** Median latency of GET /, in milliseconds. */
  latencyMs: number;
  /** Log-normal spread (sigma) of the latency; 0 makes it constant. Default 0.25 (p99 ≈ 1.8 × latencyMs). */
  latencySpread?: number;
  /**
   * A version that fails only under load: above `rps` requests per second to this pod (counted over the
   * last second), GET / answers 500 with probability `errorRate` instead. Light test traffic passes.
   */
  overload?: { rps: number; errorRate: number };
  /** What a 200 from GET / carries: "text" (default) or "json", an order list with a timestamp and a random x-request-id. */
  body?: 'text' | 'json';
  /** With body "json": every differEvery-th answer of the process differs in one field (deterministic). */
  differEvery?: number;
}

/** A ready pod as Kubernetes reports it (whether or not its simulated app is up yet). */
export interface ReadyPod {
  pod: string;
  uid: string;
  labels: Record<string, string>;
  track: string;
  revision: string;
  /** The image tag of the pod's first container: the key of its profile. */
  tag: string;
  /** The args of the pod's first container (a comparator's flags). */
  args: string[];
}

/** A ready pod whose simulated app is serving. */
export interface Endpoint extends ReadyPod {
  /** http://127.0.0.1:PORT: the app's port; a comparator's mirror port. */
  url: string;
}

export interface PodMirrorOptions {
  namespace: string;
  /** The Microservice whose pods (label msop.dev/microservice=<name>) are mirrored. */
  microservice: string;
  /** Behaviour by image tag. A ready pod whose tag has no profile gets no process and is reported in problems. */
  profiles: Record<string, SimProfile>;
  /** Where the scrape targets go; usually the RunningPrometheus. Without it, nothing is scraped. */
  prometheus?: { setTargets(targets: PrometheusTarget[]): Promise<void> };
  /** Ready pods beyond this many get no process (a problem is recorded). Default 10: the machine has 2 cores. */
  maxProcesses?: number;
  client?: KubeClient;
}

export interface PodMirror {
  /** Ready pods (Kubernetes' view), optionally of one track. */
  readyPods(track?: string): ReadyPod[];
  /** Ready pods whose simulated app is serving, optionally of one track. */
  endpoints(track?: string): Endpoint[];
  /** The serving endpoint of a pod, if any. */
  endpoint(pod: string): Endpoint | undefined;
  /** Waits until `track` has at least `count` serving endpoints. */
  waitForEndpoints(track: string, count: number, timeoutMs?: number): Promise<Endpoint[]>;
  /** Things that went wrong in the harness (unknown tag, a crashed simulated app, too many pods). */
  readonly problems: string[];
  /** The last target list given to Prometheus. */
  targets(): PrometheusTarget[];
  /** The Services played for the comparators (`<service>:<port>`), with what they forwarded. */
  serviceProxies(): Record<string, ServiceProxyStats>;
  /** Stops watching and ends every simulated app. */
  stop(): Promise<void>;
}

const SIM_APP = path.join(__dirname, 'sim-app.mts');
const MSOP_MAIN = path.join(__dirname, '../../dist/main.js');
const SETPRIV = '/usr/bin/setpriv';
const TRACK_COMPARATOR = 'comparator';
const LABEL_MICROSERVICE = 'msop.dev/microservice';
const LABEL_TRACK = 'msop.dev/track';
const LABEL_REVISION = 'msop.dev/revision';

/** The tag of an image reference: after the last ':' that follows the last '/'; "latest" when there is none. */
export function imageTag(image: string): string {
  const withoutDigest = image.split('@')[0]!;
  const name = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const colon = name.lastIndexOf(':');
  return colon < 0 ? 'latest' : name.slice(colon + 1);
}

/** Ready as an EndpointSlice would count it: condition Ready=True and not terminating. */
export function isReady(pod: V1Pod): boolean {
  return (
    !pod.metadata?.deletionTimestamp &&
    pod.status?.phase === 'Running' &&
    (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

interface SimProcess {
  uid: string;
  /** Unset while a comparator's proxies are being set up. */
  child?: ChildProcess;
  pod: ReadyPod;
  /** Where requests go; a comparator's mirror port. */
  port?: number;
  /** Where Prometheus scrapes: the same port for an app, the metrics port for a comparator. */
  scrapePort?: number;
  exited: Promise<void>;
  markExited: () => void;
  stopping: boolean;
}

/** Whether a Service's selector selects these pod labels (an empty selector selects no pods here). */
const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  selector !== undefined &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Why dist/ cannot run the comparator as src/ has it, if so: missing, or older than a source file. */
function distProblem(): string | undefined {
  if (!existsSync(MSOP_MAIN)) return `${MSOP_MAIN} is missing: run npm run build (comparator pods run dist/main.js)`;
  const built = statSync(MSOP_MAIN).mtimeMs;
  const sources = path.join(__dirname, '../../src/comparator');
  const newer = readdirSync(sources).find((file) => statSync(path.join(sources, file)).mtimeMs > built);
  return newer ? `src/comparator/${newer} is newer than dist/main.js: run npm run build` : undefined;
}

/** Starts mirroring; resolves once the initial list of pods has been read. */
export async function startPodMirror(options: PodMirrorOptions): Promise<PodMirror> {
  const { namespace, microservice, profiles } = options;
  const maxProcesses = options.maxProcesses ?? 10;
  const log = pino({ level: process.env.MSOP_TEST_LOG_LEVEL ?? 'silent' });
  const informer = new Informer<V1Pod>(
    options.client ?? testClient,
    { apiVersion: 'v1', kind: 'Pod', namespace, labelSelector: `${LABEL_MICROSERVICE}=${microservice}` },
    log,
  );
  const services = new Informer<V1Service>(
    options.client ?? testClient,
    { apiVersion: 'v1', kind: 'Service', namespace },
    log,
  );
  const proxies = new Map<string, Promise<ServiceProxy>>(); // by `<service>:<port>`
  const proxyStats = new Map<string, ServiceProxyStats>();
  const processes = new Map<string, SimProcess>(); // by pod uid: the apps of ready pods
  const ending = new Set<SimProcess>(); // apps draining after their pod went away
  const problems: string[] = [];
  const problem = (message: string) => {
    if (!problems.includes(message)) problems.push(message);
  };
  let stopped = false;
  let lastTargets: PrometheusTarget[] = [];

  const readyPods = (): ReadyPod[] =>
    informer
      .list(namespace)
      .filter(isReady)
      .map((pod) => {
        const labels = pod.metadata?.labels ?? {};
        return {
          pod: pod.metadata!.name!,
          uid: pod.metadata!.uid!,
          labels,
          track: labels[LABEL_TRACK] ?? '',
          revision: labels[LABEL_REVISION] ?? '',
          tag: imageTag(pod.spec?.containers?.[0]?.image ?? ''),
          args: pod.spec?.containers?.[0]?.args ?? [],
        };
      })
      .sort((a, b) => a.pod.localeCompare(b.pod));

  const serving = (): Endpoint[] =>
    [...processes.values()]
      .filter((p) => p.port !== undefined)
      .map((p) => ({ ...p.pod, url: `http://127.0.0.1:${p.port}` }))
      .sort((a, b) => a.pod.localeCompare(b.pod));

  const publishTargets = () => {
    const scraped = [...processes.values()].filter((p) => p.scrapePort !== undefined);
    lastTargets = scraped.map(({ pod: e, scrapePort }) => ({
      address: `127.0.0.1:${scrapePort}`,
      labels: {
        namespace,
        pod: e.pod,
        msop_dev_microservice: e.labels[LABEL_MICROSERVICE] ?? '',
        msop_dev_track: e.track,
        msop_dev_revision: e.revision,
      },
    }));
    options.prometheus?.setTargets(lastTargets).catch((err: Error) => problem(`writing the targets: ${err.message}`));
  };

  const end = (sim: SimProcess) => {
    if (sim.stopping) return;
    sim.stopping = true;
    if (processes.get(sim.uid) === sim) processes.delete(sim.uid);
    if (!sim.child) {
      sim.markExited();
      return;
    }
    ending.add(sim);
    // The app drains what is in flight, then exits; it is already out of endpoints() and the targets.
    // The comparator closes its listeners on SIGTERM, as in a pod.
    if (sim.pod.track === TRACK_COMPARATOR) sim.child.kill('SIGTERM');
    else sim.child.stdin?.end();
    const child = sim.child;
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    void sim.exited.then(() => clearTimeout(timer));
  };

  const newProcess = (pod: ReadyPod): SimProcess => {
    let markExited!: () => void;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const sim: SimProcess = { uid: pod.uid, pod, stopping: false, exited, markExited };
    processes.set(pod.uid, sim);
    return sim;
  };

  /** A loopback stand-in for the Service `service` on `port`: its ready pods' serving apps, round-robin. */
  const proxyFor = (service: string, port: number): Promise<ServiceProxy> => {
    const key = `${service}:${port}`;
    let proxy = proxies.get(key);
    if (!proxy) {
      proxy = startServiceProxy(() => {
        const found = services.get(namespace, service);
        // No such Service, or not on that port: nothing answers, as in a cluster.
        if (!found || !(found.spec?.ports ?? []).some((p) => p.port === port)) return { ready: 0, serving: [] };
        const pods = readyPods().filter((p) => selects(found.spec?.selector, p.labels));
        const apps = pods.map((p) => processes.get(p.uid)).filter((p) => p?.port !== undefined && !p.stopping);
        return { ready: pods.length, serving: apps.map((p) => `http://127.0.0.1:${p!.port}`) };
      });
      proxies.set(key, proxy);
      void proxy.then((p) => proxyStats.set(key, p.stats));
    }
    return proxy;
  };

  /** The pod's comparator flags with its upstream Service URLs on loopback proxies and free ports. */
  const comparatorArgs = async (pod: ReadyPod): Promise<string[]> => {
    const args: string[] = [];
    for (const arg of pod.args) {
      const upstream = /^--(primary|candidate|secondary)=(.*)$/.exec(arg);
      if (upstream) {
        const url = new URL(upstream[2]!);
        // <service>.<namespace>.svc[.cluster.local], or a bare <service>: a Service of this namespace.
        const [service, ns = namespace] = url.hostname.split('.');
        if (ns !== namespace) throw new Error(`${arg} names a Service outside ${namespace}`);
        const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
        const proxy = await proxyFor(service!, port);
        args.push(`--${upstream[1]}=${proxy.url}${url.pathname === '/' ? '' : url.pathname}`);
      } else if (arg.startsWith('--port=')) args.push('--port=0');
      else if (arg.startsWith('--metrics-port=')) args.push('--metrics-port=0');
      else args.push(arg);
    }
    return args;
  };

  /** The real comparator for a comparator pod; its ports come from its "Started comparator" log line. */
  const launchComparator = (pod: ReadyPod) => {
    const sim = newProcess(pod);
    const unusable =
      distProblem() ??
      (pod.args[0] === 'comparator' ? undefined : `its args do not start with comparator: ${pod.args.join(' ')}`);
    if (unusable) {
      problem(`comparator pod ${pod.pod}: ${unusable}`);
      return;
    }
    void comparatorArgs(pod).then(
      (args) => {
        if (sim.stopping || stopped) return sim.markExited();
        const command = [process.execPath, MSOP_MAIN, ...args];
        // setpriv (util-linux) stops the comparator if the test process dies, even by SIGKILL.
        const child = existsSync(SETPRIV)
          ? spawn(SETPRIV, ['--pdeathsig', 'TERM', ...command], {
              env: { PATH: process.env.PATH, NODE_OPTIONS: '' },
              stdio: ['ignore', 'pipe', 'pipe'],
            })
          : spawn(command[0]!, command.slice(1), {
              env: { PATH: process.env.PATH, NODE_OPTIONS: '' },
              stdio: ['ignore', 'pipe', 'pipe'],
            });
        sim.child = child;
        const output: string[] = [];
        const remember = (line: string) => {
          output.push(line);
          if (output.length > 20) output.shift();
        };
        child.stderr!.on('data', (chunk: Buffer) => remember(chunk.toString()));
        createInterface({ input: child.stdout! }).on('line', (line) => {
          remember(line);
          let entry: { msg?: string; port?: number; metricsPort?: number };
          try {
            entry = JSON.parse(line) as typeof entry;
          } catch {
            return;
          }
          if (entry.msg !== 'Started comparator' || sim.stopping) return;
          sim.port = entry.port;
          sim.scrapePort = entry.metricsPort;
          publishTargets();
        });
        child.once('exit', (code, signal) => {
          sim.markExited();
          ending.delete(sim);
          if (sim.stopping || stopped) return;
          if (processes.get(pod.uid) === sim) processes.delete(pod.uid);
          problem(`the comparator of ${pod.pod} exited (${code ?? signal}): ${output.join('\n').slice(-1000)}`);
          publishTargets();
        });
      },
      (err: Error) => problem(`comparator pod ${pod.pod}: ${err.message}`),
    );
  };

  const launch = (pod: ReadyPod) => {
    const sim = newProcess(pod);
    const child = spawn(process.execPath, [SIM_APP], {
      env: {
        PATH: process.env.PATH,
        NODE_OPTIONS: '',
        NODE_PATH: process.env.NODE_PATH,
        SIM_PROFILES: JSON.stringify(profiles),
        SIM_TAG: pod.tag,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    sim.child = child;
    child.once('exit', () => sim.markExited());
    const stderr: string[] = [];
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      try {
        sim.port = (JSON.parse(line) as { port: number }).port;
        sim.scrapePort = sim.port;
      } catch {
        problem(`the simulated app of ${pod.pod} printed ${JSON.stringify(line)} instead of its port`);
        return;
      }
      if (sim.stopping) return;
      publishTargets();
    });
    child.once('exit', (code, signal) => {
      ending.delete(sim);
      if (sim.stopping || stopped) return;
      // It crashed while its pod was ready: report it, and start another a second later.
      if (processes.get(pod.uid) === sim) processes.delete(pod.uid);
      problem(
        `the simulated app of ${pod.pod} (tag ${pod.tag}) exited (${code ?? signal}): ${stderr.join('').trim().slice(-500)}`,
      );
      publishTargets();
      setTimeout(sync, 1_000).unref();
    });
  };

  /** One process per ready pod with a known profile; none for anything else. */
  const sync = () => {
    if (stopped) return;
    const ready = readyPods();
    const wanted = new Map(ready.map((p) => [p.uid, p]));
    let changed = false;
    for (const sim of [...processes.values()]) {
      if (!wanted.has(sim.uid)) {
        end(sim);
        changed = true;
      }
    }
    for (const pod of ready) {
      if (processes.has(pod.uid)) continue;
      if (processes.size >= maxProcesses) {
        problem(`more than ${maxProcesses} ready pods; ${pod.pod} gets no simulated app (raise maxProcesses)`);
        continue;
      }
      if (pod.track === TRACK_COMPARATOR) {
        launchComparator(pod);
        continue;
      }
      if (!profiles[pod.tag]) {
        problem(
          `pod ${pod.pod} runs image tag "${pod.tag}", which has no profile (known: ${Object.keys(profiles).join(', ')})`,
        );
        continue;
      }
      launch(pod);
    }
    if (changed) publishTargets();
  };

  informer.on(() => sync());
  informer.start();
  services.start();
  await eventually(() => informer.hasSynced() && services.hasSynced(), {
    timeoutMs: 30_000,
    message: `the pods of ${namespace}/${microservice} to be listed`,
  });
  sync();

  const endpoints = (track?: string) => serving().filter((e) => track === undefined || e.track === track);

  return {
    readyPods: (track) => readyPods().filter((p) => track === undefined || p.track === track),
    endpoints,
    endpoint: (pod) => serving().find((e) => e.pod === pod),
    waitForEndpoints: (track, count, timeoutMs = 30_000) =>
      eventually(
        () => {
          const found = endpoints(track);
          return found.length >= count ? found : undefined;
        },
        {
          timeoutMs,
          intervalMs: 50,
          message: `${count} serving ${track} endpoint(s) of ${namespace}/${microservice} (problems: ${problems.join('; ') || 'none'})`,
        },
      ),
    problems,
    targets: () => lastTargets,
    serviceProxies: () => Object.fromEntries([...proxyStats].map(([key, stats]) => [key, { ...stats }])),
    stop: async () => {
      stopped = true;
      await Promise.all([informer.stop(), services.stop()]);
      [...processes.values()].forEach(end);
      await Promise.all([...ending].map((p) => p.exited));
      await Promise.all([...proxies.values()].map(async (p) => (await p).close()));
      lastTargets = [];
      await options.prometheus?.setTargets([]);
    },
  };
}
