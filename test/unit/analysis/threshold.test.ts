import { checkThreshold, type ThresholdOutcome } from '../../../src/analysis/threshold';
import type { ThresholdRange } from '../../../src/analysis/types';

describe('checkThreshold', () => {
  test.each<[string, number, ThresholdRange, ThresholdOutcome]>([
    ['success-rate', 97.1, { min: 99 }, { verdict: 'Fail', reason: 'success-rate 97.1 < min 99' }],
    ['success-rate', 99.83, { min: 99 }, { verdict: 'Pass', reason: 'success-rate 99.83 >= min 99' }],
    ['success-rate', 99, { min: 99 }, { verdict: 'Pass', reason: 'success-rate 99 >= min 99' }],
    ['latency-p99', 612.449, { max: 500 }, { verdict: 'Fail', reason: 'latency-p99 612.4 > max 500' }],
    ['latency-p99', 500, { max: 500 }, { verdict: 'Pass', reason: 'latency-p99 500 <= max 500' }],
    ['cpu', 0.42, { min: 0.1, max: 0.8 }, { verdict: 'Pass', reason: 'cpu 0.42 within [0.1, 0.8]' }],
    ['cpu', 0.05, { min: 0.1, max: 0.8 }, { verdict: 'Fail', reason: 'cpu 0.05 < min 0.1' }],
    ['cpu', 0.95, { min: 0.1, max: 0.8 }, { verdict: 'Fail', reason: 'cpu 0.95 > max 0.8' }],
    ['error-ratio', 0.0, { max: 0 }, { verdict: 'Pass', reason: 'error-ratio 0 <= max 0' }],
    ['success-rate', NaN, { min: 99 }, { verdict: 'NoData', reason: 'success-rate is NaN, not a number' }],
    ['latency-p99', Infinity, { max: 500 }, { verdict: 'NoData', reason: 'latency-p99 is ∞, not a number' }],
    ['x', 1, {}, { verdict: 'Error', reason: 'x has no thresholdRange: set min, max or both' }],
  ])('%s = %d against %j', (name, value, range, outcome) => {
    expect(checkThreshold(name, value, range)).toEqual(outcome);
  });
});
