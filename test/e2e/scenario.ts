// The scaffolding of an end-to-end test file: a real Prometheus, the operator on
// a fresh namespace, Microservices served by simulated app versions with traffic
// flowing, and polling helpers that show where a release stood on a timeout.
import type { Microservice, MicroserviceSpec } from '../../src/api/types';
import { client, eventually, getMicroservice, microservice, operatorNamespace, waitReady } from '../cluster/harness';
import { type PodMirror, startPodMirror } from './pods';
import { type RunningPrometheus, startPrometheus } from './prometheus';
import { type RequestMix, startTraffic, type TrafficDriver } from './traffic';

export const PROFILES = {
  '1.0.0': { errorRate: 0.005, latencyMs: 20 },
  '2.0.0': { errorRate: 0.005, latencyMs: 20 },
  '2.0.0-errors': { errorRate: 0.05, latencyMs: 20 },
  '2.0.0-slow': { errorRate: 0.005, latencyMs: 250, latencySpread: 0.1 },
  '2.0.0-double': { errorRate: 0.01, latencyMs: 20 },
  // Good under light test traffic, 10% errors once a pod serves more than 25 requests a second.
  '2.0.0-overload': { errorRate: 0.005, latencyMs: 20, overload: { rps: 25, errorRate: 0.1 } },
  // Parallel runs: a JSON answer whose generatedAt and x-request-id differ on every answer, and never an
  // error (a 500 on one side only is a difference too). The -differs version answers another total on
  // every 50th answer of each pod: 2% of what it is asked.
  'orders-1.0.0': { errorRate: 0, latencyMs: 5, body: 'json' },
  'orders-2.0.0': { errorRate: 0, latencyMs: 5, body: 'json' },
  'orders-2.0.0-differs': { errorRate: 0, latencyMs: 5, body: 'json', differEvery: 50 },
} as const;
/** The operator's image as the comparator pods show it; the pod mirror runs dist/main.js for them. */
export const COMPARATOR_IMAGE = 'registry.example/msop:e2e';
export const INTERVAL_S = 3;

/** Canary vs baseline 5xx counts, judged with the anytime-valid Bayes factor. */
export const http5xx = (minTotal: number) => ({
  name: 'http-5xx',
  kind: 'CountComparison',
  critical: true,
  events:
    'sum(increase(http_requests_total{namespace="{{namespace}}",msop_dev_microservice="{{name}}",msop_dev_track="{{track}}",code=~"5.."}[{{window}}]))',
  total:
    'sum(increase(http_requests_total{namespace="{{namespace}}",msop_dev_microservice="{{name}}",msop_dev_track="{{track}}"}[{{window}}]))',
  minTotal,
  allowedIncrease: 0.1,
});

// A guardrail, not a fine comparison: over a 3 s window the canary sees ~160 requests, and at 0.5% errors a
// window with 4 of them reads 97.5%. 97% still fails the 5% canary (about 95%) at every check.
export const successRate = {
  name: 'success-rate',
  template: 'request-success-rate',
  thresholdRange: { min: 97 },
} as const;
export const latency = { name: 'latency-p99', template: 'request-duration', thresholdRange: { max: 150 } } as const;

export function analysis(extra: Record<string, unknown> = {}): NonNullable<MicroserviceSpec['release']>['analysis'] {
  return {
    interval: `${INTERVAL_S}s`,
    startDelay: '6s',
    failureLimit: 2,
    inconclusiveLimit: 3,
    metrics: [successRate, latency],
    ...extra,
  } as never;
}

export const metricOf = (ms: Microservice, metric: string) =>
  (ms.status?.analysis?.metrics as { name: string; verdict: string; reason: string }[] | undefined)?.find(
    (m) => m.name === metric,
  );

/** Registers the hooks of an e2e file and returns its helpers. */
export function e2eScenario(prefix: string) {
  let prometheus: RunningPrometheus;
  const running: { mirror?: PodMirror; traffic?: TrafficDriver }[] = [];

  beforeAll(async () => {
    prometheus = await startPrometheus({ scrapeIntervalSeconds: 1 });
  });
  const ns = operatorNamespace(prefix, () => ({
    prometheusAddress: prometheus.address,
    comparatorImage: COMPARATOR_IMAGE,
  }));
  afterEach(async () => {
    const problems: string[] = [];
    for (const { mirror, traffic } of running.splice(0)) {
      await traffic?.stop();
      problems.push(...(mirror?.problems ?? []));
      await mirror?.stop();
    }
    // A harness problem (an unknown image tag, a crashed simulated app) would make the scenario's numbers meaningless.
    expect(problems).toEqual([]);
  });
  afterAll(async () => {
    await prometheus?.dispose();
  });

  /** A Ready Microservice on 1.0.0 with its pods mirrored and traffic flowing. */
  async function serving(
    name: string,
    spec: Partial<MicroserviceSpec>,
    traffic: Parameters<typeof startTraffic>[0]['routing'] = { router: 'replicas' },
    ratePerSecond = 200,
    requests?: RequestMix,
  ) {
    await client.create(
      microservice(ns.name, name, { image: 'registry.example/sim:1.0.0', replicas: 4, ...spec } as MicroserviceSpec),
    );
    const before = await waitReady(ns.name, name, 60_000);
    const mirror = await startPodMirror({ namespace: ns.name, microservice: name, profiles: PROFILES, prometheus });
    await mirror.waitForEndpoints('stable', spec.replicas ?? 4);
    const driver = await startTraffic({
      namespace: ns.name,
      microservice: name,
      mirror,
      routing: traffic,
      ratePerSecond,
      durationMs: 300_000,
      requests,
    });
    running.push({ mirror, traffic: driver });
    return { before, mirror, driver };
  }

  /** Another traffic driver on the same pods, through the Service `service` (a preview's tests, say). */
  async function alsoThrough(service: string, mirror: PodMirror, ratePerSecond: number) {
    const driver = await startTraffic({
      namespace: ns.name,
      microservice: service,
      mirror,
      ratePerSecond,
      durationMs: 300_000,
    });
    running.push({ traffic: driver });
    return driver;
  }

  const release = (name: string, tag: string, extra: Partial<MicroserviceSpec> = {}) =>
    client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
      spec: { image: `registry.example/sim:${tag}`, ...extra },
    });

  /** Polls the Microservice until `test` holds; on timeout the error shows where the release stood. */
  async function until(
    name: string,
    what: string,
    test: (ms: Microservice) => boolean,
    timeoutMs = 100_000,
  ): Promise<Microservice> {
    let last: Microservice | undefined;
    try {
      return await eventually(
        async () => {
          last = await getMicroservice(ns.name, name);
          return test(last) ? last : undefined;
        },
        { message: `${name}: ${what}`, timeoutMs, intervalMs: 100 },
      );
    } catch (err) {
      const { phase, message, analysis } = last?.status ?? {};
      throw new Error(
        `${(err as Error).message}\nlast status: ${JSON.stringify({ phase, message, decision: analysis?.decision, metrics: analysis?.metrics })}`,
        { cause: err },
      );
    }
  }

  return { ns, prometheus: () => prometheus, serving, alsoThrough, release, until };
}
