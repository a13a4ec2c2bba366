// The steps of a canary release: explicit, or expanded from the shorthand.
import type { CanarySettings } from '../api/types';
import { formatDuration, parseDuration } from '../api/duration';

export type Step = { kind: 'setWeight'; weight: number } | { kind: 'pause'; durationMs?: number };

export const DEFAULT_STEP_WEIGHT = 20;
export const DEFAULT_MAX_WEIGHT = 80;
export const DEFAULT_STEP_INTERVAL = '1m';

export class StepsError extends Error {
  override name = 'StepsError';
}

/** The steps to run; throws StepsError for steps msop cannot run (a weight that goes down, a bad duration). */
export function releaseSteps(canary: CanarySettings | undefined): Step[] {
  const steps = canary?.steps ? explicitSteps(canary.steps) : shorthandSteps(canary);
  let previous = 0;
  steps.forEach((step, index) => {
    if (step.kind !== 'setWeight') return;
    if (step.weight < previous) {
      throw new StepsError(
        `release.canary.steps[${index}] lowers the weight from ${previous} to ${step.weight}; weights must not go down within a release`,
      );
    }
    previous = step.weight;
  });
  return steps;
}

function explicitSteps(steps: NonNullable<CanarySettings['steps']>): Step[] {
  return steps.map((step, index) => {
    if (step.setWeight !== undefined) return { kind: 'setWeight', weight: step.setWeight };
    const duration = step.pause?.duration;
    if (duration === undefined) return { kind: 'pause' };
    try {
      return { kind: 'pause', durationMs: parseDuration(duration) };
    } catch (err) {
      throw new StepsError(`release.canary.steps[${index}].pause.duration: ${(err as Error).message}`);
    }
  });
}

/** stepWeight 10, maxWeight 30 → setWeight 10, pause, setWeight 20, pause, setWeight 30, pause. */
function shorthandSteps(canary: CanarySettings | undefined): Step[] {
  const stepWeight = canary?.stepWeight ?? DEFAULT_STEP_WEIGHT;
  const maxWeight = canary?.maxWeight ?? (canary?.stepWeight === undefined ? DEFAULT_MAX_WEIGHT : 100);
  let durationMs: number;
  try {
    durationMs = parseDuration(canary?.stepInterval ?? DEFAULT_STEP_INTERVAL);
  } catch (err) {
    throw new StepsError(`release.canary.stepInterval: ${(err as Error).message}`);
  }
  const steps: Step[] = [];
  for (let weight = stepWeight; weight < maxWeight + stepWeight; weight += stepWeight) {
    steps.push({ kind: 'setWeight', weight: Math.min(weight, maxWeight) }, { kind: 'pause', durationMs });
  }
  return steps;
}

/** "setWeight 10", "pause 2m", "pause until promoted": for messages and kubectl msop status. */
export function describeStep(step: Step): string {
  if (step.kind === 'setWeight') return `setWeight ${step.weight}`;
  if (step.durationMs === undefined) return 'pause until promoted';
  return `pause ${formatDuration(step.durationMs)}`;
}
