// Shared inputs and summaries for the planRelease tests (release.test.ts, release-analysis.test.ts).
import type {
  AnalysisGate,
  ReleaseAction,
  ReleaseInput,
  ReleaseObservation,
  ReleasePlan,
  ReleaseSettings,
  ReleaseState,
} from '../../../src/rollout/release';
import { type LiveState, releaseActions } from '../../../src/rollout/actions';
import type { Step } from '../../../src/rollout/steps';
import { extrasKey } from '../../../src/traffic/route';

export const NOW = new Date('2025-06-01T12:00:00.000Z');
export const ago = (ms: number): string => new Date(NOW.getTime() - ms).toISOString();
export const later = (ms: number): Date => new Date(NOW.getTime() + ms);

export const STABLE = 'aaa';
export const DESIRED = 'bbb';

/** setWeight 20, pause 1m, setWeight 50, pause until promoted: every kind of step once. */
export const STEPS: Step[] = [
  { kind: 'setWeight', weight: 20 },
  { kind: 'pause', durationMs: 60_000 },
  { kind: 'setWeight', weight: 50 },
  { kind: 'pause' },
];

/** Steps for the baseline cases: 25% and 50% of 4 pods are whole canaries (1 and 2). */
export const BASELINE_STEPS: Step[] = [
  { kind: 'setWeight', weight: 25 },
  { kind: 'setWeight', weight: 50 },
  { kind: 'pause' },
];

export interface Case {
  settings?: Partial<ReleaseSettings>;
  state?: ReleaseState;
  observed?: Partial<ReleaseObservation>;
  action?: ReleaseAction;
  analysis?: AnalysisGate;
  strategy?: ReleaseInput['strategy'];
  desiredRevision?: string;
  now?: Date;
}

export function inputOf(c: Case = {}): ReleaseInput {
  return {
    settings: {
      steps: STEPS,
      router: 'replicas',
      replicas: 4,
      autoscaled: false,
      paused: false,
      progressDeadlineMs: 600_000,
      ...c.settings,
    },
    strategy: c.strategy ?? 'Canary',
    state: c.state ?? {},
    desiredRevision: c.desiredRevision ?? DESIRED,
    observed: {
      stableRevision: STABLE,
      stableReplicas: 4,
      stablePods: 4,
      stableReadyReplicas: 4,
      stableComplete: true,
      staleCanaries: 0,
      ...c.observed,
    },
    action: c.action,
    analysis: c.analysis,
    now: c.now ?? NOW,
  };
}

/** A release of DESIRED in progress at `step`, with the step started `startedAgo` ms before NOW. */
export const releasing = (step: number, desiredWeight: number, startedAgo = 5_000): ReleaseState => ({
  strategy: 'Canary',
  revision: DESIRED,
  step,
  stepStartTime: ago(startedAgo),
  // Modelled as if the canary's pods have been waited for since the step began.
  podsWaitStartTime: ago(startedAgo),
  desiredWeight,
});

/** A gate whose last check passed 1s ago (after any step of `releasing`), with both webhook gates open. */
export const gate = (over: Partial<AnalysisGate> = {}): AnalysisGate => ({
  action: 'Continue',
  reason: 'all 1 metrics passed',
  passedTime: ago(1_000),
  preRolloutPassed: true,
  promotionConfirmed: true,
  ...over,
});
/** The last check passed, but before the step began (releasing() starts steps 5s ago by default). */
export const stale = gate({ passedTime: ago(10_000) });

// The cluster under the replicas router at 20% (canary 1, stable 3 of 4) and 50% (2 and 2).
export const at20 = {
  stableReplicas: 3,
  stablePods: 3,
  stableReadyReplicas: 3,
  canary: { replicas: 1, readyReplicas: 1 },
};
export const at50 = {
  stableReplicas: 2,
  stablePods: 2,
  stableReadyReplicas: 2,
  canary: { replicas: 2, readyReplicas: 2 },
};
export const gateway = { router: 'gatewayAPI' as const };
export const withBaseline = { baseline: true, steps: BASELINE_STEPS };

export function summary(plan: ReleasePlan) {
  return {
    template: plan.deploymentTemplate,
    stable: plan.stableReplicas,
    canary: plan.canaryReplicas,
    baseline: plan.baselineReplicas,
    delete: plan.deleteCanaries,
    weight: plan.routerWeight,
    phase: plan.phase,
    step: plan.state.step,
    canaryRevision: plan.state.revision,
    failedRevision: plan.state.failedRevision,
    desiredWeight: plan.state.desiredWeight,
    reason: plan.released.reason,
    message: plan.message,
    canaryWeight: plan.canaryWeight,
    events: plan.events.map((event) => `${event.type}/${event.reason}`),
    requeue: plan.requeueAfterMs,
  };
}
export type Summary = ReturnType<typeof summary>;

/** The summary fields a row names, so a row can leave out what it is not about (an explicit undefined is checked). */
export function picked(plan: ReleasePlan, expected: Partial<Summary>): Partial<Summary> {
  const all = summary(plan);
  return Object.fromEntries(Object.keys(expected).map((key) => [key, all[key as keyof Summary]]));
}

// ── A tiny cluster model for whole-release simulations ─────────────────────────────────────────────

export interface FakeCluster {
  /** The revision of the Deployment's template, and its spec.replicas. */
  stableRevision: string;
  stableReplicas: number;
  /** The Deployment's template changed in the last reconcile: not complete for one observation. */
  rollingOut: boolean;
  canaries: Map<string, { replicas: number; readyReplicas: number }>;
  baseline?: { replicas: number; readyReplicas: number };
  comparator?: { replicas: number; readyReplicas: number };
  routerWeight?: number;
  /** The key of msop's own rules on the route (match and mirror steps). */
  routeExtras?: string;
}

/** Where the fake route mirrors to: the comparator's Service, the default methods. */
export const MIRROR_TARGET = { methods: ['GET', 'HEAD', 'OPTIONS'], service: 'orders-compare', port: 8080 };

export function observe(cluster: FakeCluster, desired: string, weighted: boolean): ReleaseObservation {
  const canary = cluster.canaries.get(desired);
  return {
    stableRevision: cluster.stableRevision,
    stableReplicas: cluster.stableReplicas,
    stablePods: cluster.stableReplicas,
    // maxUnavailable 0: the old pods serve until the new ones are ready.
    stableReadyReplicas: cluster.stableReplicas,
    stableComplete: !cluster.rollingOut,
    canary: canary && { ...canary },
    baseline: cluster.baseline && { ...cluster.baseline },
    comparator: cluster.comparator && { ...cluster.comparator },
    staleCanaries: [...cluster.canaries.keys()].filter((revision) => revision !== desired).length,
    routerWeight: weighted ? cluster.routerWeight : undefined,
    routeMatches: cluster.routeExtras?.includes('match-') ?? false,
    routeMirror: cluster.routeExtras?.includes('mirror-') ?? false,
  };
}

/**
 * Carries out a plan through the operator's own action list (releaseActions), so there is no second model
 * of the executor here: only what each API action does to the cluster. Pods are ready at once, the router
 * reads back what was set, and a Deployment whose template moved is not complete for one observation.
 */
export function apply(cluster: FakeCluster, plan: ReleasePlan, desired: string): void {
  const weighted = cluster.routerWeight !== undefined || plan.routerWeight !== undefined;
  const live: LiveState = {
    desiredRevision: desired,
    newTrack: 'canary',
    stableRevision: cluster.stableRevision,
    deploymentExists: true,
    stableReplicas: cluster.stableReplicas,
    replicaSets: [
      ...[...cluster.canaries].map(([revision, c]) => ({
        name: `canary-${revision}`,
        uid: revision,
        track: 'canary',
        revision,
        replicas: c.replicas,
      })),
      ...(cluster.baseline
        ? [
            {
              name: 'baseline',
              uid: 'baseline',
              track: 'baseline',
              revision: cluster.stableRevision,
              replicas: cluster.baseline.replicas,
            },
          ]
        : []),
      ...(cluster.comparator
        ? [
            {
              name: 'compare',
              uid: 'compare',
              track: 'comparator',
              revision: 'cmp',
              replicas: cluster.comparator.replicas,
            },
          ]
        : []),
    ],
    weighted,
    routerWeight: cluster.routerWeight,
    routeExtras: cluster.routeExtras,
    mirrorTarget: MIRROR_TARGET,
    comparatorRevision: 'cmp',
    comparatorReadyReplicas: cluster.comparator?.readyReplicas ?? 0,
    newReadyReplicas: cluster.canaries.get(desired)?.readyReplicas ?? 0,
  };
  cluster.rollingOut = false;
  for (const action of releaseActions(plan, live)) {
    switch (action.kind) {
      case 'applyReplicaSet':
        if (action.track === 'baseline')
          cluster.baseline = { replicas: action.replicas, readyReplicas: action.replicas };
        else if (action.track === 'comparator')
          cluster.comparator = { replicas: action.replicas, readyReplicas: action.replicas };
        else cluster.canaries.set(action.revision, { replicas: action.replicas, readyReplicas: action.replicas });
        break;
      case 'applyDeployment':
        cluster.rollingOut = cluster.stableRevision !== desired;
        cluster.stableRevision = desired;
        if (action.replicas !== undefined) cluster.stableReplicas = action.replicas;
        break;
      case 'scaleDeployment':
        cluster.stableReplicas = action.replicas;
        break;
      case 'route':
        cluster.routerWeight = action.route.weight;
        cluster.routeExtras = extrasKey(action.route);
        break;
      case 'deleteReplicaSet':
        if (action.track === 'baseline') cluster.baseline = undefined;
        else if (action.track === 'comparator') cluster.comparator = undefined;
        else cluster.canaries.delete(action.uid);
        break;
      default:
        break;
    }
  }
}
