// Blue-green end to end: the operator, a real Prometheus scraping simulated
// app versions, a live traffic driver through the Service `<name>` (which
// follows its selector as msop moves it) and a test driver through
// `<name>-preview`.
import { condition, kubectl } from '../cluster/harness';
import { analysis, e2eScenario, INTERVAL_S, metricOf } from './scenario';

const { ns, serving, alsoThrough, release, until } = e2eScenario('e2e-bg');

const blueGreen = (extra: Record<string, unknown> = {}) =>
  ({ strategy: 'BlueGreen', blueGreen: { autoPromotionSeconds: 0, ...extra } }) as const;

test('a bad preview is refused before the switch: live traffic never reaches it', async () => {
  // Promotion is automatic but waits 20 s after the preview is ready, so several checks see it first: with
  // 300 test requests per 3 s window, a 5% error rate reads below 97% in about 19 checks of 20.
  const { before, mirror, driver } = await serving('bgbad', {
    release: { ...blueGreen({ autoPromotionSeconds: 20 }), analysis: analysis() },
  });
  const tests = await alsoThrough('bgbad-preview', mirror, 100);
  await release('bgbad', '2.0.0-errors');
  const rolledBack = await until('bgbad', 'rollback before the switch', (ms) => ms.status?.phase === 'RolledBack');
  expect(condition(rolledBack, 'Released')).toMatchObject({ status: 'False', reason: 'AnalysisFailed' });
  expect(metricOf(rolledBack, 'success-rate')?.verdict).toBe('Fail');
  expect(rolledBack.status?.stableRevision).toBe(before.status?.stableRevision);
  expect(rolledBack.status?.release?.switchTime).toBeUndefined();
  const live = await driver.stop();
  const preview = await tests.stop();
  // The preview's own Service saw the bad version; the live Service never did.
  expect(preview.byTag['2.0.0-errors']?.responses ?? 0).toBeGreaterThan(0);
  expect(live.byTag['2.0.0-errors']).toBeUndefined();
  expect(live.noReadyEndpoint).toBe(0);
});

test('a version that fails only under live traffic is switched back within one interval plus 2 s of the failing check', async () => {
  const { before, mirror, driver } = await serving('bglive', {
    release: { ...blueGreen({ scaleDownDelaySeconds: 120 }), analysis: analysis() },
  });
  // Light test traffic through the preview: 10 requests a second per pod, under the version's limit of 25.
  const tests = await alsoThrough('bglive-preview', mirror, 40);
  await release('bglive', '2.0.0-overload');
  await until('bglive', 'the switch', (ms) => ms.status?.release?.switchTime !== undefined);
  const failing = await until(
    'bglive',
    'a failing check on live traffic',
    (ms) => (ms.status?.analysis?.failures ?? 0) >= 1,
  );
  const failedAt = Date.parse(failing.status!.analysis!.lastCheckTime!);
  const rolledBack = await until('bglive', 'the switch back', (ms) => ms.status?.phase === 'RolledBack');
  expect(condition(rolledBack, 'Released')).toMatchObject({ status: 'False', reason: 'AnalysisFailed' });
  expect(rolledBack.status?.stableRevision).toBe(before.status?.stableRevision);
  await tests.stop();
  // Let requests in flight land, then read when live traffic last reached the new version.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const live = await driver.stop();
  const lastOnNew = live.byTag['2.0.0-overload']?.lastAt;
  expect(lastOnNew).toBeDefined();
  const seconds = (lastOnNew! - failedAt) / 1000;
  console.log(
    `blue-green: first failing check on live traffic to the switch back ${seconds.toFixed(1)} s (interval ${INTERVAL_S} s, failureLimit 2)`,
  );
  expect(seconds).toBeLessThanOrEqual(INTERVAL_S + 2);
  expect(live.byTag['1.0.0']?.responses ?? 0).toBeGreaterThan(0);
  expect(live.noReadyEndpoint).toBe(0);
});

test('20 switches and 20 switch-backs: no live request meets a revision without a ready pod', async () => {
  const CYCLES = 20;
  const { driver } = await serving('bgflip', {
    release: { strategy: 'BlueGreen', blueGreen: { scaleDownDelaySeconds: 600, abortScaleDownDelaySeconds: 0 } },
  });
  let switches = 0;
  let switchBacks = 0;
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    // Each cycle is a new revision of the same version, so an aborted one is never retried.
    await release('bgflip', '2.0.0', { env: [{ name: 'CYCLE', value: String(cycle) }] });
    const waiting = await until(
      'bgflip',
      `cycle ${cycle}: the preview waiting`,
      (ms) => ms.status?.phase === 'Paused' && ms.metadata.generation === ms.status.observedGeneration,
    );
    const revision = waiting.status!.canaryRevision!;
    await kubectl('annotate', '--overwrite', 'msvc', 'bgflip', '-n', ns.name, 'msop.dev/action=promote');
    await until(
      'bgflip',
      `cycle ${cycle}: the switch`,
      (ms) =>
        ms.status?.release?.switchTime !== undefined && ms.metadata.annotations?.['msop.dev/action'] === undefined,
    );
    switches += 1;
    const served = driver.counts().byTag['2.0.0']?.responses ?? 0;
    await until(
      'bgflip',
      `cycle ${cycle}: live traffic on the new pods`,
      () => (driver.counts().byTag['2.0.0']?.responses ?? 0) > served,
    );
    await kubectl('annotate', '--overwrite', 'msvc', 'bgflip', '-n', ns.name, 'msop.dev/action=abort');
    await until(
      'bgflip',
      `cycle ${cycle}: the switch back`,
      // The abort is consumed just after the status names it; the next revision must not meet it.
      (ms) =>
        ms.status?.phase === 'RolledBack' &&
        ms.status.failedRevision === revision &&
        ms.metadata.annotations?.['msop.dev/action'] === undefined,
    );
    switchBacks += 1;
  }
  const live = await driver.stop();
  console.log(
    `blue-green: ${switches} switches and ${switchBacks} switch-backs, ${live.sent} live requests, ${live.noReadyEndpoint} met no ready pod, ${live.errors} transport errors`,
  );
  expect([switches, switchBacks]).toEqual([CYCLES, CYCLES]);
  expect(live.noReadyEndpoint).toBe(0);
  expect(live.byTag['2.0.0']?.responses ?? 0).toBeGreaterThan(0);
});
