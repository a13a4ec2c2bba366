import type { KubernetesObject, V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, KIND } from '../api/constants';
import type { Microservice } from '../api/types';
import { commonLabels, type Labels } from './labels';
import { compact, nonEmptyMap } from './compact';

/** Every kind render can produce, so the reconciler knows what to list and prune. */
export const ownedKinds = [
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
] as const;

export type OwnedKind = (typeof ownedKinds)[number];

/** Thrown when a Microservice lacks the identity its children need (name, namespace, uid). */
export class RenderError extends Error {
  override name = 'RenderError';
}

/** The name, namespace and uid of a Microservice, which every child needs. */
export function identityOf(microservice: Microservice): { name: string; namespace: string; uid: string } {
  const { name, namespace, uid } = microservice.metadata;
  if (!name || !namespace || !uid) {
    throw new RenderError(`Microservice ${namespace ?? ''}/${name ?? ''} has no name, namespace or uid`);
  }
  return { name, namespace, uid };
}

/** The controller reference that makes a child garbage-collected with, and reconciled for, its Microservice. */
export function ownerReference(microservice: Microservice): V1OwnerReference {
  const { name, uid } = identityOf(microservice);
  return { apiVersion: API_VERSION, kind: KIND, name, uid, controller: true, blockOwnerDeletion: true };
}

/**
 * Metadata of a child object. msop's labels are applied last, so extra labels cannot hide a child
 * from msop's own selectors.
 */
export function childMetadata(
  microservice: Microservice,
  name: string,
  extra: { labels?: Labels; annotations?: Record<string, string> } = {},
): V1ObjectMeta {
  const owner = identityOf(microservice);
  return compact({
    name,
    namespace: owner.namespace,
    labels: { ...extra.labels, ...commonLabels(owner.name) },
    annotations: nonEmptyMap(extra.annotations),
    ownerReferences: [ownerReference(microservice)],
  });
}

/** True when the object's controller reference names this owner uid. */
export function isControlledBy(object: KubernetesObject, ownerUid: string): boolean {
  return (object.metadata?.ownerReferences ?? []).some((ref) => ref.controller === true && ref.uid === ownerUid);
}

/** The error for an object msop would write over but does not own. */
export function notOwnedMessage(kind: string, namespace: string, name: string, owner: string): string {
  return `${kind} ${namespace}/${name} already exists and is not managed by Microservice ${owner}; delete or rename it so msop can manage it`;
}
