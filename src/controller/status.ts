// Derives the Microservice status from what one reconcile observed. Pure: the
// reconciler passes the clock in, and an unchanged observation gives an equal
// status, so no write follows.
import type { V1Deployment } from '@kubernetes/client-node';
import type { PodCounts } from '../rollout/pod-counts';
import type { ReleasePlan } from '../rollout/release';
import { dropUndefined } from '../rollout/state';
import {
  CONDITION_ANALYSIS_HEALTHY,
  CONDITION_READY,
  CONDITION_RECONCILING,
  CONDITION_RELEASED,
  CONDITION_STALLED,
  LABEL_REVISION,
} from '../api/constants';
import type { Phase } from '../api/constants';
import type { AnalysisStatus, MicroserviceStatus } from '../api/types';
import { type Condition, type ConditionInput, removeCondition, setCondition } from './conditions';
import type { DefaultedField } from '../environment/resolve';

export interface ReconcileFailure {
  reason: string;
  message: string;
  /** Needs a person (Stalled); otherwise the reconcile is retried with backoff. */
  terminal: boolean;
}

export interface Observation {
  generation: number;
  /** The revision the spec asks for; absent when rendering failed. */
  desiredRevision?: string;
  desiredReplicas: number;
  /** The stable Deployment as last seen or written. */
  deployment?: V1Deployment;
  /** release.paused holds a revision other than the desired one. */
  heldBack: boolean;
  selector: string;
  failure?: ReconcileFailure;
  /** Set for Canary releases (and while a canary is drained after switching to Rolling). */
  release?: ReleaseOutcome;
  /** The Environment that applied and the defaulted fields; absent when resolution failed (the previous ones stay). */
  environment?: { name?: string; defaulted: DefaultedField[] };
}

export interface ReleaseOutcome {
  plan: ReleasePlan;
  /** The analysis of the release, when it has one. */
  analysis?: AnalysisStatus;
  /** Canary only: the number of steps. */
  stepCount?: number;
  canary?: { replicas: number; readyReplicas: number };
  /** The release's pods by revision: status counts these while a release runs. */
  pods?: { desired: PodCounts; other: PodCounts };
}

/** The Deployment has rolled out its template and every pod is ready. */
export function deploymentComplete(deployment: V1Deployment): boolean {
  const desired = deployment.spec?.replicas ?? 1;
  const status = deployment.status ?? {};
  return (
    (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) &&
    (status.updatedReplicas ?? 0) === desired &&
    (status.availableReplicas ?? 0) === desired &&
    (status.replicas ?? 0) === desired
  );
}

interface Rollout {
  complete: boolean;
  deadlineExceeded?: string;
  revision?: string;
  message: string;
}

function describeRollout(deployment: V1Deployment | undefined, desiredReplicas: number): Rollout {
  if (!deployment) return { complete: false, message: 'Waiting for the Deployment to be created' };
  const name = deployment.metadata?.name;
  const revision = deployment.spec?.template.metadata?.labels?.[LABEL_REVISION];
  const status = deployment.status ?? {};
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return {
      complete: false,
      revision,
      // Name the setting: the pods may need fixing, or the deadline more time.
      deadlineExceeded:
        `Deployment ${name} exceeded its progress deadline (spec.release.progressDeadlineSeconds): ${progressing.message ?? ''}`.trim(),
      message: '',
    };
  }
  const observed = (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const total = status.replicas ?? 0;
  const complete =
    observed && updated === desiredReplicas && available === desiredReplicas && total === desiredReplicas;
  const message = complete
    ? `Deployment ${name} is available with ${available}/${desiredReplicas} ready replicas on revision ${revision}`
    : `Rolling out revision ${revision}: ${updated}/${desiredReplicas} updated, ${available}/${desiredReplicas} available`;
  return { complete, revision, message };
}

export function deriveStatus(
  previous: MicroserviceStatus | undefined,
  obs: Observation,
  now: string,
): MicroserviceStatus {
  const rollout = describeRollout(obs.deployment, obs.desiredReplicas);
  let conditions = (previous?.conditions ?? []) as Condition[];
  const set = (c: Omit<ConditionInput, 'observedGeneration'>) => {
    conditions = setCondition(conditions, { ...c, observedGeneration: obs.generation }, now);
  };
  const clear = (type: string) => {
    conditions = removeCondition(conditions, type);
  };

  let stableRevision = previous?.stableRevision;
  let phase: Phase;
  let message: string;

  const plan = obs.release?.plan;
  const released = plan && stickyRollback(previous, plan);
  if (plan?.phase && !obs.failure) {
    message = plan.phase === 'RolledBack' ? released!.message : (plan.message ?? '');
    phase = plan.phase;
    if (rollout.complete && rollout.revision === obs.deployment?.spec?.template.metadata?.labels?.[LABEL_REVISION]) {
      stableRevision = rollout.revision;
    }
    if (phase === 'RolledBack') {
      set({ type: CONDITION_STALLED, status: 'True', reason: released!.reason, message });
      set({ type: CONDITION_READY, status: 'False', reason: released!.reason, message });
      clear(CONDITION_RECONCILING);
    } else {
      const reason = phase === 'Paused' ? 'Paused' : plan.released.reason;
      set({ type: CONDITION_READY, status: 'False', reason, message });
      if (phase === 'Paused') clear(CONDITION_RECONCILING);
      else set({ type: CONDITION_RECONCILING, status: 'True', reason, message });
      clear(CONDITION_STALLED);
    }
  } else if (obs.failure?.terminal || rollout.deadlineExceeded) {
    const reason = obs.failure?.reason ?? 'ProgressDeadlineExceeded';
    message = obs.failure?.message ?? rollout.deadlineExceeded!;
    set({ type: CONDITION_STALLED, status: 'True', reason, message });
    set({ type: CONDITION_READY, status: 'False', reason, message });
    clear(CONDITION_RECONCILING);
    phase = 'Failed';
  } else if (obs.failure) {
    message = `Reconcile failed, retrying: ${obs.failure.message}`;
    set({ type: CONDITION_READY, status: 'False', reason: obs.failure.reason, message });
    set({ type: CONDITION_RECONCILING, status: 'True', reason: 'RetryingAfterError', message });
    clear(CONDITION_STALLED);
    // Keep Ready or Progressing through an API blip, but leave Failed: the stall it named is gone.
    const kept = previous?.phase as Phase | undefined;
    phase = kept && kept !== 'Failed' ? kept : stableRevision ? 'Progressing' : 'Initializing';
  } else if (obs.heldBack) {
    message = obs.deployment
      ? `Release paused: revision ${obs.desiredRevision} waits while ${rollout.revision} keeps serving; set spec.release.paused to false to resume`
      : `Release paused before the first deployment: set spec.release.paused to false to deploy revision ${obs.desiredRevision}`;
    if (rollout.complete) stableRevision = rollout.revision;
    set({ type: CONDITION_READY, status: 'False', reason: 'Paused', message });
    clear(CONDITION_RECONCILING);
    clear(CONDITION_STALLED);
    phase = 'Paused';
  } else if (rollout.complete && rollout.revision === obs.desiredRevision) {
    message = rollout.message;
    stableRevision = rollout.revision;
    set({ type: CONDITION_READY, status: 'True', reason: 'Succeeded', message });
    clear(CONDITION_RECONCILING);
    clear(CONDITION_STALLED);
    phase = 'Ready';
  } else {
    message = rollout.message;
    set({ type: CONDITION_READY, status: 'False', reason: 'Progressing', message });
    set({ type: CONDITION_RECONCILING, status: 'True', reason: 'Progressing', message });
    clear(CONDITION_STALLED);
    phase = stableRevision ? 'Progressing' : 'Initializing';
  }

  if (released && !obs.failure) set({ type: CONDITION_RELEASED, ...released });
  const health = obs.release?.analysis && !obs.failure ? analysisHealth(obs.release.analysis) : undefined;
  if (health) set({ type: CONDITION_ANALYSIS_HEALTHY, ...health });

  const counts = podCounts(obs);
  return {
    observedGeneration: obs.generation,
    phase,
    conditions: orderConditions(conditions),
    ...(stableRevision ? { stableRevision } : {}),
    ...releaseFields(previous, obs),
    ...analysisField(previous, obs),
    ...environmentFields(previous, obs),
    replicas: counts.replicas,
    readyReplicas: counts.readyReplicas,
    updatedReplicas: counts.updatedReplicas,
    availableReplicas: counts.availableReplicas,
    selector: obs.selector,
    ready: `${counts.readyReplicas}/${counts.desired}`,
    message,
  } as MicroserviceStatus;
}

/** While a release runs, pods by revision (updated: the desired revision's); otherwise the Deployment's, and a canary being drained. */
function podCounts(obs: Observation) {
  const pods = obs.release?.pods;
  if (pods && inRelease(obs)) {
    const { desired, other } = pods;
    // Promoting, Ready counts against the pods the release ends with: the old ones are on their way out
    // (their set is scaled down only once the Deployment has claimed the canary's).
    const promoted = obs.release?.plan.phase === 'Promoting';
    return {
      replicas: desired.pods + other.pods,
      readyReplicas: desired.readyReplicas + other.readyReplicas,
      updatedReplicas: desired.pods,
      availableReplicas: desired.availableReplicas + other.availableReplicas,
      desired: desired.replicas + (promoted ? 0 : other.replicas),
    };
  }
  const depStatus = obs.deployment?.status ?? {};
  const canary = obs.release?.canary;
  // During a release the stable Deployment may be scaled below spec.replicas to make room for the canary.
  const stableDesired = obs.release ? (obs.deployment?.spec?.replicas ?? obs.desiredReplicas) : obs.desiredReplicas;
  return {
    replicas: (depStatus.replicas ?? 0) + (canary?.replicas ?? 0),
    readyReplicas: (depStatus.readyReplicas ?? 0) + (canary?.readyReplicas ?? 0),
    updatedReplicas: depStatus.updatedReplicas ?? 0,
    availableReplicas: depStatus.availableReplicas ?? 0,
    desired: stableDesired + (canary?.replicas ?? 0),
  };
}

const inRelease = (obs: Observation) => !obs.failure && obs.release?.plan.state.revision !== undefined;

/**
 * The Released condition to show. Once a revision is rolled back, later reconciles only see "rolled back";
 * the reason it was rolled back (an abort, the deadline, a failed check) stays until something changes.
 */
function stickyRollback(previous: MicroserviceStatus | undefined, plan: ReleasePlan): ReleasePlan['released'] {
  const before = (previous?.conditions as Condition[] | undefined)?.find((c) => c.type === CONDITION_RELEASED);
  const stillRolledBack =
    plan.phase === 'RolledBack' &&
    previous?.phase === 'RolledBack' &&
    previous.failedRevision === plan.state.failedRevision;
  if (stillRolledBack && before && before.status === 'False') {
    return { status: 'False', reason: before.reason, message: before.message };
  }
  return plan.released;
}

/** AnalysisHealthy: True while every metric passes, False on a failure, Unknown without a verdict. */
function analysisHealth(analysis: AnalysisStatus): Omit<ConditionInput, 'type' | 'observedGeneration'> | undefined {
  if (!analysis.decision) return undefined;
  const verdicts = (analysis.metrics ?? []).map((m) => (m as { verdict?: string }).verdict);
  const reason = analysis.decision.reason ?? '';
  if (verdicts.includes('Fail')) return { status: 'False', reason: 'MetricsFailed', message: reason };
  if (verdicts.length > 0 && verdicts.every((v) => v === 'Pass'))
    return { status: 'True', reason: 'MetricsPassed', message: reason };
  return { status: 'Unknown', reason: 'Inconclusive', message: reason };
}

/** The analysis status; after a failed reconcile, the previous one. */
function analysisField(previous: MicroserviceStatus | undefined, obs: Observation): Partial<MicroserviceStatus> {
  const analysis = obs.failure ? previous?.analysis : obs.release?.analysis;
  return analysis ? { analysis } : {};
}

/** status.environment and status.defaulted; without a resolution (it failed), the previous ones. */
function environmentFields(previous: MicroserviceStatus | undefined, obs: Observation): Partial<MicroserviceStatus> {
  if (!obs.environment) {
    return {
      ...(previous?.environment ? { environment: previous.environment } : {}),
      ...(previous?.defaulted ? { defaulted: previous.defaulted } : {}),
    };
  }
  return {
    ...(obs.environment.name ? { environment: obs.environment.name } : {}),
    ...(obs.environment.defaulted.length > 0 ? { defaulted: obs.environment.defaulted } : {}),
  };
}

/** Status fields that only a release writes; after a failed reconcile they are kept as they were. */
const RELEASE_FIELDS = [
  'release',
  'canaryRevision',
  'failedRevision',
  'currentStep',
  'stepCount',
  'desiredWeight',
  'canaryWeight',
  'canaryReplicas',
  'canaryReadyReplicas',
] as const satisfies readonly (keyof MicroserviceStatus)[];

/**
 * The persisted release state (status.release) from the plan, and the views of it that people and printer
 * columns read; after a failed reconcile, the previous fields are kept so nothing is lost.
 */
function releaseFields(previous: MicroserviceStatus | undefined, obs: Observation): Partial<MicroserviceStatus> {
  if (obs.failure || !obs.release) {
    return Object.fromEntries(
      RELEASE_FIELDS.filter((key) => previous?.[key] !== undefined).map((key) => [key, previous![key]]),
    );
  }
  const { plan, stepCount, pods } = obs.release;
  const state = plan.state;
  const inRelease = state.revision !== undefined;
  // The new revision's pods, through a promotion too (see podCounts); a canary being drained, after one.
  const canary = inRelease && pods ? pods.desired : obs.release.canary;
  // An empty object would be sent as {}, which server-side apply stores as null: leave the field out instead.
  const release = dropUndefined({ ...state });
  return dropUndefined({
    release: Object.keys(release).length > 0 ? release : undefined,
    canaryRevision: state.revision,
    failedRevision: state.failedRevision,
    currentStep: inRelease ? state.step : undefined,
    stepCount: inRelease ? stepCount : undefined,
    desiredWeight: inRelease ? state.desiredWeight : undefined,
    // Only a release has a canary weight: after it, as before the first, the column is empty, not 0.
    canaryWeight: inRelease ? plan.canaryWeight : undefined,
    canaryReplicas: canary?.replicas,
    canaryReadyReplicas: canary?.readyReplicas,
  });
}

const CONDITION_ORDER = [
  CONDITION_READY,
  CONDITION_RECONCILING,
  CONDITION_STALLED,
  CONDITION_RELEASED,
  CONDITION_ANALYSIS_HEALTHY,
];

/** A fixed order, so an equal set of conditions serializes to equal bytes. */
function orderConditions(conditions: Condition[]): Condition[] {
  const rank = (type: string) => {
    const i = CONDITION_ORDER.indexOf(type);
    return i === -1 ? CONDITION_ORDER.length : i;
  };
  return [...conditions].sort((a, b) => rank(a.type) - rank(b.type) || a.type.localeCompare(b.type));
}

export interface StatusEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** Events for `kubectl describe`, one per transition, never one per reconcile. */
export function statusEvents(previous: MicroserviceStatus | undefined, next: MicroserviceStatus): StatusEvent[] {
  const before = (previous?.conditions ?? []) as Condition[];
  const after = (next.conditions ?? []) as Condition[];
  const stalled = after.find((c) => c.type === CONDITION_STALLED && c.status === 'True');
  const wasStalled = before.find((c) => c.type === CONDITION_STALLED && c.status === 'True');
  if (stalled && (stalled.reason !== wasStalled?.reason || stalled.message !== wasStalled.message)) {
    return [{ type: 'Warning', reason: stalled.reason, message: stalled.message }];
  }
  if (next.phase !== previous?.phase) {
    if (next.phase === 'Ready') return [{ type: 'Normal', reason: 'Ready', message: next.message ?? '' }];
    if (next.phase === 'Paused') return [{ type: 'Normal', reason: 'Paused', message: next.message ?? '' }];
    if (wasStalled && !stalled) return [{ type: 'Normal', reason: 'Recovered', message: next.message ?? '' }];
  }
  return [];
}
