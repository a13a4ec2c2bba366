import { formatNumber } from './format';
import { median, rankSumTest, type Alternative } from './mann-whitney';
import type { Direction } from './types';

// Canary vs baseline on series (Kayenta's semantics): each step point of a range query is one
// sample; a Mann-Whitney test with a Hodges-Lehmann interval for the shift canary − baseline.
// The metric fails when the interval lies wholly beyond the allowed margin in the bad direction.
// This is a fixed-sample test: looking every interval spends `1 − confidence` each time, which is
// why failureLimit > 1 and a high confidence suit it (docs/analysis.md).

export interface SeriesComparisonInput {
  name: string;
  canary: readonly number[];
  baseline: readonly number[];
  direction: Direction;
  /** Level of the test and the interval, e.g. 0.98. */
  confidence: number;
  minSamples: number;
  /** Relative to the baseline median: 0.10 tolerates a shift of 10% of it. */
  allowedIncrease: number;
}

export interface SeriesComparisonResult {
  verdict: 'Pass' | 'Fail' | 'Inconclusive' | 'NoData';
  canary: { samples: number; value?: number };
  baseline: { samples: number; value?: number };
  effect?: { shift: number; interval: [number, number] };
  evidence?: { pValue: number; alpha: number };
  reason: string;
}

const ALTERNATIVE: Record<Direction, Alternative> = { Increase: 'greater', Decrease: 'less', Either: 'two.sided' };

export function compareSeries(input: SeriesComparisonInput): SeriesComparisonResult {
  const { name, direction, confidence, minSamples, allowedIncrease } = input;
  // NaN points (0/0 with no traffic) and ±Inf are gaps, not measurements (Kayenta's nanStrategy remove).
  const canary = input.canary.filter(Number.isFinite);
  const baseline = input.baseline.filter(Number.isFinite);
  const dropped = input.canary.length + input.baseline.length - canary.length - baseline.length;
  const note = dropped > 0 ? ` (${dropped} NaN or infinite points left out)` : '';
  const arms = {
    canary: summary(canary),
    baseline: summary(baseline),
  };
  if (canary.length === 0 || baseline.length === 0) {
    const empty = [canary.length === 0 ? 'canary' : '', baseline.length === 0 ? 'baseline' : ''].filter(Boolean);
    return { verdict: 'NoData', ...arms, reason: `${name}: no ${empty.join(' or ')} samples${note}` };
  }
  const shownMedians = `canary median ${formatNumber(arms.canary.value!)} vs baseline ${formatNumber(arms.baseline.value!)}`;
  const enough = canary.length >= minSamples && baseline.length >= minSamples;
  const waiting = `needs ${minSamples} samples per arm before it can pass (canary ${canary.length}, baseline ${baseline.length})${note}`;
  if (new Set([...canary, ...baseline]).size === 1) {
    // Nothing to rank: identical constant series cannot differ.
    if (!enough) return { verdict: 'Inconclusive', ...arms, reason: `${name}: ${waiting}` };
    return { verdict: 'Pass', ...arms, reason: `${name}: canary and baseline are the same constant${note}` };
  }

  const test = rankSumTest(canary, baseline, { alternative: ALTERNATIVE[direction], confLevel: confidence });
  const margin = allowedIncrease * Math.abs(arms.baseline.value!);
  const [lo, hi] = test.confInt;
  const effect = { shift: test.estimate, interval: test.confInt };
  const evidence = { pValue: test.pValue, alpha: 1 - confidence };
  const level = `${formatNumber(confidence * 100)}%`;
  const shownInterval = `[${formatNumber(lo)}, ${formatNumber(hi)}]`;
  // The p-value guard matters for tiny samples, where R's interval falls short of the asked level.
  const significant = test.pValue <= 1 - confidence;
  const worse = !significant
    ? undefined
    : direction !== 'Decrease' && lo > margin
      ? 'higher'
      : direction !== 'Increase' && hi < -margin
        ? 'lower'
        : undefined;
  if (worse)
    return {
      verdict: 'Fail',
      ...arms,
      effect,
      evidence,
      reason:
        `${name}: ${shownMedians}; the canary is ${worse} by ${formatNumber(Math.abs(test.estimate))} ` +
        `(${level} interval ${shownInterval}, beyond the allowed ±${formatNumber(margin)}; p = ${formatNumber(test.pValue)})${note}`,
    };
  if (!enough) return { verdict: 'Inconclusive', ...arms, effect, evidence, reason: `${name}: ${waiting}` };
  return {
    verdict: 'Pass',
    ...arms,
    effect,
    evidence,
    reason:
      `${name}: ${shownMedians}; shift ${formatNumber(test.estimate)}, ${level} interval ${shownInterval} ` +
      `within the allowed ${formatNumber(margin)} (p = ${formatNumber(test.pValue)})${note}`,
  };
}

function summary(values: number[]): { samples: number; value?: number } {
  return values.length === 0 ? { samples: 0 } : { samples: values.length, value: median(values) };
}
