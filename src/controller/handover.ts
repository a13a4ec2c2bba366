// The API side of a promotion's handover (rollout/handover.ts): what the step
// is read from, and the adopt step's writes. The step itself is pure.
import type { KubernetesObject, V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import {
  FIELD_MANAGER,
  LABEL_MICROSERVICE,
  LABEL_REVISION,
  LABEL_TRACK,
  TRACK_CANARY,
  TRACK_STABLE,
} from '../api/constants';
import type { Microservice } from '../api/types';
import type { KubeClient } from '../kube/client';
import { isNotFound } from '../kube/errors';
import type { Logger } from '../observability/logger';
import { adoptableReplicaSet, isControlledBy, type RenderedChildren, selectsAnyTrack } from '../render';
import { type Handover, handoverStep } from '../rollout/handover';
import type { KindCache } from './caches';
import { withAppliedHash } from './drift';
import { deploymentComplete } from './status';

/** The fallback requeue between the handover's steps: the Deployment controller's writes wake the next one first. */
export const HANDOVER_REQUEUE_MS = 5_000;

export interface HandoverContext {
  client: KubeClient;
  replicaSets?: KindCache<KubernetesObject>;
}

/** Where the handover stands, from the live Deployment and ReplicaSets. */
export function observeHandover(
  ctx: HandoverContext,
  microservice: Microservice,
  input: {
    revision: string;
    eligible: boolean;
    promoting: boolean;
    /** The replicas the plan's apply gives the Deployment. */
    plannedReplicas?: number;
    deployment?: V1Deployment;
    /** msop's ReplicaSet of the desired revision on the new track. */
    current?: V1ReplicaSet;
  },
): Handover {
  const { deployment, revision } = input;
  const { namespace = '', name = '' } = microservice.metadata;
  const canary = input.current?.metadata?.labels?.[LABEL_TRACK] === TRACK_CANARY ? input.current : undefined;
  const deploymentUid = deployment?.metadata?.uid;
  const sets = (ctx.replicaSets?.listByLabel(namespace, name) ?? []).filter(
    (rs) => rs.metadata?.labels?.[LABEL_REVISION] === revision,
  );
  const adopted = sets.find((rs) => deploymentUid !== undefined && isControlledBy(rs, deploymentUid)) as
    V1ReplicaSet | undefined;
  const orphaned = sets.some(
    (rs) =>
      rs.metadata?.labels?.[LABEL_TRACK] === TRACK_STABLE &&
      !(rs.metadata?.ownerReferences ?? []).some((ref) => ref.controller),
  );
  const observation = (adoptable: boolean) =>
    handoverStep({
      eligible: input.eligible,
      desiredRevision: revision,
      promoting: input.promoting,
      deployment: deployment && {
        revision: deployment.spec?.template.metadata?.labels?.[LABEL_REVISION],
        paused: deployment.spec?.paused === true,
        observed: (deployment.status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0),
        replicas: deployment.spec?.replicas ?? 0,
        complete: deploymentComplete(deployment),
      },
      plannedReplicas: input.plannedReplicas,
      canary: canary && {
        replicas: canary.spec?.replicas ?? 0,
        readyReplicas: canary.status?.readyReplicas ?? 0,
        adoptable,
      },
      orphaned,
      adopted: adopted && { replicas: adopted.spec?.replicas ?? 0 },
    });
  const step = observation(canary !== undefined && selectsAnyTrack(canary));
  if (step.step !== 'pause') return step;
  // The Deployment controller takes the oldest ReplicaSet whose template matches as its new one. A revision
  // it ran before (a revert) still has its own, at 0 pods, which would win over the canary's: roll instead.
  // The cache holds the Deployment's ReplicaSets too.
  const clash = sets.some((rs) => rs.metadata?.uid !== canary?.metadata?.uid);
  return clash ? observation(false) : step;
}

/**
 * The adopt step: the canary ReplicaSet in its stable shape without msop's controller reference, then its
 * pods relabelled stable, which moves no traffic under the replicas router.
 */
export async function adoptCanary(
  ctx: HandoverContext,
  microservice: Microservice,
  rendered: RenderedChildren,
  canary: V1ReplicaSet,
  log: Logger,
): Promise<void> {
  const sent = withAppliedHash(adoptableReplicaSet(canary, microservice, rendered.template, rendered.revision));
  const written = await ctx.client.apply(sent, FIELD_MANAGER);
  ctx.replicaSets?.recordWrite(written, canary.metadata?.resourceVersion);
  const pods = await relabelCanaryPods(ctx, microservice, rendered.revision);
  log.info({ replicaSet: canary.metadata?.name, pods }, 'Handed the canary ReplicaSet over to the Deployment');
}

/**
 * Relabels the desired revision's canary pods stable; returns how many. The list is served from the API
 * server's cache, so a pod it missed is relabelled at the next step (a pod made after the adopt step's
 * template change is stable already).
 */
export async function relabelCanaryPods(ctx: HandoverContext, microservice: Microservice, revision: string) {
  const { namespace = '', name = '' } = microservice.metadata;
  const pods = await ctx.client.list<KubernetesObject>('v1', 'Pod', namespace, {
    labelSelector: `${LABEL_MICROSERVICE}=${name},${LABEL_REVISION}=${revision},${LABEL_TRACK}=${TRACK_CANARY}`,
    resourceVersion: '0',
  });
  for (const pod of pods.items) {
    try {
      await ctx.client.mergePatch('v1', 'Pod', namespace, pod.metadata!.name!, {
        metadata: { labels: { [LABEL_TRACK]: TRACK_STABLE } },
      });
    } catch (err) {
      // A pod deleted since the list needs no label.
      if (!isNotFound(err)) throw err;
    }
  }
  return pods.items.length;
}
