// Shared helpers for cluster tests: a client for the test cluster, a fresh
// namespace per test, the operator run in-process, kubectl, and polling with a
// deadline. Nothing here fakes the API server.
import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import type { Microservice, MicroserviceSpec } from '../../src/api/types';
import { Manager, type ManagerOptions } from '../../src/controller/manager';
import { KubeClient } from '../../src/kube/client';
import { isNotFound } from '../../src/kube/errors';

const run = promisify(execFile);

export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(process.env.MSOP_TEST_KUBECONFIG!);
  return kc;
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
