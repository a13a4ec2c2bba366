// Zero downtime on live traffic: a load generator on this machine sends a steady
// rate to the Service's ClusterIP, routed by kube-proxy's iptables rules to real pods
// on the bridge, through each kind of release msop performs. Every failed request
// (refused, reset, timeout, 5xx) is counted; the bar is zero.
//
// MSOP_NODE_REPETITIONS (default 2) sets how often each scenario runs; the issue's
// ask is 10 (`npm run test:node:full`).
import type { V1Pod } from '@kubernetes/client-node';
import type { Microservice, MicroserviceSpec } from '../../src/api/types';
import { client, createNamespace, eventually, getMicroservice, microservice, waitReady } from '../cluster/harness';
import {
  type LoadResult,
  SIM_IMAGE,
  clusterIP,
  containerPid,
  loadDuring,
  operatorPods,
  waitForLeader,
  waitRoutable,
} from './harness';

const REPETITIONS = Number(process.env.MSOP_NODE_REPETITIONS ?? 2);
const RATE = 100;

let ns: Awaited<ReturnType<typeof createNamespace>>;
beforeAll(async () => {
  ns = await createNamespace('node-traffic');
});
afterAll(async () => {
  await ns?.cleanup();
});

function spec(release: MicroserviceSpec['release']): MicroserviceSpec {
  return {
    image: SIM_IMAGE,
    replicas: 3,
    ports: [{ name: 'http', containerPort: 8080, servicePort: 80 }],
    // A probe every second, so a release is not paced by the default 10 s.
    probes: { readiness: { httpGet: { path: '/healthz' }, periodSeconds: 1 } },
    resources: { requests: { cpu: '10m', memory: '48Mi' }, limits: { memory: '128Mi' } },
    env: [{ name: 'SIM_VERSION', value: '0' }],
    release,
  } as MicroserviceSpec;
}

/** A new revision: only the environment changes, so the pod template (and its hash) does. */
function release(name: string, version: number): Promise<unknown> {
  return client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
    spec: { env: [{ name: 'SIM_VERSION', value: String(version) }] },
  });
}

async function pods(name: string): Promise<V1Pod[]> {
  return (await client.list<V1Pod>('v1', 'Pod', ns.name, { labelSelector: `msop.dev/microservice=${name}` })).items;
}

/** Until every pod that is going away is gone: the moments a stale endpoint would fail a request. */
async function noPodTerminating(name: string): Promise<void> {
  await eventually(async () => (await pods(name)).every((p) => !p.metadata?.deletionTimestamp), {
    timeoutMs: 120_000,
    message: `no ${name} pod terminating`,
  });
}

async function readyOnNewRevision(name: string, before: string | undefined): Promise<Microservice> {
  return eventually(
    async () => {
      const ms = await waitReady(ns.name, name, 180_000);
      return ms.status?.stableRevision !== before ? ms : undefined;
    },
    { timeoutMs: 180_000, message: `${name} Ready on a new stable revision` },
  );
}

/** Creates the Microservice, waits for it, then runs `scenario` under load `REPETITIONS` times. */
async function underLoad(
  name: string,
  releaseSpec: MicroserviceSpec['release'],
  scenario: (version: number) => Promise<void>,
): Promise<LoadResult[]> {
  await client.create(microservice(ns.name, name, spec(releaseSpec)));
  await waitReady(ns.name, name, 180_000);
  const ip = await clusterIP(ns.name, name);
  await waitRoutable(ip, 80);
  const results: LoadResult[] = [];
  for (let version = 1; version <= REPETITIONS; version++) {
    const { load } = await loadDuring(ip, 80, () => scenario(version), { ratePerSecond: RATE });
    results.push(load);
    console.log(
      `[node] ${name} #${version}: ${load.sent} requests at ${load.rate.toFixed(0)}/s over ${load.durationMs} ms, ` +
        `${load.failed} failed ${JSON.stringify(load.failures)}` +
        (load.failed > 0
          ? `; first at ${load.firstFailures.join(', ')}; started ${new Date(Date.now() - load.durationMs).toISOString()}`
          : ''),
    );
  }
  await client.delete(
    'msop.dev/v1alpha1',
    'Microservice',
    ns.name,
    name,
    (await getMicroservice(ns.name, name)).metadata!.uid!,
  );
  return results;
}

function expectZeroFailures(results: LoadResult[]): void {
  expect(results).toHaveLength(REPETITIONS);
  for (const r of results) expect(r.rate).toBeGreaterThanOrEqual(RATE * 0.9);
  expect(results.map((r) => r.failures)).toEqual(results.map(() => ({})));
}

test('a Rolling update drops no request', async () => {
  const results = await underLoad('rolling', { strategy: 'Rolling' }, async (version) => {
    const before = (await getMicroservice(ns.name, 'rolling')).status?.stableRevision;
    await release('rolling', version);
    await readyOnNewRevision('rolling', before);
    await noPodTerminating('rolling');
  });
  expectZeroFailures(results);
});

test('a canary promoted under the replicas router drops no request', async () => {
  const steps = [{ setWeight: 50 }, { pause: { duration: '3s' } }];
  const results = await underLoad(
    'promote',
    { strategy: 'Canary', canary: { steps, traffic: { router: 'replicas' } } },
    async (version) => {
      const before = (await getMicroservice(ns.name, 'promote')).status?.stableRevision;
      await release('promote', version);
      await readyOnNewRevision('promote', before);
      await noPodTerminating('promote');
    },
  );
  expectZeroFailures(results);
});

test('a canary aborted at 50% drops no request', async () => {
  const steps = [{ setWeight: 50 }, { pause: {} }];
  const results = await underLoad(
    'abort',
    { strategy: 'Canary', canary: { steps, traffic: { router: 'replicas' } } },
    async (version) => {
      await release('abort', version);
      await eventually(
        async () => {
          const ms = await getMicroservice(ns.name, 'abort');
          return ms.status?.phase === 'Paused' && ms.status?.desiredWeight === 50;
        },
        { timeoutMs: 120_000, message: 'the abort canary paused at 50%' },
      );
      await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'abort', {
        metadata: { annotations: { 'msop.dev/action': 'abort' } },
      });
      await eventually(
        async () => {
          const ms = await getMicroservice(ns.name, 'abort');
          const canaries = (await pods('abort')).filter((p) => p.metadata?.labels?.['msop.dev/track'] === 'canary');
          return ms.status?.phase === 'RolledBack' && canaries.length === 0;
        },
        { timeoutMs: 120_000, message: 'the abort canary rolled back and its pods gone' },
      );
      await noPodTerminating('abort');
    },
  );
  expectZeroFailures(results);
});

test('a SIGKILL of the leading operator mid-release drops no request, and the release completes', async () => {
  const steps = [{ setWeight: 34 }, { pause: { duration: '4s' } }, { setWeight: 67 }, { pause: { duration: '4s' } }];
  const results = await underLoad(
    'crash',
    { strategy: 'Canary', canary: { steps, traffic: { router: 'replicas' } } },
    async (version) => {
      const leader = await waitForLeader(180_000);
      const before = (await getMicroservice(ns.name, 'crash')).status?.stableRevision;
      await release('crash', version);
      await eventually(async () => ((await getMicroservice(ns.name, 'crash')).status?.canaryWeight ?? 0) > 0, {
        timeoutMs: 120_000,
        message: 'the crash canary to take traffic',
      });
      const pod = (await operatorPods()).find((p) => p.metadata?.name === leader)!;
      process.kill(await containerPid(pod, 'operator'), 'SIGKILL');
      await readyOnNewRevision('crash', before);
      await noPodTerminating('crash');
    },
  );
  expectZeroFailures(results);
});

/** Until the release's status satisfies `test`, on real pods (slower than kwok's). */
const untilStatus = (name: string, what: string, test: (ms: Microservice) => boolean) =>
  eventually(
    async () => {
      const ms = await getMicroservice(ns.name, name);
      return test(ms) ? ms : undefined;
    },
    { timeoutMs: 120_000, message: `${name}: ${what}` },
  );

const annotate = (name: string, action: string) =>
  client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
    metadata: { annotations: { 'msop.dev/action': action } },
  });

test('a blue-green switch and switch-back drop no request', async () => {
  const results = await underLoad(
    'switch',
    { strategy: 'BlueGreen', blueGreen: { scaleDownDelaySeconds: 600, abortScaleDownDelaySeconds: 0 } },
    async (version) => {
      await release('switch', version);
      const waiting = await untilStatus(
        'switch',
        'the preview ready and waiting for promotion',
        (ms) => ms.status?.phase === 'Paused' && ms.status.release?.previewReadyTime !== undefined,
      );
      await annotate('switch', 'promote');
      await untilStatus('switch', 'the switch', (ms) => ms.status?.release?.switchTime !== undefined);
      await annotate('switch', 'abort');
      await untilStatus(
        'switch',
        'the switch back',
        (ms) =>
          ms.status?.phase === 'RolledBack' &&
          ms.status.failedRevision === waiting.status?.canaryRevision &&
          ms.metadata.annotations?.['msop.dev/action'] === undefined,
      );
      await noPodTerminating('switch');
    },
  );
  expectZeroFailures(results);
});

test('a blue-green promotion, switch and hand-back to the stable Deployment, drops no request', async () => {
  const results = await underLoad(
    'bluegreen',
    { strategy: 'BlueGreen', blueGreen: { autoPromotionSeconds: 0, scaleDownDelaySeconds: 3 } },
    async (version) => {
      const before = (await getMicroservice(ns.name, 'bluegreen')).status?.stableRevision;
      await release('bluegreen', version);
      await readyOnNewRevision('bluegreen', before);
      await noPodTerminating('bluegreen');
    },
  );
  expectZeroFailures(results);
});
