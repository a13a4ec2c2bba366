// planBlueGreen: table cases for each stage, and whole releases through the real action list.
import { type Action, type LiveState, releaseActions } from '../../../src/rollout/actions';
import { planRelease, type ReleaseInput, type ReleasePlan, type ReleaseState } from '../../../src/rollout/release';
import { ago, type Case as FixtureCase, DESIRED, gate, inputOf, later, STABLE } from './fixtures';

const BG = { scaleDownDelayMs: 30_000, abortScaleDownDelayMs: 20_000 };

type Case = Omit<FixtureCase, 'strategy' | 'desiredRevision'>;

/** The shared fixture input, as a BlueGreen release with no steps. */
const input = (c: Case = {}): ReleaseInput =>
  inputOf({
    ...c,
    strategy: 'BlueGreen',
    settings: { steps: [], ...c.settings, blueGreen: { ...BG, ...c.settings?.blueGreen } },
  });

const started = (over: Partial<ReleaseState> = {}): ReleaseState => ({
  strategy: 'BlueGreen',
  revision: DESIRED,
  stepStartTime: ago(60_000),
  ...over,
});
const ready = { canary: { replicas: 4, readyReplicas: 4 }, previewEndpointsReady: 4 };
const switched = { ...ready, liveRevision: DESIRED };

function summary(plan: ReleasePlan) {
  return {
    template: plan.deploymentTemplate,
    stable: plan.stableReplicas,
    preview: plan.canaryReplicas,
    delete: plan.deleteCanaries,
    live: plan.liveRevision,
    weight: plan.routerWeight,
    phase: plan.phase,
    events: plan.events.map((e) => `${e.type}/${e.reason}`),
  };
}
type Summary = ReturnType<typeof summary>;
const picked = (plan: ReleasePlan, expected: Partial<Summary>) =>
  Object.fromEntries(Object.keys(expected).map((k) => [k, summary(plan)[k as keyof Summary]]));

describe('planBlueGreen', () => {
  test.each<[string, Case, Partial<Summary>]>([
    [
      'a new revision starts a full-size preview; the live Service and the Deployment are untouched',
      {},
      {
        template: 'keep',
        stable: 4,
        preview: 4,
        live: undefined,
        phase: 'Progressing',
        events: ['Normal/ReleaseStarted'],
      },
    ],
    [
      'previewReplicas starts the preview smaller',
      { settings: { blueGreen: { ...BG, previewReplicas: 1 } } },
      { preview: 1, live: undefined },
    ],
    [
      'previewReplicas: the preview grows to full size before the switch',
      {
        settings: { blueGreen: { ...BG, previewReplicas: 1 } },
        state: started(),
        observed: { canary: { replicas: 1, readyReplicas: 1 }, previewEndpointsReady: 1 },
        action: 'promote',
      },
      { preview: 4, live: undefined, phase: 'Progressing' },
    ],
    [
      'pods not ready: no switch',
      {
        state: started(),
        observed: { canary: { replicas: 4, readyReplicas: 3 }, previewEndpointsReady: 3 },
        action: 'promote',
      },
      { preview: 4, live: undefined, phase: 'Progressing' },
    ],
    [
      'every pod ready, no autoPromotionSeconds: Paused until promoted, one PreviewReady event',
      { state: started(), observed: ready },
      { preview: 4, live: undefined, phase: 'Paused', events: ['Normal/PreviewReady'] },
    ],
    [
      'still waiting for promotion: no second PreviewReady event',
      { state: started({ previewReadyTime: ago(5_000) }), observed: ready },
      { phase: 'Paused', events: [] },
    ],
    [
      'promote, but the EndpointSlices do not list every pod yet: no switch',
      { state: started(), observed: { ...ready, previewEndpointsReady: 3 }, action: 'promote' },
      { preview: 4, live: undefined, phase: 'Progressing' },
    ],
    [
      'promote with every pod ready and listed: the live Service selects the preview revision',
      { state: started(), observed: ready, action: 'promote' },
      {
        template: 'keep',
        stable: 4,
        preview: 4,
        live: DESIRED,
        phase: 'Promoting',
        events: ['Normal/PromoteRequested', 'Normal/PreviewReady'],
      },
    ],
    [
      'promote while the endpoints lag: remembered in status',
      {
        state: started({ previewReadyTime: ago(1_000) }),
        observed: { ...ready, previewEndpointsReady: 2 },
        action: 'promote',
      },
      { live: undefined, events: ['Normal/PromoteRequested'] },
    ],
    [
      'the promotion remembered: the switch follows once the endpoints list every pod, with no action',
      { state: started({ previewReadyTime: ago(1_000), promotion: 'Promote' }), observed: ready },
      { live: DESIRED, phase: 'Promoting', events: [] },
    ],
    [
      'promote before the preview is ready: remembered, and the preview grows to full size',
      {
        settings: { blueGreen: { ...BG, previewReplicas: 1 } },
        state: started(),
        observed: { canary: { replicas: 1, readyReplicas: 0 } },
        action: 'promote',
      },
      { preview: 4, live: undefined, events: ['Normal/PromoteRequested'] },
    ],
    [
      'promote-full remembered after the switch skips the delay on a later reconcile too',
      { state: started({ switchTime: ago(1_000), promotion: 'PromoteFull' }), observed: switched },
      { template: 'desired' },
    ],
    [
      'gatewayAPI: the switch is the route at 100',
      {
        settings: { router: 'gatewayAPI' },
        state: started(),
        observed: { ...ready, routerWeight: 0 },
        action: 'promote',
      },
      { live: undefined, weight: 100, phase: 'Promoting' },
    ],
    [
      'autoPromotionSeconds: switches once that long has passed since the preview was ready',
      {
        settings: { blueGreen: { ...BG, autoPromotionMs: 60_000 } },
        state: started({ previewReadyTime: ago(61_000) }),
        observed: ready,
      },
      { live: DESIRED },
    ],
    [
      'autoPromotionSeconds not yet over: waits',
      {
        settings: { blueGreen: { ...BG, autoPromotionMs: 60_000 } },
        state: started({ previewReadyTime: ago(10_000) }),
        observed: ready,
      },
      { live: undefined, phase: 'Paused' },
    ],
    [
      'analysis inconclusive before the switch: never promotes, even when asked',
      {
        state: started(),
        observed: ready,
        action: 'promote',
        analysis: gate({ action: 'Pause', passedTime: undefined }),
      },
      { live: undefined, phase: 'Paused' },
    ],
    [
      'analysis of the preview failed: rolled back before the switch, the preview kept for debugging',
      { state: started(), observed: ready, analysis: gate({ action: 'Rollback', reason: 'success-rate 80 < 99' }) },
      { template: 'keep', live: undefined, preview: 4, phase: 'RolledBack', events: ['Warning/RolledBack'] },
    ],
    [
      'pre-rollout webhooks pending: no switch',
      { state: started(), observed: ready, action: 'promote', analysis: gate({ preRolloutPassed: false }) },
      { live: undefined },
    ],
    [
      'confirm-promotion pending: no switch',
      { state: started(), observed: ready, action: 'promote', analysis: gate({ promotionConfirmed: false }) },
      { live: undefined, phase: 'Paused' },
    ],
    [
      'the switch observed: switchTime recorded, the old pods stay warm',
      { state: started(), observed: switched },
      { template: 'keep', stable: 4, preview: 4, live: DESIRED, phase: 'Promoting', events: ['Normal/Switched'] },
    ],
    [
      'after the switch, within scaleDownDelaySeconds: the Deployment is untouched',
      { state: started({ switchTime: ago(10_000) }), observed: switched },
      { template: 'keep', stable: 4, live: DESIRED, events: [] },
    ],
    [
      'after the switch the analysis fails on live traffic: straight back to the old pods',
      {
        state: started({ switchTime: ago(10_000) }),
        observed: switched,
        analysis: gate({ action: 'Rollback', reason: 'error rate' }),
      },
      { template: 'keep', live: undefined, preview: 4, phase: 'RolledBack', events: ['Warning/RolledBack'] },
    ],
    [
      'abort after the switch: straight back, the preview kept',
      { state: started({ switchTime: ago(10_000) }), observed: switched, action: 'abort' },
      { template: 'keep', live: undefined, preview: 4, phase: 'RolledBack', events: ['Warning/RolledBack'] },
    ],
    [
      'scaleDownDelaySeconds over: the Deployment moves to the new revision',
      { state: started({ switchTime: ago(31_000) }), observed: switched },
      { template: 'desired', stable: 4, preview: 4, live: DESIRED, phase: 'Promoting' },
    ],
    [
      'scaleDownDelaySeconds over, but no passing check since the switch: the old pods stay',
      {
        state: started({ switchTime: ago(31_000) }),
        observed: switched,
        analysis: gate({ passedTime: ago(40_000) }),
      },
      { template: 'keep', live: DESIRED },
    ],
    [
      'promote-full after the switch skips the delay',
      { state: started({ switchTime: ago(1_000) }), observed: switched, action: 'promote-full' },
      { template: 'desired' },
    ],
    [
      'kubectl scale to 6 after the switch: both stacks resize',
      { settings: { replicas: 6 }, state: started({ switchTime: ago(1_000) }), observed: switched },
      { stable: 6, preview: 6 },
    ],
    [
      'under an HPA the preview takes the stable current size, and the Deployment keeps its HPA-owned replicas',
      { settings: { autoscaled: true }, observed: { stableReplicas: 7 } },
      { stable: undefined, preview: 7 },
    ],
    [
      'finish: the Deployment rolling out keeps traffic on the revision, preview included',
      {
        state: started({ switchTime: ago(60_000) }),
        observed: { ...switched, stableRevision: DESIRED, stableComplete: false },
      },
      { template: 'desired', live: DESIRED, preview: 4, phase: 'Promoting' },
    ],
    [
      'finish: the Deployment complete, the live Service goes back to the stable selector',
      { state: started({ switchTime: ago(60_000) }), observed: { ...switched, stableRevision: DESIRED } },
      { template: 'desired', live: undefined, preview: 4, delete: false },
    ],
    [
      'finish: traffic left the preview, so it is deleted',
      { state: started({ switchTime: ago(60_000) }), observed: { ...ready, stableRevision: DESIRED } },
      { live: undefined, preview: undefined, delete: true },
    ],
    [
      'finish: the preview gone, Promoted',
      { state: started({ switchTime: ago(60_000) }), observed: { stableRevision: DESIRED } },
      { template: 'desired', phase: undefined, events: ['Normal/Promoted'] },
    ],
    [
      'rolled back: the preview stays abortScaleDownDelaySeconds',
      { state: { strategy: 'BlueGreen', failedRevision: DESIRED, rollbackTime: ago(5_000) }, observed: ready },
      { live: undefined, preview: 4, phase: 'RolledBack' },
    ],
    [
      'rolled back: after abortScaleDownDelaySeconds the preview goes',
      { state: { strategy: 'BlueGreen', failedRevision: DESIRED, rollbackTime: ago(25_000) }, observed: ready },
      { preview: undefined, delete: true, phase: 'RolledBack' },
    ],
    [
      'a new revision while another preview is live: traffic back to the stable pods first',
      {
        state: started({ revision: 'ccc', switchTime: ago(5_000) }),
        observed: { staleCanaries: 1, liveRevision: 'ccc' },
      },
      { template: 'keep', live: undefined, delete: false, events: ['Normal/ReleaseStarted'] },
    ],
    [
      'a new revision, the old preview unselected: it is deleted before the new one starts',
      { state: started({ revision: 'ccc' }), observed: { staleCanaries: 1 } },
      { live: undefined, delete: true },
    ],
    [
      'release.paused before the switch: nothing moves',
      { settings: { paused: true }, state: started(), observed: ready, action: 'promote' },
      { live: undefined, phase: 'Paused' },
    ],
  ])('%s', (_name, c, expected) => {
    expect(picked(planRelease(input(c)), expected)).toEqual(expected);
  });

  test('the progress deadline rolls back a preview whose pods never become ready', () => {
    const plan = planRelease(
      input({
        settings: { progressDeadlineMs: 60_000 },
        state: started({ podsWaitStartTime: ago(61_000) }),
        observed: { canary: { replicas: 4, readyReplicas: 1 } },
      }),
    );
    expect(plan.phase).toBe('RolledBack');
    expect(plan.released.reason).toBe('ProgressDeadlineExceeded');
    expect(plan.liveRevision).toBeUndefined();
  });
});

// ── whole releases, carried out through releaseActions ──────────────────────────────────────────────

interface Cluster {
  stableRevision: string;
  stableReplicas: number;
  rollingOut: boolean;
  previews: Map<string, number>;
  liveRevision?: string;
  routerWeight?: number;
}

function liveOf(cluster: Cluster, weighted: boolean): LiveState {
  return {
    desiredRevision: DESIRED,
    newTrack: 'preview',
    stableRevision: cluster.stableRevision,
    deploymentExists: true,
    stableReplicas: cluster.stableReplicas,
    replicaSets: [...cluster.previews].map(([revision, replicas]) => ({
      name: `orders-preview-${revision}`,
      uid: revision,
      track: 'preview',
      revision,
      replicas,
    })),
    weighted,
    routerWeight: weighted ? (cluster.routerWeight ?? 0) : undefined,
    liveRevision: cluster.liveRevision,
    newReadyReplicas: cluster.previews.get(DESIRED) ?? 0,
  };
}

/** Runs the actions against the model: pods are ready at once, the Deployment completes one reconcile later. */
function carryOut(cluster: Cluster, actions: Action[]): void {
  cluster.rollingOut = false;
  for (const a of actions) {
    if (a.kind === 'applyReplicaSet') cluster.previews.set(a.revision, a.replicas);
    if (a.kind === 'applyDeployment') {
      cluster.rollingOut = cluster.stableRevision !== DESIRED;
      cluster.stableRevision = DESIRED;
      if (a.replicas !== undefined) cluster.stableReplicas = a.replicas;
    }
    if (a.kind === 'scaleDeployment') cluster.stableReplicas = a.replicas;
    if (a.kind === 'selectLive') cluster.liveRevision = a.revision;
    if (a.kind === 'route') cluster.routerWeight = a.route.weight;
    if (a.kind === 'deleteReplicaSet') cluster.previews.delete(a.uid);
  }
}

describe('a whole blue-green release', () => {
  test.each([['replicas'], ['gatewayAPI']] as const)(
    '%s: preview, switch, delay, Deployment, hand-back; the live traffic never meets a revision without ready pods',
    (router) => {
      const weighted = router !== 'replicas';
      const cluster: Cluster = { stableRevision: STABLE, stableReplicas: 4, rollingOut: false, previews: new Map() };
      let state: ReleaseState = {};
      const phases: string[] = [];
      let switchedAt: number | undefined;
      for (let tick = 0; tick < 40; tick++) {
        const now = later(tick * 5_000);
        const preview = cluster.previews.get(DESIRED);
        const plan = planRelease(
          input({
            settings: { router },
            state,
            now,
            action: state.previewReadyTime && !state.switchTime ? 'promote' : undefined,
            observed: {
              stableRevision: cluster.stableRevision,
              stableReplicas: cluster.stableReplicas,
              stablePods: cluster.stableReplicas,
              stableReadyReplicas: cluster.stableReplicas,
              stableComplete: !cluster.rollingOut,
              canary: preview === undefined ? undefined : { replicas: preview, readyReplicas: preview },
              previewEndpointsReady: preview,
              staleCanaries: [...cluster.previews.keys()].filter((r) => r !== DESIRED).length,
              routerWeight: weighted ? (cluster.routerWeight ?? 0) : undefined,
              liveRevision: cluster.liveRevision,
            },
          }),
        );
        const actions = releaseActions(plan, liveOf(cluster, weighted));
        // Invariant: traffic moves to the preview only when its pods exist and are ready.
        const toPreview = actions.some(
          (a) => (a.kind === 'selectLive' && a.revision) || (a.kind === 'route' && a.route.weight > 0),
        );
        if (toPreview) expect(cluster.previews.get(DESIRED)).toBe(4);
        // Invariant: the stable template changes only after the switch.
        if (actions.some((a) => a.kind === 'applyDeployment'))
          expect(plan.state.switchTime ?? state.switchTime).toBeDefined();
        carryOut(cluster, actions);
        if (cluster.liveRevision === DESIRED || (cluster.routerWeight ?? 0) === 100) switchedAt ??= tick;
        state = plan.state;
        phases.push(plan.phase ?? 'Ready');
        if (phases.at(-1) === 'Ready' && cluster.stableRevision === DESIRED) break;
      }
      expect(cluster).toMatchObject({ stableRevision: DESIRED, stableReplicas: 4 });
      expect(cluster.liveRevision).toBeUndefined();
      expect(switchedAt).toBeDefined();
      expect(cluster.previews.size).toBe(0);
      if (weighted) expect(cluster.routerWeight).toBe(0);
      expect(state).toEqual({});
      expect(phases).toEqual(expect.arrayContaining(['Progressing', 'Promoting', 'Ready']));
    },
  );
});
