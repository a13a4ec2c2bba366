import { formatNumber } from './format';
import type { ThresholdRange } from './types';

export interface ThresholdOutcome {
  verdict: 'Pass' | 'Fail' | 'NoData' | 'Error';
  reason: string;
}

/**
 * The one threshold check every Threshold metric goes through: `value` must lie in [min, max]
 * (either bound may be absent). A value that is not a number is NoData, never a pass.
 */
export function checkThreshold(name: string, value: number, range: ThresholdRange): ThresholdOutcome {
  const { min, max } = range;
  if (!Number.isFinite(value)) return { verdict: 'NoData', reason: `${name} is ${formatNumber(value)}, not a number` };
  const shown = `${name} ${formatNumber(value)}`;
  if (min !== undefined && value < min) return { verdict: 'Fail', reason: `${shown} < min ${formatNumber(min)}` };
  if (max !== undefined && value > max) return { verdict: 'Fail', reason: `${shown} > max ${formatNumber(max)}` };
  if (min !== undefined && max !== undefined)
    return { verdict: 'Pass', reason: `${shown} within [${formatNumber(min)}, ${formatNumber(max)}]` };
  if (min !== undefined) return { verdict: 'Pass', reason: `${shown} >= min ${formatNumber(min)}` };
  if (max !== undefined) return { verdict: 'Pass', reason: `${shown} <= max ${formatNumber(max)}` };
  // Settings validation refuses a range with neither bound; an unchecked value must not pass.
  return { verdict: 'Error', reason: `${name} has no thresholdRange: set min, max or both` };
}
