// The pod mirror: kwok runs no containers, so for every ready pod of one
// Microservice the mirror runs a simulated app (sim-app.mts) on loopback with the
// behaviour of that pod's image tag, and tells Prometheus to scrape it with the
// labels Kubernetes pod discovery plus the relabelling in docs/analysis.md give:
// namespace, pod, msop_dev_microservice, msop_dev_track and msop_dev_revision.
// A pod that is deleted, terminating or not ready loses its process at once.
//
// The label names are written out here rather than imported from src/, so the
// harness reads what msop wrote the way Kubernetes and Prometheus would.
import type { V1Pod } from '@kubernetes/client-node';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pino from 'pino';
import type { KubeClient } from '../../src/kube/client';
import { Informer } from '../../src/kube/informer';
import { client as testClient, eventually } from '../cluster/harness';
import type { PrometheusTarget } from './prometheus';

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
}

/** A ready pod whose simulated app is serving. */
export interface Endpoint extends ReadyPod {
  /** http://127.0.0.1:PORT */
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
  /** Stops watching and ends every simulated app. */
  stop(): Promise<void>;
}

const SIM_APP = path.join(__dirname, 'sim-app.mts');
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
  child: ChildProcess;
  pod: ReadyPod;
  port?: number;
  exited: Promise<void>;
  stopping: boolean;
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
        };
      })
      .sort((a, b) => a.pod.localeCompare(b.pod));

  const serving = (): Endpoint[] =>
    [...processes.values()]
      .filter((p) => p.port !== undefined)
      .map((p) => ({ ...p.pod, url: `http://127.0.0.1:${p.port}` }))
      .sort((a, b) => a.pod.localeCompare(b.pod));

  const publishTargets = () => {
    lastTargets = serving().map((e) => ({
      address: e.url.slice('http://'.length),
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
    ending.add(sim);
    // The app drains what is in flight, then exits; it is already out of endpoints() and the targets.
    sim.child.stdin?.end();
    const timer = setTimeout(() => sim.child.kill('SIGKILL'), 10_000);
    void sim.exited.then(() => clearTimeout(timer));
  };

  const launch = (pod: ReadyPod) => {
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
    const sim: SimProcess = {
      uid: pod.uid,
      child,
      pod,
      stopping: false,
      exited: new Promise((resolve) => child.once('exit', () => resolve())),
    };
    processes.set(pod.uid, sim);
    const stderr: string[] = [];
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      try {
        sim.port = (JSON.parse(line) as { port: number }).port;
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
      if (!profiles[pod.tag]) {
        problem(
          `pod ${pod.pod} runs image tag "${pod.tag}", which has no profile (known: ${Object.keys(profiles).join(', ')})`,
        );
        continue;
      }
      if (processes.size >= maxProcesses) {
        problem(`more than ${maxProcesses} ready pods; ${pod.pod} gets no simulated app (raise maxProcesses)`);
        continue;
      }
      launch(pod);
    }
    if (changed) publishTargets();
  };

  informer.on(() => sync());
  informer.start();
  await eventually(() => informer.hasSynced(), {
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
    stop: async () => {
      stopped = true;
      await informer.stop();
      [...processes.values()].forEach(end);
      await Promise.all([...ending].map((p) => p.exited));
      lastTargets = [];
      await options.prometheus?.setTargets([]);
    },
  };
}
