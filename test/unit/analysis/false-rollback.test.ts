// Issue 4, scenario 6 (and the unit-level half of scenario 5): short simulated releases judged by
// CountComparison through judge(), on seeded binomial traffic, so every run gives the same numbers.
import { compareCounts, countEvidence } from '../../../src/analysis/count-comparison';
import { judge, type AnalysisCounters } from '../../../src/analysis/judge';
import { checkThreshold } from '../../../src/analysis/threshold';
import type { Counts, MetricResult } from '../../../src/analysis/types';

/** mulberry32: a tiny seeded PRNG, uniform on [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Binomial(n, p) draw by inverting its CDF; quick for the small p of error rates. */
function binomial(random: () => number, n: number, p: number): number {
  const u = random();
  let k = 0;
  let probability = (1 - p) ** n;
  let cumulative = probability;
  while (cumulative < u && k < n) {
    probability *= ((n - k) / (k + 1)) * (p / (1 - p));
    k++;
    cumulative += probability;
  }
  return k;
}

// The DESIGN §1 example: http-5xx is critical, allowedIncrease 0.10, minTotal 1000, alpha 0.05 for
// the only comparison metric; failureLimit 2, inconclusiveLimit 3, onInconclusive Pause.
const SETTINGS = { failureLimit: 2, inconclusiveLimit: 3, onInconclusive: 'Pause' as const };
const INTERVALS = 5;
const REQUESTS_PER_INTERVAL = 4000; // per arm: 20k per side over the release
const BASE_RATE = 0.005;

interface Release {
  rolledBack: boolean;
  /** The interval (1-based) of the rollback. */
  at?: number;
  thresholdRolledBack: boolean;
}

/** One release: INTERVALS analysis runs on counts that accumulate since the analysis began. */
function release(random: () => number, canaryRate: number): Release {
  const canary: Counts = { events: 0, total: 0 };
  const baseline: Counts = { events: 0, total: 0 };
  let counters: AnalysisCounters = { failures: 0, inconclusive: 0 };
  let thresholdCounters: AnalysisCounters = { failures: 0, inconclusive: 0 };
  const out: Release = { rolledBack: false, thresholdRolledBack: false };
  for (let interval = 1; interval <= INTERVALS; interval++) {
    const canaryErrors = binomial(random, REQUESTS_PER_INTERVAL, canaryRate);
    canary.events += canaryErrors;
    canary.total += REQUESTS_PER_INTERVAL;
    baseline.events += binomial(random, REQUESTS_PER_INTERVAL, BASE_RATE);
    baseline.total += REQUESTS_PER_INTERVAL;

    const comparison = compareCounts({
      name: 'http-5xx',
      canary,
      baseline,
      allowedIncrease: 0.1,
      alpha: 0.05,
      minTotal: 1000,
    });
    const result: MetricResult = { name: 'http-5xx', kind: 'CountComparison', critical: true, ...comparison };
    const judged = judge(counters, [result], SETTINGS);
    counters = judged;
    if (!out.rolledBack && judged.decision.action === 'Rollback')
      Object.assign(out, { rolledBack: true, at: interval });

    // The absolute guardrail alone: error percentage of the last interval, max 2%.
    const percent = (100 * canaryErrors) / REQUESTS_PER_INTERVAL;
    const threshold = checkThreshold('error-rate', percent, { max: 2 });
    const guard = judge(thresholdCounters, [{ name: 'error-rate', critical: false, ...threshold }], SETTINGS);
    thresholdCounters = guard;
    if (guard.decision.action === 'Rollback') out.thresholdRolledBack = true;
  }
  return out;
}

function simulate(seed: number, releases: number, canaryRate: number) {
  const random = mulberry32(seed);
  const runs = Array.from({ length: releases }, () => release(random, canaryRate));
  const rolledBack = runs.filter((run) => run.rolledBack);
  const at = rolledBack.map((run) => run.at!).sort((a, b) => a - b);
  return {
    rolledBack: rolledBack.length,
    thresholdRolledBack: runs.filter((run) => run.thresholdRolledBack).length,
    medianInterval: at.length ? at[Math.floor(at.length / 2)] : undefined,
  };
}

describe('false rollbacks and detection (issue 4, scenario 6)', () => {
  test('equal error rates: none of 20 releases is rolled back', () => {
    const { rolledBack } = simulate(20240501, 20, BASE_RATE);
    console.log(`equal rates 0.5%: ${rolledBack} of 20 releases rolled back (false-rollback rate ${rolledBack / 20})`);
    expect(rolledBack).toBe(0);
  });

  test('0.5% → 1%: caught within 5 intervals in at least 18 of 20 releases; a 2% threshold catches none', () => {
    const { rolledBack, thresholdRolledBack, medianInterval } = simulate(20240502, 20, 2 * BASE_RATE);
    console.log(
      `doubled rate 0.5% → 1%: CountComparison rolled back ${rolledBack} of 20 (median at interval ${medianInterval}, ` +
        `${medianInterval! * REQUESTS_PER_INTERVAL} requests per arm); threshold max 2% rolled back ${thresholdRolledBack} of 20`,
    );
    expect(rolledBack).toBeGreaterThanOrEqual(18);
    expect(thresholdRolledBack).toBe(0);
  });

  test('over 200 releases of each: false rollbacks stay under alpha and detection stays high', () => {
    const equal = simulate(7, 200, BASE_RATE);
    const doubled = simulate(8, 200, 2 * BASE_RATE);
    console.log(
      `200 releases each: false-rollback rate ${equal.rolledBack / 200} (alpha 0.05), ` +
        `detection rate ${doubled.rolledBack / 200}, median detection at interval ${doubled.medianInterval}`,
    );
    expect(equal.rolledBack / 200).toBeLessThanOrEqual(0.05);
    expect(doubled.rolledBack / 200).toBeGreaterThanOrEqual(0.9);
  });
});

describe('anytime validity under continuous checking', () => {
  // The design notes' warning case: a fixed-sample test looked at every 100 requests raises false
  // alarms far above its nominal 5%. Here: 400 releases of equal 1% rates, a look every 200 requests
  // per arm, 100 looks (20k requests per arm), at the hardest null (allowedIncrease 0: the canary
  // is exactly at the margin). Ville's inequality bounds the share that ever crosses 1/alpha by alpha.
  test('equal rates looked at 100 times cross 1/alpha in at most alpha of releases', () => {
    const random = mulberry32(99);
    const releases = 400;
    let crossed = 0;
    for (let r = 0; r < releases; r++) {
      const canary: Counts = { events: 0, total: 0 };
      const baseline: Counts = { events: 0, total: 0 };
      for (let look = 0; look < 100; look++) {
        canary.events += binomial(random, 200, 0.01);
        baseline.events += binomial(random, 200, 0.01);
        canary.total += 200;
        baseline.total += 200;
        if (countEvidence(canary, baseline, 0) >= 1 / 0.05) {
          crossed++;
          break;
        }
      }
    }
    console.log(
      `continuous checking, 100 looks, margin 0: ${crossed} of ${releases} crossed (rate ${crossed / releases}, alpha 0.05)`,
    );
    expect(crossed / releases).toBeLessThanOrEqual(0.05);
  });
});
