// What the canary and blue-green planners share: the defaults of a plan while a
// release is in progress, how soon a router is read back, and durations in messages.
import { formatDuration as formatExact } from '../api/duration';
import type { ReleaseEvent, ReleasePlan, ReleaseState } from './release';

/** How soon a weight or selector just written is read back. */
export const VERIFY_INTERVAL_MS = 1_000;

/** Durations in messages, to the second. */
export const formatDuration = (ms: number): string => formatExact(Math.max(0, Math.round(ms / 1000) * 1000));

/** A plan while the release of `revision` is in progress: nothing moves unless `plan` says so. */
export function inReleasePlan(
  release: { revision: string; state: ReleaseState; events: ReleaseEvent[]; canaryWeight: number },
  plan: Partial<ReleasePlan>,
): ReleasePlan {
  return {
    deploymentTemplate: 'keep',
    deleteCanaries: false,
    state: release.state,
    phase: 'Progressing',
    released: { status: 'False', reason: 'Progressing', message: `Releasing revision ${release.revision}` },
    canaryWeight: release.canaryWeight,
    events: release.events,
    ...plan,
  };
}
