// The analysis layer's public API: settings in, metric results and a decision out.
export * from './types';
export {
  AnalysisConfigError,
  MultipleSeriesError,
  NaNError,
  NoDataError,
  PrometheusError,
  PrometheusQueryError,
  PrometheusResponseError,
  PrometheusTimeoutError,
  PrometheusUnreachableError,
  TemplateError,
} from './errors';
export { formatDuration, parseDuration } from './duration';
export {
  DEFAULT_PROMETHEUS_TIMEOUT_MS,
  PrometheusProvider,
  prometheusCredentials,
  type MetricsProvider,
  type PrometheusAuth,
  type PrometheusOptions,
} from './prometheus';
export {
  BUILTIN_TEMPLATES,
  PLACEHOLDERS,
  metricQueryText,
  renderTemplate,
  type BuiltinTemplate,
  type TemplateVars,
} from './templates';
export { differenceInfoQuery, MAX_STATUS_EXAMPLES, parallelRunExamples } from './parallel-run-examples';
export { checkThreshold, type ThresholdOutcome } from './threshold';
export {
  compareCounts,
  countEvidence,
  DEFAULT_PRIOR_CONCENTRATION,
  type CountComparisonInput,
  type CountComparisonResult,
} from './count-comparison';
export { rankSumTest, type Alternative, type RankSumOptions, type RankSumResult } from './mann-whitney';
export { compareSeries, type SeriesComparisonInput, type SeriesComparisonResult } from './series-comparison';
export { ANALYSIS_DEFAULTS, resolveAnalysis, type ResolvedAnalysis, type ResolvedMetric } from './settings';
export { judge, type Action, type AnalysisCounters, type Decision, type JudgeSettings, type Judgement } from './judge';
export { runAnalysis, templateVars, type RunContext } from './run';
export { callWebhook, type Webhook, type WebhookOutcome, type WebhookPayload, type WebhookType } from './webhooks';
