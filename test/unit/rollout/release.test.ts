import {
  planRelease,
  type ReleaseAction,
  type ReleaseObservation,
  type ReleasePlan,
  type ReleaseState,
  type RouterKind,
} from '../../../src/rollout/release';
import { releaseSteps, type Step } from '../../../src/rollout/steps';

import {
  ago,
  apply,
  at20,
  at50,
  type Case,
  DESIRED,
  type FakeCluster,
  gateway,
  inputOf,
  later,
  NOW,
  observe,
  picked,
  releasing,
  STABLE,
  STEPS,
  type Summary,
  summary,
} from './fixtures';

// The Deployment moved to the desired revision and is rolling out.
const promoted = { stableRevision: DESIRED, stableComplete: false, stableReadyReplicas: 2 };
const IDLE: Partial<Summary> = {
  template: 'desired',
  stable: 4,
  canary: undefined,
  delete: false,
  weight: undefined,
  phase: undefined,
  step: undefined,
  canaryRevision: undefined,
  failedRevision: undefined,
  desiredWeight: undefined,
  reason: 'Released',
  events: [],
  requeue: undefined,
};

describe('planRelease', () => {
  test.each<[string, Case, Partial<Summary>]>([
    // ── no release ──────────────────────────────────────────────────────────────────────────────
    [
      'first deployment (no stable revision): deploy the desired revision straight to stable',
      {
        observed: {
          stableRevision: undefined,
          stableReplicas: 0,
          stablePods: 0,
          stableReadyReplicas: 0,
          stableComplete: false,
        },
      },
      IDLE,
    ],
    [
      'first deployment under a weighted router: the route is set to 0',
      {
        settings: gateway,
        observed: { stableRevision: undefined, stableReplicas: 0, stablePods: 0, stableReadyReplicas: 0 },
      },
      { ...IDLE, weight: 0 },
    ],
    ['idle: desired == stable, no canary', { observed: { stableRevision: DESIRED } }, IDLE],
    [
      'idle under a weighted router at 0: nothing to do',
      { settings: gateway, observed: { stableRevision: DESIRED, routerWeight: 0 } },
      { ...IDLE, weight: 0 },
    ],
    [
      'idle keeps a failedRevision of another revision',
      { state: { failedRevision: 'ccc' }, observed: { stableRevision: DESIRED } },
      { ...IDLE, failedRevision: 'ccc' },
    ],

    // ── start and setWeight ─────────────────────────────────────────────────────────────────────
    [
      'a new revision starts a release at step 0 and scales the canary first (replicas: the stable keeps N until the canary is ready)',
      {},
      {
        template: 'keep',
        stable: 4,
        canary: 1,
        delete: false,
        weight: undefined,
        phase: 'Progressing',
        step: 0,
        canaryRevision: DESIRED,
        failedRevision: undefined,
        desiredWeight: 20,
        reason: 'Progressing',
        events: ['Normal/ReleaseStarted'],
        requeue: 600_000,
      },
    ],
    [
      'a new revision under a weighted router: the stable stays at N, no weight yet',
      { settings: gateway, observed: { routerWeight: 0 } },
      {
        template: 'keep',
        stable: 4,
        canary: 1,
        delete: false,
        weight: undefined,
        phase: 'Progressing',
        step: 0,
        canaryRevision: DESIRED,
        desiredWeight: 20,
        events: ['Normal/ReleaseStarted'],
        requeue: 600_000,
      },
    ],
    [
      'setWeight waits for canary pods; requeues for the deadline left',
      {
        state: releasing(0, 20, 100_000),
        observed: { ...at20, canary: { replicas: 1, readyReplicas: 0 } },
      },
      {
        template: 'keep',
        stable: 3,
        canary: 1,
        delete: false,
        weight: undefined,
        phase: 'Progressing',
        step: 0,
        desiredWeight: 20,
        reason: 'Progressing',
        events: [],
        requeue: 500_000,
      },
    ],
    [
      'setWeight under replicas waits for the stable to scale down to N − canary',
      { state: releasing(0, 20), observed: { canary: { replicas: 1, readyReplicas: 1 } } },
      { stable: 3, canary: 1, step: 0, events: [], requeue: 595_000 },
    ],
    [
      'setWeight done under replicas: the step completes and the next one (a 1 m pause) starts in the same plan',
      { state: releasing(0, 20), observed: at20 },
      {
        template: 'keep',
        stable: 3,
        canary: 1,
        delete: false,
        weight: undefined,
        phase: 'Progressing',
        step: 1,
        desiredWeight: 20,
        reason: 'Progressing',
        events: ['Normal/StepCompleted'],
        requeue: 60_000,
      },
    ],
    [
      'setWeight under a weighted router: canary ready, so set the weight and come back to verify',
      {
        settings: gateway,
        state: releasing(0, 20),
        observed: { canary: { replicas: 1, readyReplicas: 1 }, routerWeight: 0 },
      },
      { stable: 4, canary: 1, weight: 20, phase: 'Progressing', step: 0, events: [], requeue: 1_000 },
    ],
    [
      'setWeight under a weighted router whose route does not exist yet (weight undefined)',
      { settings: gateway, state: releasing(0, 20), observed: { canary: { replicas: 1, readyReplicas: 1 } } },
      { weight: 20, step: 0, events: [], requeue: 1_000 },
    ],
    [
      'setWeight under a weighted router advances only when the weight reads back equal; the pause after it keeps the route',
      {
        settings: { router: 'istio' },
        state: releasing(0, 20),
        observed: { canary: { replicas: 1, readyReplicas: 1 }, routerWeight: 20 },
      },
      { stable: 4, canary: 1, weight: undefined, step: 1, events: ['Normal/StepCompleted'], requeue: 60_000 },
    ],
    [
      'a weighted router never gets a weight while the canary has 0 ready pods',
      {
        settings: { router: 'nginx' },
        state: releasing(0, 20),
        observed: { canary: { replicas: 1, readyReplicas: 0 }, routerWeight: 0 },
      },
      { stable: 4, canary: 1, weight: undefined, step: 0, events: [], requeue: 595_000 },
    ],
    [
      'the weight never goes down within a release: a step asking 30 after 50 holds 50',
      {
        settings: { steps: [{ kind: 'setWeight', weight: 30 }, { kind: 'pause' }] },
        state: releasing(0, 50),
        observed: at50,
      },
      { stable: 2, canary: 2, desiredWeight: 50, step: 1, events: ['Normal/StepCompleted'] },
    ],
    [
      'the weight never goes down under a weighted router either',
      {
        settings: { ...gateway, steps: [{ kind: 'setWeight', weight: 30 }, { kind: 'pause' }] },
        state: releasing(0, 50),
        observed: { canary: { replicas: 2, readyReplicas: 2 }, routerWeight: 30 },
      },
      { stable: 4, canary: 2, weight: 50, desiredWeight: 50, step: 0, events: [], requeue: 1_000 },
    ],

    // ── pauses ─────────────────────────────────────────────────────────────────────────────────
    [
      'pause 1m not elapsed: hold, requeue for the time left',
      { state: releasing(1, 20, 20_000), observed: at20 },
      {
        template: 'keep',
        stable: 3,
        canary: 1,
        delete: false,
        weight: undefined,
        phase: 'Progressing',
        step: 1,
        desiredWeight: 20,
        events: [],
        requeue: 40_000,
      },
    ],
    [
      'pause under a weighted router leaves the weight where it is',
      {
        settings: gateway,
        state: releasing(1, 20, 20_000),
        observed: { canary: { replicas: 1, readyReplicas: 1 }, routerWeight: 20 },
      },
      { stable: 4, canary: 1, weight: undefined, step: 1, requeue: 40_000 },
    ],
    [
      'pause 1m elapsed: advance, and the next step (50%) scales the canary in the same plan',
      { state: releasing(1, 20, 60_000), observed: at20 },
      { stable: 3, canary: 2, phase: 'Progressing', step: 2, events: ['Normal/StepCompleted'], requeue: 600_000 },
    ],
    [
      'the last step (a 1 s pause) elapsed: the promotion starts by scaling the canary to full size',
      {
        settings: {
          steps: [
            { kind: 'setWeight', weight: 50 },
            { kind: 'pause', durationMs: 1_000 },
          ],
        },
        state: releasing(1, 50, 1_000),
        observed: at50,
      },
      {
        template: 'keep',
        phase: 'Promoting',
        step: 2,
        canary: 4,
        message: 'Promoting bbb: scaling the canary to 4 (2 ready)',
        events: ['Normal/StepCompleted'],
        requeue: 600_000,
      },
    ],
    [
      'the last step elapsed with the canary at full size: status says Promoting before the stable template moves',
      {
        settings: { replicas: 1, steps: [{ kind: 'pause', durationMs: 1_000 }] },
        state: releasing(0, 0, 1_000),
        observed: {
          stableReplicas: 1,
          stablePods: 1,
          stableReadyReplicas: 1,
          canary: { replicas: 1, readyReplicas: 1 },
        },
      },
      {
        template: 'keep',
        phase: 'Promoting',
        step: 1,
        reason: 'Promoting',
        message: 'Promoting bbb: updating the Deployment',
        events: ['Normal/StepCompleted'],
        requeue: 0,
      },
    ],
    [
      'the reconcile after it moves the stable template, and its plan writes the same status',
      {
        settings: { replicas: 1, steps: [{ kind: 'pause', durationMs: 1_000 }] },
        state: releasing(1, 0, 0),
        observed: {
          stableReplicas: 1,
          stablePods: 1,
          stableReadyReplicas: 1,
          canary: { replicas: 1, readyReplicas: 1 },
        },
      },
      {
        template: 'desired',
        phase: 'Promoting',
        step: 1,
        reason: 'Promoting',
        message: 'Promoting bbb: updating the Deployment',
        events: [],
        requeue: undefined,
      },
    ],
    [
      'pause {}: phase Paused until promoted, no requeue',
      { state: releasing(3, 50, 3_600_000), observed: at50 },
      {
        template: 'keep',
        stable: 2,
        canary: 2,
        delete: false,
        weight: undefined,
        phase: 'Paused',
        step: 3,
        reason: 'Progressing',
        events: [],
        requeue: undefined,
      },
    ],
    [
      'pause {} with action promote: on to promotion, the canary scales to N first',
      { state: releasing(3, 50, 3_600_000), observed: at50, action: 'promote' },
      {
        template: 'keep',
        stable: 2,
        canary: 4,
        delete: false,
        weight: undefined,
        phase: 'Promoting',
        step: 4,
        reason: 'Promoting',
        events: ['Normal/PromoteRequested'],
        requeue: 600_000,
      },
    ],
    [
      'action promote-full at step 0 skips the remaining steps',
      { state: releasing(0, 20), observed: at20, action: 'promote-full' },
      { stable: 3, canary: 4, phase: 'Promoting', step: 4, events: ['Normal/PromoteRequested'], requeue: 600_000 },
    ],
    [
      'action promote at a weight step changes nothing: it continues past pauses only',
      { state: releasing(0, 20), observed: at20, action: 'promote' },
      { stable: 3, canary: 1, phase: 'Progressing', step: 1, events: ['Normal/StepCompleted'] },
    ],
    [
      'action promote at the first of two untimed pauses continues to the next step, not to promotion',
      {
        settings: {
          steps: [
            { kind: 'setWeight', weight: 25 },
            { kind: 'pause' },
            { kind: 'setWeight', weight: 50 },
            { kind: 'pause' },
          ],
        },
        state: releasing(1, 25),
        observed: at20,
        action: 'promote',
      },
      { phase: 'Progressing', step: 2, canary: 2, desiredWeight: 50, events: ['Normal/PromoteRequested'] },
    ],
    [
      'action promote at a timed pause ends the pause now',
      { state: releasing(1, 20, 5_000), observed: at20, action: 'promote' },
      { phase: 'Progressing', step: 2, canary: 2, desiredWeight: 50, events: ['Normal/PromoteRequested'] },
    ],
    [
      'kubectl scale to 8 while paused at 25% of 4: the canary keeps its share (2 of 8), the weight stays 25%',
      {
        settings: { replicas: 8, steps: [{ kind: 'setWeight', weight: 25 }, { kind: 'pause' }] },
        state: releasing(1, 25),
        observed: {
          stableReplicas: 3,
          stablePods: 3,
          stableReadyReplicas: 3,
          canary: { replicas: 1, readyReplicas: 1 },
        },
      },
      { phase: 'Paused', canary: 2, stable: 6, step: 1 },
    ],
    [
      'action skip-analysis does nothing to the steps',
      { state: releasing(3, 50), observed: at50, action: 'skip-analysis' },
      { phase: 'Paused', step: 3, events: [] },
    ],

    // ── promotion ──────────────────────────────────────────────────────────────────────────────
    [
      'promotion under replicas: waits for the canary at N',
      { state: releasing(4, 50, 10_000), observed: { ...at50, canary: { replicas: 4, readyReplicas: 3 } } },
      { template: 'keep', stable: 2, canary: 4, phase: 'Promoting', reason: 'Promoting', requeue: 590_000 },
    ],
    [
      'promotion under replicas: canary at N, so the Deployment moves to the desired template',
      { state: releasing(4, 50), observed: { ...at50, canary: { replicas: 4, readyReplicas: 4 } } },
      {
        template: 'desired',
        stable: 2,
        canary: 4,
        delete: false,
        weight: undefined,
        phase: 'Promoting',
        step: 4,
        reason: 'Promoting',
        events: [],
        requeue: undefined,
      },
    ],
    [
      'promotion under a weighted router: no weight change before the canary is at N',
      {
        settings: gateway,
        state: releasing(4, 50),
        observed: { canary: { replicas: 4, readyReplicas: 2 }, routerWeight: 50 },
      },
      { template: 'keep', stable: 4, canary: 4, weight: undefined, phase: 'Promoting', requeue: 595_000 },
    ],
    [
      'promotion under a weighted router: canary at N, route 100% to it and verify',
      {
        settings: gateway,
        state: releasing(4, 50),
        observed: { canary: { replicas: 4, readyReplicas: 4 }, routerWeight: 50 },
      },
      { template: 'keep', stable: 4, canary: 4, weight: 100, phase: 'Promoting', requeue: 1_000 },
    ],
    [
      'promotion under a weighted router: 100% verified, then the Deployment template',
      {
        settings: gateway,
        state: releasing(4, 50),
        observed: { canary: { replicas: 4, readyReplicas: 4 }, routerWeight: 100 },
      },
      { template: 'desired', stable: 4, canary: 4, delete: false, weight: 100, phase: 'Promoting', requeue: undefined },
    ],
    [
      'finishing promotion (weighted): waits for the Deployment, traffic stays on the canary',
      {
        settings: gateway,
        state: releasing(4, 50),
        observed: { ...promoted, canary: { replicas: 4, readyReplicas: 4 }, routerWeight: 100 },
      },
      {
        template: 'desired',
        stable: 4,
        canary: 4,
        delete: false,
        weight: 100,
        phase: 'Promoting',
        step: 4,
        canaryRevision: DESIRED,
        reason: 'Promoting',
        events: [],
        requeue: undefined,
      },
    ],
    [
      'finishing promotion (replicas): waits for the Deployment, the stable back to N',
      {
        state: releasing(4, 50),
        observed: { ...promoted, stableReplicas: 2, canary: { replicas: 4, readyReplicas: 4 } },
      },
      { template: 'desired', stable: 4, canary: 4, delete: false, weight: undefined, phase: 'Promoting' },
    ],
    [
      'finishing promotion (replicas), the canary set claimed by the Deployment: its weight is the new revision’s share of ready pods',
      {
        state: releasing(4, 50),
        observed: { ...promoted, stableReadyReplicas: 6, readyByRevision: { desired: 4, other: 2 } },
      },
      {
        template: 'desired',
        phase: 'Promoting',
        canaryWeight: 67,
        message: 'Promoting bbb: waiting for the Deployment to roll out',
      },
    ],
    [
      'finishing promotion (weighted): Deployment complete, route back to stable and verify',
      {
        settings: gateway,
        state: releasing(4, 50),
        observed: { stableRevision: DESIRED, canary: { replicas: 4, readyReplicas: 4 }, routerWeight: 100 },
      },
      { template: 'desired', stable: 4, canary: 4, delete: false, weight: 0, phase: 'Promoting', requeue: 1_000 },
    ],
    [
      'finishing promotion (weighted): 0 verified, delete the canary',
      {
        settings: gateway,
        state: releasing(4, 50),
        observed: { stableRevision: DESIRED, canary: { replicas: 4, readyReplicas: 4 }, routerWeight: 0 },
      },
      { template: 'desired', stable: 4, canary: undefined, delete: true, weight: 0, phase: 'Promoting', events: [] },
    ],
    [
      'finishing promotion (replicas): Deployment complete, delete the canary',
      { state: releasing(4, 50), observed: { stableRevision: DESIRED, canary: { replicas: 4, readyReplicas: 4 } } },
      { template: 'desired', stable: 4, canary: undefined, delete: true, weight: undefined, phase: 'Promoting' },
    ],
    [
      'finishing promotion: canary gone, idle with a Promoted event',
      { settings: gateway, state: releasing(4, 50), observed: { stableRevision: DESIRED, routerWeight: 0 } },
      { ...IDLE, weight: 0, events: ['Normal/Promoted'] },
    ],
    [
      'abort after the Deployment moved is too late: promotion goes on',
      {
        settings: gateway,
        state: releasing(4, 50),
        observed: { ...promoted, canary: { replicas: 4, readyReplicas: 4 }, routerWeight: 100 },
        action: 'abort',
      },
      { template: 'desired', phase: 'Promoting', failedRevision: undefined, events: [] },
    ],

    // ── rollback ───────────────────────────────────────────────────────────────────────────────
    [
      'abort (weighted): RolledBack, failedRevision, Warning, weight to 0 before any delete',
      {
        settings: gateway,
        state: releasing(2, 50),
        observed: { canary: { replicas: 2, readyReplicas: 2 }, routerWeight: 50 },
        action: 'abort',
      },
      {
        template: 'keep',
        stable: 4,
        canary: undefined,
        delete: false,
        weight: 0,
        phase: 'RolledBack',
        step: undefined,
        canaryRevision: undefined,
        failedRevision: DESIRED,
        desiredWeight: undefined,
        reason: 'Aborted',
        events: ['Warning/RolledBack'],
        requeue: 1_000,
      },
    ],
    [
      'abort (replicas): the stable back to N; the canary stays until the stable is ready at N',
      { state: releasing(1, 20), observed: at20, action: 'abort' },
      {
        template: 'keep',
        stable: 4,
        canary: undefined,
        delete: false,
        weight: undefined,
        phase: 'RolledBack',
        failedRevision: DESIRED,
        reason: 'Aborted',
        events: ['Warning/RolledBack'],
        requeue: 1_000,
      },
    ],
    [
      'rolled back (weighted): 0 verified, delete the canary, no second event',
      {
        settings: gateway,
        state: { failedRevision: DESIRED },
        observed: { canary: { replicas: 2, readyReplicas: 2 }, routerWeight: 0 },
      },
      {
        template: 'keep',
        stable: 4,
        canary: undefined,
        delete: true,
        weight: 0,
        phase: 'RolledBack',
        failedRevision: DESIRED,
        reason: 'RolledBack',
        events: [],
        requeue: 1_000,
      },
    ],
    [
      'failedRevision == desired: stays RolledBack, the stable template kept',
      { state: { failedRevision: DESIRED } },
      {
        template: 'keep',
        stable: 4,
        canary: undefined,
        delete: false,
        weight: undefined,
        phase: 'RolledBack',
        step: undefined,
        canaryRevision: undefined,
        failedRevision: DESIRED,
        reason: 'RolledBack',
        events: [],
        requeue: undefined,
      },
    ],
    [
      'progress deadline exceeded waiting for canary pods: rollback',
      {
        state: releasing(0, 20, 601_000),
        observed: { ...at20, canary: { replicas: 1, readyReplicas: 0 } },
      },
      {
        template: 'keep',
        stable: 4,
        canary: undefined,
        delete: true,
        phase: 'RolledBack',
        failedRevision: DESIRED,
        canaryRevision: undefined,
        reason: 'ProgressDeadlineExceeded',
        events: ['Warning/RolledBack'],
      },
    ],
    [
      'exactly at the progress deadline: still waiting, requeue at least 1s',
      {
        state: releasing(0, 20, 600_000),
        observed: { ...at20, canary: { replicas: 1, readyReplicas: 0 } },
      },
      { phase: 'Progressing', failedRevision: undefined, events: [], requeue: 1_000 },
    ],
    [
      'progress deadline exceeded scaling the canary for promotion: rollback',
      {
        settings: gateway,
        state: releasing(4, 50, 700_000),
        observed: { canary: { replicas: 4, readyReplicas: 2 }, routerWeight: 50 },
      },
      {
        template: 'keep',
        weight: 0,
        delete: false,
        phase: 'RolledBack',
        failedRevision: DESIRED,
        reason: 'ProgressDeadlineExceeded',
        events: ['Warning/RolledBack'],
      },
    ],
    [
      'retry clears failedRevision and a new release starts at step 0',
      { state: { failedRevision: DESIRED }, action: 'retry' },
      {
        template: 'keep',
        stable: 4,
        canary: 1,
        phase: 'Progressing',
        step: 0,
        canaryRevision: DESIRED,
        failedRevision: undefined,
        desiredWeight: 20,
        reason: 'Progressing',
        events: ['Normal/Retry', 'Normal/ReleaseStarted'],
      },
    ],
    [
      'retry does not clear the failedRevision of another revision',
      { state: { failedRevision: 'ccc' }, action: 'retry' },
      { step: 0, canaryRevision: DESIRED, failedRevision: 'ccc', events: ['Normal/ReleaseStarted'] },
    ],
    [
      'a new spec after a rollback releases the new revision',
      { state: { failedRevision: DESIRED }, desiredRevision: 'ccc' },
      {
        phase: 'Progressing',
        step: 0,
        canaryRevision: 'ccc',
        failedRevision: DESIRED,
        events: ['Normal/ReleaseStarted'],
      },
    ],

    // ── a new revision mid-release ─────────────────────────────────────────────────────────────
    [
      'a new revision mid-release (weighted): restart at step 0, weight to 0 before the stale canary goes',
      {
        settings: gateway,
        state: { revision: 'ccc', step: 2, desiredWeight: 50, stepStartTime: ago(3_600_000) },
        observed: { staleCanaries: 1, routerWeight: 50 },
      },
      {
        template: 'keep',
        stable: 4,
        canary: undefined,
        delete: false,
        weight: 0,
        phase: 'Progressing',
        step: 0,
        canaryRevision: DESIRED,
        desiredWeight: 0,
        reason: 'Progressing',
        events: ['Normal/ReleaseStarted'],
        requeue: 1_000,
      },
    ],
    [
      'stale canary (weighted), 0 verified: delete it, still no new canary',
      { settings: gateway, state: releasing(0, 0), observed: { staleCanaries: 1, routerWeight: 0 } },
      { canary: undefined, delete: true, weight: 0, step: 0, events: [], requeue: 1_000 },
    ],
    [
      'a new revision mid-release (replicas): the stale canary goes at once, the stable back to N',
      {
        state: { revision: 'ccc', step: 2, desiredWeight: 50, stepStartTime: ago(60_000) },
        observed: { ...at50, canary: undefined, staleCanaries: 1 },
      },
      {
        stable: 4,
        canary: undefined,
        delete: true,
        phase: 'Progressing',
        step: 0,
        canaryRevision: DESIRED,
        desiredWeight: 0,
        events: ['Normal/ReleaseStarted'],
      },
    ],
    [
      'stale canary gone: the new canary scales',
      { state: releasing(0, 0), observed: { staleCanaries: 0 } },
      { stable: 4, canary: 1, delete: false, step: 0, desiredWeight: 20, events: [] },
    ],

    // ── release.paused ─────────────────────────────────────────────────────────────────────────
    [
      'release.paused holds everything where it is',
      { settings: { paused: true }, state: releasing(0, 20), observed: at20 },
      {
        template: 'keep',
        stable: 3,
        canary: 1,
        delete: false,
        weight: undefined,
        phase: 'Paused',
        step: 0,
        desiredWeight: 20,
        events: [],
        requeue: undefined,
      },
    ],
    [
      'release.paused at the start of a release: no canary pods yet',
      { settings: { paused: true } },
      {
        stable: 4,
        canary: 0,
        weight: undefined,
        phase: 'Paused',
        step: 0,
        desiredWeight: 0,
        events: ['Normal/ReleaseStarted'],
      },
    ],
    [
      'release.paused holds a timed pause that has run out',
      { settings: { paused: true }, state: releasing(1, 20, 120_000), observed: at20 },
      { phase: 'Paused', step: 1, events: [], requeue: undefined },
    ],
    [
      'release.paused holds a promotion before the Deployment moves',
      {
        settings: { ...gateway, paused: true },
        state: releasing(4, 50),
        observed: { canary: { replicas: 4, readyReplicas: 4 }, routerWeight: 100 },
      },
      { template: 'keep', stable: 4, canary: 4, weight: undefined, phase: 'Paused' },
    ],

    // ── strategy Rolling ───────────────────────────────────────────────────────────────────────
    [
      'strategy Rolling with a leftover canary (weighted): weight to 0 first',
      {
        strategy: 'Rolling',
        settings: gateway,
        state: releasing(1, 20),
        observed: { canary: { replicas: 1, readyReplicas: 1 }, routerWeight: 20 },
      },
      { ...IDLE, weight: 0, delete: false, requeue: 1_000 },
    ],
    [
      'strategy Rolling with a leftover canary (weighted), 0 verified: delete it',
      {
        strategy: 'Rolling',
        settings: gateway,
        observed: { canary: { replicas: 1, readyReplicas: 1 }, routerWeight: 0 },
      },
      { ...IDLE, weight: 0, delete: true, requeue: 1_000 },
    ],
    [
      'strategy Rolling with a leftover canary (replicas): stable to N; the canary stays until the stable is ready at N',
      { strategy: 'Rolling', state: releasing(1, 20), observed: at20 },
      { ...IDLE, stable: 4, delete: false, requeue: 1_000 },
    ],
    [
      'strategy Rolling with a stale canary of another revision',
      { strategy: 'Rolling', observed: { stableRevision: DESIRED, staleCanaries: 2 } },
      { ...IDLE, delete: true, requeue: 1_000 },
    ],

    // ── autoscaling ────────────────────────────────────────────────────────────────────────────
    [
      'autoscaled: the total is the stable’s current replicas, the stable left to the HPA',
      {
        settings: { autoscaled: true, replicas: 20 },
        observed: { stableReplicas: 5, stablePods: 5, stableReadyReplicas: 5 },
      },
      { stable: undefined, canary: 1, step: 0, desiredWeight: 20, events: ['Normal/ReleaseStarted'] },
    ],
    [
      'autoscaled at 50% of 5: canary ceil(2.5) = 3',
      {
        settings: { autoscaled: true, replicas: 20 },
        state: releasing(2, 20),
        observed: {
          stableReplicas: 5,
          stablePods: 5,
          stableReadyReplicas: 5,
          canary: { replicas: 1, readyReplicas: 1 },
        },
      },
      { stable: undefined, canary: 3, step: 2, desiredWeight: 50, events: [] },
    ],
    [
      'autoscaled: the stable pod count does not gate a step',
      {
        settings: { autoscaled: true, replicas: 20 },
        state: releasing(2, 50),
        observed: {
          stableReplicas: 7,
          stablePods: 8,
          stableReadyReplicas: 7,
          canary: { replicas: 3, readyReplicas: 4 },
        },
      },
      { stable: undefined, canary: 4, step: 3, events: ['Normal/StepCompleted'] },
    ],
    [
      'autoscaled promotion: the canary at the stable’s current size',
      {
        settings: { autoscaled: true, router: 'istio' },
        state: releasing(4, 50),
        observed: { stableReplicas: 6, canary: { replicas: 3, readyReplicas: 3 }, routerWeight: 50 },
      },
      { template: 'keep', stable: undefined, canary: 6, weight: undefined, phase: 'Promoting' },
    ],
    [
      'autoscaled finishing promotion: the stable still left to the HPA',
      {
        settings: { autoscaled: true },
        state: releasing(4, 50),
        observed: { ...promoted, stableReplicas: 6, canary: { replicas: 6, readyReplicas: 6 } },
      },
      { template: 'desired', stable: undefined, canary: 6, phase: 'Promoting' },
    ],
  ])('%s', (_name, c, expected) => {
    expect(picked(planRelease(inputOf(c)), expected)).toEqual(expected);
  });

  test('a hold under a weighted router takes the weight back from a canary with no ready pod, and never raises it', () => {
    const gone = planRelease(
      inputOf({
        settings: { ...gateway, paused: true },
        state: releasing(1, 20),
        observed: { canary: { replicas: 1, readyReplicas: 0 }, routerWeight: 20 },
      }),
    );
    expect(gone.routerWeight).toBe(0);
    const healthy = planRelease(
      inputOf({
        settings: { ...gateway, paused: true },
        state: releasing(1, 50),
        observed: { canary: { replicas: 2, readyReplicas: 2 }, routerWeight: 20 },
      }),
    );
    expect(healthy.routerWeight).toBeUndefined();
  });

  test('a pause step gives a route that lost its weight (edited, or new mid-release) the weight back, once the pods are there', () => {
    const pause = (observed: Partial<ReleaseObservation>) =>
      planRelease(inputOf({ settings: gateway, state: releasing(3, 50), observed })).routerWeight;
    expect(pause({ canary: { replicas: 2, readyReplicas: 2 }, routerWeight: 0 })).toBe(50);
    expect(pause({ canary: { replicas: 2, readyReplicas: 2 }, routerWeight: 50 })).toBeUndefined();
    expect(pause({ canary: { replicas: 2, readyReplicas: 1 }, routerWeight: 0 })).toBeUndefined();
  });

  describe('the step clock', () => {
    test('a release starts its step clock now', () => {
      expect(planRelease(inputOf()).state.stepStartTime).toBe(NOW.toISOString());
    });

    test.each<[string, Case]>([
      ['a setWeight step', { state: releasing(0, 20, 30_000), observed: at20 }],
      ['a timed pause', { state: releasing(1, 20, 90_000), observed: at20 }],
      ['a promote action', { state: releasing(3, 50, 90_000), observed: at50, action: 'promote' }],
    ])('completing %s restarts it', (_name, c) => {
      expect(planRelease(inputOf(c)).state.stepStartTime).toBe(NOW.toISOString());
    });

    test('waiting keeps it', () => {
      const state = releasing(1, 20, 20_000);
      expect(planRelease(inputOf({ state, observed: at20 })).state.stepStartTime).toBe(state.stepStartTime);
    });

    test('release.paused stops it: a release committed together with paused: true does not roll back when resumed an hour later', () => {
      const held = planRelease(inputOf({ settings: { paused: true }, observed: { canary: undefined } }));
      expect(held.phase).toBe('Paused');
      expect(held.state.holdStartTime).toBe(NOW.toISOString());
      const resumed = planRelease(
        inputOf({ state: held.state, observed: { canary: { replicas: 0, readyReplicas: 0 } }, now: later(3_600_000) }),
      );
      // The canary scales first; the stable keeps its 4 pods until the canary's pod is ready.
      expect(summary(resumed)).toMatchObject({ phase: 'Progressing', canary: 1, stable: 4, failedRevision: undefined });
      expect(resumed.state.holdStartTime).toBeUndefined();
      expect(resumed.state.stepStartTime).toBe(later(3_600_000).toISOString());
      expect(resumed.events).toEqual([]);
    });

    test('time held does not count: a step that was already late when paused is still late', () => {
      const held = planRelease(
        inputOf({ settings: { paused: true }, state: releasing(0, 0, 3_600_000), observed: { canary: undefined } }),
      );
      const resumed = planRelease(
        inputOf({ state: held.state, observed: { canary: { replicas: 1, readyReplicas: 0 } }, now: later(1_000) }),
      );
      expect(summary(resumed)).toMatchObject({ phase: 'RolledBack', failedRevision: DESIRED });
    });

    test('a timed pause keeps the time it had left when the release resumes', () => {
      const held = planRelease(
        inputOf({ settings: { paused: true }, state: releasing(1, 20, 50_000), observed: at20 }),
      );
      const resumed = planRelease(inputOf({ state: held.state, observed: at20, now: later(120_000) }));
      expect(summary(resumed)).toMatchObject({ phase: 'Progressing', step: 1, requeue: 10_000 });
    });

    test('holding writes the hold start once, so a paused release makes no further status writes', () => {
      const first = planRelease(
        inputOf({ settings: { paused: true }, state: releasing(1, 20, 50_000), observed: at20 }),
      );
      const again = planRelease(
        inputOf({ settings: { paused: true }, state: first.state, observed: at20, now: later(30_000) }),
      );
      expect(again.state).toEqual(first.state);
    });
  });

  describe('messages', () => {
    test.each<[string, Case, string]>([
      [
        'waiting for pods',
        { state: releasing(0, 20), observed: { canary: { replicas: 1, readyReplicas: 0 } } },
        'Canary bbb at 20%, step 1/4: waiting for canary pods (0/1 ready)',
      ],
      [
        'a timed pause',
        { state: releasing(1, 20, 20_000), observed: at20 },
        'Canary bbb at 20%, step 2/4: pausing, 40s left',
      ],
      [
        'an untimed pause',
        { state: releasing(3, 50), observed: at50 },
        'Canary bbb at 50%, step 4/4: waiting for promotion (kubectl msop promote, or the annotation msop.dev/action: promote)',
      ],
      [
        'rolled back',
        { state: { failedRevision: DESIRED } },
        'Revision bbb was rolled back; aaa serves. Change the spec, or run kubectl msop retry, to release again',
      ],
    ])('%s', (_name, c, message) => {
      expect(planRelease(inputOf(c)).message).toBe(message);
    });

    test('the rollback event and condition say why', () => {
      const plan = planRelease(
        inputOf({ state: releasing(0, 20, 660_000), observed: { ...at20, canary: { replicas: 1, readyReplicas: 0 } } }),
      );
      const message = 'Rolled back revision bbb: canary bbb had 0/1 ready pods after 11m';
      expect(plan.events).toEqual([{ type: 'Warning', reason: 'RolledBack', message }]);
      expect(plan.released).toEqual({ status: 'False', reason: 'ProgressDeadlineExceeded', message });
    });
  });

  test('does not change the state it was given', () => {
    const state = releasing(1, 20, 60_000);
    const copy = structuredClone(state);
    planRelease(inputOf({ state, observed: at20 }));
    expect(state).toEqual(copy);
  });

  test.each<[RouterKind]>([['gatewayAPI'], ['istio'], ['nginx']])(
    'with 0 replicas, %s never routes to a canary without pods, and the step still completes',
    (router) => {
      const plan = planRelease(
        inputOf({
          settings: { router, replicas: 0 },
          state: releasing(0, 20),
          observed: {
            stableReplicas: 0,
            stablePods: 0,
            stableReadyReplicas: 0,
            canary: { replicas: 0, readyReplicas: 0 },
            routerWeight: 0,
          },
        }),
      );
      expect(plan.routerWeight ?? 0).toBe(0);
      expect(plan.state.step).toBe(1);
    },
  );
});

// ── A whole release against a tiny cluster model ──────────────────────────────────────────────────

interface Run {
  plans: ReleasePlan[];
  cluster: FakeCluster;
  events: string[];
  /** The router weight after each reconcile (weighted), or the canary's share of ready pods (replicas). */
  weights: number[];
}

interface Simulation {
  router: RouterKind;
  steps: Step[];
  replicas: number;
  autoscaled?: boolean;
  /** Change the spec at some reconcile: abort, or a new revision. */
  at?: (iteration: number, plan: ReleasePlan | undefined) => { action?: ReleaseAction; desired?: string } | undefined;
}

/** Runs planRelease until nothing is left to do, checking the invariants after every reconcile. */
function simulate(sim: Simulation): Run {
  const weighted = sim.router !== 'replicas';
  const hpaReplicas = 5;
  const total = sim.autoscaled ? hpaReplicas : sim.replicas;
  const cluster: FakeCluster = {
    stableRevision: STABLE,
    stableReplicas: total,
    rollingOut: false,
    canaries: new Map(),
    routerWeight: sim.router === 'gatewayAPI' ? undefined : weighted ? 0 : undefined,
  };
  let desired = DESIRED;
  let state: ReleaseState = {};
  let now = NOW.getTime();
  let action: ReleaseAction | undefined;
  let last: ReleasePlan | undefined;
  let rolledBack = false;
  const run: Run = { plans: [], cluster, events: [], weights: [] };

  for (let iteration = 0; iteration < 200; iteration++) {
    const change = sim.at?.(iteration, last);
    if (change?.action) action = change.action;
    if (change?.desired) desired = change.desired;
    const observed = observe(cluster, desired, weighted);
    const plan = planRelease({
      settings: {
        steps: sim.steps,
        router: sim.router,
        replicas: sim.replicas,
        autoscaled: sim.autoscaled ?? false,
        paused: false,
        progressDeadlineMs: 600_000,
      },
      strategy: 'Canary',
      state,
      desiredRevision: desired,
      observed,
      action,
      now: new Date(now),
    });
    action = undefined;
    run.plans.push(plan);
    run.events.push(...plan.events.map((event) => `${event.type}/${event.reason}`));
    if (plan.phase === 'RolledBack') rolledBack = true;

    // Never a weight on a canary without ready pods.
    if ((plan.routerWeight ?? 0) > 0) expect(observed.canary?.readyReplicas ?? 0).toBeGreaterThan(0);
    // The stable template changes only at promotion: after the canary carries everything.
    if (plan.deploymentTemplate === 'desired' && observed.stableRevision !== desired) {
      expect(plan.phase).toBe('Promoting');
      expect(observed.canary?.readyReplicas).toBe(Math.max(1, total));
      if (weighted) expect(observed.routerWeight).toBe(100);
    }
    // Within one release the desired weight never goes down.
    if (last && !rolledBack && plan.state.revision === last.state.revision) {
      expect(plan.state.desiredWeight ?? 0).toBeGreaterThanOrEqual(last.state.desiredWeight ?? 0);
    }

    const weightBefore = run.weights.at(-1) ?? 0;
    apply(cluster, plan, desired);
    const canaries = [...cluster.canaries.values()];
    const canaryReady = canaries.reduce((sum, canary) => sum + canary.readyReplicas, 0);
    // Two revisions never run as canaries at once.
    expect(cluster.canaries.size).toBeLessThanOrEqual(1);
    // No request meets zero ready pods.
    if (weighted) {
      const weight = cluster.routerWeight ?? 0;
      if (weight > 0) expect(canaryReady).toBeGreaterThan(0);
      if (weight < 100 && total > 0) expect(cluster.stableReplicas).toBeGreaterThan(0);
      run.weights.push(weight);
    } else {
      if (total > 0) expect(cluster.stableReplicas + canaryReady).toBeGreaterThan(0);
      run.weights.push(Math.round((100 * canaryReady) / Math.max(1, canaryReady + cluster.stableReplicas)));
    }
    // The weight goes down only on rollback, on a restart for a newer revision, or once the Deployment
    // carries the new revision.
    const restarted = last !== undefined && plan.state.revision !== last.state.revision;
    if (weighted && !rolledBack && !restarted && cluster.stableRevision !== desired) {
      expect(run.weights.at(-1)).toBeGreaterThanOrEqual(weightBefore);
    }

    state = plan.state;
    last = plan;
    if (plan.phase === 'Paused') action = 'promote';
    const done =
      plan.requeueAfterMs === undefined &&
      !plan.deleteCanaries &&
      plan.phase !== 'Paused' &&
      cluster.canaries.size === 0;
    if (done && (plan.phase === undefined || plan.phase === 'RolledBack')) return run;
    now += plan.requeueAfterMs ?? 1_000;
  }
  throw new Error(`the release did not settle in 200 reconciles; last message: ${last?.message}`);
}

const ROUTERS: RouterKind[] = ['replicas', 'gatewayAPI', 'istio', 'nginx'];
const STEP_LISTS: [string, Step[]][] = [
  ['every kind of step', STEPS],
  ['the default shorthand', releaseSteps(undefined)],
  ['stepWeight 30 up to 100', releaseSteps({ stepWeight: 30 })],
  ['a single setWeight 100', [{ kind: 'setWeight', weight: 100 }]],
  ['no steps', []],
];

describe('a whole release', () => {
  const grid = ROUTERS.flatMap((router) =>
    STEP_LISTS.flatMap(([stepsName, steps]) =>
      [0, 1, 3, 10].flatMap((replicas) =>
        [false, true].map((autoscaled) => [router, stepsName, replicas, autoscaled, steps] as const),
      ),
    ),
  );

  test.each(grid)(
    '%s, %s, %d replicas, autoscaled %s: promotes and keeps the invariants',
    (router, _n, replicas, autoscaled, steps) => {
      const run = simulate({ router, steps, replicas, autoscaled });
      const last = run.plans.at(-1)!;
      expect(last.phase).toBeUndefined();
      expect(last.released.reason).toBe('Released');
      expect(run.cluster.stableRevision).toBe(DESIRED);
      expect(run.cluster.canaries.size).toBe(0);
      expect(run.cluster.routerWeight ?? 0).toBe(0);
      expect(run.cluster.stableReplicas).toBe(autoscaled ? 5 : replicas);
      expect(last.state).toEqual({ failedRevision: undefined });
      const untimed = steps.filter((step) => step.kind === 'pause' && step.durationMs === undefined).length;
      expect(run.events.filter((event) => event === 'Normal/StepCompleted')).toHaveLength(steps.length - untimed);
      expect(run.events[0]).toBe('Normal/ReleaseStarted');
      expect(run.events.at(-1)).toBe('Normal/Promoted');
      expect(run.events.filter((event) => event.startsWith('Warning/'))).toEqual([]);
      // The template changed exactly once.
      expect(
        run.plans.filter(
          (plan, i) =>
            plan.deploymentTemplate === 'desired' && i > 0 && run.plans[i - 1]!.deploymentTemplate === 'keep',
        ),
      ).toHaveLength(1);
    },
  );

  test.each<[RouterKind, number[]]>([
    ['gatewayAPI', [20, 50, 100, 0]],
    ['istio', [20, 50, 100, 0]],
    ['nginx', [20, 50, 100, 0]],
    // 4 pods, the canary scaled before the stable shrinks: 1 beside 4 (20%), then 1 of 4 (25%); 2 beside 3
    // (40%), then 2 of 4 (50%); 4 beside 2 stable (67%), 4 beside the promoted stable back at 4 (50%), then
    // the stable alone.
    ['replicas', [20, 25, 40, 50, 67, 50, 0]],
  ])('%s: the weights a 4-pod release goes through', (router, weights) => {
    const run = simulate({ router, steps: STEPS, replicas: 4 });
    const distinct = run.weights.filter((weight, i) => weight !== (run.weights[i - 1] ?? 0));
    expect(distinct).toEqual(weights);
  });

  test.each(ROUTERS)('%s: abort mid-release rolls back, keeps the stable template, removes the canary', (router) => {
    const run = simulate({
      router,
      steps: STEPS,
      replicas: 4,
      at: (_i, plan) => (plan?.state.step === 2 ? { action: 'abort' } : undefined),
    });
    const last = run.plans.at(-1)!;
    expect(last.phase).toBe('RolledBack');
    expect(last.state).toEqual({ failedRevision: DESIRED });
    expect(run.plans.every((plan) => plan.deploymentTemplate === 'keep')).toBe(true);
    expect(run.cluster.stableRevision).toBe(STABLE);
    expect(run.cluster.stableReplicas).toBe(4);
    expect(run.cluster.canaries.size).toBe(0);
    expect(run.cluster.routerWeight ?? 0).toBe(0);
    expect(run.events.filter((event) => event === 'Warning/RolledBack')).toHaveLength(1);
  });

  test.each(ROUTERS)('%s: a new revision mid-release drains the old canary, then releases the new one', (router) => {
    let replaced = false;
    const run = simulate({
      router,
      steps: STEPS,
      replicas: 4,
      at: (_i, plan) => {
        if (replaced || plan?.state.step !== 3) return undefined;
        replaced = true;
        return { desired: 'ccc' };
      },
    });
    expect(run.cluster.stableRevision).toBe('ccc');
    expect(run.cluster.canaries.size).toBe(0);
    expect(run.events.filter((event) => event === 'Normal/ReleaseStarted')).toHaveLength(2);
    expect(run.events.at(-1)).toBe('Normal/Promoted');
    expect(run.events.filter((event) => event.startsWith('Warning/'))).toEqual([]);
  });

  test('the progress deadline rolls back a canary whose pods never become ready', () => {
    // A cluster where canary pods never get ready: the release must give up, not wait forever.
    const cluster: FakeCluster = {
      stableRevision: STABLE,
      stableReplicas: 4,
      rollingOut: false,
      canaries: new Map(),
      routerWeight: 0,
    };
    let state: ReleaseState = {};
    let now = NOW.getTime();
    let plan: ReleasePlan | undefined;
    for (let i = 0; i < 20 && plan?.phase !== 'RolledBack'; i++) {
      plan = planRelease({
        ...inputOf({ settings: { router: 'istio' }, state, now: new Date(now) }),
        observed: observe(cluster, DESIRED, true),
      });
      expect(plan.routerWeight ?? 0).toBe(0);
      apply(cluster, plan, DESIRED);
      for (const canary of cluster.canaries.values()) canary.readyReplicas = 0;
      state = plan.state;
      now += plan.requeueAfterMs ?? 1_000;
    }
    expect(summary(plan!)).toMatchObject({
      phase: 'RolledBack',
      reason: 'ProgressDeadlineExceeded',
      failedRevision: DESIRED,
    });
    expect(now - NOW.getTime()).toBeGreaterThan(600_000);
  });
});
