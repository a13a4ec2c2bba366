// The analysis layer's view of `spec.release.analysis` (generated from the CRD) and what it hands back
// for `status.analysis`.
import type { AnalysisSettings } from '../api/microservice.generated';

export type OnInconclusive = 'Pause' | 'Rollback';
export type BaselineMode = 'Fresh' | 'Stable' | 'None';
export type MetricKind = 'Threshold' | 'CountComparison' | 'SeriesComparison';
/** The direction of change that counts against the canary. */
export type Direction = 'Increase' | 'Decrease' | 'Either';

export interface ThresholdRange {
  min?: number;
  max?: number;
}

// The spec shapes come from the CRD (src/api/microservice.generated.ts), the single source of truth.
export type AnalysisSpec = Omit<AnalysisSettings, 'webhooks'>;
export type MetricSpec = NonNullable<AnalysisSettings['metrics']>[number];
export type PrometheusSpec = NonNullable<AnalysisSettings['prometheus']>;

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
