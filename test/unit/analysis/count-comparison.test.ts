import { compareCounts, type CountComparisonInput } from '../../../src/analysis/count-comparison';

const input = (
  canary: [number, number],
  baseline: [number, number],
  extra: Partial<CountComparisonInput> = {},
): CountComparisonInput => ({
  name: 'http-5xx',
  canary: { events: canary[0], total: canary[1] },
  baseline: { events: baseline[0], total: baseline[1] },
  allowedIncrease: 0.1,
  alpha: 0.05,
  minTotal: 1000,
  ...extra,
});

describe('compareCounts against reference values', () => {
  // Reference: R 4.2.2 (Debian r-base-core), computing the same e-value from its definition by
  // numerical integration instead of the incomplete beta function used in the code:
  //   a0 <- k*s; b0 <- k*(1-s); ll <- function(t) ec*log(t) + eb*log1p(-t)
  //   E  <- integrate(function(t) dbeta(t, a0, b0) * exp(ll(t) - ll(th)), th, 1)$value / pbeta(th, a0, b0, lower.tail = FALSE)
  // with s = canary share of requests, k = 10, th = 1.1 s / (1.1 s + 1 - s); the interval ends are
  // R's uniroot() of log E = log(1 / 0.05), mapped to rate ratios by th (1 - s) / ((1 - th) s).
  test.each<[string, [number, number], [number, number], number, number, number]>([
    ['0.5% → 1% at 20k requests per arm', [204, 20000], [98, 20000], 360666.6479, 1.4780929, 3.1358627],
    ['equal rates at 20k requests per arm', [100, 20000], [100, 20000], 0.1484867814, 0.66152632, 1.5116556],
    ['a doubling at 4k requests per arm', [40, 4000], [20, 4000], 6.40380345, 0.96104874, 4.7508323],
    ['unequal traffic, 2:1', [30, 10000], [12, 5000], 0.598269617, 0.51642648, 3.4811203],
    ['no baseline events', [3, 500], [0, 500], 1.897303429, 0.2514498, Infinity],
  ])('%s', (_name, canary, baseline, bayesFactor, lower, upper) => {
    const result = compareCounts(input(canary, baseline));
    expect(result.evidence.bayesFactor / bayesFactor).toBeCloseTo(1, 5);
    expect(result.evidence.rejectAt).toBe(20);
    expect(result.effect.interval[0]).toBeCloseTo(lower, 4);
    if (upper === Infinity) expect(result.effect.interval[1]).toBe(Infinity);
    else expect(result.effect.interval[1]).toBeCloseTo(upper, 4);
  });

  // With k = 2 and equal traffic the prior is uniform, and E = 2^(n+1) ∫_{1/2}^1 θ^ec (1-θ)^eb dθ
  // for δ = 0, which is a polynomial integral done by hand: 3 events and none → 15/4, one each → 2/3.
  test.each<[[number, number], [number, number], number]>([
    [[3, 1000], [0, 1000], 15 / 4],
    [[1, 1000], [1, 1000], 2 / 3],
    [[0, 1000], [0, 1000], 1],
  ])('a uniform prior gives the hand-computed e-value (%j vs %j)', (canary, baseline, bayesFactor) => {
    const result = compareCounts(input(canary, baseline, { priorConcentration: 2, allowedIncrease: 0 }));
    expect(result.evidence.bayesFactor).toBeCloseTo(bayesFactor, 6);
  });
});

describe('compareCounts verdicts', () => {
  test.each<[string, [number, number], [number, number], string]>([
    ['catches 0.5% → 1% at 20k requests per arm', [204, 20000], [98, 20000], 'Fail'],
    ['passes equal rates', [100, 20000], [100, 20000], 'Pass'],
    ['passes a canary within the 10% margin', [105, 20000], [100, 20000], 'Pass'],
    ['passes a better canary', [50, 20000], [100, 20000], 'Pass'],
    ['passes no errors on either side', [0, 5000], [0, 5000], 'Pass'],
    ['fails a clear regression before minTotal: the evidence is valid at any count', [30, 500], [0, 500], 'Fail'],
    ['is inconclusive below minTotal without such evidence', [3, 500], [0, 500], 'Inconclusive'],
    ['is inconclusive when only one arm reached minTotal', [5, 1500], [5, 900], 'Inconclusive'],
    ['has no data without canary requests', [0, 0], [5, 900], 'NoData'],
    ['has no data without baseline requests', [0, 900], [0, 0], 'NoData'],
  ])('%s', (_name, canary, baseline, verdict) => {
    expect(compareCounts(input(canary, baseline)).verdict).toBe(verdict);
  });

  test('explains a failure with both rates, the ratio and the evidence', () => {
    expect(compareCounts(input([204, 20000], [98, 20000])).reason).toBe(
      'http-5xx: canary 1.02% (204 of 20000) vs baseline 0.49% (98 of 20000), 2.082× the baseline, ' +
        'more than the 1.1× allowed (e-value 360667 ≥ 20)',
    );
  });

  test('explains a pass with the interval it rules in', () => {
    expect(compareCounts(input([100, 20000], [100, 20000])).reason).toBe(
      'http-5xx: canary 0.5% (100 of 20000) vs baseline 0.5% (100 of 20000); no evidence of more than the 1.1× allowed ' +
        '(e-value 0.1485 < 20; ratio 1, interval [0.6615, 1.512])',
    );
  });

  test.each<[[number, number], [number, number], string]>([
    [[3, 500], [0, 500], 'http-5xx: needs 1000 requests per arm before it can pass (canary 500, baseline 500)'],
    [[0, 0], [0, 0], 'http-5xx: no canary or baseline requests in the window'],
    [[0, 0], [1, 10], 'http-5xx: no canary requests in the window'],
  ])('explains %j vs %j', (canary, baseline, reason) => {
    expect(compareCounts(input(canary, baseline)).reason).toBe(reason);
  });

  test('reports the point estimate of the rate ratio, and none without events', () => {
    expect(compareCounts(input([204, 20000], [98, 20000])).effect.ratio).toBe(2.08163);
    expect(compareCounts(input([0, 5000], [0, 5000])).effect).toEqual({ interval: [0, Infinity] });
  });

  test('a stricter alpha raises the bar', () => {
    const result = compareCounts(input([40, 4000], [20, 4000], { alpha: 0.01 }));
    expect(result.evidence.rejectAt).toBe(100);
  });

  test('caps events at the total: increase() extrapolates each series on its own', () => {
    const result = compareCounts(input([1000.4, 1000], [0, 1000]));
    expect(result.reason).toContain('canary 100% (1000 of 1000)');
  });

  test.each<[[number, number], string]>([
    [[-1, 10], 'http-5xx: canary counts must be finite and not negative, got -1 of 10'],
    [[NaN, 10], 'http-5xx: canary counts must be finite and not negative, got NaN of 10'],
  ])('refuses counts %j', (canary, message) => {
    expect(() => compareCounts(input(canary, [0, 10]))).toThrow(new RangeError(message));
  });
});
