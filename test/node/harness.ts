// Helpers of the node tier (test/node): the operator installed by its chart and
// running as pods on the real node, a load generator that sends requests to a
// Service's ClusterIP through kube-proxy, and the containers' processes. The
// cluster helpers (kubectl, helm, eventually) are the cluster tier's.
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { client, eventually, helm, kubectl } from '../cluster/harness';

const run = promisify(execFile);
export const ROOT = path.join(__dirname, '..', '..');

export const OPERATOR_NAMESPACE = 'msop-system';
export const RELEASE = 'msop';
export const LEASE = 'msop-leader';
/** The images hack/node/images.sh built and loaded into the node's containerd. */
export const OPERATOR_IMAGE = process.env.MSOP_NODE_OPERATOR_IMAGE ?? '';
export const MSOP_IMAGE = { repository: OPERATOR_IMAGE.split(':')[0]!, tag: OPERATOR_IMAGE.split(':')[1]! };
export const SIM_IMAGE = 'localhost/sim-app:1';

/** The chart with the locally built image; `extra` are more `--set` values. */
export async function installOperator(extra: string[] = []): Promise<void> {
  await helm(
    'upgrade',
    '--install',
    RELEASE,
    'helm/msop',
    '-n',
    OPERATOR_NAMESPACE,
    '--create-namespace',
    '--set',
    `image.repository=${MSOP_IMAGE.repository}`,
    '--set',
    `image.tag=${MSOP_IMAGE.tag}`,
    '--set',
    'image.pullPolicy=Never',
    ...extra.flatMap((value) => ['--set', value]),
    '--wait',
    '--timeout',
    '180s',
  );
}

export async function operatorPods(): Promise<V1Pod[]> {
  const list = await client.list<V1Pod>('v1', 'Pod', OPERATOR_NAMESPACE, {
    labelSelector: 'app.kubernetes.io/name=msop',
  });
  return list.items.filter((pod) => !pod.metadata?.deletionTimestamp);
}

export function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The holder of the leader Lease: `<pod name>_<random>`, as the operator forms its identity. */
export async function leaseHolder(): Promise<string | undefined> {
  const lease = await client.get<{ spec?: { holderIdentity?: string } } & { metadata: object }>(
    'coordination.k8s.io/v1',
    'Lease',
    OPERATOR_NAMESPACE,
    LEASE,
  );
  return lease.spec?.holderIdentity || undefined;
}

/** Waits for two Ready operator pods and a Lease held by one of them; returns the leader's pod name. */
export async function waitForLeader(timeoutMs = 120_000): Promise<string> {
  return eventually(
    async () => {
      const pods = await operatorPods();
      const holder = await leaseHolder();
      const leader = pods.find((pod) => holder?.startsWith(`${pod.metadata!.name}_`));
      return pods.filter(isReady).length >= 2 && leader ? leader.metadata!.name! : undefined;
    },
    { timeoutMs, message: 'two Ready operator pods and a leader among them' },
  );
}

/**
 * The host pid of a container's main process, from containerd (the node's CRI
 * runtime): kubelet names the task by the container ID in the pod's status.
 */
export async function containerPid(pod: V1Pod, container: string): Promise<number> {
  const id = pod.status?.containerStatuses?.find((c) => c.name === container)?.containerID;
  if (!id) throw new Error(`pod ${pod.metadata?.name} has no running container ${container}`);
  const { stdout } = await run(
    path.join(process.env.MSOP_NODE_BIN!, 'ctr'),
    ['--address', process.env.MSOP_NODE_CONTAINERD_SOCK!, '-n', 'k8s.io', 'tasks', 'ls'],
    { encoding: 'utf8' },
  );
  const line = stdout.split('\n').find((l) => l.startsWith(id.replace(/^containerd:\/\//, '')));
  const pid = Number(line?.trim().split(/\s+/)[1]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no task for container ${id}:\n${stdout}`);
  return pid;
}

export async function clusterIP(namespace: string, name: string): Promise<string> {
  const service = await client.get<V1Service>('v1', 'Service', namespace, name);
  const ip = service.spec?.clusterIP;
  if (!ip || ip === 'None') throw new Error(`Service ${namespace}/${name} has no ClusterIP`);
  return ip;
}

export interface LoadResult {
  sent: number;
  ok: number;
  /** Failed requests by kind: a 5xx status, ECONNREFUSED, ECONNRESET, timeout, ... */
  failures: Record<string, number>;
  failed: number;
  /** When the first failures happened, in ms from the start, with their kind (at most 20). */
  firstFailures: string[];
  durationMs: number;
  /** Requests per second actually sent. */
  rate: number;
}

export interface LoadOptions {
  /** Requests per second. Default 100. */
  ratePerSecond?: number;
  /** Never more than this long, whatever `during` does. Default 180 s. */
  maxDurationMs?: number;
  /** Per request. Default 3 s. */
  timeoutMs?: number;
}

/**
 * Sends GET / to host:port at a steady rate while `during` runs, then stops and
 * returns the tally. Each request opens its own connection, so each one is routed
 * afresh by kube-proxy's rules: a stale endpoint shows as a refused or reset
 * connection, not hidden behind a kept-alive one. Bounded in count and time.
 */
export async function loadDuring<T>(
  host: string,
  port: number,
  during: () => Promise<T>,
  options: LoadOptions = {},
): Promise<{ load: LoadResult; value: T }> {
  const rate = options.ratePerSecond ?? 100;
  const maxDurationMs = options.maxDurationMs ?? 180_000;
  const timeoutMs = options.timeoutMs ?? 3_000;
  const maxRequests = Math.ceil((rate * maxDurationMs) / 1000);
  const failures: Record<string, number> = {};
  const started = Date.now();
  let sent = 0;
  let ok = 0;
  const inFlight = new Set<Promise<void>>();
  const firstFailures: string[] = [];
  const fail = (kind: string) => {
    failures[kind] = (failures[kind] ?? 0) + 1;
    if (firstFailures.length < 20) firstFailures.push(`${Date.now() - started} ms ${kind}`);
  };
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request({ host, port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
        res.resume();
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 500) fail(`HTTP ${res.statusCode}`);
          else ok++;
          resolve();
        });
        res.on('error', (err: NodeJS.ErrnoException) => {
          fail(err.code ?? err.message);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
      req.on('error', (err: NodeJS.ErrnoException) => {
        fail(err.code ?? err.message);
        resolve();
      });
      req.end();
    });

  let done = false;
  const ticker = (async () => {
    // Paced from the start time, so a slow tick is caught up instead of lowering the rate.
    while (!done && sent < maxRequests && Date.now() - started < maxDurationMs) {
      const due = Math.floor(((Date.now() - started) * rate) / 1000) + 1;
      while (sent < due && sent < maxRequests) {
        sent++;
        const p = one().finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  let value: T;
  let durationMs: number;
  try {
    value = await during();
  } finally {
    done = true;
    durationMs = Date.now() - started;
    await ticker;
    await Promise.all(inFlight);
  }
  const failed = Object.values(failures).reduce((a, b) => a + b, 0);
  return { load: { sent, ok, failures, failed, firstFailures, durationMs, rate: (sent * 1000) / durationMs }, value };
}

/**
 * Waits until a new Service answers through kube-proxy: right after a Microservice is Ready its
 * Service's rules may not be programmed yet, and that start-up is not what a release is judged on.
 */
export async function waitRoutable(host: string, port: number): Promise<void> {
  await eventually(
    async () => {
      const { load } = await loadDuring(host, port, () => new Promise((resolve) => setTimeout(resolve, 500)), {
        ratePerSecond: 40,
        timeoutMs: 1_000,
      });
      return load.failed === 0 && load.ok > 0;
    },
    { timeoutMs: 30_000, message: `${host}:${port} to answer every request` },
  );
}

/** `kubectl` in a namespace, for brevity. */
export function kubectlIn(namespace: string, ...args: string[]): Promise<string> {
  return kubectl('-n', namespace, ...args);
}
