// Environments against the real control plane: precedence and status, zero writes for a change that
// alters nothing, an environment-wide change released as a canary of every selected Microservice, and
// the two errors that stop before any write (two Environments, an exceeded limit).
import type { KubernetesObject, V1Container, V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { Environment, EnvironmentSpec } from '../../src/api/environment.generated';
import type { Microservice } from '../../src/api/types';
import {
  client,
  condition,
  eventually,
  getMicroservice,
  kubectl,
  kubectlResult,
  microservice,
  operatorNamespace,
  waitReady,
} from './harness';
import { ReleaseRecorder } from './release-recorder';

// No periodic resync: every reconcile after a change here comes from the Environment and Namespace watches.
const ns = operatorNamespace('environments');
const tag = randomBytes(3).toString('hex');
const LABEL = 'msop.dev/environment';
const main = `test-${tag}`;
const created: string[] = [];

const ENV_API = 'msop.dev/v1alpha1';
const environment = (name: string, spec: EnvironmentSpec): Environment & KubernetesObject => ({
  apiVersion: ENV_API,
  kind: 'Environment',
  metadata: { name },
  spec,
});

async function createEnvironment(name: string, spec: EnvironmentSpec): Promise<void> {
  await client.create(environment(name, spec));
  created.push(name);
}

function patchEnvironment(name: string, patch: unknown): Promise<unknown> {
  return client.mergePatch(ENV_API, 'Environment', '', name, patch);
}

const deployment = (name: string) => client.get<V1Deployment>('apps/v1', 'Deployment', ns.name, name);
const app = (d: V1Deployment): V1Container => d.spec!.template.spec!.containers.find((c) => c.name === 'app')!;
const envOf = (d: V1Deployment) => Object.fromEntries((app(d).env ?? []).map((e) => [e.name, e.value]));

beforeAll(async () => {
  await client.mergePatch('v1', 'Namespace', '', ns.name, { metadata: { labels: { [LABEL]: main } } });
});

afterAll(async () => {
  for (const name of created) await kubectlResult('delete', 'environment', name, '--ignore-not-found', '--wait=false');
});

const SPEC: EnvironmentSpec = {
  namespaceSelector: { matchLabels: { [LABEL]: main } },
  defaults: {
    replicas: 3,
    resources: { requests: { cpu: '150m', memory: '96Mi' }, limits: { memory: '192Mi' } },
    release: { strategy: 'Canary', canary: { steps: [{ setWeight: 50 }, { pause: {} }] } },
  },
  env: [{ name: 'ENVIRONMENT', value: main }],
  limits: { maxReplicas: 5 },
};

test("precedence: the Microservice's own fields, then the Environment's; status names the Environment and each source", async () => {
  await createEnvironment(main, SPEC);
  await client.create(microservice(ns.name, 'plain', { image: 'ghcr.io/example/plain:1.0.0' }));
  await client.create(
    microservice(ns.name, 'own', {
      image: 'ghcr.io/example/own:1.0.0',
      replicas: 2,
      env: [{ name: 'ENVIRONMENT', value: 'mine' }],
    }),
  );
  const plain = await waitReady(ns.name, 'plain');
  const own = await waitReady(ns.name, 'own');

  expect((await deployment('plain')).spec?.replicas).toBe(3);
  expect((await deployment('own')).spec?.replicas).toBe(2);
  expect(envOf(await deployment('plain'))).toEqual({ ENVIRONMENT: main });
  expect(envOf(await deployment('own'))).toEqual({ ENVIRONMENT: 'mine' });
  expect(app(await deployment('plain')).resources).toEqual({
    requests: { cpu: '150m', memory: '96Mi' },
    limits: { memory: '192Mi' },
  });

  for (const ms of [plain, own]) expect(ms.status?.environment).toBe(main);
  const sources = (ms: Microservice) =>
    Object.fromEntries((ms.status?.defaulted ?? []).map((d) => [d.field, d.source]));
  expect(sources(plain)).toMatchObject({
    replicas: `Environment/${main}`,
    'release.strategy': `Environment/${main}`,
    'release.canary.steps': `Environment/${main}`,
    'release.canary.traffic.router': 'operator',
    'env[ENVIRONMENT]': `Environment/${main}`,
    'resources.requests': `Environment/${main}`,
    'placement.spreadAcrossZones': 'built-in',
  });
  expect(sources(own).replicas).toBeUndefined();
  expect(sources(own)['env[ENVIRONMENT]']).toBeUndefined();
  // The stored spec is the user's: nothing was written into it.
  expect((await getMicroservice(ns.name, 'plain')).spec).toEqual({
    image: 'ghcr.io/example/plain:1.0.0',
    ports: [{ name: 'http', containerPort: 8080, servicePort: 80, protocol: 'TCP' }],
  });
  expect(await kubectl('get', 'msvc', 'plain', '-n', ns.name, '-o', 'wide')).toContain(main);
});

async function resourceVersions(): Promise<Record<string, string | undefined>> {
  const found: KubernetesObject[] = [];
  for (const name of ['plain', 'own']) {
    found.push(await getMicroservice(ns.name, name));
    found.push(await deployment(name));
    found.push(await client.get('v1', 'Service', ns.name, name));
    found.push(await client.get('policy/v1', 'PodDisruptionBudget', ns.name, name));
  }
  return Object.fromEntries(found.map((o) => [`${o.kind}/${o.metadata?.name}`, o.metadata?.resourceVersion]));
}

test('an Environment change that alters nothing makes zero writes', async () => {
  let before = await resourceVersions();
  await eventually(
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const now = await resourceVersions();
      const stable = JSON.stringify(now) === JSON.stringify(before);
      before = now;
      return stable;
    },
    { timeoutMs: 30_000, message: 'the cluster to settle' },
  );
  const writes = ns.operator.client.writes.length;
  const reconciles = ns.operator.manager.reconciles;
  // A lower limit both still meet, and an annotation: nothing any Microservice renders changes.
  await patchEnvironment(main, { spec: { limits: { maxReplicas: 4 } }, metadata: { annotations: { note: 'no-op' } } });
  // The watch enqueues both Microservices (the cluster had settled: nothing else does).
  await eventually(() => ns.operator.manager.reconciles >= reconciles + 2, {
    timeoutMs: 15_000,
    message: 'the reconciles the Environment change enqueued',
  });
  expect(ns.operator.client.writes.slice(writes)).toEqual([]);
  expect(await resourceVersions()).toEqual(before);
});

test('an Environment change that alters the pod template is released as a canary of every selected Microservice', async () => {
  const before = { plain: await getMicroservice(ns.name, 'plain'), own: await getMicroservice(ns.name, 'own') };
  const recorders = ['plain', 'own'].map((name) => new ReleaseRecorder(ns.name, name, []));
  for (const recorder of recorders) await recorder.start();
  await patchEnvironment(main, { spec: { env: [...SPEC.env!, { name: 'REGION', value: 'eu' }] } });

  for (const name of ['plain', 'own'] as const) {
    // Held at the pause step: the canary runs the new template, the stable Deployment the old one.
    const held = await eventually(
      async () => {
        const ms = await getMicroservice(ns.name, name);
        return ms.status?.phase === 'Paused' && ms.status.canaryRevision ? ms : undefined;
      },
      { timeoutMs: 30_000, message: `${name} to hold its canary at the pause step` },
    );
    expect(held.status?.stableRevision).toBe(before[name].status?.stableRevision);
    const canary = await client.get<V1ReplicaSet>(
      'apps/v1',
      'ReplicaSet',
      ns.name,
      `${name}-canary-${held.status!.canaryRevision}`,
    );
    expect(
      Object.fromEntries((canary.spec!.template!.spec!.containers[0]!.env ?? []).map((e) => [e.name, e.value])),
    ).toMatchObject({
      REGION: 'eu',
    });
    expect(envOf(await deployment(name)).REGION).toBeUndefined();
  }

  for (const name of ['plain', 'own'])
    await kubectl('annotate', 'msvc', name, '-n', ns.name, 'msop.dev/action=promote');
  for (const name of ['plain', 'own'] as const) {
    const done = await eventually(
      async () => {
        const ms = await getMicroservice(ns.name, name);
        return ms.status?.phase === 'Ready' && ms.status.stableRevision !== before[name].status?.stableRevision
          ? ms
          : undefined;
      },
      { timeoutMs: 30_000, message: `${name} to be promoted` },
    );
    expect(done.status?.canaryRevision).toBeUndefined();
    expect(envOf(await deployment(name)).REGION).toBe('eu');
  }
  for (const recorder of recorders) {
    await recorder.stop();
    expect(recorder.violations()).toEqual([]);
  }
});

test('a namespace selected by two Environments stalls its Microservices with both names and touches nothing', async () => {
  const other = `other-${tag}`;
  const before = await resourceVersions();
  const writes = ns.operator.client.writes.length;
  await createEnvironment(other, { namespaceSelector: { matchExpressions: [{ key: LABEL, operator: 'Exists' }] } });
  for (const name of ['plain', 'own']) {
    const stalled = await eventually(
      async () => {
        const ms = await getMicroservice(ns.name, name);
        return condition(ms, 'Stalled')?.status === 'True' ? ms : undefined;
      },
      { message: `${name} to be Stalled` },
    );
    expect(condition(stalled, 'Stalled')).toMatchObject({ reason: 'AmbiguousEnvironment' });
    expect(condition(stalled, 'Stalled')?.message).toContain(`2 Environments (${[main, other].sort().join(', ')})`);
  }
  // Only status writes and the Warning events: the children are as they were.
  expect(
    ns.operator.client.writes.slice(writes).filter((w) => !w.startsWith('apply-status') && !w.includes(' Event/')),
  ).toEqual([]);
  const after = await resourceVersions();
  for (const key of Object.keys(before).filter((k) => !k.startsWith('Microservice/')))
    expect(after[key]).toBe(before[key]);

  await kubectl('delete', 'environment', other);
  for (const name of ['plain', 'own']) {
    const recovered = await waitReady(ns.name, name);
    expect(condition(recovered, 'Stalled')).toBeUndefined();
  }
});

test('a Microservice that asks for more replicas than the limit stalls with the reason and keeps running as it was', async () => {
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'own', { spec: { replicas: 6 } });
  const stalled = await eventually(
    async () => {
      const ms = await getMicroservice(ns.name, 'own');
      return condition(ms, 'Stalled')?.status === 'True' && ms.status?.observedGeneration === ms.metadata.generation
        ? ms
        : undefined;
    },
    { message: 'own to be Stalled by the limit' },
  );
  expect(condition(stalled, 'Stalled')).toMatchObject({
    reason: 'EnvironmentLimitExceeded',
    message: expect.stringContaining(
      `spec.replicas asks for 6 replicas, more than the 4 that Environment ${main} allows`,
    ) as string,
  });
  expect((await deployment('own')).spec?.replicas).toBe(2);

  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'own', { spec: { replicas: 4 } });
  await waitReady(ns.name, 'own');
  expect((await deployment('own')).spec?.replicas).toBe(4);
});

test("the Environment's envFrom ConfigMap lives in the namespace and is tracked: a change to it is a canary release", async () => {
  await client.create({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'env-settings', namespace: ns.name },
    data: { MODE: 'one' },
  } as KubernetesObject);
  await patchEnvironment(main, { spec: { envFrom: [{ configMapRef: { name: 'env-settings' } }] } });
  const release = async (name: string, before: string | undefined) => {
    const held = await eventually(
      async () => {
        const ms = await getMicroservice(ns.name, name);
        return ms.status?.phase === 'Paused' && ms.status.canaryRevision && ms.status.stableRevision === before
          ? ms
          : undefined;
      },
      { timeoutMs: 30_000, message: `${name} to hold a canary of the new revision` },
    );
    await kubectl('annotate', 'msvc', name, '-n', ns.name, 'msop.dev/action=promote');
    return (
      await eventually(
        async () => {
          const ms = await getMicroservice(ns.name, name);
          return ms.status?.phase === 'Ready' && ms.status.stableRevision === held.status?.canaryRevision
            ? ms
            : undefined;
        },
        { timeoutMs: 30_000, message: `${name} to be promoted` },
      )
    ).status?.stableRevision;
  };
  const first = await release('plain', (await getMicroservice(ns.name, 'plain')).status?.stableRevision);
  expect(app(await deployment('plain')).envFrom).toEqual([{ configMapRef: { name: 'env-settings' } }]);

  // Only the content changes: the pod template is the same, the revision is not.
  await client.mergePatch('v1', 'ConfigMap', ns.name, 'env-settings', { data: { MODE: 'two' } });
  const second = await release('plain', first);
  expect(second).not.toBe(first);
});

test("a namespace relabelled into another Environment takes that Environment's defaults", async () => {
  const alt = `alt-${tag}`;
  await createEnvironment(alt, {
    namespaceSelector: { matchLabels: { [LABEL]: alt } },
    defaults: { replicas: 1, release: { strategy: 'Rolling' } },
  });
  await client.mergePatch('v1', 'Namespace', '', ns.name, { metadata: { labels: { [LABEL]: alt } } });
  const moved = await eventually(
    async () => {
      const ms = await getMicroservice(ns.name, 'plain');
      return ms.status?.environment === alt && ms.status.phase === 'Ready' ? ms : undefined;
    },
    { timeoutMs: 30_000, message: `plain to be Ready in Environment ${alt}` },
  );
  expect(moved.status?.canaryRevision).toBeUndefined();
  const d = await deployment('plain');
  expect(d.spec?.replicas).toBe(1);
  expect(envOf(d).ENVIRONMENT).toBeUndefined();
});
