// Canary analysis end to end: the operator, a real Prometheus scraping
// simulated app versions, and a traffic driver splitting a steady request
// rate the way msop set it. Scenario 6 of the issue (the false-rollback rate)
// is the unit-level simulation in test/unit/analysis/false-rollback.test.ts.
import type { KubernetesObject } from '@kubernetes/client-node';
import { client, condition, eventually, getMicroservice } from '../cluster/harness';
import { analysis, e2eScenario, http5xx, INTERVAL_S, latency, metricOf, successRate } from './scenario';
import { errorRatio } from './traffic';

const { ns, prometheus, serving, release, until } = e2eScenario('e2e');

test('1. a good canary is promoted, judged against a fresh baseline', async () => {
  const { before, driver } = await serving('good', {
    release: {
      strategy: 'Canary',
      canary: {
        steps: [{ setWeight: 25 }, { pause: { duration: '3s' } }, { setWeight: 50 }, { pause: { duration: '3s' } }],
      },
      // A comparison metric makes the baseline Fresh: a ReplicaSet of 1.0.0 beside the canary, at its size.
      analysis: analysis({ inconclusiveLimit: 10, metrics: [successRate, latency, http5xx(300)] }),
    },
  });
  await release('good', '2.0.0');
  const baselineSeen = await eventually(
    async () =>
      (
        await client.list('apps/v1', 'ReplicaSet', ns.name, {
          labelSelector: 'msop.dev/microservice=good,msop.dev/track=baseline',
        })
      ).items.length > 0,
    {
      message: 'a baseline ReplicaSet',
    },
  );
  expect(baselineSeen).toBe(true);
  const promoted = await until(
    'good',
    'promotion',
    (ms) => ms.status?.phase === 'Ready' && ms.status.stableRevision !== before.status?.stableRevision,
  );
  expect(condition(promoted, 'AnalysisHealthy')).toMatchObject({ status: 'True' });
  expect(metricOf(promoted, 'success-rate')?.verdict).toBe('Pass');
  expect(metricOf(promoted, 'http-5xx')?.verdict).toBe('Pass');
  expect(
    (
      await client.list('apps/v1', 'ReplicaSet', ns.name, {
        labelSelector: 'msop.dev/microservice=good,msop.dev/track in (canary,baseline)',
      })
    ).items,
  ).toEqual([]);
  const counts = await driver.stop();
  expect(counts.noReadyEndpoint).toBe(0);
  expect(counts.byTag['2.0.0']?.responses ?? 0).toBeGreaterThan(0);
});

test('2. a canary with 5% errors is rolled back within failureLimit × interval plus one interval (after its metrics are scraped)', async () => {
  const { before, driver } = await serving('errors', {
    release: {
      strategy: 'Canary',
      canary: { steps: [{ setWeight: 50 }, { pause: { duration: '30s' } }] },
      analysis: analysis(),
    },
  });
  await release('errors', '2.0.0-errors');
  const rolledBack = await until('errors', 'rollback', (ms) => ms.status?.phase === 'RolledBack');
  const at = Date.now();
  // The clock starts at the first request the bad version served, not its first error.
  const firstBad = driver.counts().byTag['2.0.0-errors']?.firstAt;
  expect(firstBad).toBeDefined();
  expect(condition(rolledBack, 'Released')).toMatchObject({ status: 'False', reason: 'AnalysisFailed' });
  expect(metricOf(rolledBack, 'success-rate')?.verdict).toBe('Fail');
  expect(rolledBack.status?.stableRevision).toBe(before.status?.stableRevision);
  // Target discovery (file_sd, ~5-10 s), the start delay and the first rate window come before the first check can see the canary.
  const seconds = (at - firstBad!) / 1000;
  console.log(
    `scenario 2: first bad request to rollback ${seconds.toFixed(1)} s (interval ${INTERVAL_S} s, failureLimit 2)`,
  );
  expect(seconds).toBeLessThan(2 * INTERVAL_S + INTERVAL_S + 15);
  const counts = await driver.stop();
  expect(counts.noReadyEndpoint).toBe(0);
});

test('3. a canary with a latency regression is rolled back', async () => {
  const { before } = await serving('slow', {
    release: {
      strategy: 'Canary',
      canary: { steps: [{ setWeight: 50 }, { pause: { duration: '30s' } }] },
      analysis: analysis(),
    },
  });
  await release('slow', '2.0.0-slow');
  const rolledBack = await until('slow', 'rollback', (ms) => ms.status?.phase === 'RolledBack');
  expect(metricOf(rolledBack, 'latency-p99')).toMatchObject({ verdict: 'Fail' });
  expect(rolledBack.status?.stableRevision).toBe(before.status?.stableRevision);
});

test('4. Prometheus stopped mid-analysis: no promotion, onInconclusive (Pause) is applied', async () => {
  const { before } = await serving('blind', {
    release: {
      strategy: 'Canary',
      canary: {
        steps: [{ setWeight: 25 }, { pause: { duration: '3s' } }, { setWeight: 50 }, { pause: { duration: '3s' } }],
      },
      analysis: analysis(),
    },
  });
  await release('blind', '2.0.0');
  await until('blind', 'the first step to pass', (ms) => (ms.status?.currentStep ?? 0) >= 1);
  await prometheus().stop();
  try {
    const paused = await until('blind', 'phase Paused by onInconclusive', (ms) => ms.status?.phase === 'Paused');
    expect(paused.status?.message).toMatch(/analysis inconclusive/);
    expect(condition(paused, 'AnalysisHealthy')?.status).not.toBe('True');
    // Several more intervals later it still has not promoted.
    const checks = paused.status?.analysis?.lastCheckTime;
    await until(
      'blind',
      'another check while Prometheus is down',
      (ms) => ms.status?.analysis?.lastCheckTime !== checks,
      30_000,
    );
    const still = await getMicroservice(ns.name, 'blind');
    expect(still.status?.stableRevision).toBe(before.status?.stableRevision);
    expect(still.status?.phase).toBe('Paused');
  } finally {
    await prometheus().start();
  }
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'blind', {
    metadata: { annotations: { 'msop.dev/action': 'abort' } },
  });
  await until('blind', 'abort', (ms) => ms.status?.phase === 'RolledBack');
});

test('5. an error rate that doubles (0.5% → 1%) is caught by CountComparison while a 2% threshold lets it through', async () => {
  const { before } = await serving(
    'double',
    {
      replicas: 2,
      release: {
        strategy: 'Canary',
        canary: { steps: [{ setWeight: 50 }, { pause: { duration: '5m' } }] },
        analysis: analysis({
          metrics: [
            // The same cumulative window the comparison counts over; a 3 s rate window would be noise at 1%.
            {
              name: 'error-rate-2pct',
              query:
                '100 * sum(increase(http_requests_total{namespace="{{namespace}}",msop_dev_microservice="{{name}}",msop_dev_track="{{track}}",code=~"5.."}[{{window}}])) / sum(increase(http_requests_total{namespace="{{namespace}}",msop_dev_microservice="{{name}}",msop_dev_track="{{track}}"}[{{window}}]))',
              thresholdRange: { max: 2 },
            },
            http5xx(1000),
          ],
        }),
      },
    },
    { router: 'replicas' },
    400,
  );
  await release('double', '2.0.0-double');
  const rolledBack = await until(
    'double',
    'rollback by CountComparison',
    (ms) => ms.status?.phase === 'RolledBack',
    240_000,
  );
  expect(metricOf(rolledBack, 'http-5xx')?.verdict).toBe('Fail');
  expect(metricOf(rolledBack, 'error-rate-2pct')?.verdict).toBe('Pass');
  expect(rolledBack.status?.stableRevision).toBe(before.status?.stableRevision);
  console.log(`scenario 5: ${metricOf(rolledBack, 'http-5xx')?.reason}`);
});

test('7. zero downtime: across a Gateway API release no request meets a track without a ready pod', async () => {
  await client.create({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'smooth', namespace: ns.name },
    spec: { parentRefs: [{ name: 'public' }], rules: [{ backendRefs: [{ name: 'smooth-stable', port: 80 }] }] },
  } as KubernetesObject);
  const { before, driver } = await serving(
    'smooth',
    {
      release: {
        strategy: 'Canary',
        canary: {
          steps: [{ setWeight: 25 }, { pause: { duration: '3s' } }, { setWeight: 75 }, { pause: { duration: '3s' } }],
          traffic: { router: 'gatewayAPI', gatewayAPI: { httpRoute: 'smooth' } },
        },
        analysis: analysis({ baseline: { mode: 'None' } }),
      },
    },
    { router: 'gatewayAPI', httpRoute: 'smooth' },
  );
  await release('smooth', '2.0.0');
  await until(
    'smooth',
    'promotion',
    (ms) => ms.status?.phase === 'Ready' && ms.status.stableRevision !== before.status?.stableRevision,
  );
  const counts = await driver.stop();
  expect(counts.noReadyEndpoint).toBe(0);
  expect(counts.byTrack.canary?.responses ?? 0).toBeGreaterThan(0);
  expect(errorRatio(counts.byTrack.stable)).toBeLessThan(0.02);
});
