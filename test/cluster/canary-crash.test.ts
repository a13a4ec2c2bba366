// Crash safety: all release state lives in status, so an operator killed with
// SIGKILL at any point and started again finishes the release, without
// skipping a step or lowering the weight. The operator runs as a child process
// (dist/main.js), as it does in a cluster.
import type { V1ReplicaSet } from '@kubernetes/client-node';
import type { Microservice, TrafficSettings } from '../../src/api/types';
import {
  client,
  createNamespace,
  eventually,
  getMicroservice,
  microservice,
  type OperatorProcess,
  startOperatorProcess,
  waitReady,
} from './harness';
import { inOrder, ReleaseRecorder, type WeightReader } from './release-recorder';

let ns: Awaited<ReturnType<typeof createNamespace>>;

beforeAll(async () => {
  ns = await createNamespace('crash');
});

afterAll(async () => {
  await ns?.cleanup();
});

const start = (): OperatorProcess =>
  startOperatorProcess({ args: [`--watch-namespaces=${ns.name}`, '--resync-seconds=5', '--log-level=info'] });

const untilStatus = (name: string, what: string, test: (ms: Microservice) => boolean) =>
  eventually(
    async () => {
      const ms = await getMicroservice(ns.name, name);
      return test(ms) ? ms : undefined;
    },
    { message: `${name}: ${what}`, intervalMs: 50, timeoutMs: 60_000 },
  );

const generatedRouteWeight =
  (name: string): WeightReader =>
  (objects) => {
    const route = objects.get(`HTTPRoute/${name}`) as
      { spec?: { rules?: { backendRefs?: { name: string; weight?: number }[] }[] } } | undefined;
    const refs = route?.spec?.rules?.[0]?.backendRefs ?? [];
    const stable = refs.find((r) => r.name === `${name}-stable`)?.weight;
    const canary = refs.find((r) => r.name === `${name}-canary`)?.weight ?? 0;
    return stable === undefined ? undefined : Math.round((100 * canary) / (stable + canary || 1));
  };

const cases: [string, TrafficSettings, boolean][] = [
  ['replicas', { router: 'replicas' }, false],
  ['gatewayAPI', { router: 'gatewayAPI', gatewayAPI: { parentRefs: [{ name: 'public' }] } }, true],
];

test.each(cases)(
  'killed with SIGKILL at several points, the operator finishes a %s release with the invariants intact',
  async (router, traffic, weighted) => {
    const name = `crash-${router.toLowerCase()}`;
    let operator = start();
    await client.create(
      microservice(ns.name, name, {
        image: 'ghcr.io/example/app:1.0.0',
        replicas: 4,
        release: {
          strategy: 'Canary',
          canary: {
            traffic,
            steps: [
              { setWeight: 25 },
              { pause: { duration: '2s' } },
              { setWeight: 50 },
              { pause: { duration: '2s' } },
              { setWeight: 75 },
              { pause: { duration: '2s' } },
            ],
          },
        },
      }),
    );
    const before = await waitReady(ns.name, name, 60_000);
    const recorder = new ReleaseRecorder(
      ns.name,
      name,
      weighted ? ['HTTPRoute'] : [],
      weighted ? generatedRouteWeight(name) : undefined,
    );
    await recorder.start();
    await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
      spec: { image: 'ghcr.io/example/app:2.0.0' },
    });

    const killPoints: [string, (ms: Microservice) => boolean][] = [
      ['right after the change', () => true],
      ['after the first weight step', (ms) => (ms.status?.currentStep ?? 0) >= 1],
      ['after the second weight step', (ms) => (ms.status?.currentStep ?? 0) >= 3],
    ];
    if (weighted) killPoints.push(['during promotion', (ms) => ms.status?.phase === 'Promoting']);
    for (const [point, reached] of killPoints) {
      await untilStatus(name, point, reached);
      expect(await operator.stop('SIGKILL')).toBeNull();
      operator = start();
    }

    const after = await untilStatus(
      name,
      'promotion',
      (ms) => ms.status?.phase === 'Ready' && ms.status.stableRevision !== before.status?.stableRevision,
    );
    expect(after.status?.canaryRevision).toBeUndefined();
    const canaries = await eventually(
      async () => {
        const list = await client.list<V1ReplicaSet>('apps/v1', 'ReplicaSet', ns.name, {
          labelSelector: `msop.dev/microservice=${name},msop.dev/track=canary`,
        });
        return list.items.length === 0 ? list.items : undefined;
      },
      { message: 'no canary ReplicaSet left' },
    );
    expect(canaries).toEqual([]);

    await recorder.stop();
    expect(recorder.violations()).toEqual([]);
    const weights = recorder.weights();
    if (weighted) expect(weights).toEqual([0, 25, 50, 75, 100, 0]);
    // The ready-pod ratio passes through values between steps; each step's weight is reached in order. The
    // release may start above 0: kwok's pods are Ready at once, so after a kill right at the change the next
    // operator can find a canary pod already Ready (4 stable + 1 canary = 20).
    else if (!inOrder(weights, [25, 50, 75]))
      throw new Error(`canary weights ${weights.join(' → ')} do not reach 25, 50 and 75 in order`);

    // SIGTERM is a graceful shutdown: the queue drains and the process exits 0.
    expect(await operator.stop('SIGTERM')).toBe(0);
    expect(operator.lines.some((l) => l.json?.msg === 'Stopped')).toBe(true);
  },
);

test('killed with SIGKILL at every blue-green stage, the operator finishes the release with the invariants intact', async () => {
  const name = 'crash-bluegreen';
  let operator = start();
  await client.create(
    microservice(ns.name, name, {
      image: 'ghcr.io/example/app:1.0.0',
      replicas: 3,
      release: { strategy: 'BlueGreen', blueGreen: { autoPromotionSeconds: 2, scaleDownDelaySeconds: 3 } },
    }),
  );
  const before = await waitReady(ns.name, name, 60_000);
  const recorder = new ReleaseRecorder(ns.name, name, ['Service', 'EndpointSlice']);
  await recorder.start();
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
    spec: { image: 'ghcr.io/example/app:2.0.0' },
  });
  const killPoints: [string, (ms: Microservice) => boolean][] = [
    ['right after the change', () => true],
    ['with the preview ready, before the switch', (ms) => ms.status?.release?.previewReadyTime !== undefined],
    ['after the switch', (ms) => ms.status?.release?.switchTime !== undefined],
    // A short stage: if the poll misses it, the kill lands after the release, which must be harmless too.
    [
      'while the Deployment moves',
      (ms) => (ms.status?.message ?? '').startsWith('Promoting ') || ms.status?.phase === 'Ready',
    ],
  ];
  for (const [point, reached] of killPoints) {
    await untilStatus(name, point, reached);
    expect(await operator.stop('SIGKILL')).toBeNull();
    operator = start();
  }
  const after = await untilStatus(
    name,
    'promotion',
    (ms) => ms.status?.phase === 'Ready' && ms.status.stableRevision !== before.status?.stableRevision,
  );
  expect(after.status?.release).toBeUndefined();
  await eventually(
    async () =>
      (
        await client.list<V1ReplicaSet>('apps/v1', 'ReplicaSet', ns.name, {
          labelSelector: `msop.dev/microservice=${name},msop.dev/track=preview`,
        })
      ).items.length === 0,
    { message: 'no preview ReplicaSet left' },
  );
  await recorder.stop();
  expect(recorder.violations()).toEqual([]);
  expect(recorder.blueGreenViolations()).toEqual([]);
  expect(await operator.stop('SIGTERM')).toBe(0);
});
