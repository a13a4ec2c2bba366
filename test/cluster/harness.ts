// Shared helpers for cluster tests: a client for the test cluster, a fresh
// namespace per test, the operator run in-process, kubectl, and polling with a
// deadline. Nothing here fakes the API server.
import type { KubernetesObject } from '@kubernetes/client-node';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import pino from 'pino';
import type { Microservice, MicroserviceSpec } from '../../src/api/types';
import { Manager, type ManagerOptions } from '../../src/controller/manager';
import { type JsonPatchOperation, KubeClient } from '../../src/kube/client';
import { isNotFound } from '../../src/kube/errors';
import { type KubeContext, loadKubeConfig } from '../../src/kube/kubeconfig';

const run = promisify(execFile);

export function testKubeConfig(): KubeContext {
  return loadKubeConfig({ file: process.env.MSOP_TEST_KUBECONFIG! });
}

/** A real client that also counts the writes it sends, so tests can assert "no writes". */
export class CountingClient extends KubeClient {
  writes: string[] = [];

  override apply<T extends KubernetesObject>(object: T, fieldManager: string): Promise<T> {
    this.writes.push(`apply ${object.kind}/${object.metadata?.name}`);
    return super.apply(object, fieldManager);
  }

  override applyStatus<T extends KubernetesObject>(object: T, fieldManager: string): Promise<T> {
    this.writes.push(`apply-status ${object.kind}/${object.metadata?.name}`);
    return super.applyStatus(object, fieldManager);
  }

  override create<T extends KubernetesObject>(object: T): Promise<T> {
    this.writes.push(`create ${object.kind}/${object.metadata?.name}`);
    return super.create(object);
  }

  override mergePatch<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
    patch: unknown,
  ): Promise<T> {
    this.writes.push(`patch ${kind}/${name}`);
    return super.mergePatch(apiVersion, kind, namespace, name, patch);
  }

  override delete(apiVersion: string, kind: string, namespace: string, name: string, uid: string): Promise<void> {
    this.writes.push(`delete ${kind}/${name}`);
    return super.delete(apiVersion, kind, namespace, name, uid);
  }

  override jsonPatch<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
    operations: JsonPatchOperation[],
  ): Promise<T> {
    this.writes.push(`json-patch ${kind}/${name}`);
    return super.jsonPatch(apiVersion, kind, namespace, name, operations);
  }

  override scale(apiVersion: string, kind: string, namespace: string, name: string, replicas: number): Promise<void> {
    this.writes.push(`scale ${kind}/${name}`);
    return super.scale(apiVersion, kind, namespace, name, replicas);
  }
}

export const client = new KubeClient(testKubeConfig());

export async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run(path.join(process.env.MSOP_TEST_BIN!, 'kubectl'), args, {
    env: { ...process.env, KUBECONFIG: process.env.MSOP_TEST_KUBECONFIG },
  });
  return stdout;
}

/** Runs kubectl and returns its exit code and output instead of throwing. */
export async function kubectlResult(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    return { code: 0, output: await kubectl(...args) };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** A fresh namespace for one test file; deleted by the returned cleanup. */
export async function createNamespace(prefix: string): Promise<{ name: string; cleanup: () => Promise<void> }> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  // Pods cannot be created before kube-controller-manager adds the default ServiceAccount.
  await eventually(() => getOrUndefined('v1', 'ServiceAccount', name, 'default'), {
    message: `the default ServiceAccount in ${name}`,
  });
  return {
    name,
    cleanup: async () => {
      await kubectlResult('delete', 'namespace', name, '--wait=false');
    },
  };
}

export interface RunningOperator {
  client: CountingClient;
  manager: Manager;
  stop: () => Promise<void>;
}

/** Starts the operator in-process, watching only the given namespace. */
export async function startOperator(
  namespace: string,
  options: Partial<ManagerOptions> = {},
): Promise<RunningOperator> {
  const operatorClient = new CountingClient(testKubeConfig());
  const log = pino({ level: process.env.MSOP_TEST_LOG_LEVEL ?? 'silent' });
  const manager = new Manager(
    operatorClient,
    {
      watchNamespaces: [namespace],
      concurrency: 2,
      resyncSeconds: 600,
      defaultResources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
      ...options,
    },
    log,
  );
  await manager.start();
  return { client: operatorClient, manager, stop: () => manager.stop() };
}

/**
 * The usual setup of a test file: a fresh namespace and the operator running in-process on it, for all
 * the file's tests, removed afterwards.
 */
export function operatorNamespace(
  prefix: string,
  options: Partial<ManagerOptions> | (() => Partial<ManagerOptions>) = {},
): { readonly name: string; readonly operator: RunningOperator } {
  const env = { name: '', operator: undefined as unknown as RunningOperator };
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const ns = await createNamespace(prefix);
    env.name = ns.name;
    cleanup = ns.cleanup;
    // A function is read when the tests start, after other beforeAll hooks (a Prometheus, say) ran.
    env.operator = await startOperator(ns.name, typeof options === 'function' ? options() : options);
  });
  afterAll(async () => {
    await env.operator?.stop();
    await cleanup?.();
  });
  return env;
}

export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  message?: string;
}

/**
 * Polls until `probe` returns a value that is not undefined/false, or fails
 * after the deadline with the last value or error seen.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: EventuallyOptions = {},
): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 200, message = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`Timed out after ${timeoutMs}ms waiting for ${message}; last: ${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function getOrUndefined<T extends KubernetesObject>(
  apiVersion: string,
  kind: string,
  namespace: string,
  name: string,
): Promise<T | undefined> {
  try {
    return await client.get<T>(apiVersion, kind, namespace, name);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function getMicroservice(namespace: string, name: string): Promise<Microservice> {
  return client.get<Microservice & KubernetesObject>('msop.dev/v1alpha1', 'Microservice', namespace, name);
}

export function condition(
  ms: Microservice,
  type: string,
): { status: string; reason: string; message: string } | undefined {
  return (
    ms.status?.conditions as { type: string; status: string; reason: string; message: string }[] | undefined
  )?.find((c) => c.type === type);
}

/** Waits for Ready=True at the current generation and returns the Microservice. */
export function waitReady(namespace: string, name: string, timeoutMs = 30_000): Promise<Microservice> {
  return eventually(
    async () => {
      const ms = await getMicroservice(namespace, name);
      return condition(ms, 'Ready')?.status === 'True' && ms.status?.observedGeneration === ms.metadata.generation
        ? ms
        : undefined;
    },
    { timeoutMs, message: `Microservice ${namespace}/${name} to be Ready` },
  );
}

export function microservice(namespace: string, name: string, spec: MicroserviceSpec): Microservice {
  return { apiVersion: 'msop.dev/v1alpha1', kind: 'Microservice', metadata: { name, namespace }, spec };
}

// ---- The operator as a child process, helm, and impersonation (Helm and leader-election tests) ----

const ROOT = path.join(__dirname, '..', '..');

/** Runs the helm binary built into the cluster binaries' cache against the test cluster. */
export async function helm(...args: string[]): Promise<string> {
  const { stdout } = await run(path.join(process.env.MSOP_TEST_BIN!, 'helm'), args, {
    env: { ...process.env, KUBECONFIG: process.env.MSOP_TEST_KUBECONFIG },
    cwd: ROOT,
    maxBuffer: 32 * 1024 * 1024,
  });
  return stdout;
}

/** Runs helm and returns its exit code and output instead of throwing. */
export async function helmResult(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    return { code: 0, output: await helm(...args) };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/**
 * Writes a kubeconfig that authenticates with the test cluster's admin certificate but
 * impersonates `user` (for a ServiceAccount: system:serviceaccount:<namespace>:<name>),
 * so whatever uses it gets exactly that user's permissions. Returns its path.
 */
export function impersonatingKubeconfig(user: string): string {
  const { cluster, user: admin } = testKubeConfig();
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'msop-kubeconfig-')), 'kubeconfig.yaml');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server: cluster.server, 'certificate-authority': cluster.caFile } }],
    users: [
      {
        name: 'impersonated',
        user: { 'client-certificate': admin.certFile, 'client-key': admin.keyFile, as: user },
      },
    ],
    contexts: [{ name: 'impersonated', context: { cluster: 'test', user: 'impersonated' } }],
    'current-context': 'impersonated',
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export interface OperatorProcessOptions {
  /** Flags for dist/main.js; the health and metrics ports default to 0 (any free port). */
  args?: string[];
  /** Extra environment; KUBECONFIG defaults to the test cluster's. */
  env?: NodeJS.ProcessEnv;
  /** Where dist/main.js lives (a production install in the Dockerfile test); the repository by default. */
  cwd?: string;
  kubeconfig?: string;
}

export interface OperatorProcess {
  child: ChildProcess;
  /** Every line the process printed, in order; JSON log lines parsed. */
  lines: { text: string; json?: Record<string, unknown> }[];
  /** Waits for a log line whose msg matches, and returns it. */
  waitForLog: (msg: string | RegExp, timeoutMs?: number) => Promise<Record<string, unknown>>;
  /** The ports it serves /healthz, /readyz and /metrics on, once it logged them. */
  ports: () => Promise<{ healthPort: number; metricsPort: number }>;
  /** Sends the signal and waits for the exit code (null when killed by a signal). */
  stop: (signal?: NodeJS.Signals, timeoutMs?: number) => Promise<number | null>;
  exited: Promise<number | null>;
}

// Every operator process this test file started. A test that fails before its own stop would otherwise leave
// one running, and its open pipes keep Jest from exiting (a CI run hung on exactly that).
const operatorProcesses = new Set<ChildProcess>();

/** SIGKILLs the operator processes still running; the setup file runs it after each test file. */
export async function killOperatorProcesses(): Promise<void> {
  const running = [...operatorProcesses].filter((c) => c.exitCode === null && c.signalCode === null);
  await Promise.all(
    running.map((child) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      return exited;
    }),
  );
  operatorProcesses.clear();
}

/** Starts `node dist/main.js` with JSON logs; stop it, or it is killed after the test file. */
export function startOperatorProcess(options: OperatorProcessOptions = {}): OperatorProcess {
  const cwd = options.cwd ?? ROOT;
  const main = path.join(cwd, 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` (make test-cluster does)`);
  const args = ['--health-port=0', '--metrics-port=0', '--log-format=json', ...(options.args ?? [])];
  const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'node'), ['dist/main.js', ...args], {
    cwd,
    env: {
      ...process.env,
      KUBECONFIG: options.kubeconfig ?? process.env.MSOP_TEST_KUBECONFIG,
      NODE_OPTIONS: '',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  operatorProcesses.add(child);
  const lines: OperatorProcess['lines'] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (text) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // Not a log line (a crash trace, say): keep the text.
      }
      lines.push({ text, json });
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const findLog = (msg: string | RegExp) =>
    lines.find(
      (l) => typeof l.json?.msg === 'string' && (typeof msg === 'string' ? l.json.msg === msg : msg.test(l.json.msg)),
    )?.json;
  const waitForLog = (msg: string | RegExp, timeoutMs = 30_000) =>
    eventually(
      () => {
        if (child.exitCode !== null && !findLog(msg))
          throw new Error(`the operator exited with ${child.exitCode}:\n${lines.map((l) => l.text).join('\n')}`);
        return findLog(msg);
      },
      { timeoutMs, message: `the operator to log "${String(msg)}"` },
    );
  return {
    child,
    lines,
    waitForLog,
    ports: async () => {
      const line = await waitForLog('Serving /healthz and /readyz, and /metrics');
      return { healthPort: line.healthPort as number, metricsPort: line.metricsPort as number };
    },
    stop: async (signal = 'SIGTERM', timeoutMs = 30_000) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    exited,
  };
}

/** The helpers of a release test file, bound to its namespace. */
export function releaseHelpers(namespace: () => string) {
  return {
    setImage: (name: string, image: string) =>
      client.mergePatch('msop.dev/v1alpha1', 'Microservice', namespace(), name, { spec: { image } }),
    /** Polls the Microservice until `test` holds, or fails naming `what`. */
    untilStatus: (name: string, what: string, test: (ms: Microservice) => boolean, timeoutMs = 30_000) =>
      eventually(
        async () => {
          const ms = await getMicroservice(namespace(), name);
          return test(ms) ? ms : undefined;
        },
        { message: `${name}: ${what}`, timeoutMs },
      ),
    /** The Microservice's Events as `type|reason|message` lines. */
    eventsOf: (name: string) =>
      kubectl(
        'get',
        'events',
        '-n',
        namespace(),
        '--field-selector',
        `involvedObject.name=${name}`,
        '-o',
        'jsonpath={range .items[*]}{.type}|{.reason}|{.message}{"\\n"}{end}',
      ),
  };
}
