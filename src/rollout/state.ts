// The persisted release state, status.release: one definition (the CRD's,
// generated into ReleaseState), read here and written by deriveStatus.
import type { MicroserviceStatus, ReleaseState } from '../api/types';

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

export function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
