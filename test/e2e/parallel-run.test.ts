// Parallel runs and beta groups end to end, on the Gateway API router: the operator writes its mirror and
// match rules on a user's HTTPRoute; the traffic driver routes each request by the rule a gateway would
// pick on that route (method, headers, the beta cookie) and sends mirrored copies to the comparator pod,
// which the pod mirror runs as the real comparator (dist/main.js) against the baseline and canary apps;
// a real Prometheus scrapes the comparator, and the release is judged on parallel-run-mismatch-rate.
import type { KubernetesObject, V1ReplicaSet } from '@kubernetes/client-node';
import type { Microservice } from '../../src/api/types';
import { client, condition, eventually, kubectl } from '../cluster/harness';
import type { HTTPRouteRule } from './http-route';
import { e2eScenario, INTERVAL_S, metricOf } from './scenario';
import type { RequestMix, TrafficCounts } from './traffic';

const { ns, prometheus, serving, release, until } = e2eScenario('e2e-pr');

interface HTTPRoute extends KubernetesObject {
  spec: { parentRefs: unknown[]; rules: HTTPRouteRule[] };
}

/** A quarter of the requests are POSTs; a tenth come with x-beta, a tenth with the beta cookie, a tenth with near misses. */
const MIX: RequestMix = {
  methods: { GET: 3, POST: 1 },
  groups: [
    { name: 'beta-header', share: 0.1, headers: { 'x-beta': 'true' } },
    { name: 'beta-cookie', share: 0.1, headers: { cookie: 'theme=dark; beta=1' } },
    { name: 'not-beta', share: 0.1, headers: { 'x-beta': 'false', cookie: 'beta=0; notbeta=1' } },
  ],
};
const RATE = 100;
const BETA = [{ headers: { 'x-beta': { exact: 'true' } } }, { cookie: { name: 'beta', value: '1' } }];

const sameAnswers = { name: 'same-answers', template: 'parallel-run-mismatch-rate', thresholdRange: { max: 0.5 } };

function parallelRun(name: string, steps: unknown[]) {
  return {
    image: 'registry.example/sim:orders-1.0.0',
    replicas: 2,
    release: {
      strategy: 'Canary',
      canary: {
        steps,
        traffic: { router: 'gatewayAPI', gatewayAPI: { httpRoute: name } },
        // The answers differ in these on every request; ignoring them leaves what the versions compute.
        parallelRun: { compare: { ignoreHeaders: ['x-request-id'], ignoreJSONPaths: ['$.generatedAt'] } },
      },
      analysis: {
        interval: `${INTERVAL_S}s`,
        startDelay: '6s',
        failureLimit: 2,
        // Checks before the comparator's first scrape find nothing compared: NoData, never a pass.
        inconclusiveLimit: 20,
        metrics: [sameAnswers],
      },
    },
  } as never;
}

/** The user's route: one rule to the stable Service, as the API server stores it (defaults filled in). */
async function userRoute(name: string): Promise<HTTPRouteRule[]> {
  await client.create({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: ns.name },
    spec: { parentRefs: [{ name: 'public' }], rules: [{ backendRefs: [{ name: `${name}-stable`, port: 80 }] }] },
  } as KubernetesObject);
  return (await route(name)).spec.rules;
}

const route = (name: string) => client.get<HTTPRoute>('gateway.networking.k8s.io/v1', 'HTTPRoute', ns.name, name);

/**
 * After the release: only the user's rules, as they were but for the weights (all on the stable Service; the
 * canary backendRef msop added stays at weight 0 until the Microservice is deleted), and no ReplicaSet of the
 * release left: canary, baseline or comparator.
 */
async function expectNothingLeft(name: string, userRules: HTTPRouteRule[]) {
  const rules = await eventually(
    async () => {
      const now = (await route(name)).spec.rules;
      return now.some((r) => r.name?.startsWith(`msop-${name}-`)) ? undefined : now;
    },
    { message: `msop's rules to leave HTTPRoute ${name}` },
  );
  const weighted = (r: HTTPRouteRule) => (r.backendRefs ?? []).filter((b) => (b.weight ?? 1) > 0).map((b) => b.name);
  expect(rules.map(({ backendRefs: _, ...rest }) => rest)).toEqual(
    userRules.map(({ backendRefs: _, ...rest }) => rest),
  );
  expect(rules.map(weighted)).toEqual([[`${name}-stable`]]);
  const left = await eventually(
    async () => {
      const sets = await client.list<V1ReplicaSet>('apps/v1', 'ReplicaSet', ns.name, {
        labelSelector: `msop.dev/microservice=${name},msop.dev/track in (canary,baseline,comparator)`,
      });
      return sets.items.length === 0 ? sets.items : undefined;
    },
    { message: `the canary, baseline and comparator ReplicaSets of ${name} to go` },
  );
  expect(left).toEqual([]);
}

/** What the comparators counted, summed, from Prometheus (their last samples: a rollback removes the pod). */
async function compared(name: string) {
  const sum = async (metric: string) => {
    const result = await prometheus().query(
      `sum(last_over_time(${metric}{namespace="${ns.name}",msop_dev_microservice="${name}",msop_dev_track="comparator"}[10m]))`,
    );
    return result[0]?.value ?? 0;
  };
  const [total, differing, errors, dropped] = await Promise.all([
    sum('msop_parallel_run_compared_total'),
    sum('msop_parallel_run_differing_total'),
    sum('msop_parallel_run_errors_total'),
    sum('msop_parallel_run_dropped_total'),
  ]);
  const byUpstream = await prometheus().query(
    `sum by (upstream) (last_over_time(msop_parallel_run_errors_total{namespace="${ns.name}",msop_dev_microservice="${name}"}[10m])) > 0`,
  );
  return {
    total,
    differing,
    percent: total > 0 ? (100 * differing) / total : NaN,
    errors,
    errorsByUpstream: Object.fromEntries(byUpstream.map((s) => [String(s.metric.upstream), s.value])),
    dropped,
  };
}

/** Answered requests of one group by track, between two snapshots. */
const groupDelta = (before: TrafficCounts, after: TrafficCounts, group: string) => {
  const delta: Record<string, number> = {};
  for (const [track, n] of Object.entries(after.byGroup[group] ?? {})) {
    const d = n - (before.byGroup[group]?.[track] ?? 0);
    if (d > 0) delta[track] = d;
  }
  return delta;
};

/** The rules that took requests, by kind: msop's mirror and match rules, and the user's. */
const ruleKind = (rule: string) => (rule.includes('-mirror-') ? 'mirror' : rule.includes('-match-') ? 'match' : 'user');
const byRuleKind = (counts: TrafficCounts) => {
  const kinds: Record<string, Record<string, number>> = {};
  for (const [rule, tracks] of Object.entries(counts.byRule)) {
    const kind = (kinds[ruleKind(rule)] ??= {});
    for (const [track, n] of Object.entries(tracks)) kind[track] = (kind[track] ?? 0) + n;
  }
  return kinds;
};

const summary = (counts: TrafficCounts) => ({
  sent: counts.sent,
  byMethod: counts.byMethod,
  mirror: counts.mirror,
  byGroup: counts.byGroup,
  byRule: byRuleKind(counts),
  noReadyEndpoint: counts.noReadyEndpoint,
  errors: counts.errors,
});

test('a canary that answers differently on 2% of requests is rolled back on parallel-run-mismatch-rate; no user sees it, POSTs are never mirrored', async () => {
  const name = 'prbad';
  const userRules = await userRoute(name);
  const { before, mirror, driver } = await serving(
    name,
    parallelRun(name, [
      { mirror: { percent: 100, duration: '90s' } },
      { setWeight: 50 },
      { pause: { duration: '3s' } },
    ]),
    { router: 'gatewayAPI', httpRoute: name },
    RATE,
    MIX,
  );
  const started = Date.now();
  await release(name, 'orders-2.0.0-differs');
  await eventually(() => driver.counts().mirror.sent > 0, {
    timeoutMs: 60_000,
    message: 'mirrored copies to reach the comparator',
  });
  const rolledBack = await until(
    name,
    'rollback on the parallel run',
    (ms) => ms.status?.phase === 'RolledBack',
    150_000,
  );
  const seconds = (Date.now() - started) / 1000;
  const counts = await driver.stop();
  const judged = metricOf(rolledBack, 'same-answers') as unknown as {
    verdict: string;
    reason: string;
    canary?: { value?: number };
  };
  const seen = await compared(name);
  console.log(
    `parallel run, 2% different: rolled back ${seconds.toFixed(1)} s after the release; ${judged.reason}; comparator counted ${JSON.stringify(seen)}; Services played for it ${JSON.stringify(mirror.serviceProxies())}; differences ${JSON.stringify(rolledBack.status?.analysis?.differences)}; driver ${JSON.stringify(summary(counts))}`,
  );
  expect(condition(rolledBack, 'Released')).toMatchObject({ status: 'False', reason: 'AnalysisFailed' });
  expect(judged.verdict).toBe('Fail');
  expect(rolledBack.status?.stableRevision).toBe(before.status?.stableRevision);
  // A person sees what differed, from the comparator's examples.
  expect(rolledBack.status?.analysis?.differences?.length ?? 0).toBeGreaterThan(0);
  expect(rolledBack.status!.analysis!.differences!.join('\n')).toContain('body $.orders[1].total: 25 != 26');
  // The comparator saw about 2%: the version differs on every 50th answer of each pod.
  expect(seen.total).toBeGreaterThan(150);
  expect(seen.percent).toBeGreaterThan(1);
  expect(seen.percent).toBeLessThan(3.5);
  // Rolled back during the parallel run: no user request reached the canary, beta users included.
  expect(counts.byTrack.canary).toBeUndefined();
  expect(Object.keys(byRuleKind(counts)).sort()).toEqual(['mirror', 'user']);
  // The default methods: GETs are mirrored, POSTs never.
  expect(counts.byMethod.GET?.mirrored ?? 0).toBeGreaterThan(100);
  expect(counts.byMethod.POST?.sent ?? 0).toBeGreaterThan(100);
  expect(counts.byMethod.POST?.mirrored).toBe(0);
  expect(counts.mirror.noReadyEndpoint).toBe(0);
  expect(counts.noReadyEndpoint).toBe(0);
  await expectNothingLeft(name, userRules);
}, 240_000);

test('an identical canary passes the parallel run; beta users then reach only the canary, everyone else the stable; nothing is left behind', async () => {
  const name = 'prgood';
  const userRules = await userRoute(name);
  const { before, mirror, driver } = await serving(
    name,
    parallelRun(name, [
      { mirror: { percent: 100, duration: '30s' } },
      { match: BETA },
      { pause: {} },
      { setWeight: 50 },
      { pause: { duration: '3s' } },
    ]),
    { router: 'gatewayAPI', httpRoute: name },
    RATE,
    MIX,
  );
  const started = Date.now();
  await release(name, 'orders-2.0.0');
  // The pause after the match step: the beta rule on the route, no weight on the canary.
  const paused = await until(
    name,
    'the pause after the match step',
    (ms) => ms.status?.phase === 'Paused' && ms.status.currentStep === 2,
    150_000,
  );
  const mirrorSeconds = (Date.now() - started) / 1000;
  expect(metricOf(paused, 'same-answers')?.verdict).toBe('Pass');
  expect(paused.status?.analysis?.differences).toBeUndefined();
  const seen = await compared(name);
  const atPause = driver.counts();
  // A few seconds of traffic in the match step alone.
  await eventually(
    () => (driver.counts().byGroup['beta-cookie']?.canary ?? 0) - (atPause.byGroup['beta-cookie']?.canary ?? 0) >= 50,
    {
      timeoutMs: 60_000,
      message: '50 more beta-cookie requests answered by the canary',
    },
  );
  const later = driver.counts();
  const inMatchStep = Object.fromEntries(
    ['beta-header', 'beta-cookie', 'not-beta', 'everyone'].map((g) => [g, groupDelta(atPause, later, g)]),
  );
  expect((await client.get<Microservice>('msop.dev/v1alpha1', 'Microservice', ns.name, name)).status?.currentStep).toBe(
    2,
  );

  await kubectl('annotate', '--overwrite', 'msvc', name, '-n', ns.name, 'msop.dev/action=promote');
  const promoted = await until(
    name,
    'promotion',
    (ms) => ms.status?.phase === 'Ready' && ms.status.stableRevision !== before.status?.stableRevision,
    150_000,
  );
  const counts = await driver.stop();
  console.log(
    `parallel run, identical: mirror and match steps done ${mirrorSeconds.toFixed(1)} s after the release; comparator counted ${JSON.stringify(seen)}; Services played for it ${JSON.stringify(mirror.serviceProxies())}; in the match step ${JSON.stringify(inMatchStep)}; driver ${JSON.stringify(summary(counts))}`,
  );
  expect(condition(promoted, 'AnalysisHealthy')).toMatchObject({ status: 'True' });
  // generatedAt and x-request-id differ on every answer: ignored, the answers are the same.
  expect(seen.total).toBeGreaterThan(200);
  expect(seen.differing).toBe(0);
  // In the match step: beta users (the header, the cookie) on the canary only, everyone else on the stable.
  expect(Object.keys(inMatchStep['beta-header']!)).toEqual(['canary']);
  expect(Object.keys(inMatchStep['beta-cookie']!)).toEqual(['canary']);
  expect(Object.keys(inMatchStep['not-beta']!)).toEqual(['stable']);
  expect(Object.keys(inMatchStep.everyone!)).toEqual(['stable']);
  expect(inMatchStep.everyone!.stable).toBeGreaterThan(100);
  // Over the whole release: the mirror rule's requests answered by the stable only, the match rule's by the canary only.
  const rules = byRuleKind(counts);
  expect(Object.keys(rules.mirror ?? {})).toEqual(['stable']);
  expect(Object.keys(rules.match ?? {})).toEqual(['canary']);
  // Mirroring ended with the mirror step: no copy in the match step.
  expect(later.mirror.sent).toBe(atPause.mirror.sent);
  expect(counts.byMethod.GET?.mirrored ?? 0).toBeGreaterThan(100);
  expect(counts.byMethod.POST?.sent ?? 0).toBeGreaterThan(100);
  expect(counts.byMethod.POST?.mirrored).toBe(0);
  expect(counts.mirror.noReadyEndpoint).toBe(0);
  expect(counts.noReadyEndpoint).toBe(0);
  await expectNothingLeft(name, userRules);
}, 300_000);
