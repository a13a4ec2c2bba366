// Whole releases with mirror and match steps, through the planner and the operator's own action list
// (fixtures.ts apply), checking at every reconcile that a mirror or a match only ever reaches ready pods,
// and that nothing msop added outlives the release.
import type { RequestMatch } from '../../../src/api/types';
import { planRelease, type ReleaseAction, type ReleasePlan, type ReleaseState } from '../../../src/rollout/release';
import type { Step } from '../../../src/rollout/steps';
import { apply, DESIRED, type FakeCluster, inputOf, NOW, observe, STABLE } from './fixtures';

const BETA: RequestMatch[] = [{ headers: { 'x-beta': { exact: 'true' } } }, { cookie: { name: 'beta', value: '1' } }];
const PARALLEL_RUN: Step[] = [
  { kind: 'mirror', percent: 100, durationMs: 600_000 },
  { kind: 'match', matches: BETA },
  { kind: 'setWeight', weight: 10 },
  { kind: 'pause', durationMs: 300_000 },
];

interface Snapshot {
  at: number;
  step?: number;
  weight: number;
  mirror: boolean;
  match: boolean;
  comparator: number;
  baseline: number;
  canary: number;
}

function simulate(steps: Step[], actions: Record<number, ReleaseAction> = {}) {
  const cluster: FakeCluster = {
    stableRevision: STABLE,
    stableReplicas: 4,
    rollingOut: false,
    canaries: new Map(),
    routerWeight: 0,
  };
  let state: ReleaseState = {};
  let now = NOW.getTime();
  const snapshots: Snapshot[] = [];
  const plans: ReleasePlan[] = [];
  for (let i = 0; i < 300; i++) {
    const plan = planRelease(
      inputOf({
        settings: { steps, router: 'gatewayAPI' },
        state,
        observed: observe(cluster, DESIRED, true),
        action: actions[i],
        now: new Date(now),
      }),
    );
    plans.push(plan);
    apply(cluster, plan, DESIRED);
    const canary = [...cluster.canaries.values()].reduce((sum, c) => sum + c.readyReplicas, 0);
    const snapshot: Snapshot = {
      at: now,
      step: plan.state.step,
      weight: cluster.routerWeight ?? 0,
      mirror: cluster.routeExtras?.includes('mirror-') ?? false,
      match: cluster.routeExtras?.includes('match-') ?? false,
      comparator: cluster.comparator?.readyReplicas ?? 0,
      baseline: cluster.baseline?.readyReplicas ?? 0,
      canary,
    };
    snapshots.push(snapshot);
    // Never a mirror to a comparator, baseline or canary with no ready pod; never a match to a canary with none.
    if (snapshot.mirror) {
      expect(snapshot.comparator).toBeGreaterThan(0);
      expect(snapshot.baseline).toBeGreaterThan(0);
      expect(snapshot.canary).toBeGreaterThan(0);
    }
    if (snapshot.match || snapshot.weight > 0) expect(snapshot.canary).toBeGreaterThan(0);
    state = plan.state;
    const settled = plan.phase === undefined || plan.phase === 'RolledBack';
    if (settled && plan.requeueAfterMs === undefined && cluster.canaries.size === 0)
      return { cluster, snapshots, plans };
    now += plan.requeueAfterMs ?? 1_000;
  }
  throw new Error(`the release did not settle; last message: ${plans.at(-1)?.message}`);
}

const events = (plans: ReleasePlan[]) => plans.flatMap((plan) => plan.events.map((e) => `${e.type}/${e.reason}`));

describe('a release with a parallel run and a beta group', () => {
  const run = simulate(PARALLEL_RUN);

  test('mirrors for the whole duration with no user traffic on the canary, then removes the mirror', () => {
    const mirrored = run.snapshots.filter((s) => s.mirror);
    expect(mirrored.length).toBeGreaterThan(0);
    expect(mirrored.every((s) => s.weight === 0 && s.step === 0)).toBe(true);
    // Counted from the first reconcile that found the route mirroring, to the one that took the mirror off.
    const first = run.snapshots.findIndex((s) => s.mirror);
    const off = run.snapshots.findIndex((s, i) => i > first && !s.mirror);
    expect(run.snapshots[off]!.at - run.snapshots[first]!.at).toBeGreaterThanOrEqual(600_000);
  });

  test('the comparator runs from the mirror step until promotion; the baseline only while mirroring', () => {
    const mirrorStep = run.snapshots.filter((s) => s.step === 0 && s.mirror);
    expect(mirrorStep.every((s) => s.baseline === 4 && s.canary === 4 && s.comparator === 1)).toBe(true);
    const later = run.snapshots.filter((s) => (s.step ?? 0) >= 2 && (s.step ?? 0) < PARALLEL_RUN.length);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((s) => s.comparator === 1 && s.baseline === 0)).toBe(true);
  });

  test('beta requests reach the canary from the match step on, including while its weight is 10%', () => {
    const afterMatch = run.snapshots.filter((s) => (s.step ?? 0) >= 2 && (s.step ?? 0) < PARALLEL_RUN.length);
    expect(afterMatch.every((s) => s.match)).toBe(true);
    expect(afterMatch.some((s) => s.weight === 10)).toBe(true);
    expect(run.snapshots.filter((s) => s.step === 0).some((s) => s.match)).toBe(false);
  });

  test('promotes, and leaves no rule, comparator, baseline or canary behind', () => {
    expect(events(run.plans).at(-1)).toBe('Normal/Promoted');
    expect(run.cluster).toMatchObject({ stableRevision: DESIRED, routerWeight: 0, routeExtras: '' });
    expect(run.cluster.comparator).toBeUndefined();
    expect(run.cluster.baseline).toBeUndefined();
    expect(run.cluster.canaries.size).toBe(0);
    expect(events(run.plans).filter((e) => e === 'Normal/StepCompleted')).toHaveLength(PARALLEL_RUN.length);
  });

  test('the mirror step counts as one step, and weights never go down', () => {
    const weights = run.snapshots.map((s) => s.weight);
    const promoted = weights.indexOf(100);
    expect(promoted).toBeGreaterThan(0);
    for (let i = 1; i < promoted; i++) expect(weights[i]).toBeGreaterThanOrEqual(weights[i - 1]!);
  });
});

describe('an abort', () => {
  test.each<[string, number]>([
    ['during the parallel run', 0],
    ['while the beta group is on the canary', 1],
  ])('%s rolls back and removes the mirror, the match rules, the comparator and the baseline', (_name, step) => {
    // Abort at the first reconcile that finds the release at `step` with its extras on the route.
    const probe = simulate(PARALLEL_RUN);
    const abortAt = probe.snapshots.findIndex((s) => s.step === step && (step === 0 ? s.mirror : s.match)) + 1;
    const run = simulate(PARALLEL_RUN, { [abortAt]: 'abort' });
    expect(events(run.plans)).toContain('Warning/RolledBack');
    expect(run.plans.at(-1)!.phase).toBe('RolledBack');
    expect(run.cluster).toMatchObject({ stableRevision: STABLE, routerWeight: 0, routeExtras: '' });
    expect(run.cluster.comparator).toBeUndefined();
    expect(run.cluster.baseline).toBeUndefined();
    expect(run.cluster.canaries.size).toBe(0);
  });
});

test('promote continues past a running mirror step as it does past a pause', () => {
  const probe = simulate(PARALLEL_RUN);
  const at = probe.snapshots.findIndex((s) => s.mirror) + 1;
  const run = simulate(PARALLEL_RUN, { [at]: 'promote' });
  const next = run.snapshots[at]!;
  expect(next.step).toBe(1);
  expect(events(run.plans)).toContain('Normal/PromoteRequested');
});
