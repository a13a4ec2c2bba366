import type { V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import { LABEL_REVISION, LABEL_TRACK, TRACK_BASELINE, TRACK_CANARY } from '../api/constants';
import type { Microservice } from '../api/types';
import { trackSelector, withRevision } from './labels';
import { childMetadata, identityOf } from './ownership';
import { withTrack } from './pod-template';

export const canaryReplicaSetName = (name: string, revision: string): string => `${name}-canary-${revision}`;

/**
 * The canary ReplicaSet `<name>-canary-<revision>`: the desired revision's pods, labelled track=canary.
 * Its selector holds the revision, so the canary of one revision never adopts the pods of another.
 */
export function renderCanaryReplicaSet(
  microservice: Microservice,
  template: V1PodTemplateSpec,
  revision: string,
  replicas: number,
): V1ReplicaSet {
  const { name } = identityOf(microservice);
  const selector = withRevision(trackSelector(name, TRACK_CANARY), revision);
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: childMetadata(microservice, canaryReplicaSetName(name, revision), {
      labels: { [LABEL_TRACK]: TRACK_CANARY, [LABEL_REVISION]: revision },
    }),
    spec: { replicas, selector: { matchLabels: selector }, template: withTrack(template, TRACK_CANARY) },
  };
}

export const baselineReplicaSetName = (name: string, revision: string): string => `${name}-baseline-${revision}`;

/**
 * The baseline ReplicaSet `<name>-baseline-<revision>`: the stable revision's template (taken from the
 * live Deployment, since the spec already names the new revision), labelled track=baseline, started with
 * the canary at its size, so the judge compares two equally fresh sets of pods.
 */
export function renderBaselineReplicaSet(
  microservice: Microservice,
  stableTemplate: V1PodTemplateSpec,
  revision: string,
  replicas: number,
): V1ReplicaSet {
  const { name } = identityOf(microservice);
  const selector = withRevision(trackSelector(name, TRACK_BASELINE), revision);
  const template = withTrack(stableTemplate, TRACK_BASELINE);
  // The Deployment controller's own label must not follow the pods, or the Deployment would count them.
  delete template.metadata?.labels?.['pod-template-hash'];
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: childMetadata(microservice, baselineReplicaSetName(name, revision), {
      labels: { [LABEL_TRACK]: TRACK_BASELINE, [LABEL_REVISION]: revision },
    }),
    spec: { replicas, selector: { matchLabels: selector }, template },
  };
}
