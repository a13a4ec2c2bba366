// releaseActions: the fixed order of the executor, the refused weight, and what is kept or deleted.
import { type LiveState, releaseActions } from '../../../src/rollout/actions';
import type { ReleasePlan } from '../../../src/rollout/release';
import { DESIRED, STABLE } from './fixtures';

describe('releaseActions', () => {
  const live = (over: Partial<LiveState> = {}): LiveState => ({
    desiredRevision: DESIRED,
    newTrack: 'canary',
    stableRevision: STABLE,
    deploymentExists: true,
    stableReplicas: 4,
    replicaSets: [],
    weighted: true,
    routerWeight: 0,
    newReadyReplicas: 1,
    ...over,
  });
  const plan = (over: Partial<ReleasePlan>): ReleasePlan => ({
    deploymentTemplate: 'keep',
    deleteCanaries: false,
    state: {},
    released: { status: 'True', reason: 'Released', message: '' },
    canaryWeight: 0,
    events: [],
    ...over,
  });

  test.each<[string, ReleasePlan['deploymentTemplate'], object]>([
    ['a missing Deployment mid-release comes back on the stable revision', 'keep', { revision: 'stable' }],
    ['the promotion moves the Deployment to the new revision', 'desired', {}],
  ])('%s', (_case, deploymentTemplate, expected) => {
    const actions = releaseActions(plan({ deploymentTemplate, stableReplicas: 3 }), live({ deploymentExists: false }));
    expect(actions.filter((a) => a.kind === 'applyDeployment')).toEqual([
      { kind: 'applyDeployment', replicas: 3, ...expected },
    ]);
  });

  test('capacity first, then traffic, then removals, then what people are told', () => {
    const actions = releaseActions(
      plan({
        canaryReplicas: 2,
        stableReplicas: 3,
        routerWeight: 50,
        deleteCanaries: true,
        events: [{ type: 'Normal', reason: 'StepCompleted', message: 'x' }],
      }),
      live({ replicaSets: [{ name: 'old', uid: 'u', track: 'canary', revision: 'ccc', replicas: 1 }] }),
    );
    expect(actions.map((a) => a.kind)).toEqual([
      'applyReplicaSet',
      'scaleDeployment',
      'route',
      'deleteReplicaSet',
      'event',
    ]);
  });

  test('a weight for a new revision with no ready pod is refused, never routed', () => {
    const actions = releaseActions(plan({ routerWeight: 25 }), live({ newReadyReplicas: 0 }));
    expect(actions).toEqual([
      { kind: 'refuseRoute', route: { weight: 25, matches: [] }, why: 'the new revision has no ready pods' },
    ]);
  });

  test('an unchanged plan makes no actions', () => {
    expect(releaseActions(plan({ stableReplicas: 4, routerWeight: 0 }), live())).toEqual([]);
  });

  test('the kept ReplicaSet of the desired revision survives deleteCanaries; others go', () => {
    const sets = [
      { name: 'keep', uid: '1', track: 'canary', revision: DESIRED, replicas: 2 },
      { name: 'old', uid: '2', track: 'canary', revision: 'ccc', replicas: 2 },
      { name: 'preview', uid: '3', track: 'preview', revision: DESIRED, replicas: 2 },
    ];
    const actions = releaseActions(plan({ canaryReplicas: 2, deleteCanaries: true }), live({ replicaSets: sets }));
    expect(actions.filter((a) => a.kind === 'deleteReplicaSet').map((a) => (a as { name: string }).name)).toEqual([
      'old',
      'preview',
    ]);
  });

  test('Promoted and RolledBack tell the post-rollout and rollback hooks', () => {
    const promoted = releaseActions(plan({ events: [{ type: 'Normal', reason: 'Promoted', message: '' }] }), live());
    expect(promoted.at(-1)).toEqual({ kind: 'notify', hook: 'post-rollout' });
    const rolledBack = releaseActions(
      plan({ events: [{ type: 'Warning', reason: 'RolledBack', message: '' }] }),
      live(),
    );
    expect(rolledBack.at(-1)).toEqual({ kind: 'notify', hook: 'rollback' });
  });
});
