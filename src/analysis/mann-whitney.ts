import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';

// The two-sample Wilcoxon rank-sum (Mann-Whitney U) test with the Hodges-Lehmann shift estimate and
// its confidence interval, computing what R's `wilcox.test(x, y, conf.int = TRUE)` computes:
// - W = Σ ranks of x − nx(nx+1)/2 (the number of pairs with x > y, ties counting half);
// - exact null distribution when both samples have fewer than 50 values and there are no ties,
//   with the interval read off the sorted pairwise differences (Hollander & Wolfe 1999, §4.3);
// - otherwise the normal approximation with the ties correction of the variance and a continuity
//   correction, and the interval where the standardised statistic of x − d crosses the normal
//   quantile. R finds that crossing with uniroot (tolerance 1e-4); the statistic only changes at
//   the pairwise differences, so we find the difference where it changes, exactly.

export type Alternative = 'two.sided' | 'greater' | 'less';

export interface RankSumOptions {
  alternative?: Alternative;
  /** Between 0.5 and 1; R's default 0.95. */
  confLevel?: number;
  /** Default: exact when both samples have fewer than 50 values and nothing is tied. */
  exact?: boolean;
  /** Continuity correction of the normal approximation; default true. */
  correct?: boolean;
}

export interface RankSumResult {
  /** R's W: pairs (x, y) with x > y, ties counting half. */
  statistic: number;
  pValue: number;
  method: 'exact' | 'normal';
  /** For the location shift x − y; one-sided alternatives leave one end infinite. */
  confInt: [number, number];
  /** The Hodges-Lehmann estimate of the shift. */
  estimate: number;
}

export function rankSumTest(x: readonly number[], y: readonly number[], options: RankSumOptions = {}): RankSumResult {
  const alternative = options.alternative ?? 'two.sided';
  const confLevel = options.confLevel ?? 0.95;
  const correct = options.correct ?? true;
  if (x.length === 0 || y.length === 0) throw new RangeError('both samples need at least one value');
  if ([...x, ...y].some((v) => !Number.isFinite(v))) throw new RangeError('samples must be finite numbers');
  if (!(confLevel > 0.5 && confLevel < 1)) throw new RangeError(`confLevel must be in (0.5, 1), got ${confLevel}`);
  const nx = x.length;
  const ny = y.length;
  const { rankSum, tieTerm } = rankX(x, y, 0);
  const statistic = rankSum - (nx * (nx + 1)) / 2;
  const exact = (options.exact ?? (nx < 50 && ny < 50)) && tieTerm === 0;
  const alpha = 1 - confLevel;
  const diffs = pairwiseDifferences(x, y);

  if (exact) {
    const dist = new RankSumDistribution(nx, ny);
    const pValue =
      alternative === 'greater'
        ? dist.upper(statistic)
        : alternative === 'less'
          ? dist.lower(statistic)
          : Math.min(1, 2 * (statistic > (nx * ny) / 2 ? dist.upper(statistic) : dist.lower(statistic)));
    // R: qu = qwilcox(α or α/2); the interval is [diffs[qu], diffs[nx·ny − qu + 1]] (1-based).
    const qu = Math.max(1, dist.quantile(alternative === 'two.sided' ? alpha / 2 : alpha));
    const lower = diffs[qu - 1]!;
    const upper = diffs[nx * ny - qu]!;
    const confInt: [number, number] =
      alternative === 'greater' ? [lower, Infinity] : alternative === 'less' ? [-Infinity, upper] : [lower, upper];
    return { statistic, pValue, method: 'exact', confInt, estimate: median(diffs) };
  }

  const z = standardised(statistic, nx, ny, tieTerm, correct ? alternative : undefined);
  const pValue =
    alternative === 'less'
      ? normalCdf(z, 0, 1)
      : alternative === 'greater'
        ? normalCdf(-z, 0, 1)
        : 2 * Math.min(normalCdf(z, 0, 1), normalCdf(-z, 0, 1));
  const shifted = (correctFor: Alternative | undefined) => (d: number) => {
    const ranked = rankX(x, y, d);
    return standardised(ranked.rankSum - (nx * (nx + 1)) / 2, nx, ny, ranked.tieTerm, correctFor);
  };
  const points = unique(diffs);
  const crossing = new Crossing(shifted(correct ? alternative : undefined), points);
  const q = (p: number) => normalQuantile(p, 0, 1);
  const confInt: [number, number] =
    alternative === 'greater'
      ? [crossing.at(q(1 - alpha)), Infinity]
      : alternative === 'less'
        ? [-Infinity, crossing.at(q(alpha))]
        : [crossing.at(q(1 - alpha / 2)), crossing.at(q(alpha / 2))];
  // R drops the continuity correction for the estimate: the shift where the statistic is centred.
  const estimate = new Crossing(shifted(undefined), points).at(0);
  return { statistic, pValue, method: 'normal', confInt, estimate };
}

/** (W − nx·ny/2 − correction) / σ, with σ corrected for ties; `correctFor` undefined means no correction. */
function standardised(w: number, nx: number, ny: number, tieTerm: number, correctFor: Alternative | undefined): number {
  const n = nx + ny;
  const centred = w - (nx * ny) / 2;
  const correction =
    correctFor === undefined
      ? 0
      : correctFor === 'greater'
        ? 0.5
        : correctFor === 'less'
          ? -0.5
          : Math.sign(centred) * 0.5;
  const sigma = Math.sqrt(((nx * ny) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  return (centred - correction) / sigma;
}

/** Σ ranks of x − d among (x − d, y), ties getting the mean rank, and Σ (t³ − t) over tie groups. */
function rankX(x: readonly number[], y: readonly number[], d: number): { rankSum: number; tieTerm: number } {
  const values = [...x.map((v) => ({ v: v - d, fromX: true })), ...y.map((v) => ({ v, fromX: false }))];
  values.sort((a, b) => a.v - b.v);
  let rankSum = 0;
  let tieTerm = 0;
  for (let start = 0; start < values.length;) {
    let end = start + 1;
    while (end < values.length && values[end]!.v === values[start]!.v) end++;
    const size = end - start;
    const meanRank = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) if (values[i]!.fromX) rankSum += meanRank;
    tieTerm += size ** 3 - size;
    start = end;
  }
  return { rankSum, tieTerm };
}

function pairwiseDifferences(x: readonly number[], y: readonly number[]): number[] {
  const diffs: number[] = [];
  for (const a of x) for (const b of y) diffs.push(a - b);
  return diffs.sort((a, b) => a - b);
}

function unique(sorted: number[]): number[] {
  return sorted.filter((v, i) => i === 0 || v !== sorted[i - 1]);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Where a step function of the shift d — non-increasing, changing only at the given points — crosses
 * a level. It is evaluated at the points and between them (the steps), never interpolated.
 */
class Crossing {
  constructor(
    private readonly f: (d: number) => number,
    private readonly points: number[],
  ) {}

  /** R's root(): the first point at or below the level; a flat stretch at the level gives its middle. */
  at(level: number): number {
    const { points } = this;
    const last = 2 * (points.length - 1);
    // Probe j: even j is points[j/2], odd j is the step between points[(j−1)/2] and points[(j+1)/2].
    const probe = (j: number) => (j % 2 === 0 ? points[j / 2]! : (points[(j - 1) / 2]! + points[(j + 1) / 2]!) / 2);
    const value = (j: number) => this.f(probe(j)) - level;
    if (value(0) <= 0) return points[0]!;
    if (value(last) >= 0) return points[points.length - 1]!;
    // The first probe at or below the level: value(0) > 0 and value(last) < 0 bracket it.
    let above = 0;
    let atOrBelow = last;
    while (atOrBelow - above > 1) {
      const mid = (above + atOrBelow) >> 1;
      if (value(mid) > 0) above = mid;
      else atOrBelow = mid;
    }
    const start = atOrBelow % 2 === 0 ? probe(atOrBelow) : probe(atOrBelow - 1);
    if (value(atOrBelow) < 0) return start;
    // Exactly at the level over a stretch (the estimate, between two differences): its middle.
    let end = atOrBelow;
    let below = last;
    while (below - end > 1) {
      const mid = (end + below) >> 1;
      if (value(mid) >= 0) end = mid;
      else below = mid;
    }
    const stop = end % 2 === 0 ? probe(end) : probe(end + 1);
    return (start + stop) / 2;
  }
}

/**
 * The exact null distribution of W for samples of nx and ny values without ties: counts of
 * arrangements by W (the coefficients of the Gaussian binomial coefficient), built with the
 * recurrence c(w; i, j) = c(w − j; i − 1, j) + c(w; i, j − 1). Additions only, so doubles stay exact
 * to their precision (C(98, 49) ≈ 2.5e28 fits).
 */
class RankSumDistribution {
  private readonly probabilities: number[];

  constructor(nx: number, ny: number) {
    // row[j] holds the counts for (i, j); i grows from 0 to nx.
    let row: number[][] = Array.from({ length: ny + 1 }, () => [1]);
    for (let i = 1; i <= nx; i++) {
      const next: number[][] = [new Array<number>(1).fill(1)];
      for (let j = 1; j <= ny; j++) {
        const counts = new Array<number>(i * j + 1).fill(0);
        const left = next[j - 1]!; // (i, j − 1)
        const up = row[j]!; // (i − 1, j)
        for (let w = 0; w < left.length; w++) counts[w]! += left[w]!;
        for (let w = 0; w < up.length; w++) counts[w + j]! += up[w]!;
        next.push(counts);
      }
      row = next;
    }
    const counts = row[ny]!;
    const total = counts.reduce((sum, c) => sum + c, 0);
    this.probabilities = counts.map((c) => c / total);
  }

  /** P(W ≤ w). */
  lower(w: number): number {
    let p = 0;
    for (let u = 0; u <= Math.floor(w) && u < this.probabilities.length; u++) p += this.probabilities[u]!;
    return Math.min(1, p);
  }

  /** P(W ≥ w). */
  upper(w: number): number {
    let p = 0;
    for (let u = Math.max(0, Math.ceil(w)); u < this.probabilities.length; u++) p += this.probabilities[u]!;
    return Math.min(1, p);
  }

  /** R's qwilcox for p ≤ 0.5: the smallest w with P(W ≤ w) ≥ p (less a little fuzz, as R does). */
  quantile(p: number): number {
    const target = p - 10 * Number.EPSILON;
    let cumulative = 0;
    for (let w = 0; w < this.probabilities.length; w++) {
      cumulative += this.probabilities[w]!;
      if (cumulative >= target) return w;
    }
    return this.probabilities.length - 1;
  }
}
