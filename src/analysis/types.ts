// The shapes of `spec.release.analysis` (DESIGN §1), as the analysis layer reads them, and of
// what it hands back for `status.analysis`. Field names match the CRD; webhooks live elsewhere.

/** A Go-style duration such as "1m", "30s" or "1m30s" (see duration.ts). */
export type Duration = string;

export type OnInconclusive = 'Pause' | 'Rollback';
export type BaselineMode = 'Fresh' | 'Stable' | 'None';
export type MetricKind = 'Threshold' | 'CountComparison' | 'SeriesComparison';
/** The direction of change that counts against the canary. */
export type Direction = 'Increase' | 'Decrease' | 'Either';

export interface ThresholdRange {
  min?: number;
  max?: number;
}

export interface PrometheusSpec {
  address: string;
  /** Per request. Default 10s. */
  timeout?: Duration;
  /** Extra request headers, for example a tenant id: {"X-Scope-OrgID": "shop"}. */
  headers?: Record<string, string>;
  /**
   * A Secret in the Microservice's namespace with `token` (bearer) or `username` and `password`
   * (basic), and optionally `ca.crt`. The caller reads it; see `prometheusCredentials`.
   */
  authSecretRef?: { name: string };
}

export interface MetricSpec {
  name: string;
  kind?: MetricKind;
  /** A built-in query (templates.ts); Threshold and SeriesComparison take this or `query`. */
  template?: string;
  /** Templated PromQL returning one number (Threshold) or one series (SeriesComparison). */
  query?: string;
  thresholdRange?: ThresholdRange;
  /** A failure rolls back at once, whatever failureLimit says. */
  critical?: boolean;
  /** CountComparison: templated PromQL for the event count (errors, slow requests) of `{{track}}`. */
  events?: string;
  /** CountComparison: templated PromQL for the request count of `{{track}}`. */
  total?: string;
  /** CountComparison: requests each arm needs before the metric can pass. */
  minTotal?: number;
  /** Relative margin: 0.10 lets the canary be up to 10% worse than the baseline. */
  allowedIncrease?: number;
  /** SeriesComparison: confidence level of the test and interval; default 1 − this metric's share of alpha. */
  confidence?: number;
  direction?: Direction;
  /** SeriesComparison: samples each arm needs before the metric can pass. */
  minSamples?: number;
}

export interface AnalysisSpec {
  interval?: Duration;
  startDelay?: Duration;
  failureLimit?: number;
  inconclusiveLimit?: number;
  onInconclusive?: OnInconclusive;
  baseline?: { mode?: BaselineMode };
  /** The false-rollback budget across all looks and all comparison metrics. */
  alpha?: number;
  prometheus?: PrometheusSpec;
  metrics?: MetricSpec[];
}

/** Pass is earned; everything that is not a Pass or a Fail keeps the canary where it is. */
export type Verdict = 'Pass' | 'Fail' | 'Inconclusive' | 'NoData' | 'Error';

export interface Counts {
  events: number;
  total: number;
}

/** One arm (canary or baseline) as shown in status: a value, counts, or a series summary. */
export interface ArmSummary {
  value?: number;
  events?: number;
  total?: number;
  samples?: number;
}

export interface Effect {
  /** Canary over baseline rate (CountComparison), or the location shift canary − baseline (SeriesComparison). */
  ratio?: number;
  shift?: number;
  /** A bound that does not exist is ±Infinity (it serialises to null in JSON). */
  interval: [number, number];
}

export interface Evidence {
  /** CountComparison: the e-value (Bayes factor) for "worse than allowed"; Fail at rejectAt. */
  bayesFactor?: number;
  rejectAt?: number;
  /** SeriesComparison: the Mann-Whitney p-value; Fail needs it below alpha. */
  pValue?: number;
  alpha?: number;
}

/** The outcome of one metric in one analysis run; the shape of `status.analysis.metrics[]`. */
export interface MetricResult {
  name: string;
  kind: MetricKind;
  critical: boolean;
  verdict: Verdict;
  /** A sentence a person can act on. */
  reason: string;
  canary?: ArmSummary;
  baseline?: ArmSummary;
  threshold?: ThresholdRange & { allowedIncrease?: number };
  effect?: Effect;
  evidence?: Evidence;
  /** The rendered PromQL of the canary arm (the events query for CountComparison). */
  query?: string;
}
