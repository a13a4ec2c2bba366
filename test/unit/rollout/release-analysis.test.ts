// planRelease with an analysis gate (src/rollout/release.ts): what each decision of the analysis does
// to a release, the pre-rollout and confirm-promotion gates, and the Fresh baseline under the
// replicas router. The helpers follow release.test.ts.
import {
  type AnalysisGate,
  planRelease,
  type ReleaseInput,
  type ReleaseObservation,
  type ReleasePlan,
  type ReleaseState,
  type RouterKind,
} from '../../../src/rollout/release';
import type { Step } from '../../../src/rollout/steps';

import {
  ago,
  apply,
  at20,
  at50,
  type Case,
  DESIRED,
  type FakeCluster,
  gate,
  gateway,
  inputOf,
  NOW,
  observe,
  picked,
  releasing,
  STABLE,
  stale,
  type Summary,
  withBaseline,
} from './fixtures';

// The cluster under the replicas router at 20% (canary 1, stable 3 of 4) and 50% (2 and 2).
const WAITING_FOR_PASS = 'Canary bbb at 20%, step 1/4: waiting for a passing analysis check';

describe('planRelease with analysis', () => {
  test.each<[string, Case, Partial<Summary>]>([
    // ── Rollback ────────────────────────────────────────────────────────────────────────────────
    [
      'Rollback rolls the release back with reason AnalysisFailed; the canary stays until the stable is ready at N',
      {
        state: releasing(0, 20),
        observed: at20,
        analysis: gate({ action: 'Rollback', reason: '2 of 2 failed checks: success-rate 90 < min 99' }),
      },
      {
        template: 'keep',
        stable: 4,
        canary: undefined,
        baseline: undefined,
        delete: false,
        weight: undefined,
        phase: 'RolledBack',
        step: undefined,
        canaryRevision: undefined,
        failedRevision: DESIRED,
        reason: 'AnalysisFailed',
        message: 'Rolled back revision bbb: analysis failed: 2 of 2 failed checks: success-rate 90 < min 99',
        events: ['Warning/RolledBack'],
        requeue: 1_000,
      },
    ],
    [
      'Rollback under a weighted router: the weight goes to 0 before the canary is removed',
      {
        settings: gateway,
        state: releasing(2, 50),
        observed: { canary: { replicas: 2, readyReplicas: 2 }, routerWeight: 50 },
        analysis: gate({ action: 'Rollback', reason: 'critical metric failed: latency 900 > max 500' }),
      },
      {
        template: 'keep',
        stable: 4,
        canary: undefined,
        delete: false,
        weight: 0,
        phase: 'RolledBack',
        failedRevision: DESIRED,
        reason: 'AnalysisFailed',
        message: 'Rolled back revision bbb: analysis failed: critical metric failed: latency 900 > max 500',
        events: ['Warning/RolledBack'],
      },
    ],
    [
      'Rollback wins over a pass at the same step',
      { state: releasing(1, 20, 120_000), observed: at20, analysis: gate({ action: 'Rollback', reason: 'x' }) },
      { phase: 'RolledBack', reason: 'AnalysisFailed', failedRevision: DESIRED, step: undefined },
    ],

    // ── Pause ───────────────────────────────────────────────────────────────────────────────────
    [
      'Pause holds a timed pause whose time is up, even with a pass: nothing scales, the step stays',
      {
        state: releasing(1, 20, 120_000),
        observed: at20,
        analysis: gate({ action: 'Pause', reason: '3 inconclusive checks in a row, the limit is 3' }),
      },
      {
        template: 'keep',
        stable: 3,
        canary: 1,
        baseline: undefined,
        delete: false,
        weight: undefined,
        phase: 'Paused',
        step: 1,
        desiredWeight: 20,
        reason: 'Progressing',
        message:
          'Canary bbb at 20%, step 2/4: analysis inconclusive (3 inconclusive checks in a row, the limit is 3); waiting for a passing check, or kubectl msop skip-analysis or abort',
        events: [],
        requeue: undefined,
      },
    ],
    [
      'Pause at a setWeight step under a weighted router: the weight is not raised, the canary not scaled',
      {
        settings: gateway,
        state: releasing(2, 20),
        observed: { canary: { replicas: 1, readyReplicas: 1 }, routerWeight: 20 },
        analysis: gate({ action: 'Pause', reason: 'no data' }),
      },
      {
        stable: 4,
        canary: 1,
        weight: undefined,
        phase: 'Paused',
        step: 2,
        desiredWeight: 20,
        canaryWeight: 20,
        events: [],
      },
    ],
    [
      'Pause is not lifted by promote-full: the steps are skipped, the release stays paused until a check passes',
      {
        state: releasing(1, 20, 120_000),
        observed: at20,
        action: 'promote-full',
        analysis: gate({ action: 'Pause', reason: 'no data' }),
      },
      {
        template: 'keep',
        canary: 1,
        stable: 3,
        phase: 'Paused',
        step: 4,
        message:
          'Canary bbb at 20%, step 4/4: analysis inconclusive (no data); waiting for a passing check, or kubectl msop skip-analysis or abort',
        events: ['Normal/PromoteRequested'],
      },
    ],
    [
      'Pause is lifted by skip-analysis (the runner then reports Continue and a pass now)',
      { state: releasing(1, 20, 120_000), observed: at20, analysis: gate({ passedTime: NOW.toISOString() }) },
      { phase: 'Progressing', step: 2, events: ['Normal/StepCompleted'] },
    ],
    [
      'Pause is lifted by abort',
      { state: releasing(1, 20, 120_000), observed: at20, action: 'abort', analysis: gate({ action: 'Pause' }) },
      { phase: 'RolledBack', reason: 'Aborted', failedRevision: DESIRED },
    ],

    // ── waiting for a pass ──────────────────────────────────────────────────────────────────────
    [
      'setWeight verified, but the last pass came before the step began: wait',
      { state: releasing(0, 20), observed: at20, analysis: stale },
      {
        stable: 3,
        canary: 1,
        weight: undefined,
        phase: 'Progressing',
        step: 0,
        desiredWeight: 20,
        message: WAITING_FOR_PASS,
        events: [],
        requeue: undefined,
      },
    ],
    [
      'setWeight verified, no pass yet at all: wait',
      { state: releasing(0, 20), observed: at20, analysis: gate({ action: undefined, passedTime: undefined }) },
      { step: 0, message: WAITING_FOR_PASS, events: [] },
    ],
    [
      'setWeight verified, a pass at the very instant the step began does not count',
      { state: releasing(0, 20), observed: at20, analysis: gate({ passedTime: ago(5_000) }) },
      { step: 0, message: WAITING_FOR_PASS },
    ],
    [
      'setWeight verified, an earlier check in this step passed but the last one said Wait: the step waits',
      { state: releasing(0, 20), observed: at20, analysis: gate({ action: 'Wait', passedTime: ago(2_000) }) },
      { step: 0, events: [] },
    ],
    [
      'weighted: the route weight is set before the pass is waited for',
      {
        settings: gateway,
        state: releasing(0, 20),
        observed: { canary: at20.canary, routerWeight: 0 },
        analysis: stale,
      },
      {
        stable: 4,
        weight: 20,
        step: 0,
        message: 'Canary bbb at 20%, step 1/4: setting the route weight to 20%',
        requeue: 1_000,
      },
    ],
    [
      'weighted: the route weight verified, no pass since the step began: wait at the weight',
      {
        settings: gateway,
        state: releasing(0, 20),
        observed: { canary: at20.canary, routerWeight: 20 },
        analysis: stale,
      },
      { stable: 4, canary: 1, weight: 20, step: 0, message: WAITING_FOR_PASS, events: [], requeue: undefined },
    ],
    [
      'setWeight verified and a pass after the step began: the step completes',
      { state: releasing(0, 20), observed: at20, analysis: gate() },
      {
        stable: 3,
        canary: 1,
        phase: 'Progressing',
        step: 1,
        desiredWeight: 20,
        message: 'Canary bbb at 20%',
        events: ['Normal/StepCompleted'],
        requeue: 0,
      },
    ],
    [
      'weighted: verified and passed: the step completes at the weight',
      {
        settings: gateway,
        state: releasing(0, 20),
        observed: { canary: at20.canary, routerWeight: 20 },
        analysis: gate(),
      },
      { weight: 20, step: 1, events: ['Normal/StepCompleted'], requeue: 0 },
    ],
    [
      'a pass does not skip the canary pods: still waiting for them',
      {
        state: releasing(0, 20),
        observed: { ...at20, canary: { replicas: 1, readyReplicas: 0 } },
        analysis: gate(),
      },
      {
        step: 0,
        stable: 3,
        message: 'Canary bbb at 20%, step 1/4: waiting for canary pods (0/1 ready)',
        requeue: 595_000,
      },
    ],

    // ── timed pause: its duration and a pass ────────────────────────────────────────────────────
    [
      'timed pause with a pass but time left: keep pausing',
      { state: releasing(1, 20, 30_000), observed: at20, analysis: gate() },
      {
        step: 1,
        phase: 'Progressing',
        message: 'Canary bbb at 20%, step 2/4: pausing, 30s left',
        events: [],
        requeue: 30_000,
      },
    ],
    [
      'timed pause whose time is up, no pass since it began: wait for one',
      { state: releasing(1, 20, 90_000), observed: at20, analysis: gate({ passedTime: ago(95_000) }) },
      {
        stable: 3,
        canary: 1,
        step: 1,
        phase: 'Progressing',
        message: 'Canary bbb at 20%, step 2/4: waiting for a passing analysis check',
        events: [],
        requeue: undefined,
      },
    ],
    [
      'timed pause whose time is up and a pass since it began: the step completes',
      { state: releasing(1, 20, 90_000), observed: at20, analysis: gate({ passedTime: ago(30_000) }) },
      { step: 2, message: 'Canary bbb at 20%', events: ['Normal/StepCompleted'], requeue: 0 },
    ],
    [
      'an untimed pause still waits for promotion, whatever the analysis says',
      { state: releasing(3, 50), observed: at50, analysis: gate() },
      { phase: 'Paused', step: 3, canary: 2, stable: 2, events: [] },
    ],

    // ── pre-rollout ─────────────────────────────────────────────────────────────────────────────
    [
      'pre-rollout not passed, weighted, a new release: the canary may scale, no weight is set',
      {
        settings: gateway,
        observed: { routerWeight: 0 },
        analysis: gate({ action: undefined, passedTime: undefined, preRolloutPassed: false }),
      },
      {
        template: 'keep',
        stable: 4,
        canary: 1,
        weight: undefined,
        phase: 'Progressing',
        step: 0,
        canaryRevision: DESIRED,
        desiredWeight: 20,
        message: 'Canary bbb at 20%, step 1/4: waiting for the pre-rollout webhooks to pass',
        events: ['Normal/ReleaseStarted'],
        requeue: undefined,
      },
    ],
    [
      'pre-rollout not passed, weighted, the canary ready: still no weight',
      {
        settings: gateway,
        state: releasing(0, 20),
        observed: { canary: { replicas: 1, readyReplicas: 1 }, routerWeight: 0 },
        analysis: gate({ preRolloutPassed: false }),
      },
      { stable: 4, canary: 1, weight: undefined, step: 0, canaryWeight: 0 },
    ],
    [
      'pre-rollout not passed, replicas router: a canary pod is traffic, so nothing scales',
      { analysis: gate({ action: undefined, passedTime: undefined, preRolloutPassed: false }) },
      {
        stable: 4,
        canary: 0,
        baseline: undefined,
        weight: undefined,
        phase: 'Progressing',
        step: 0,
        desiredWeight: 20,
        message: 'Canary bbb at 20%, step 1/4: waiting for the pre-rollout webhooks to pass',
        events: ['Normal/ReleaseStarted'],
      },
    ],
    [
      'pre-rollout not passed, replicas router with a baseline: no baseline either',
      { settings: withBaseline, analysis: gate({ preRolloutPassed: false }) },
      { stable: 4, canary: 0, baseline: 0, step: 0, desiredWeight: 25 },
    ],
    [
      'pre-rollout passed, replicas router: the canary scales as without analysis',
      { analysis: gate({ passedTime: undefined }) },
      { stable: 4, canary: 1, step: 0, message: 'Canary bbb at 20%, step 1/4: waiting for canary pods (0/1 ready)' },
    ],

    // ── confirm-promotion ───────────────────────────────────────────────────────────────────────
    [
      'all steps done, confirm-promotion not passed: promotion waits, nothing changes',
      { state: releasing(4, 50), observed: at50, analysis: gate({ promotionConfirmed: false }) },
      {
        template: 'keep',
        stable: 2,
        canary: 2,
        baseline: undefined,
        weight: undefined,
        phase: 'Paused',
        step: 4,
        reason: 'Progressing',
        message: 'Canary bbb: waiting for the confirm-promotion webhooks',
        events: [],
      },
    ],
    [
      'promote-full on request still waits for confirm-promotion',
      {
        state: releasing(1, 20),
        observed: at20,
        action: 'promote-full',
        analysis: gate({ promotionConfirmed: false }),
      },
      {
        canary: 1,
        stable: 3,
        phase: 'Paused',
        step: 4,
        message: 'Canary bbb: waiting for the confirm-promotion webhooks',
        events: ['Normal/PromoteRequested'],
      },
    ],
    [
      'confirm-promotion passed: promotion starts',
      { state: releasing(4, 50, 1_000), observed: at50, analysis: gate({ promotionConfirmed: true }) },
      {
        template: 'keep',
        stable: 2,
        canary: 4,
        phase: 'Promoting',
        reason: 'Promoting',
        message: 'Promoting bbb: scaling the canary to 4 (2 ready)',
        requeue: 599_000,
      },
    ],

    [
      'a confirm-promotion gate that opened 30 minutes after the last step: the wait for pods starts now, no rollback',
      {
        state: { ...releasing(4, 50, 30 * 60_000), podsWaitStartTime: undefined },
        observed: at50,
        analysis: gate({ promotionConfirmed: true }),
      },
      { canary: 4, phase: 'Promoting', failedRevision: undefined, requeue: 600_000 },
    ],

    // ── a Fresh baseline under the replicas router ──────────────────────────────────────────────
    [
      'baseline, 25% of 4, a new release: canary 1 and baseline 1 first, the stable keeps 4',
      { settings: withBaseline, analysis: gate() },
      {
        stable: 4,
        canary: 1,
        baseline: 1,
        step: 0,
        desiredWeight: 25,
        message: 'Canary bbb at 25%, step 1/3: waiting for canary pods (0/1 ready)',
      },
    ],
    [
      'baseline, 25%: the canary ready but no baseline yet: the stable keeps 4',
      {
        settings: withBaseline,
        state: releasing(0, 25),
        observed: { canary: { replicas: 1, readyReplicas: 1 } },
        analysis: gate(),
      },
      { stable: 4, canary: 1, baseline: 1, step: 0 },
    ],
    [
      'baseline, 25%: the baseline ready but the canary not: the stable keeps 4',
      {
        settings: withBaseline,
        state: releasing(0, 25),
        observed: { canary: { replicas: 1, readyReplicas: 0 }, baseline: { replicas: 1, readyReplicas: 1 } },
        analysis: gate(),
      },
      { stable: 4, canary: 1, baseline: 1, step: 0 },
    ],
    [
      'baseline, 25%: both ready: the stable shrinks to N − 2·canary = 2',
      {
        settings: withBaseline,
        state: releasing(0, 25),
        observed: { canary: { replicas: 1, readyReplicas: 1 }, baseline: { replicas: 1, readyReplicas: 1 } },
        analysis: gate(),
      },
      {
        stable: 2,
        canary: 1,
        baseline: 1,
        step: 0,
        message: 'Canary bbb at 25%, step 1/3: waiting for canary pods (1/1 ready)',
        events: [],
      },
    ],
    [
      'baseline, 25%: the stable at 2 and a pass: the step completes, the baseline stays',
      {
        settings: withBaseline,
        state: releasing(0, 25),
        observed: {
          stableReplicas: 2,
          stablePods: 2,
          stableReadyReplicas: 2,
          canary: { replicas: 1, readyReplicas: 1 },
          baseline: { replicas: 1, readyReplicas: 1 },
        },
        analysis: gate(),
      },
      { stable: 2, canary: 1, baseline: 1, step: 1, canaryWeight: 25, events: ['Normal/StepCompleted'] },
    ],
    [
      'baseline, 50% of 4: canary 2 and baseline 2 while the stable stays at 2 until both are ready',
      {
        settings: withBaseline,
        state: releasing(1, 25),
        observed: {
          stableReplicas: 2,
          stablePods: 2,
          stableReadyReplicas: 2,
          canary: { replicas: 1, readyReplicas: 1 },
          baseline: { replicas: 1, readyReplicas: 1 },
        },
        analysis: gate(),
      },
      { stable: 2, canary: 2, baseline: 2, step: 1, desiredWeight: 50 },
    ],
    [
      'baseline, 50% of 4, both ready: the stable goes to 1, never below',
      {
        settings: withBaseline,
        state: releasing(1, 50),
        observed: {
          stableReplicas: 2,
          stablePods: 2,
          stableReadyReplicas: 2,
          canary: { replicas: 2, readyReplicas: 2 },
          baseline: { replicas: 2, readyReplicas: 2 },
        },
        analysis: gate(),
      },
      { stable: 1, canary: 2, baseline: 2, step: 1 },
    ],
    [
      'baseline, 50% of 4, the stable at 1 and a pass: the step completes',
      {
        settings: withBaseline,
        state: releasing(1, 50),
        observed: {
          stableReplicas: 1,
          stablePods: 1,
          stableReadyReplicas: 1,
          canary: { replicas: 2, readyReplicas: 2 },
          baseline: { replicas: 2, readyReplicas: 2 },
        },
        analysis: gate(),
      },
      { stable: 1, canary: 2, baseline: 2, step: 2, canaryWeight: 40, events: ['Normal/StepCompleted'] },
    ],
    [
      'baseline, 1 pod: canary 1, baseline 1, the stable keeps 1',
      {
        settings: { ...withBaseline, replicas: 1 },
        state: releasing(0, 25),
        observed: {
          stableReplicas: 1,
          stablePods: 1,
          stableReadyReplicas: 1,
          canary: { replicas: 1, readyReplicas: 1 },
          baseline: { replicas: 1, readyReplicas: 1 },
        },
        analysis: gate(),
      },
      { stable: 1, canary: 1, baseline: 1, step: 1 },
    ],
    [
      'baseline, an untimed pause: the baseline keeps the canary’s size',
      {
        settings: withBaseline,
        state: releasing(2, 50),
        observed: {
          stableReplicas: 1,
          stablePods: 1,
          stableReadyReplicas: 1,
          canary: { replicas: 2, readyReplicas: 2 },
          baseline: { replicas: 2, readyReplicas: 2 },
        },
        analysis: gate(),
      },
      { stable: 1, canary: 2, baseline: 2, phase: 'Paused', step: 2 },
    ],
    [
      'baseline, release.paused: everything holds, the baseline included',
      {
        settings: { ...withBaseline, paused: true },
        state: releasing(1, 50),
        observed: { canary: { replicas: 2, readyReplicas: 2 }, baseline: { replicas: 2, readyReplicas: 1 } },
        analysis: gate(),
      },
      { stable: 1, canary: 2, baseline: 2, phase: 'Paused', step: 1 },
    ],
    [
      'baseline, an analysis Pause: the baseline keeps the canary’s size',
      {
        settings: withBaseline,
        state: releasing(1, 25),
        observed: { canary: { replicas: 1, readyReplicas: 1 }, baseline: { replicas: 1, readyReplicas: 1 } },
        analysis: gate({ action: 'Pause', reason: 'no data' }),
      },
      { stable: 2, canary: 1, baseline: 1, phase: 'Paused', step: 1 },
    ],
    [
      'baseline, promotion: the baseline is no longer wanted',
      {
        settings: withBaseline,
        state: releasing(3, 50),
        observed: {
          stableReplicas: 1,
          stablePods: 1,
          stableReadyReplicas: 1,
          canary: { replicas: 2, readyReplicas: 2 },
          baseline: { replicas: 2, readyReplicas: 2 },
        },
        action: 'promote',
        analysis: gate(),
      },
      { stable: 1, canary: 4, baseline: undefined, phase: 'Promoting' },
    ],
    [
      'baseline, rollback: the baseline goes with the canary',
      {
        settings: withBaseline,
        state: releasing(1, 50),
        observed: { canary: { replicas: 2, readyReplicas: 2 }, baseline: { replicas: 2, readyReplicas: 2 } },
        analysis: gate({ action: 'Rollback', reason: 'x' }),
      },
      { stable: 4, canary: undefined, baseline: undefined, phase: 'RolledBack' },
    ],
    [
      'baseline, abort: the baseline goes with the canary',
      {
        settings: withBaseline,
        state: releasing(1, 50),
        observed: { canary: { replicas: 2, readyReplicas: 2 }, baseline: { replicas: 2, readyReplicas: 2 } },
        action: 'abort',
      },
      { stable: 4, canary: undefined, baseline: undefined, phase: 'RolledBack', reason: 'Aborted' },
    ],
    [
      'baseline, idle (the release done): no baseline',
      { settings: withBaseline, observed: { stableRevision: DESIRED, baseline: { replicas: 1, readyReplicas: 1 } } },
      { stable: 4, canary: undefined, baseline: undefined, phase: undefined },
    ],
    [
      'baseline, finishing a promotion: no baseline',
      {
        settings: withBaseline,
        state: releasing(3, 50),
        observed: { stableRevision: DESIRED, stableComplete: false, canary: { replicas: 4, readyReplicas: 4 } },
      },
      { baseline: undefined, phase: 'Promoting' },
    ],
  ])('%s', (_name, c, expected) => {
    const plan = planRelease(inputOf(c));
    expect(picked(plan, expected)).toEqual(expected);
  });

  test('a rollback event and condition carry the analysis reason', () => {
    const plan = planRelease(
      inputOf({
        state: releasing(0, 20),
        observed: at20,
        analysis: gate({ action: 'Rollback', reason: 'success-rate 90 < min 99' }),
      }),
    );
    const message = 'Rolled back revision bbb: analysis failed: success-rate 90 < min 99';
    expect(plan.events).toEqual([{ type: 'Warning', reason: 'RolledBack', message }]);
    expect(plan.released).toEqual({ status: 'False', reason: 'AnalysisFailed', message });
    expect(plan.state).toEqual({ failedRevision: DESIRED });
  });

  test.each<[string, Partial<ReleaseObservation>, number]>([
    ['canary 1, stable 3, no baseline: 25%', { stableReadyReplicas: 3, canary: { replicas: 1, readyReplicas: 1 } }, 25],
    [
      'canary 1, baseline 1, stable 2: 25%',
      {
        stableReadyReplicas: 2,
        canary: { replicas: 1, readyReplicas: 1 },
        baseline: { replicas: 1, readyReplicas: 1 },
      },
      25,
    ],
    [
      'canary 1, baseline 1, stable still 4: 17%',
      {
        stableReadyReplicas: 4,
        canary: { replicas: 1, readyReplicas: 1 },
        baseline: { replicas: 1, readyReplicas: 1 },
      },
      17,
    ],
    [
      'canary 2, baseline 2, stable 1: 40%',
      {
        stableReadyReplicas: 1,
        canary: { replicas: 2, readyReplicas: 2 },
        baseline: { replicas: 2, readyReplicas: 2 },
      },
      40,
    ],
    [
      'canary 1, baseline 1 not ready, stable 2: 33%',
      {
        stableReadyReplicas: 2,
        canary: { replicas: 1, readyReplicas: 1 },
        baseline: { replicas: 1, readyReplicas: 0 },
      },
      33,
    ],
  ])('canaryWeight under the replicas router counts ready baseline pods: %s', (_name, observed, weight) => {
    const plan = planRelease(
      inputOf({ settings: withBaseline, state: releasing(0, 25, 5_000), observed, analysis: stale }),
    );
    expect(plan.canaryWeight).toBe(weight);
  });

  test('does not change the gate or the state it was given', () => {
    const state = releasing(0, 20);
    const analysis = gate();
    const copies = structuredClone({ state, analysis });
    planRelease(inputOf({ state, observed: at20, analysis }));
    expect({ state, analysis }).toEqual(copies);
  });
});

// ── A whole release with a fake analysis ──────────────────────────────────────────────────────────

/** The analysis interval of the fake: longer than the 1m pause, so that pause waits for the pass too. */
const INTERVAL = 90_000;

/** Every step waits for the pass; no untimed pause, which promote would skip. */
const SIM_STEPS: Step[] = [
  { kind: 'setWeight', weight: 25 },
  { kind: 'pause', durationMs: 60_000 },
  { kind: 'setWeight', weight: 50 },
  { kind: 'setWeight', weight: 100 },
];

/**
 * A stand-in for AnalysisRunner: the pre-rollout webhooks pass one interval after the release
 * starts, a check passes one interval after each step starts, and confirm-promotion passes one
 * interval after promotion begins to wait for it. Like the runner, it gives no gate once the
 * Deployment carries the new revision (the release is no longer "releasing").
 */
class FakeAnalysis {
  private releaseStart?: number;
  private promotionStart?: number;
  private passed?: number;

  gate(state: ReleaseState, cluster: FakeCluster, now: number): AnalysisGate | undefined {
    if (cluster.stableRevision === DESIRED) return undefined;
    this.releaseStart ??= now;
    const stepStart = state.stepStartTime === undefined ? now : Date.parse(state.stepStartTime);
    if (now >= stepStart + INTERVAL) this.passed = stepStart + INTERVAL;
    if ((state.step ?? 0) >= SIM_STEPS.length) this.promotionStart ??= now;
    return {
      action: this.passed === undefined ? undefined : 'Continue',
      reason: 'all 1 metrics passed',
      passedTime: this.passed === undefined ? undefined : new Date(this.passed).toISOString(),
      preRolloutPassed: now >= this.releaseStart + INTERVAL,
      promotionConfirmed: this.promotionStart !== undefined && now >= this.promotionStart + INTERVAL,
    };
  }

  /** Time until the gate can next change (the reconciler requeues for the next check). */
  nextChange(state: ReleaseState, now: number): number {
    const times = [
      this.releaseStart === undefined ? undefined : this.releaseStart + INTERVAL,
      state.stepStartTime === undefined ? undefined : Date.parse(state.stepStartTime) + INTERVAL,
      this.promotionStart === undefined ? undefined : this.promotionStart + INTERVAL,
    ].filter((t): t is number => t !== undefined && t > now);
    return times.length === 0 ? Infinity : Math.min(...times) - now;
  }
}

interface Reconcile {
  now: number;
  input: ReleaseInput;
  plan: ReleasePlan;
}

function simulate(router: RouterKind, baseline: boolean): { runs: Reconcile[]; cluster: FakeCluster } {
  const weighted = router !== 'replicas';
  const cluster: FakeCluster = {
    stableRevision: STABLE,
    stableReplicas: 4,
    rollingOut: false,
    canaries: new Map(),
    routerWeight: weighted ? 0 : undefined,
  };
  const analysis = new FakeAnalysis();
  const runs: Reconcile[] = [];
  let state: ReleaseState = {};
  let now = NOW.getTime();
  for (let iteration = 0; iteration < 300; iteration++) {
    const input: ReleaseInput = {
      settings: {
        steps: SIM_STEPS,
        router,
        replicas: 4,
        autoscaled: false,
        baseline,
        paused: false,
        progressDeadlineMs: 600_000,
      },
      strategy: 'Canary',
      state,
      desiredRevision: DESIRED,
      observed: observe(cluster, DESIRED, weighted),
      analysis: analysis.gate(state, cluster, now),
      now: new Date(now),
    };
    const plan = planRelease(input);
    runs.push({ now, input, plan });
    const before = JSON.stringify(observe(cluster, DESIRED, weighted));
    apply(cluster, plan, DESIRED);
    const changed = JSON.stringify(observe(cluster, DESIRED, weighted)) !== before;
    state = plan.state;
    if (plan.phase === undefined && cluster.canaries.size === 0 && !plan.deleteCanaries) return { runs, cluster };
    // A change the reconciler makes is watched back within a second; otherwise it comes back when asked.
    const delay = Math.min(
      plan.requeueAfterMs ?? Infinity,
      changed ? 1_000 : Infinity,
      analysis.nextChange(state, now),
    );
    now += Number.isFinite(delay) ? delay : 1_000;
  }
  throw new Error(`the release did not settle in 300 reconciles; last message: ${runs.at(-1)?.plan.message}`);
}

describe('a whole release with analysis', () => {
  test.each<[RouterKind, boolean]>([
    ['replicas', false],
    ['replicas', true],
    ['gatewayAPI', false],
    ['istio', false],
    ['nginx', false],
  ])(
    '%s, baseline %s: every step waits for a pass, the weight never goes down, the release completes',
    (router, baseline) => {
      const { runs, cluster } = simulate(router, baseline);
      const last = runs.at(-1)!.plan;
      const events = runs.flatMap((run) => run.plan.events.map((event) => `${event.type}/${event.reason}`));

      // The release completed.
      expect(last.phase).toBeUndefined();
      expect(last.released.reason).toBe('Released');
      expect(cluster.stableRevision).toBe(DESIRED);
      expect(cluster.stableReplicas).toBe(4);
      expect(cluster.canaries.size).toBe(0);
      expect(cluster.baseline).toBeUndefined();
      expect(cluster.routerWeight ?? 0).toBe(0);
      expect(events[0]).toBe('Normal/ReleaseStarted');
      expect(events.at(-1)).toBe('Normal/Promoted');
      expect(events.filter((event) => event === 'Normal/StepCompleted')).toHaveLength(SIM_STEPS.length);
      expect(events.filter((event) => event.startsWith('Warning/'))).toEqual([]);

      // Every step completed only after a pass that came after it began, at least one interval in.
      const completions = runs.filter((run) => run.plan.events.some((event) => event.reason === 'StepCompleted'));
      expect(completions.map((run) => run.input.state.step)).toEqual([0, 1, 2, 3]);
      for (const { input, now } of completions) {
        const stepStart = Date.parse(input.state.stepStartTime!);
        expect(Date.parse(input.analysis!.passedTime!)).toBeGreaterThan(stepStart);
        expect(now - stepStart).toBeGreaterThanOrEqual(INTERVAL);
      }
      // Each step after the first was seen waiting for its pass (the first waited for the pre-rollout webhooks).
      for (const step of [1, 2, 3]) {
        expect(
          runs.some(
            (run) =>
              run.input.state.step === step &&
              run.plan.message?.endsWith('waiting for a passing analysis check') === true,
          ),
        ).toBe(true);
      }
      expect(runs.some((run) => run.plan.message?.endsWith('waiting for the pre-rollout webhooks to pass'))).toBe(true);
      expect(runs.some((run) => run.plan.message === 'Canary bbb: waiting for the confirm-promotion webhooks')).toBe(
        true,
      );

      for (const [i, { input, plan }] of runs.entries()) {
        const previous = runs[i - 1]?.plan;
        // Within the release the desired weight never goes down.
        if (previous && plan.state.revision === DESIRED && previous.state.revision === DESIRED)
          expect(plan.state.desiredWeight ?? 0).toBeGreaterThanOrEqual(previous.state.desiredWeight ?? 0);
        // Before the pre-rollout webhooks pass, the canary takes no traffic.
        if (input.analysis && !input.analysis.preRolloutPassed) {
          expect(plan.routerWeight ?? 0).toBe(0);
          if (router === 'replicas') expect(plan.canaryReplicas ?? 0).toBe(0);
        }
        // The Deployment moves to the new revision only once promotion is confirmed.
        if (plan.deploymentTemplate === 'desired' && input.observed.stableRevision !== DESIRED)
          expect(input.analysis?.promotionConfirmed).toBe(true);
        // Under the replicas router the stable keeps at least one pod until promotion.
        if (router === 'replicas' && plan.stableReplicas !== undefined) expect(plan.stableReplicas).toBeGreaterThan(0);
      }

      // The weight the router carries never goes down until the Deployment carries the new revision.
      if (router !== 'replicas') {
        const weights = runs
          .filter((run) => run.input.observed.stableRevision !== DESIRED)
          .map((run) => run.plan.routerWeight ?? run.input.observed.routerWeight ?? 0);
        for (let i = 1; i < weights.length; i++) expect(weights[i]).toBeGreaterThanOrEqual(weights[i - 1]!);
        expect([...new Set(weights)]).toEqual([0, 25, 50, 100]);
      } else {
        const desired = runs.map((run) => run.plan.state.desiredWeight).filter((w) => w !== undefined);
        expect([...new Set(desired)]).toEqual([25, 50, 100]);
      }
      if (baseline) {
        // The baseline follows the canary's size while the release runs, and is gone at promotion.
        const sizes = runs
          .filter((run) => run.plan.baselineReplicas !== undefined)
          .map((run) => [run.plan.canaryReplicas, run.plan.baselineReplicas]);
        for (const [canary, size] of sizes) expect(size).toBe(canary);
        expect(new Set(sizes.map(([, size]) => size))).toEqual(new Set([0, 1, 2, 4]));
      }
    },
  );
});
