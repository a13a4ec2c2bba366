import betainc from '@stdlib/math-base-special-betainc';
import betaln from '@stdlib/math-base-special-betaln';
import { formatNumber, formatPercent, round } from './format';
import type { Counts } from './types';

// Canary vs baseline on counts (errors, slow requests), judged by an e-value that stays valid however
// often it is looked at.
//
// Model (Lindon & Malek, "Anytime-Valid Inference for Multinomial Count Data", NeurIPS 2022,
// arXiv:2011.03567; the two-arm case of the Dirichlet-multinomial test in the `savvi` package):
// given that an event happened, it came from the canary with probability
//   θ = r·s / (r·s + 1 − s),
// where s = canary share of requests and r = canary rate / baseline rate. Equal rates give θ = s.
// Each event is one Bernoulli(θ) draw, so for any fixed θ' and any prior π the ratio
//   E(θ') = ∫ θ^ec (1−θ)^eb dπ(θ) / (θ'^ec (1−θ')^eb)
// is a test martingale when θ = θ': by Ville's inequality it reaches 1/α with probability at most α,
// at any of the looks, however many there are. That is what makes checking every interval safe.
//
// We test "the canary is worse than allowed" (θ > θ_δ, δ = allowedIncrease) with π = Beta(k·s, k(1−s))
// truncated to (θ', 1]. Then E is a supermartingale for every θ ≤ θ' (canaries within the margin
// can only lose evidence), so Fail at E(θ_δ) ≥ 1/α wrongly rolls back with probability ≤ α.
// The same e-values, inverted over θ', give the confidence sequence shown as the effect interval;
// its lower bound exceeds 1 + δ exactly when the metric fails.
//
// Assumption: the canary's share of requests is steady within the window (true for a Fresh baseline
// at the canary's weight). Given the event count the canary count is really hypergeometric, which
// is less spread than the binomial used here, so the test errs on the safe side at high rates.

/** Prior concentration k: 10 detects a doubling soonest in the simulations of the design notes. */
export const DEFAULT_PRIOR_CONCENTRATION = 10;

export interface CountComparisonInput {
  name: string;
  canary: Counts;
  baseline: Counts;
  /** 0.10: the canary rate may be up to 10% above the baseline's. */
  allowedIncrease: number;
  /** This metric's share of the false-rollback budget. */
  alpha: number;
  /** Requests each arm needs before the metric can pass. */
  minTotal: number;
  priorConcentration?: number;
}

export interface CountComparisonResult {
  verdict: 'Pass' | 'Fail' | 'Inconclusive' | 'NoData';
  /** Canary rate over baseline rate; absent when neither arm has an event. */
  effect: { ratio?: number; interval: [number, number] };
  evidence: { bayesFactor: number; rejectAt: number };
  reason: string;
}

export function compareCounts(input: CountComparisonInput): CountComparisonResult {
  const { name, allowedIncrease: delta, alpha, minTotal } = input;
  const k = input.priorConcentration ?? DEFAULT_PRIOR_CONCENTRATION;
  const canary = clean(input.canary, 'canary', name);
  const baseline = clean(input.baseline, 'baseline', name);
  const rejectAt = 1 / alpha;
  const nothing = { effect: { interval: [0, Infinity] as [number, number] }, evidence: { bayesFactor: 1, rejectAt } };
  if (canary.total === 0 || baseline.total === 0) {
    const idle = [canary.total === 0 ? 'canary' : '', baseline.total === 0 ? 'baseline' : ''].filter(Boolean);
    return { verdict: 'NoData', ...nothing, reason: `${name}: no ${idle.join(' or ')} requests in the window` };
  }

  const share = canary.total / (canary.total + baseline.total);
  const model = new EventSplit(canary.events, baseline.events, share, k);
  const thetaMargin = thetaOf(1 + delta, share);
  const logE = model.logEvidenceAbove(thetaMargin);
  const bayesFactor = Math.exp(logE);
  const logReject = Math.log(rejectAt);
  const ratioOf = (theta: number) => (theta * (1 - share)) / ((1 - theta) * share);
  const interval: [number, number] = [
    round(ratioOf(model.lowerBound(logReject))),
    round(ratioOf(model.upperBound(logReject))),
  ];
  const events = canary.events + baseline.events;
  const ratio = events === 0 ? undefined : round(canary.events / canary.total / (baseline.events / baseline.total));
  const effect = ratio === undefined ? { interval } : { ratio, interval };
  const evidence = { bayesFactor: round(bayesFactor), rejectAt: round(rejectAt) };

  const rates = `canary ${describe(canary)} vs baseline ${describe(baseline)}`;
  const allowed = `${formatNumber(1 + delta)}× allowed`;
  const shownE = `e-value ${formatNumber(bayesFactor)}`;
  if (logE >= logReject && ratio !== undefined && ratio > 1 + delta)
    return {
      verdict: 'Fail',
      effect,
      evidence,
      reason: `${name}: ${rates}, ${formatNumber(ratio)}× the baseline, more than the ${allowed} (${shownE} ≥ ${formatNumber(rejectAt)})`,
    };
  if (canary.total < minTotal || baseline.total < minTotal)
    return {
      verdict: 'Inconclusive',
      effect,
      evidence,
      reason: `${name}: needs ${minTotal} requests per arm before it can pass (canary ${formatNumber(canary.total)}, baseline ${formatNumber(baseline.total)})`,
    };
  const range = `ratio ${ratio === undefined ? 'n/a' : formatNumber(ratio)}, interval [${formatNumber(interval[0])}, ${formatNumber(interval[1])}]`;
  return {
    verdict: 'Pass',
    effect,
    evidence,
    reason: `${name}: ${rates}; no evidence of more than the ${allowed} (${shownE} < ${formatNumber(rejectAt)}; ${range})`,
  };
}

/**
 * The e-value for "the canary's rate is more than (1 + allowedIncrease) × the baseline's": the
 * decision statistic of compareCounts alone, without the interval (cheap enough to simulate).
 */
export function countEvidence(
  canary: Counts,
  baseline: Counts,
  allowedIncrease: number,
  priorConcentration = DEFAULT_PRIOR_CONCENTRATION,
): number {
  if (canary.total === 0 || baseline.total === 0) return 1;
  const share = canary.total / (canary.total + baseline.total);
  const model = new EventSplit(
    Math.min(canary.events, canary.total),
    Math.min(baseline.events, baseline.total),
    share,
    priorConcentration,
  );
  return Math.exp(model.logEvidenceAbove(thetaOf(1 + allowedIncrease, share)));
}

/** θ, the chance that an event is the canary's, for a rate ratio r and canary request share s. */
function thetaOf(ratio: number, share: number): number {
  return (ratio * share) / (ratio * share + 1 - share);
}

/** The Beta-mixture e-values of "which arm did each event come from", and their inversion. */
class EventSplit {
  private readonly a0: number;
  private readonly b0: number;
  private readonly logMarginal: number;
  readonly estimate: number;

  constructor(
    private readonly canaryEvents: number,
    private readonly baselineEvents: number,
    share: number,
    concentration: number,
  ) {
    this.a0 = concentration * share;
    this.b0 = concentration * (1 - share);
    this.logMarginal = betaln(this.a0 + canaryEvents, this.b0 + baselineEvents) - betaln(this.a0, this.b0);
    const events = canaryEvents + baselineEvents;
    this.estimate = events === 0 ? share : canaryEvents / events;
  }

  /** ln E(θ') with the prior truncated to θ > θ': evidence that the canary's share is above θ'. */
  logEvidenceAbove(theta: number): number {
    return this.logEvidence(theta, true);
  }

  /** ln E(θ') with the prior truncated to θ < θ'. */
  logEvidenceBelow(theta: number): number {
    return this.logEvidence(theta, false);
  }

  /** The smallest θ' not rejected: the confidence sequence's lower end. */
  lowerBound(logReject: number): number {
    if (this.canaryEvents === 0) return 0;
    return bisect((theta) => this.logEvidenceAbove(theta) >= logReject, 0, this.estimate);
  }

  /** The largest θ' not rejected: the confidence sequence's upper end. */
  upperBound(logReject: number): number {
    if (this.baselineEvents === 0) return 1;
    return 1 - bisect((u) => this.logEvidenceBelow(1 - u) >= logReject, 0, 1 - this.estimate);
  }

  private logEvidence(theta: number, above: boolean): number {
    const { a0, b0, canaryEvents: ec, baselineEvents: eb } = this;
    // Posterior and prior mass on the tested side; both are regularised incomplete beta functions.
    const posterior = betainc(theta, a0 + ec, b0 + eb, true, above);
    const prior = betainc(theta, a0, b0, true, above);
    const logLikelihood = (ec === 0 ? 0 : ec * Math.log(theta)) + (eb === 0 ? 0 : eb * Math.log1p(-theta));
    return this.logMarginal + Math.log(posterior) - Math.log(prior) - logLikelihood;
  }
}

/**
 * The boundary between where `rejected` holds (near `from`) and where it does not (near `to`),
 * for a predicate that changes once on (from, to).
 */
function bisect(rejected: (x: number) => boolean, from: number, to: number): number {
  let inside = from;
  let outside = to;
  for (let i = 0; i < 200 && outside - inside > 1e-15 * Math.max(1, Math.abs(outside)); i++) {
    const mid = (inside + outside) / 2;
    if (rejected(mid)) inside = mid;
    else outside = mid;
  }
  return outside;
}

function clean(counts: Counts, arm: string, name: string): Counts {
  const { events, total } = counts;
  if (!Number.isFinite(events) || !Number.isFinite(total) || events < 0 || total < 0)
    throw new RangeError(`${name}: ${arm} counts must be finite and not negative, got ${events} of ${total}`);
  // increase() extrapolates each series on its own, so a subset can come out a hair above the whole.
  return { events: Math.min(events, total), total };
}

function describe({ events, total }: Counts): string {
  return `${formatPercent(total === 0 ? 0 : events / total)} (${formatNumber(events)} of ${formatNumber(total)})`;
}
