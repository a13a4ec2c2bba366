import { compareSeries, type SeriesComparisonInput } from '../../../src/analysis/series-comparison';
import type { Direction } from '../../../src/analysis/types';

// The data sets of mann-whitney.test.ts, whose intervals R prints (sources there):
// Ozone August vs May, greater, conf.level 0.98: [14, Inf]; two-sided 0.95: May − August in [-53, -15].
// Hollander & Wolfe, greater, 0.95: [-0.08, Inf], p = 0.1272.
const OZONE_MAY = [41, 36, 12, 18, 28, 23, 19, 8, 7, 16, 11, 14, 18, 14, 34, 6, 30, 11, 1, 11, 4, 32, 23, 45, 115, 37];
const OZONE_AUG = [
  39, 9, 16, 78, 35, 66, 122, 89, 110, 44, 28, 65, 22, 59, 23, 31, 44, 21, 9, 45, 168, 73, 76, 118, 84, 85,
];
const HW_X = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
const HW_Y = [1.15, 0.88, 0.9, 0.74, 1.21];

const input = (
  canary: number[],
  baseline: number[],
  direction: Direction,
  extra: Partial<SeriesComparisonInput> = {},
): SeriesComparisonInput => ({
  name: 'p99-vs-baseline',
  canary,
  baseline,
  direction,
  confidence: 0.98,
  minSamples: 20,
  allowedIncrease: 0.1,
  ...extra,
});

describe('compareSeries verdicts', () => {
  test.each<[string, SeriesComparisonInput, string]>([
    // Interval [14, Inf] lies above 10% of the baseline median (18).
    ['fails a clear increase', input(OZONE_AUG, OZONE_MAY, 'Increase'), 'Fail'],
    // ... but not above 100% of it: a margin of 18.
    [
      'passes an increase within a wide margin',
      input(OZONE_AUG, OZONE_MAY, 'Increase', { allowedIncrease: 1 }),
      'Pass',
    ],
    ['passes a decrease when only an increase counts', input(OZONE_MAY, OZONE_AUG, 'Increase'), 'Pass'],
    ['fails a decrease when a decrease counts', input(OZONE_MAY, OZONE_AUG, 'Decrease'), 'Fail'],
    ['fails a decrease when either counts', input(OZONE_MAY, OZONE_AUG, 'Either', { confidence: 0.95 }), 'Fail'],
    ['fails before minSamples on clear evidence', input(OZONE_AUG, OZONE_MAY, 'Increase', { minSamples: 30 }), 'Fail'],
    [
      'is inconclusive before minSamples otherwise',
      input(OZONE_MAY, OZONE_AUG, 'Increase', { minSamples: 30 }),
      'Inconclusive',
    ],
    // R: p = 0.1272, interval [-0.08, Inf] includes 0.
    [
      'passes a shift it cannot tell from noise',
      input(HW_X, HW_Y, 'Increase', { confidence: 0.95, minSamples: 5, allowedIncrease: 0 }),
      'Pass',
    ],
    // With 3 values each the best one-sided p is 1/20 = 0.05, short of 0.98 confidence.
    [
      'never fails on samples too small for the confidence',
      input([10, 11, 12], [1, 2, 3], 'Increase', { minSamples: 5 }),
      'Inconclusive',
    ],
    ['passes identical constant series', input(Array<number>(20).fill(5), Array<number>(20).fill(5), 'Either'), 'Pass'],
    ['has no data without canary samples', input([], [1, 2], 'Increase'), 'NoData'],
    ['has no data when every point is NaN', input([NaN, NaN], [1, 2], 'Increase'), 'NoData'],
  ])('%s', (_name, series, verdict) => {
    expect(compareSeries(series).verdict).toBe(verdict);
  });

  test('explains a failure with medians, shift, interval, margin and p-value', () => {
    const result = compareSeries(input(OZONE_AUG, OZONE_MAY, 'Increase'));
    expect(result.reason).toBe(
      'p99-vs-baseline: canary median 52 vs baseline 18; the canary is higher by 32 ' +
        '(98% interval [14, ∞], beyond the allowed ±1.8; p = 0.0000604)',
    );
    expect(result.canary).toEqual({ samples: 26, value: 52 });
    expect(result.baseline).toEqual({ samples: 26, value: 18 });
    expect(result.effect!.interval[0]).toBeCloseTo(14, 3);
    expect(result.effect!.interval[1]).toBe(Infinity);
    expect(result.evidence!.alpha).toBeCloseTo(0.02, 10);
  });

  test('explains a pass', () => {
    expect(compareSeries(input(OZONE_AUG, OZONE_MAY, 'Increase', { allowedIncrease: 1 })).reason).toBe(
      'p99-vs-baseline: canary median 52 vs baseline 18; shift 32, 98% interval [14, ∞] within the allowed 18 (p = 0.0000604)',
    );
  });

  test('leaves out NaN points and says how many', () => {
    const result = compareSeries(input([...OZONE_AUG, NaN, Infinity], [NaN, ...OZONE_MAY], 'Increase'));
    expect(result.verdict).toBe('Fail');
    expect(result.canary.samples).toBe(26);
    expect(result.reason).toMatch(/\(3 NaN or infinite points left out\)$/);
  });

  test('says how many samples are missing', () => {
    expect(compareSeries(input(OZONE_MAY, OZONE_AUG, 'Increase', { minSamples: 30 })).reason).toBe(
      'p99-vs-baseline: needs 30 samples per arm before it can pass (canary 26, baseline 26)',
    );
  });
});
