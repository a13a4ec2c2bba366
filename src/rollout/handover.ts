// Promotion without new pods, pure: the stable Deployment adopts the canary's
// ReplicaSet, whose pods already run and are ready, instead of rolling onto
// pods of its own and then deleting the canary's (what Argo Rollouts does by
// promoting the canary's ReplicaSet).
//
// The Deployment controller adopts an orphan ReplicaSet whose labels match its
// selector, and takes it as its new ReplicaSet when the pod templates are equal
// (pod-template-hash aside). Its scaling is why the order matters:
// - unpaused, a Deployment whose template changed makes a ReplicaSet of its
//   own at once, so the template moves while the Deployment is paused;
// - paused, it still resizes: the only active ReplicaSet to spec.replicas, or
//   every active one in proportion to spec.replicas + maxSurge. So while
//   paused the Deployment keeps the old pods' count, and maxSurge is set so
//   that spec.replicas + maxSurge is exactly the pods that run: every
//   proportional resize is then a no-op;
// - unpaused with its new ReplicaSet at spec.replicas (and spec.replicas
//   unchanged, so no proportional resize), it creates no pod and scales the
//   old ReplicaSets down.
// Each step waits until the Deployment controller has seen the one before: a
// step it saw out of order would scale the wrong ReplicaSet. The steps are
// read from the live objects alone, so a restarted operator goes on from there.
//
// Worked example, 3 replicas, the canary at 3 ready pods, the stable at 1:
//   pause   Deployment → new template, paused, replicas 1, maxSurge 3
//   adopt   canary ReplicaSet orphaned, labelled and templated stable, pods relabelled
//           (the controller adopts it: 1 + 3 pods run = replicas 1 + maxSurge 3, no resize)
//   resize  Deployment → replicas 3, maxSurge 1 (3 + 1 run: no resize)
//   release seen at the adopted set's size, which is the plan's: the plan's apply of the
//           rendered Deployment unpauses it. Its new ReplicaSet is the adopted one, already at
//           spec.replicas, so the rolling update only scales the old ReplicaSet to 0: the old
//           stable pods, and only they, go. Unpausing here, not once the old pods are gone,
//           saves the Deployment controller a round trip per promotion. Should the plan want
//           another size (spec.replicas edited meanwhile), it waits paused until the old pods
//           are gone, and the plan's apply then resizes the one ReplicaSet left.
//   none    unpaused on the new template: the plan waits for the Deployment as in any promotion
// Under the replicas router every pod of the Microservice takes live traffic,
// so relabelling the canary's pods stable moves no request; weighted routers
// keep the rolling promotion (their Services select by track).

import { type Action, sortActions } from './actions';

export interface HandoverObservation {
  /** Canary under the replicas router, with replicas that are msop's (no HPA). */
  eligible: boolean;
  desiredRevision: string;
  /** The plan moves the Deployment to the desired revision this reconcile. */
  promoting: boolean;
  deployment?: {
    /** The revision of its pod template. */
    revision?: string;
    paused: boolean;
    /** Its controller has seen the latest spec (status.observedGeneration). */
    observed: boolean;
    replicas: number;
    /** status.replicas, updatedReplicas and availableReplicas all equal spec.replicas. */
    complete: boolean;
  };
  /** The replicas the plan's apply gives the Deployment. */
  plannedReplicas?: number;
  /** msop's canary ReplicaSet of the desired revision, not yet handed over. */
  canary?: {
    replicas: number;
    readyReplicas: number;
    /** Its selector leaves the track out (so its pods can be relabelled), and no other set of the Deployment runs its revision. */
    adoptable: boolean;
  };
  /** The desired revision's ReplicaSet handed over, before the Deployment controller has claimed it. */
  orphaned: boolean;
  /** The desired revision's ReplicaSet once the Deployment controls it. */
  adopted?: { replicas: number };
}

export type Handover =
  /** Not a handover: the plan's Deployment actions stand. */
  | { step: 'none' }
  /** The Deployment moves to the desired template, paused, at its current pods; nothing else. */
  | { step: 'pause'; replicas: number; maxSurge: number }
  /** The canary ReplicaSet is handed over and its pods relabelled stable. */
  | { step: 'adopt' }
  /** The paused Deployment takes the adopted ReplicaSet's size; a canary pod the adopt step missed is relabelled. */
  | { step: 'resize'; replicas: number; maxSurge: number }
  /** The plan's Deployment stands (it unpauses it), and a canary pod the earlier steps missed is relabelled. */
  | { step: 'release' }
  /** The Deployment controller acts first: no Deployment write. */
  | { step: 'wait' }
  /** A handover that cannot finish (a new revision came): the Deployment resumes rolling on its own. */
  | { step: 'resume' };

export function handoverStep(o: HandoverObservation): Handover {
  const d = o.deployment;
  if (!d) return { step: 'none' };
  if (d.revision !== o.desiredRevision) {
    // msop pauses a Deployment only for a handover; one left paused by a replaced release is resumed.
    if (d.paused) return { step: 'resume' };
    const canary = o.canary;
    const ready = canary !== undefined && canary.adoptable && canary.readyReplicas >= canary.replicas;
    if (o.eligible && o.promoting && ready && canary.replicas > 0)
      return { step: 'pause', replicas: d.replicas, maxSurge: canary.replicas };
    return { step: 'none' };
  }
  if (!d.paused) return { step: 'none' };
  if (!d.observed) return { step: 'wait' };
  if (o.canary) return { step: 'adopt' };
  // Unpausing before the claim would let the Deployment controller resize the unclaimed set's pods away.
  if (o.orphaned) return { step: 'wait' };
  if (o.adopted) {
    if (d.replicas !== o.adopted.replicas)
      return { step: 'resize', replicas: o.adopted.replicas, maxSurge: d.replicas };
    if (o.plannedReplicas === o.adopted.replicas) return { step: 'release' };
    // The plan wants another size (spec.replicas changed mid-handover): unpaused, the Deployment would scale
    // every active set in proportion, the old one included. Paused, the old pods go first; the plan's apply
    // then resizes a single ReplicaSet.
    return d.complete ? { step: 'none' } : { step: 'wait' };
  }
  // Neither ReplicaSet (the canary was deleted by hand): the plan's apply unpauses it, and it rolls on its own.
  return { step: 'none' };
}

/** The plan's actions with the handover's step in place of its Deployment and canary writes. */
export function withHandover(actions: Action[], handover: Handover): Action[] {
  if (handover.step === 'none') return actions;
  if (handover.step === 'release') return sortActions([...actions, { kind: 'relabelCanaryPods' }]);
  const replaced = (a: Action) =>
    a.kind === 'applyDeployment' ||
    a.kind === 'scaleDeployment' ||
    (a.kind === 'applyReplicaSet' && a.track === 'canary');
  const kept = actions.filter((a) => !replaced(a));
  const paused = (h: { replicas: number; maxSurge: number }): Action => ({
    kind: 'applyDeployment',
    paused: { replicas: h.replicas, maxSurge: h.maxSurge },
  });
  const step: Action[] =
    handover.step === 'pause'
      ? [paused(handover)]
      : handover.step === 'resize'
        ? [paused(handover), { kind: 'relabelCanaryPods' }]
        : handover.step === 'adopt'
          ? [{ kind: 'adoptCanary' }]
          : handover.step === 'resume'
            ? [{ kind: 'resumeDeployment' }]
            : [];
  return sortActions([...kept, ...step]);
}
