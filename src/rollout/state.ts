// The persisted release state, status.release: one definition (the CRD's,
// generated into ReleaseState), read here and written by deriveStatus.
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import type { MicroserviceStatus, ReleaseState } from '../api/types';
import { stableStringify } from '../render/hash';

/**
 * The persisted release state: status.release, its one home. A status written before status.release
 * existed kept the same state in top-level fields; it is read from there once, so an upgrade loses nothing.
 */
export function releaseStateOf(status: MicroserviceStatus | undefined): ReleaseState {
  if (status?.release) return status.release;
  const legacy = status as
    (MicroserviceStatus & { stepStartTime?: string; holdStartTime?: string; podsWaitStartTime?: string }) | undefined;
  if (!legacy?.canaryRevision && !legacy?.failedRevision) return {};
  return dropUndefined({
    strategy: legacy.canaryRevision ? 'Canary' : undefined,
    revision: legacy.canaryRevision,
    failedRevision: legacy.failedRevision,
    step: legacy.currentStep,
    stepStartTime: legacy.stepStartTime,
    holdStartTime: legacy.holdStartTime,
    podsWaitStartTime: legacy.podsWaitStartTime,
    desiredWeight: legacy.desiredWeight,
  });
}

/**
 * The stable pod template the release state keeps, from its JSON. A state written before the template was a
 * string kept it as an object in stableTemplate; it is read from there, so a release in flight across an
 * upgrade still recreates a deleted Deployment on the stable revision.
 */
export function stableTemplateOf(state: ReleaseState): V1PodTemplateSpec | undefined {
  if (state.stablePodTemplate !== undefined) return JSON.parse(state.stablePodTemplate) as V1PodTemplateSpec;
  return (state as ReleaseState & { stableTemplate?: V1PodTemplateSpec }).stableTemplate;
}

/** The release state keeping `template` as the stable one (none: it keeps no template). */
export function withStableTemplateKept(state: ReleaseState, template: V1PodTemplateSpec | undefined): ReleaseState {
  const rest: ReleaseState & { stableTemplate?: unknown } = { ...state };
  delete rest.stablePodTemplate;
  delete rest.stableTemplate;
  // Sorted keys: the same template always makes the same string, so an unchanged release state writes nothing.
  return template ? { ...rest, stablePodTemplate: stableStringify(template) } : rest;
}

export function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
