// A real Prometheus for the end-to-end tests: the Debian package's binary
// (hack/e2e/prometheus.sh installs it), run on 127.0.0.1 with a generated config.
// One scrape job reads its targets from a file_sd JSON file that setTargets
// rewrites, so the pod mirror (pods.ts) can add and remove simulated pods with
// the labels Kubernetes discovery and the relabelling in docs/analysis.md would give.
//
// stop() really stops the process (the "Prometheus down" scenario); start() brings it
// back on the same port with the same data directory, so queries keep their history.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const PROMETHEUS_BINARY = '/usr/bin/prometheus';
const SETPRIV = '/usr/bin/setpriv';

export interface PrometheusTarget {
  /** host:port of a /metrics endpoint. */
  address: string;
  /** Target labels, for example namespace, pod, msop_dev_track, msop_dev_revision. */
  labels: Record<string, string>;
}

export interface PrometheusOptions {
  /** scrape_interval, and evaluation_interval unless that is set. Default 1. */
  scrapeIntervalSeconds?: number;
  evaluationIntervalSeconds?: number;
  /** How long start() waits for /-/ready. Default 30 s. */
  readyTimeoutMs?: number;
  binary?: string;
}

/** One element of an instant vector. */
export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export interface RunningPrometheus {
  /** The base URL, http://127.0.0.1:PORT: what a Microservice's analysis.prometheus.address takes. */
  readonly address: string;
  readonly port: number;
  /** The temporary directory with the config, the targets file and the TSDB (under data/). */
  readonly directory: string;
  /** Rewrites the targets file (atomically). Prometheus picks it up within ~10 s (see docs/testing-e2e.md). */
  setTargets(targets: PrometheusTarget[]): Promise<void>;
  /**
   * SIGTERM, then SIGKILL after 15 s; resolves once the process has exited and the port is closed.
   * stop('SIGKILL') is a crash: no clean shutdown, the next start() replays the write-ahead log.
   */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port and data directory, and waits for /-/ready. */
  start(): Promise<void>;
  isRunning(): boolean;
  /** An instant query over the HTTP API; throws with Prometheus's error text on failure. */
  query(expr: string, time?: Date): Promise<PromSample[]>;
  /** The activeTargets of /api/v1/targets: scrapeUrl, health ("up", "down", "unknown") and labels. */
  activeTargets(): Promise<{ scrapeUrl: string; health: string; labels: Record<string, string>; lastError: string }[]>;
  /** The last lines Prometheus wrote to stderr, for failure messages. */
  logTail(lines?: number): string;
  /** stop(), then removes the directory. */
  dispose(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released; the window before Prometheus binds it is small). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const JOB = 'msop-pods';
const TAIL_LINES = 200;

/** Starts Prometheus and waits until it is ready. Call dispose() when done. */
export async function startPrometheus(options: PrometheusOptions = {}): Promise<RunningPrometheus> {
  const binary = options.binary ?? PROMETHEUS_BINARY;
  if (!existsSync(binary)) {
    throw new Error(
      `${binary} is missing: run hack/e2e/prometheus.sh (as root) to install the Debian prometheus package, ` +
        'or run the suite with `make test-e2e`',
    );
  }
  const scrape = options.scrapeIntervalSeconds ?? 1;
  const evaluation = options.evaluationIntervalSeconds ?? scrape;
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const directory = await mkdtemp(path.join(tmpdir(), 'msop-e2e-prometheus-'));
  const targetsFile = path.join(directory, 'targets.json');
  const configFile = path.join(directory, 'prometheus.yml');
  const dataDir = path.join(directory, 'data');
  await writeFile(targetsFile, '[]\n');
  // JSON is YAML: no YAML writer needed.
  const config = {
    global: { scrape_interval: `${scrape}s`, scrape_timeout: `${scrape}s`, evaluation_interval: `${evaluation}s` },
    scrape_configs: [
      {
        job_name: JOB,
        // The labels come from the targets file, as relabelling would set them; keep them as they are.
        honor_labels: false,
        file_sd_configs: [{ files: [targetsFile], refresh_interval: '5s' }],
      },
    ],
  };
  await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const port = await freePort();
  const address = `http://127.0.0.1:${port}`;

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const tail: string[] = [];
  const remember = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line) tail.push(line);
    if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
  };
  const logTail = (lines = 30) => tail.slice(-lines).join('\n');
  // Never leave a Prometheus behind when the test process exits.
  const killOnExit = () => child?.kill('SIGKILL');
  process.on('exit', killOnExit);

  const isRunning = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const start = async () => {
    if (isRunning()) return;
    const flags = [
      `--config.file=${configFile}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${dataDir}`,
      '--web.enable-lifecycle',
      '--log.level=info',
    ];
    // setpriv (util-linux) makes the kernel stop Prometheus if the test process dies, even by SIGKILL.
    const proc = existsSync(SETPRIV)
      ? spawn(SETPRIV, ['--pdeathsig', 'TERM', binary, ...flags], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(binary, flags, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout!.on('data', remember);
    proc.stderr!.on('data', remember);
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const deadline = Date.now() + readyTimeoutMs;
    let last: string;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(
          `Prometheus exited (${proc.exitCode ?? proc.signalCode}) before it was ready on ${address}; its log:\n${logTail()}`,
        );
      }
      try {
        const response = await fetch(`${address}/-/ready`, { signal: AbortSignal.timeout(1_000) });
        if (response.ok) return;
        last = `HTTP ${response.status}: ${(await response.text()).trim()}`;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        await exited;
        throw new Error(
          `Prometheus was not ready on ${address} within ${readyTimeoutMs} ms (last: ${last}); its log:\n${logTail()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    if (!isRunning()) return;
    const proc = child!;
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  const query = async (expr: string, time?: Date): Promise<PromSample[]> => {
    const body = new URLSearchParams({ query: expr });
    if (time) body.set('time', String(time.getTime() / 1000));
    const response = await fetch(`${address}/api/v1/query`, {
      method: 'POST',
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const json = (await response.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: unknown };
    };
    if (json.status !== 'success' || !json.data) {
      throw new Error(`Prometheus query failed (HTTP ${response.status}): ${json.error ?? 'no data'}; query: ${expr}`);
    }
    const { resultType, result } = json.data;
    if (resultType === 'scalar') return [{ metric: {}, value: Number((result as [number, string])[1]) }];
    if (resultType !== 'vector') throw new Error(`expected an instant vector, got a ${resultType}; query: ${expr}`);
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({
      metric: s.metric,
      value: Number(s.value[1]),
    }));
  };

  const activeTargets = async () => {
    const response = await fetch(`${address}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(10_000) });
    const json = (await response.json()) as {
      data: {
        activeTargets: { scrapeUrl: string; health: string; labels: Record<string, string>; lastError: string }[];
      };
    };
    return json.data.activeTargets;
  };

  // Writes are queued, so the file always ends up with the last call's targets.
  let writing: Promise<void> = Promise.resolve();
  const setTargets = (targets: PrometheusTarget[]) => {
    const groups = targets.map((t) => ({ targets: [t.address], labels: t.labels }));
    const write = async () => {
      // Write and rename, so Prometheus never reads half a file.
      const temporary = `${targetsFile}.tmp`;
      await writeFile(temporary, `${JSON.stringify(groups, null, 2)}\n`);
      await rename(temporary, targetsFile);
    };
    writing = writing.then(write, write);
    return writing;
  };

  try {
    await start();
  } catch (err) {
    process.off('exit', killOnExit);
    await rm(directory, { recursive: true, force: true });
    throw err;
  }

  return {
    address,
    port,
    directory,
    setTargets,
    stop,
    start,
    isRunning,
    query,
    activeTargets,
    logTail,
    dispose: async () => {
      await stop();
      process.off('exit', killOnExit);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
