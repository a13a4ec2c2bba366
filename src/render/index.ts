// The render layer: Microservice in, the children msop applies out. Pure and deterministic: the same
// input gives the same bytes (no clock, no randomness, no I/O), so an unchanged spec makes zero writes.
import type { KubernetesObject, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { Microservice } from '../api/types';
import { cloneJson } from './clone';
import type { RenderDefaults } from './defaults';
import { renderDeployment } from './deployment';
import { revisionOf } from './hash';
import { renderHorizontalPodAutoscaler } from './hpa';
import { withRevision } from './labels';
import { renderPodDisruptionBudget } from './pdb';
import { renderPodTemplate } from './pod-template';
import { renderServices } from './services';
import { onlyReferenced, referencedConfig, type TrackedContent } from './tracked';

export type { RenderDefaults } from './defaults';
export type { ConfigReference, ReferencedConfig, TrackedContent } from './tracked';
export { referencedConfig } from './tracked';
export { isControlledBy, notOwnedMessage, ownedKinds, type OwnedKind, RenderError } from './ownership';
export { revisionOf, stableStringify } from './hash';
export { withTrack } from './pod-template';
export { renderTrackService } from './services';

export interface RenderInput {
  microservice: Microservice;
  /** Content of the referenced ConfigMaps and Secrets; anything else passed here is ignored. */
  tracked: TrackedContent;
  defaults: RenderDefaults;
  /** BlueGreen under the replicas router, once switched: the revision the apex Service selects. */
  liveRevision?: string;
}

export interface RenderedChildren {
  /** Hash of the stable pod template and the referenced config content. */
  revision: string;
  /** The stable pod template with its revision label, for the release logic to derive canary/baseline ReplicaSets. */
  template: V1PodTemplateSpec;
  /** In apply order: Services, Deployment, then PodDisruptionBudget and HorizontalPodAutoscaler when wanted. */
  objects: KubernetesObject[];
}

export function renderChildren({ microservice, tracked, defaults, liveRevision }: RenderInput): RenderedChildren {
  const base = renderPodTemplate(microservice, defaults);
  const revision = revisionOf(base, onlyReferenced(tracked, referencedConfig(microservice.spec)));
  const template: V1PodTemplateSpec = {
    ...base,
    metadata: { ...base.metadata, labels: withRevision(base.metadata?.labels ?? {}, revision) },
  };
  const optional = [renderPodDisruptionBudget(microservice), renderHorizontalPodAutoscaler(microservice)];
  return {
    revision,
    template,
    objects: [
      ...renderServices(microservice, liveRevision),
      renderDeployment(microservice, cloneJson(template), revision),
      ...optional.filter((object) => object !== undefined),
    ],
  };
}
export {
  adoptableReplicaSet,
  baselineReplicaSetName,
  canaryReplicaSetName,
  previewReplicaSetName,
  renderBaselineReplicaSet,
  renderCanaryReplicaSet,
  renderPreviewReplicaSet,
  renderTrackReplicaSet,
  selectsAnyTrack,
} from './replicaset';
export { isBlueGreen, isCanary, isProgressive, newTrackOf, routerOf, trafficOf } from './defaults';
