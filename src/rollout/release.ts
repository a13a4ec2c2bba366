// The release engine's pure half: one planner per strategy reads the same
// inputs (settings, the persisted release state, what the cluster shows now,
// a requested action, the time) and returns the same plan: what the cluster
// should look like after this reconcile, and the next persisted state.
// actions.ts turns a plan into the list of API actions the executor runs.
import type { Phase, ReleaseAction } from '../api/constants';
import type { ReleaseState, RequestMatch, TrafficSettings } from '../api/types';
import { planBlueGreen } from './bluegreen';
import { planCanary } from './canary';
import type { Step } from './steps';

export type { ReleaseAction } from '../api/constants';
export type { ReleaseState } from '../api/types';
export { releaseStateOf } from './state';
export type RouterKind = 'replicas' | 'gatewayAPI' | 'istio' | 'nginx';
export type Strategy = 'Rolling' | 'Canary' | 'BlueGreen';

export interface BlueGreenSettings {
  /** Switch this long after the preview is ready and checked; undefined waits for promote. */
  autoPromotionMs?: number;
  /** The old pods stay this long after the switch. */
  scaleDownDelayMs: number;
  /** An aborted preview stays this long. */
  abortScaleDownDelayMs: number;
  /** Preview pods before the switch; undefined is the full size. */
  previewReplicas?: number;
}

export interface ReleaseSettings {
  steps: Step[];
  router: RouterKind;
  /** spec.replicas; under autoscaling the stable's current replicas are used instead. */
  replicas: number;
  autoscaled: boolean;
  /** Run a baseline ReplicaSet of the stable template beside the canary, at its size (replicas router only). */
  baseline?: boolean;
  paused: boolean;
  progressDeadlineMs: number;
  blueGreen?: BlueGreenSettings;
  /** The traffic settings in the spec now: recorded in status.release.traffic while a release runs. */
  traffic?: TrafficSettings;
}

export interface ReleaseObservation {
  /** The revision of the stable Deployment's pod template; undefined before the first deployment. */
  stableRevision?: string;
  /** The Deployment's spec.replicas (the HPA's choice under autoscaling). */
  stableReplicas: number;
  /** Stable pods that exist now, ready or not. */
  stablePods: number;
  stableReadyReplicas: number;
  /** The Deployment has rolled out its template and every pod is ready. */
  stableComplete: boolean;
  /**
   * Ready pods of the desired revision and of the others, whatever set holds them (see pod-counts.ts): a
   * promotion by adoption moves the canary's pods into the Deployment without changing one.
   */
  readyByRevision?: { desired: number; other: number };
  /** The ReplicaSet of the desired revision: the canary, or the BlueGreen preview. */
  canary?: { replicas: number; readyReplicas: number };
  /** The baseline ReplicaSet (the stable template beside the canary), when there is one. */
  baseline?: { replicas: number; readyReplicas: number };
  /** ReplicaSets of the new-revision track for other revisions (left by a replaced release). */
  staleCanaries: number;
  /** The weight the traffic router carries, read back from it (weighted routers). */
  routerWeight?: number;
  /** BlueGreen: ready endpoints in the EndpointSlices of `<name>-preview`. */
  previewEndpointsReady?: number;
  /** BlueGreen under the replicas router: the revision the live Service selects, when it selects one. */
  liveRevision?: string;
  /** The comparator ReplicaSet of a parallel run, when there is one. */
  comparator?: { replicas: number; readyReplicas: number };
  /** The route carries msop's rules for match steps. */
  routeMatches?: boolean;
  /** The route mirrors requests to the comparator. */
  routeMirror?: boolean;
}

/** What analysis says about the current release (absent when the release has no analysis). */
export interface AnalysisGate {
  /** The last check's decision: Continue, Wait, Pause or Rollback. */
  action?: string;
  reason?: string;
  /** When a check last passed; a step advances only after a pass that came after it began. */
  passedTime?: string;
  /** pre-rollout webhooks have all passed: the canary may take traffic. */
  preRolloutPassed: boolean;
  /** confirm-promotion webhooks have all passed: promotion may start. */
  promotionConfirmed: boolean;
}

export interface ReleaseInput {
  settings: ReleaseSettings;
  /** Rolling after a progressive strategy (the strategy was changed): no release, any canary is drained. */
  strategy: Strategy;
  state: ReleaseState;
  desiredRevision: string;
  observed: ReleaseObservation;
  action?: ReleaseAction;
  analysis?: AnalysisGate;
  now: Date;
}

export interface ReleaseEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface ReleasePlan {
  /** Keep the stable Deployment's template, or move it to the desired revision. */
  deploymentTemplate: 'keep' | 'desired';
  /** Replicas for the stable Deployment; undefined leaves them to the HPA. */
  stableReplicas?: number;
  /** Replicas for the ReplicaSet of the desired revision (canary or preview); undefined means none should exist. */
  canaryReplicas?: number;
  /** Replicas for the baseline ReplicaSet; undefined means none should exist. */
  baselineReplicas?: number;
  /** Remove the new-revision ReplicaSets not kept by canaryReplicas: traffic has left them. */
  deleteCanaries: boolean;
  /** The weight to set on a weighted router; undefined leaves it as it is. */
  routerWeight?: number;
  /** BlueGreen under the replicas router: the revision the live Service selects; undefined selects the stable pods. */
  liveRevision?: string;
  /** Requests that go to the canary whatever the weight (match steps); absent: none. */
  matches?: RequestMatch[];
  /** Percent of the mirrored methods' requests the route copies to the comparator; absent: no mirror. */
  mirrorPercent?: number;
  /** Replicas for the comparator of a parallel run; undefined means none should exist. */
  comparatorReplicas?: number;
  state: ReleaseState;
  /** Set while a release is in progress or was rolled back; otherwise the Rolling status applies. */
  phase?: Phase;
  message?: string;
  released: { status: 'True' | 'False'; reason: string; message: string };
  /** The new revision's traffic share now, for status.canaryWeight. */
  canaryWeight: number;
  events: ReleaseEvent[];
  /** Come back this soon even without an event (a pause, a router to verify). */
  requeueAfterMs?: number;
}

/** The planner of the strategy; Rolling after a progressive strategy drains with the canary planner. */
export function planRelease(input: ReleaseInput): ReleasePlan {
  const blueGreen =
    input.strategy === 'BlueGreen' || (input.strategy === 'Rolling' && input.state.strategy === 'BlueGreen');
  const plan = blueGreen ? planBlueGreen(input) : planCanary(input);
  return { ...plan, state: withTraffic(plan.state, input.settings.traffic) };
}

/** A release in progress records the traffic settings it runs with; a finished one keeps none. */
function withTraffic(state: ReleaseState, traffic: TrafficSettings | undefined): ReleaseState {
  const rest = { ...state };
  delete rest.traffic;
  return state.revision !== undefined && traffic !== undefined ? { ...rest, traffic } : rest;
}
