// Proves the end-to-end harness itself against the real control plane: a
// Microservice's pods mirrored as simulated apps, traffic driven at them, and a
// real Prometheus that scrapes them with the pod labels and survives stop/start.
// The release scenarios build on exactly these pieces.
import type { V1Pod } from '@kubernetes/client-node';
import {
  client,
  createNamespace,
  eventually,
  microservice,
  type RunningOperator,
  startOperator,
  waitReady,
} from '../cluster/harness';
import { type PodMirror, startPodMirror } from './pods';
import { type RunningPrometheus, startPrometheus } from './prometheus';
import { errorRatio, startTraffic, type TrafficCounts } from './traffic';

const NAME = 'sim';
const ERROR_RATE = 0.05;
const PROFILES = { '1.0.0': { errorRate: ERROR_RATE, latencyMs: 10 } };

let ns: Awaited<ReturnType<typeof createNamespace>>;
let operator: RunningOperator;
let prometheus: RunningPrometheus;
let mirror: PodMirror | undefined;

beforeAll(async () => {
  prometheus = await startPrometheus({ scrapeIntervalSeconds: 1 });
  ns = await createNamespace('e2e-harness');
  operator = await startOperator(ns.name);
});

afterAll(async () => {
  await mirror?.stop();
  await operator?.stop();
  await ns?.cleanup();
  await prometheus?.dispose();
});

/** One number from an instant query that must return exactly one sample. */
async function scalar(expr: string): Promise<number | undefined> {
  const result = await prometheus.query(expr);
  if (result.length > 1) throw new Error(`${expr} returned ${result.length} series`);
  return result[0]?.value;
}

test('a Microservice with 2 replicas: pods mirrored, traffic driven, Prometheus scrapes it with the pod labels', async () => {
  // trackServices: the routes below send to `sim-stable`.
  await client.create(
    microservice(ns.name, NAME, { image: 'registry.example/sim:1.0.0', replicas: 2, service: { trackServices: true } }),
  );
  const ms = await waitReady(ns.name, NAME);
  const revision = ms.status!.stableRevision!;

  mirror = await startPodMirror({ namespace: ns.name, microservice: NAME, profiles: PROFILES, prometheus });
  const endpoints = await mirror.waitForEndpoints('stable', 2);
  expect(endpoints.map((e) => ({ track: e.track, revision: e.revision, tag: e.tag }))).toEqual([
    { track: 'stable', revision, tag: '1.0.0' },
    { track: 'stable', revision, tag: '1.0.0' },
  ]);
  const pods = await client.list<V1Pod>('v1', 'Pod', ns.name, { labelSelector: `msop.dev/microservice=${NAME}` });
  expect(endpoints.map((e) => e.pod).sort()).toEqual(pods.items.map((p) => p.metadata!.name!).sort());

  // Both simulated pods are scraped, each with the labels the relabel config in docs/analysis.md gives.
  const up = await eventually(
    async () => {
      const samples = await prometheus.query(`up{namespace="${ns.name}"} == 1`);
      return samples.length === 2 ? samples : undefined;
    },
    { timeoutMs: 30_000, message: 'Prometheus to scrape both simulated pods' },
  );
  expect(up.map((s) => s.metric).sort((a, b) => a.pod!.localeCompare(b.pod!))).toEqual(
    endpoints.map((e): unknown =>
      expect.objectContaining({
        namespace: ns.name,
        pod: e.pod,
        msop_dev_microservice: NAME,
        msop_dev_track: 'stable',
        msop_dev_revision: revision,
      }),
    ),
  );

  const driver = await startTraffic({
    namespace: ns.name,
    microservice: NAME,
    mirror,
    ratePerSecond: 200,
    durationMs: 10_000,
  });
  const counts = await driver.done;
  const stable = counts.byTrack.stable!;
  // The whole planned load reached a ready pod and was answered.
  expect({
    noReadyEndpoint: counts.noReadyEndpoint,
    skipped: counts.skipped,
    errors: counts.errors,
    simAppUnavailable: counts.simAppUnavailable,
  }).toEqual({ noReadyEndpoint: 0, skipped: 0, errors: 0, simAppUnavailable: 0 });
  expect(counts.planned).toBeGreaterThanOrEqual(1_900);
  expect(stable.responses).toBe(counts.sent);
  expect(counts.byTag['1.0.0']!.responses).toBe(counts.sent);
  expect(counts.byRevision[revision]!.responses).toBe(counts.sent);

  const rangeSelector = `http_requests_total{namespace="${ns.name}",msop_dev_track="stable"}`;
  // What the analysis queries look like: a windowed increase over the scraped counters.
  await eventually(async () => ((await scalar(`sum(increase(${rangeSelector}[30s]))`)) ?? 0) > 0, {
    timeoutMs: 15_000,
    message: 'a positive increase of http_requests_total on the stable track',
  });
  // Once the last scrape after the traffic has landed, Prometheus holds exactly what the driver got:
  // every request was counted once, by the pod that answered it.
  const total = await eventually(
    async () => {
      const value = await scalar(`sum(${rangeSelector})`);
      return value === stable.responses ? value : undefined;
    },
    { timeoutMs: 15_000, message: `sum(${rangeSelector}) to reach the ${stable.responses} answered requests` },
  );
  const errors = (await scalar(`sum(${rangeSelector.replace('}', ',code="500"}')})`)) ?? 0;
  expect(errors).toBe(stable.byStatus['500'] ?? 0);
  // Both pods served about half: the apex Service picks ready pods uniformly.
  const perPod = await prometheus.query(`sum by (pod) (${rangeSelector})`);
  expect(perPod).toHaveLength(2);
  for (const sample of perPod) expect(sample.value / total).toBeGreaterThan(0.4);

  // The observed error ratio matches the profile. Each request fails independently with
  // probability p = 0.05, so the count is Binomial(n, p): with n ≈ 2000 the standard error is
  // sqrt(p(1 - p)/n) ≈ 0.0049, and 4.5 standard errors (≈ ±0.022) is exceeded by chance
  // about once in 150,000 runs, while a harness that dropped or double-counted a class of
  // responses (or ignored the profile) would miss by far more.
  const ratio = errors / total;
  const tolerance = 4.5 * Math.sqrt((ERROR_RATE * (1 - ERROR_RATE)) / total);
  expect(Math.abs(ratio - ERROR_RATE)).toBeLessThanOrEqual(tolerance);
  expect(errorRatio(stable)).toBeCloseTo(ratio, 10);

  // Latency comes through the histogram: the median of 10 ms lies in the (5 ms, 25 ms] buckets.
  const p50 = await scalar(
    `histogram_quantile(0.5, sum by (le) (http_request_duration_seconds_bucket{namespace="${ns.name}"}))`,
  );
  expect(p50).toBeGreaterThan(0.005);
  expect(p50).toBeLessThan(0.025);
});

test('the mirror follows the pods: scaling down ends a simulated app and drops its target', async () => {
  const before = mirror!.endpoints('stable');
  expect(before).toHaveLength(2);
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, NAME, { spec: { replicas: 1 } });
  const after = await eventually(() => (mirror!.endpoints('stable').length === 1 ? mirror!.endpoints() : undefined), {
    message: 'one stable endpoint after scaling to 1',
  });
  expect(before.map((e) => e.pod)).toContain(after[0]!.pod);
  expect(mirror!.targets().map((t) => t.labels.pod)).toEqual([after[0]!.pod]);
  // Prometheus drops the target within its discovery delay (up to ~10 s, see docs/testing-e2e.md).
  await eventually(
    async () => {
      const targets = await prometheus.activeTargets();
      return targets.length === 1 && targets[0]!.labels.pod === after[0]!.pod;
    },
    { timeoutMs: 20_000, message: 'Prometheus to scrape only the remaining pod' },
  );
  // The ended app no longer listens.
  const gone = before.find((e) => e.pod !== after[0]!.pod)!;
  await eventually(
    () =>
      fetch(`${gone.url}/healthz`).then(
        () => false,
        () => true,
      ),
    {
      message: `the simulated app of ${gone.pod} to stop listening`,
    },
  );
  expect(mirror!.problems).toEqual([]);
});

test('the driver follows HTTPRoute weights and counts requests routed to a backend without ready pods', async () => {
  // A route that sends half the traffic to `sim-canary`, a Service that does not exist (Rolling has none):
  // the driver must report those requests instead of quietly sending them to stable.
  await client.create({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'sim-route', namespace: ns.name },
    spec: {
      parentRefs: [{ name: 'public' }],
      rules: [
        {
          backendRefs: [
            { name: `${NAME}-stable`, port: 80, weight: 50 },
            { name: `${NAME}-canary`, port: 80, weight: 50 },
          ],
        },
      ],
    },
  });
  const driver = await startTraffic({
    namespace: ns.name,
    microservice: NAME,
    mirror: mirror!,
    routing: { router: 'gatewayAPI', httpRoute: 'sim-route' },
    ratePerSecond: 100,
    durationMs: 60_000,
  });
  let atSwitch: TrafficCounts;
  let counts: TrafficCounts;
  try {
    await eventually(() => driver.canaryPercent() === 50 && driver.counts().planned >= 300, {
      message: '300 requests at 50% canary',
    });
    await client.mergePatch('gateway.networking.k8s.io/v1', 'HTTPRoute', ns.name, 'sim-route', {
      spec: {
        rules: [
          {
            backendRefs: [
              { name: `${NAME}-stable`, port: 80, weight: 100 },
              { name: `${NAME}-canary`, port: 80, weight: 0 },
            ],
          },
        ],
      },
    });
    await eventually(() => driver.canaryPercent() === 0, { message: 'the driver to see the canary at 0%' });
    atSwitch = driver.counts();
    await eventually(() => driver.counts().planned >= atSwitch.planned + 200, { message: '200 more requests' });
    counts = await driver.stop();
  } finally {
    await driver.stop();
  }

  // Before the switch about half went to the missing canary Service (binomial, n ≥ 300: 50% ± 13% is 4.5 sigma).
  const share = atSwitch.noReadyEndpoint / atSwitch.planned;
  expect(share).toBeGreaterThan(0.37);
  expect(share).toBeLessThan(0.63);
  expect(counts.noReadyEndpointSamples[0]).toMatchObject({
    backend: `${NAME}-canary`,
    track: 'canary',
    reason: `Service ${NAME}-canary does not exist`,
  });
  expect(Object.keys(counts.noReadyEndpointByTrack)).toEqual(['canary']);
  // After it, none: every further request went to the stable pod.
  expect(counts.noReadyEndpoint).toBe(atSwitch.noReadyEndpoint);
  expect(counts.byTrack.stable!.responses).toBe(counts.sent);
  expect(counts.errors).toBe(0);
});

test('Prometheus stops for real and starts again on the same port with its data', async () => {
  const selector = `http_requests_total{namespace="${ns.name}"}`;
  const before = (await scalar(`sum(max_over_time(${selector}[10m]))`))!;
  expect(before).toBeGreaterThan(0);

  await prometheus.stop();
  expect(prometheus.isRunning()).toBe(false);
  await expect(fetch(`${prometheus.address}/-/ready`)).rejects.toThrow();

  const restartedAt = Date.now() / 1000;
  await prometheus.start();
  expect((await fetch(`${prometheus.address}/-/ready`)).ok).toBe(true);
  // The samples from before the stop are still there (same data directory) ...
  expect(await scalar(`sum(max_over_time(${selector}[10m]))`)).toBeGreaterThanOrEqual(before);
  // ... and scraping resumed: a fresh sample of the remaining pod, taken after the restart.
  await eventually(
    async () => {
      const newest = await scalar(`max(timestamp(up{namespace="${ns.name}"}))`);
      return newest !== undefined && newest > restartedAt && (await scalar(`min(up{namespace="${ns.name}"})`)) === 1;
    },
    { timeoutMs: 30_000, message: 'scraping to resume after the restart' },
  );
});
