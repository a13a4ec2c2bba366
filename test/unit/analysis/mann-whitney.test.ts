import { median, rankSumTest, type RankSumOptions } from '../../../src/analysis/mann-whitney';

// Datasets and outputs of R's wilcox.test; each row says where its numbers come from.
// [P] published: printed in R's own help page, ?wilcox.test, "Examples" (R 4.2.2 shows the same);
//     or on endmemo.com/r/wilcoxon.php for the tied integers.
// [R] R 4.2.2 (Debian r-base-core) run while writing this test, for the values the help page does
//     not print (intervals, estimates, more digits):
//       wilcox.test(x, y, alternative = ..., conf.int = TRUE, conf.level = ...)
// R finds the approximate interval with uniroot(tol = 1e-4) on a step function, so it prints e.g.
// -52.99998542 where the step is at -53; those rows compare to 3 decimals.

// Hollander & Wolfe (1973), p. 69f: permeability constants at term (x) and at 12-26 weeks (y).
const HW_X = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
const HW_Y = [1.15, 0.88, 0.9, 0.74, 1.21];
// R's airquality data set, Ozone (ppb) in May and August with the NAs removed (help page example:
// wilcox.test(Ozone ~ Month, data = airquality, subset = Month %in% c(5, 8))).
const OZONE_MAY = [41, 36, 12, 18, 28, 23, 19, 8, 7, 16, 11, 14, 18, 14, 34, 6, 30, 11, 1, 11, 4, 32, 23, 45, 115, 37];
const OZONE_AUG = [
  39, 9, 16, 78, 35, 66, 122, 89, 110, 44, 28, 65, 22, 59, 23, 31, 44, 21, 9, 45, 168, 73, 76, 118, 84, 85,
];
// endmemo.com/r/wilcoxon.php: wilcox.test(x, y) on tied integers.
const TIED_X = [1, 5, 9, 24, 56, 21, 3, 7, 21, 4];
const TIED_Y = [12, 15, 5, 9, 9, 14, 56, 22, 3, 7, 32, 5];
// 60 and 55 values without ties: past R's exact limit of 50, so the normal approximation.
const SEQ_X = Array.from({ length: 60 }, (_, i) => 0.5 + 0.5 * i); // seq(0.5, 30, by = 0.5)
const SEQ_Y = Array.from({ length: 55 }, (_, i) => 0.25 + 0.5 * i); // seq(0.25, 27.25, by = 0.5)

interface Row {
  source: string;
  x: number[];
  y: number[];
  options: RankSumOptions;
  method: 'exact' | 'normal';
  W: number;
  p: number;
  /** Significant digits of the p-value as the source prints it. */
  pDigits: number;
  confInt?: [number, number];
  estimate?: number;
  /** Decimals to compare interval and estimate to. */
  digits?: number;
}

const rows: Row[] = [
  {
    source: '[P] H&W, alternative = "g": W = 35, p-value = 0.1272',
    x: HW_X,
    y: HW_Y,
    options: { alternative: 'greater' },
    method: 'exact',
    W: 35,
    p: 0.1272,
    pDigits: 4,
  },
  {
    source: '[R] H&W, greater, conf.int: p 0.1272061272, [-0.08, Inf], estimate 0.305',
    x: HW_X,
    y: HW_Y,
    options: { alternative: 'greater' },
    method: 'exact',
    W: 35,
    p: 0.1272061272,
    pDigits: 10,
    confInt: [-0.08, Infinity],
    estimate: 0.305,
    digits: 10,
  },
  {
    source: '[R] H&W, two.sided, conf.int: p 0.2544122544, [-0.15, 0.76], estimate 0.305',
    x: HW_X,
    y: HW_Y,
    options: {},
    method: 'exact',
    W: 35,
    p: 0.2544122544,
    pDigits: 10,
    confInt: [-0.15, 0.76],
    estimate: 0.305,
    digits: 10,
  },
  {
    source: '[R] H&W, two.sided, conf.level 0.98: [-0.17, 0.9]',
    x: HW_X,
    y: HW_Y,
    options: { confLevel: 0.98 },
    method: 'exact',
    W: 35,
    p: 0.2544122544,
    pDigits: 10,
    confInt: [-0.17, 0.9],
    estimate: 0.305,
    digits: 10,
  },
  {
    source: '[R] H&W, less, conf.int: p 0.8967698968, [-Inf, 0.72]',
    x: HW_X,
    y: HW_Y,
    options: { alternative: 'less' },
    method: 'exact',
    W: 35,
    p: 0.8967698968,
    pDigits: 10,
    confInt: [-Infinity, 0.72],
    estimate: 0.305,
    digits: 10,
  },
  {
    source: '[P] H&W large-sample approximation, exact = FALSE, correct = FALSE: p-value = 0.1103',
    x: HW_X,
    y: HW_Y,
    options: { alternative: 'greater', exact: false, correct: false },
    method: 'normal',
    W: 35,
    p: 0.1103,
    pDigits: 4,
  },
  {
    source: '[R] the same with conf.int: p 0.110335681, [-0.07997321481, Inf]',
    x: HW_X,
    y: HW_Y,
    options: { alternative: 'greater', exact: false, correct: false },
    method: 'normal',
    W: 35,
    p: 0.110335681,
    pDigits: 9,
    confInt: [-0.07997321481, Infinity],
    digits: 3,
  },
  {
    source: '[R] H&W, exact = FALSE (continuity correction): p 0.2446236051, [-0.1500148372, 0.7599427653]',
    x: HW_X,
    y: HW_Y,
    options: { exact: false },
    method: 'normal',
    W: 35,
    p: 0.2446236051,
    pDigits: 10,
    confInt: [-0.1500148372, 0.7599427653],
    digits: 3,
  },
  {
    source: '[P] airquality Ozone May vs August: W = 127.5, p-value = 0.0001208',
    x: OZONE_MAY,
    y: OZONE_AUG,
    options: {},
    method: 'normal',
    W: 127.5,
    p: 0.0001208,
    pDigits: 4,
  },
  {
    source: '[R] the same with conf.int: p 0.0001208078308, [-52.99998542, -14.99997898], estimate -31.99995872',
    x: OZONE_MAY,
    y: OZONE_AUG,
    options: {},
    method: 'normal',
    W: 127.5,
    p: 0.0001208078308,
    pDigits: 10,
    confInt: [-52.99998542, -14.99997898],
    estimate: -31.99995872,
    digits: 3,
  },
  {
    source:
      '[R] August vs May, greater, conf.level 0.98: W 548.5, p 6.040391538e-05, [13.99998048, Inf], estimate 31.99995872',
    x: OZONE_AUG,
    y: OZONE_MAY,
    options: { alternative: 'greater', confLevel: 0.98 },
    method: 'normal',
    W: 548.5,
    p: 6.040391538e-5,
    pDigits: 10,
    confInt: [13.99998048, Infinity],
    estimate: 31.99995872,
    digits: 3,
  },
  {
    source: '[P] endmemo tied integers: W = 51.5, p-value = 0.5966',
    x: TIED_X,
    y: TIED_Y,
    options: {},
    method: 'normal',
    W: 51.5,
    p: 0.5966,
    pDigits: 4,
  },
  {
    source: '[R] the same with conf.int: p 0.5965969026, [-10.00005019, 11.9999776], estimate -1.999992883',
    x: TIED_X,
    y: TIED_Y,
    options: {},
    method: 'normal',
    W: 51.5,
    p: 0.5965969026,
    pDigits: 10,
    confInt: [-10.00005019, 11.9999776],
    estimate: -1.999992883,
    digits: 3,
  },
  {
    source: '[R] 60 vs 55 without ties: W 1815, p 0.3570383248, [-1.75000372, 4.75000372], estimate 1.5',
    x: SEQ_X,
    y: SEQ_Y,
    options: {},
    method: 'normal',
    W: 1815,
    p: 0.3570383248,
    pDigits: 10,
    confInt: [-1.75000372, 4.75000372],
    estimate: 1.5,
    digits: 3,
  },
  {
    source: '[R] the same, greater, conf.level 0.98: p 0.1785191624, [-1.750031291, Inf]',
    x: SEQ_X,
    y: SEQ_Y,
    options: { alternative: 'greater', confLevel: 0.98 },
    method: 'normal',
    W: 1815,
    p: 0.1785191624,
    pDigits: 10,
    confInt: [-1.750031291, Infinity],
    estimate: 1.5,
    digits: 3,
  },
];

describe('rankSumTest matches R wilcox.test', () => {
  test.each(rows.map((row) => [row.source, row] as const))('%s', (_source, row) => {
    const result = rankSumTest(row.x, row.y, row.options);
    expect(result.method).toBe(row.method);
    expect(result.statistic).toBe(row.W);
    // The p-value as the source prints it: rounded to the same significant digits.
    expect(Number(result.pValue.toPrecision(row.pDigits))).toBe(row.p);
    if (row.confInt) {
      for (const [i, bound] of row.confInt.entries()) {
        if (Number.isFinite(bound)) expect(result.confInt[i]).toBeCloseTo(bound, row.digits);
        else expect(result.confInt[i]).toBe(bound);
      }
    }
    if (row.estimate !== undefined) expect(result.estimate).toBeCloseTo(row.estimate, row.digits);
  });

  test('the approximate estimate is the middle of the stretch where the statistic is centred', () => {
    // R prints 0.302508339 for H&W with exact = FALSE: uniroot stops anywhere in [0.30, 0.31], where
    // W(x - d) = nx*ny/2 exactly. Its middle is the median of the pairwise differences, the textbook
    // Hodges-Lehmann estimate, which R's exact branch prints (0.305).
    const result = rankSumTest(HW_X, HW_Y, { exact: false });
    expect(result.estimate).toBeCloseTo(0.305, 10);
    expect(result.estimate).toBeGreaterThanOrEqual(0.3);
    expect(result.estimate).toBeLessThanOrEqual(0.31);
  });
});

describe('rankSumTest', () => {
  test('uses the exact distribution only without ties and below 50 values per sample', () => {
    expect(rankSumTest([1, 2, 3], [4, 5, 6]).method).toBe('exact');
    expect(rankSumTest([1, 2, 3], [3, 5, 6]).method).toBe('normal');
    expect(rankSumTest(SEQ_X.slice(0, 49), SEQ_Y.slice(0, 49)).method).toBe('exact');
    expect(rankSumTest(SEQ_X.slice(0, 50), SEQ_Y.slice(0, 49)).method).toBe('normal');
  });

  test.each<[string, number[], number[], RankSumOptions, string]>([
    ['an empty sample', [], [1], {}, 'both samples need at least one value'],
    ['NaN', [NaN, 1], [1], {}, 'samples must be finite numbers'],
    ['a confidence level of 0.5', [1], [2], { confLevel: 0.5 }, 'confLevel must be in (0.5, 1), got 0.5'],
  ])('refuses %s', (_name, x, y, options, message) => {
    expect(() => rankSumTest(x, y, options)).toThrow(new RangeError(message));
  });

  test.each<[number[], number]>([
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
  ])('median of %j is %d', (values, expected) => {
    expect(median(values)).toBe(expected);
  });
});
