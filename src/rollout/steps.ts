// The steps of a canary release: explicit, or expanded from the shorthand.
import type { CanarySettings, RequestMatch } from '../api/types';
import { formatDuration, parseDuration } from '../api/duration';

export type Step =
  | { kind: 'setWeight'; weight: number }
  | { kind: 'pause'; durationMs?: number }
  /** A parallel run: `percent` of the mirrored methods' requests copied to the comparator for `durationMs`. */
  | { kind: 'mirror'; percent: number; durationMs: number }
  /** From this step on, requests that match any entry go to the canary. */
  | { kind: 'match'; matches: RequestMatch[] };

export const DEFAULT_MIRROR_PERCENT = 100;

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
  const duration = (text: string, field: string) => {
    try {
      return parseDuration(text);
    } catch (err) {
      throw new StepsError(`${field}: ${(err as Error).message}`);
    }
  };
  return steps.map((step, index): Step => {
    const field = `release.canary.steps[${index}]`;
    if (step.setWeight !== undefined) return { kind: 'setWeight', weight: step.setWeight };
    if (step.mirror !== undefined) {
      return {
        kind: 'mirror',
        percent: step.mirror.percent ?? DEFAULT_MIRROR_PERCENT,
        durationMs: duration(step.mirror.duration, `${field}.mirror.duration`),
      };
    }
    if (step.match !== undefined) return { kind: 'match', matches: step.match };
    const pause = step.pause?.duration;
    if (pause === undefined) return { kind: 'pause' };
    return { kind: 'pause', durationMs: duration(pause, `${field}.pause.duration`) };
  });
}

/** The requests sent to the canary at step `index`: every match step up to and including it. */
export function activeMatches(steps: Step[], index: number): RequestMatch[] {
  return steps.slice(0, index + 1).flatMap((step) => (step.kind === 'match' ? step.matches : []));
}

/** Whether the release has a parallel run (a mirror step) at `index` or before it. */
export function parallelRunStarted(steps: Step[], index: number): boolean {
  return steps.slice(0, index + 1).some((step) => step.kind === 'mirror');
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
  if (step.kind === 'mirror') return `mirror ${step.percent}% for ${formatDuration(step.durationMs)}`;
  if (step.kind === 'match') return `match ${step.matches.map(describeMatch).join(' or ')}`;
  if (step.durationMs === undefined) return 'pause until promoted';
  return `pause ${formatDuration(step.durationMs)}`;
}

/** "header x-beta=true", "cookie beta=1": for messages. */
export function describeMatch(match: RequestMatch): string {
  if (match.cookie) return `cookie ${match.cookie.name}=${match.cookie.value}`;
  return Object.entries(match.headers ?? {})
    .map(([name, value]) =>
      value.exact !== undefined ? `header ${name}=${value.exact}` : `header ${name}~${value.regex}`,
    )
    .join(' and ');
}

const MIRRORING_ROUTERS = ['gatewayAPI', 'istio'];

/** Mirror and match steps need a router that can carry them; the schema refuses this only when the router is written out. */
export function checkStepsRouter(steps: Step[], router: string): void {
  if (steps.some((step) => step.kind === 'mirror') && !MIRRORING_ROUTERS.includes(router))
    throw new StepsError(
      `release.canary.steps has a mirror step, but the router is ${router}; mirror steps need router gatewayAPI or istio (set release.canary.traffic.router)`,
    );
  if (steps.some((step) => step.kind === 'match') && router === 'replicas')
    throw new StepsError(
      'release.canary.steps has a match step, but the router is replicas; match steps need router gatewayAPI, istio or nginx (set release.canary.traffic.router)',
    );
}
