// From a plan to the API actions of one reconcile, pure. Whatever the
// strategy, the executor runs them in the order of ACTION_ORDER: capacity
// first (new pods, the Deployment), then traffic (the live Service, the
// route), then removals, then what people and hooks are told. So traffic only
// moves to pods that were asked for in an earlier step, and pods go only once
// traffic has left them.
import type { RequestMatch } from '../api/types';
import { extrasKey, type MirrorTarget, type RouteSpec } from '../traffic/route';
import type { ReleaseEvent, ReleasePlan } from './release';

export type Track = 'canary' | 'preview' | 'baseline' | 'comparator';

export interface LiveReplicaSet {
  name: string;
  uid: string;
  track: string;
  revision: string;
  replicas: number;
}

/** What the actions are computed against: the live objects the plan would change. */
export interface LiveState {
  desiredRevision: string;
  /** The track of the new revision's ReplicaSet for this strategy. */
  newTrack: 'canary' | 'preview';
  stableRevision?: string;
  deploymentExists: boolean;
  /** The Deployment's spec.replicas. */
  stableReplicas?: number;
  replicaSets: LiveReplicaSet[];
  weighted: boolean;
  routerWeight?: number;
  /** The key of msop's own rules on the route now (route.ts extrasKey); "" for weights only. */
  routeExtras?: string;
  /** Where a mirror step mirrors to, and which methods: the comparator's Service. */
  mirrorTarget?: Omit<MirrorTarget, 'percent'>;
  /** The revision (template hash) of the comparator the spec asks for. */
  comparatorRevision?: string;
  /** Ready comparator pods of that revision: the route never mirrors to a comparator with none. */
  comparatorReadyReplicas?: number;
  /** The revision the live Service selects, when it selects one. */
  liveRevision?: string;
  /** Ready pods of the new revision's ReplicaSet: the route never gives weight to a set with none. */
  newReadyReplicas: number;
}

export type Action =
  | { kind: 'applyReplicaSet'; track: Track; revision: string; replicas: number }
  | {
      kind: 'applyDeployment';
      replicas?: number;
      /** `stable` recreates a Deployment deleted mid-release on the stable revision, not the new one. */
      revision?: 'stable';
      /** A promotion's handover (handover.ts): paused, at these replicas and this maxSurge. */
      paused?: { replicas: number; maxSurge: number };
    }
  /** The canary ReplicaSet handed over to the paused Deployment, its pods relabelled stable (handover.ts). */
  | { kind: 'adoptCanary' }
  /** Canary pods of the desired revision the adopt step missed, relabelled stable. */
  | { kind: 'relabelCanaryPods' }
  /** A Deployment left paused by a replaced handover resumes rolling, on its live template. */
  | { kind: 'resumeDeployment' }
  | { kind: 'scaleDeployment'; replicas: number }
  | { kind: 'selectLive'; revision?: string }
  | { kind: 'route'; route: RouteSpec }
  | { kind: 'refuseRoute'; route: RouteSpec; why: string }
  | { kind: 'deleteReplicaSet'; name: string; uid: string; track: string }
  | { kind: 'event'; event: ReleaseEvent }
  | { kind: 'notify'; hook: 'post-rollout' | 'rollback' };

export const ACTION_ORDER: readonly Action['kind'][] = [
  'applyReplicaSet',
  'applyDeployment',
  'adoptCanary',
  'relabelCanaryPods',
  'resumeDeployment',
  'scaleDeployment',
  'selectLive',
  'refuseRoute',
  'route',
  'deleteReplicaSet',
  'event',
  'notify',
];

/** The actions that take the cluster from `live` to what `plan` asks for, in the executor's order. */
export function releaseActions(plan: ReleasePlan, live: LiveState): Action[] {
  const actions: Action[] = [];
  const current = (track: string, revision?: string) =>
    live.replicaSets.find((rs) => rs.track === track && rs.revision === revision);

  if (plan.canaryReplicas !== undefined)
    actions.push({
      kind: 'applyReplicaSet',
      track: live.newTrack,
      revision: live.desiredRevision,
      replicas: plan.canaryReplicas,
    });
  if (plan.baselineReplicas !== undefined && live.stableRevision && live.deploymentExists)
    actions.push({
      kind: 'applyReplicaSet',
      track: 'baseline',
      revision: live.stableRevision,
      replicas: plan.baselineReplicas,
    });

  if (plan.deploymentTemplate === 'desired') actions.push({ kind: 'applyDeployment', replicas: plan.stableReplicas });
  else if (!live.deploymentExists)
    actions.push({ kind: 'applyDeployment', replicas: plan.stableReplicas, revision: 'stable' });
  else if (plan.stableReplicas !== undefined && live.stableReplicas !== plan.stableReplicas)
    actions.push({ kind: 'scaleDeployment', replicas: plan.stableReplicas });

  if (plan.liveRevision !== live.liveRevision) actions.push({ kind: 'selectLive', revision: plan.liveRevision });

  if (plan.comparatorReplicas !== undefined && live.comparatorRevision)
    actions.push({
      kind: 'applyReplicaSet',
      track: 'comparator',
      revision: live.comparatorRevision,
      replicas: plan.comparatorReplicas,
    });

  if (live.weighted) {
    const route = routeOf(plan, live);
    // The rules for match and mirror steps are put right on every reconcile (the router writes only on a difference).
    const extras = extrasKey(route);
    const changed =
      (plan.routerWeight !== undefined && plan.routerWeight !== live.routerWeight) ||
      extras !== (live.routeExtras ?? '') ||
      extras !== '';
    // The planner moves traffic only to pods that are ready; the executor refuses anything else too.
    const why = refusal(route, live);
    if (changed) actions.push(why ? { kind: 'refuseRoute', route, why } : { kind: 'route', route });
  }

  const kept = current(live.newTrack, live.desiredRevision);
  // A mirror is traffic too: the parallel run's pods go once the route, read back, no longer mirrors to them.
  const mirroring = live.routeExtras?.includes('mirror-') ?? false;
  for (const rs of live.replicaSets) {
    const newRevisionSet = rs.track === 'canary' || rs.track === 'preview';
    const keep = newRevisionSet
      ? !plan.deleteCanaries || (plan.canaryReplicas !== undefined && rs === kept) || (mirroring && rs === kept)
      : rs.track === 'comparator'
        ? (plan.comparatorReplicas !== undefined && rs.revision === live.comparatorRevision) || mirroring
        : (plan.baselineReplicas !== undefined || mirroring) && rs.revision === live.stableRevision;
    if (!keep) actions.push({ kind: 'deleteReplicaSet', name: rs.name, uid: rs.uid, track: rs.track });
  }

  for (const event of plan.events) actions.push({ kind: 'event', event });
  if (plan.events.some((e) => e.reason === 'Promoted')) actions.push({ kind: 'notify', hook: 'post-rollout' });
  if (plan.events.some((e) => e.reason === 'RolledBack')) actions.push({ kind: 'notify', hook: 'rollback' });
  return sortActions(actions);
}

/** A stable sort into the executor's fixed order. */
export function sortActions(actions: Action[]): Action[] {
  const rank = (a: Action) => ACTION_ORDER.indexOf(a.kind);
  return actions
    .map((a, i) => [a, i] as const)
    .sort(([a, i], [b, j]) => rank(a) - rank(b) || i - j)
    .map(([a]) => a);
}

/** The route a plan asks for: its weight (or the one the route has), and the extras of the current step. */
function routeOf(plan: ReleasePlan, live: LiveState): RouteSpec {
  const matches: RequestMatch[] = plan.matches ?? [];
  const weight = plan.routerWeight ?? live.routerWeight ?? 0;
  if (plan.mirrorPercent === undefined || !live.mirrorTarget) return { weight, matches };
  return { weight, matches, mirror: { ...live.mirrorTarget, percent: plan.mirrorPercent } };
}

/** Why a route must not be set: traffic for pods that are not ready. */
function refusal(route: RouteSpec, live: LiveState): string | undefined {
  if ((route.weight > 0 || route.matches.length > 0) && live.newReadyReplicas === 0)
    return 'the new revision has no ready pods';
  if (route.mirror && (live.comparatorReadyReplicas ?? 0) === 0) return 'the comparator has no ready pods';
  return undefined;
}

/** The route the router's own objects carry after this reconcile: the one routed now, or the one they have. */
export function routedRoute(actions: Action[], live: LiveState): RouteSpec {
  const routed = actions.find((a): a is Extract<Action, { kind: 'route' }> => a.kind === 'route');
  return routed?.route ?? { weight: live.routerWeight ?? 0, matches: [] };
}
