import type { V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import {
  LABEL_REVISION,
  LABEL_TRACK,
  TRACK_BASELINE,
  TRACK_CANARY,
  TRACK_PREVIEW,
  TRACK_STABLE,
} from '../api/constants';
import type { Microservice } from '../api/types';
import { cloneJson } from './clone';
import { microserviceSelector, trackSelector, withRevision } from './labels';
import { childMetadata, identityOf } from './ownership';
import { withTrack } from './pod-template';

/** `<name>-<track>-<revision>`: one ReplicaSet per track and revision. */
export const trackReplicaSetName = (name: string, track: string, revision: string): string =>
  `${name}-${track}-${revision}`;
export const canaryReplicaSetName = (name: string, revision: string): string =>
  trackReplicaSetName(name, TRACK_CANARY, revision);
export const previewReplicaSetName = (name: string, revision: string): string =>
  trackReplicaSetName(name, TRACK_PREVIEW, revision);
export const baselineReplicaSetName = (name: string, revision: string): string =>
  trackReplicaSetName(name, TRACK_BASELINE, revision);

/**
 * The ReplicaSet of one track and revision, its pods labelled with both. Its selector holds the revision,
 * so the ReplicaSet of one revision never adopts the pods of another. The canary's selector leaves the
 * track out: at promotion its pods are relabelled stable and the Deployment adopts it (adoptableReplicaSet),
 * and a selector is immutable.
 */
export function renderTrackReplicaSet(
  microservice: Microservice,
  template: V1PodTemplateSpec,
  track: string,
  revision: string,
  replicas: number,
): V1ReplicaSet {
  const { name } = identityOf(microservice);
  const selector =
    track === TRACK_CANARY
      ? withRevision(microserviceSelector(name), revision)
      : withRevision(trackSelector(name, track), revision);
  const pods = withTrack(template, track);
  // The Deployment controller's own label must not follow the pods, or the Deployment would count them.
  delete pods.metadata?.labels?.['pod-template-hash'];
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: childMetadata(microservice, trackReplicaSetName(name, track, revision), {
      labels: { [LABEL_TRACK]: track, [LABEL_REVISION]: revision },
    }),
    spec: { replicas, selector: { matchLabels: selector }, template: pods },
  };
}

/** The canary ReplicaSet `<name>-canary-<revision>`: the desired revision's pods, labelled track=canary. */
export function renderCanaryReplicaSet(
  microservice: Microservice,
  template: V1PodTemplateSpec,
  revision: string,
  replicas: number,
): V1ReplicaSet {
  return renderTrackReplicaSet(microservice, template, TRACK_CANARY, revision, replicas);
}

/**
 * The BlueGreen preview ReplicaSet `<name>-preview-<revision>`: the desired revision's pods, labelled
 * track=preview, selected by the Service `<name>-preview` and, once switched, by the live Service.
 */
export function renderPreviewReplicaSet(
  microservice: Microservice,
  template: V1PodTemplateSpec,
  revision: string,
  replicas: number,
): V1ReplicaSet {
  return renderTrackReplicaSet(microservice, template, TRACK_PREVIEW, revision, replicas);
}

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
  return renderTrackReplicaSet(microservice, stableTemplate, TRACK_BASELINE, revision, replicas);
}

/**
 * The canary ReplicaSet as the stable Deployment adopts it at promotion: labelled track=stable so the
 * Deployment's selector matches it, without msop's controller reference (the Deployment controller claims
 * only orphans), and running exactly the Deployment's template, which makes it the Deployment's new
 * ReplicaSet: its running pods become the stable pods and none is recreated. The selector is the live one.
 */
export function adoptableReplicaSet(
  canary: V1ReplicaSet,
  microservice: Microservice,
  template: V1PodTemplateSpec,
  revision: string,
): V1ReplicaSet {
  const { name } = identityOf(microservice);
  const metadata = childMetadata(microservice, canary.metadata!.name!, {
    labels: { [LABEL_TRACK]: TRACK_STABLE, [LABEL_REVISION]: revision },
  });
  delete metadata.ownerReferences;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata,
    spec: {
      replicas: canary.spec?.replicas ?? 0,
      selector: canary.spec?.selector ?? { matchLabels: withRevision(microserviceSelector(name), revision) },
      template: cloneJson(template),
    },
  };
}

/** True when a canary ReplicaSet's selector still matches its pods once they are relabelled stable. */
export function selectsAnyTrack(canary: V1ReplicaSet): boolean {
  const selector = canary.spec?.selector;
  return selector?.matchLabels?.[LABEL_TRACK] === undefined && (selector?.matchExpressions ?? []).length === 0;
}
