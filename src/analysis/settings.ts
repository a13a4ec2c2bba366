import { parseDuration } from './duration';
import { AnalysisConfigError, TemplateError } from './errors';
import { metricQueryText, renderTemplate, type TemplateVars } from './templates';
import type {
  AnalysisSpec,
  BaselineMode,
  Direction,
  MetricKind,
  MetricSpec,
  OnInconclusive,
  ThresholdRange,
} from './types';

/** The defaults of `spec.release.analysis`; the CRD descriptions quote these. */
export const ANALYSIS_DEFAULTS = {
  interval: '1m',
  startDelay: '0s',
  failureLimit: 2,
  inconclusiveLimit: 3,
  onInconclusive: 'Pause' as OnInconclusive,
  alpha: 0.05,
  prometheusTimeout: '10s',
  minTotal: 1000,
  allowedIncrease: 0.1,
  direction: 'Increase' as Direction,
  minSamples: 20,
};

/** A metric with every default applied and its share of alpha worked out. */
export interface ResolvedMetric {
  name: string;
  kind: MetricKind;
  critical: boolean;
  /** Threshold and SeriesComparison: the template text (a built-in's, or the metric's own query). */
  query?: string;
  thresholdRange?: ThresholdRange;
  events?: string;
  total?: string;
  minTotal: number;
  allowedIncrease: number;
  direction: Direction;
  minSamples: number;
  /** Comparison metrics: the false-rollback budget of this metric (Bonferroni: alpha / comparisons). */
  alpha: number;
  /** SeriesComparison: the given confidence, or 1 − alpha. */
  confidence: number;
}

export interface ResolvedAnalysis {
  intervalMs: number;
  startDelayMs: number;
  failureLimit: number;
  inconclusiveLimit: number;
  onInconclusive: OnInconclusive;
  baselineMode: BaselineMode;
  alpha: number;
  prometheus?: {
    address: string;
    timeoutMs: number;
    headers: Record<string, string>;
    authSecretRef?: { name: string };
  };
  metrics: ResolvedMetric[];
}

const KINDS: MetricKind[] = ['Threshold', 'CountComparison', 'SeriesComparison'];
const DIRECTIONS: Direction[] = ['Increase', 'Decrease', 'Either'];
const MODES: BaselineMode[] = ['Fresh', 'Stable', 'None'];
const ACTIONS: OnInconclusive[] = ['Pause', 'Rollback'];
const SAMPLE_VARS: TemplateVars = {
  namespace: 'ns',
  name: 'name',
  track: 'canary',
  revision: 'rev',
  interval: '1m',
  window: '1m',
};

/**
 * Applies the defaults and checks everything the CRD schema cannot: all problems at once, in one
 * AnalysisConfigError. `defaultPrometheusAddress` comes from the operator's configuration.
 */
export function resolveAnalysis(spec: AnalysisSpec, defaultPrometheusAddress?: string): ResolvedAnalysis {
  const problems: string[] = [];
  const check = <T>(compute: () => T, fallback: T): T => {
    try {
      return compute();
    } catch (err) {
      if (!(err instanceof AnalysisConfigError || err instanceof TemplateError)) throw err;
      problems.push(err.message);
      return fallback;
    }
  };
  const intervalMs = check(() => parseDuration(spec.interval ?? ANALYSIS_DEFAULTS.interval, 'interval'), 60_000);
  if (intervalMs <= 0) problems.push('interval must be longer than 0s');
  const startDelayMs = check(() => parseDuration(spec.startDelay ?? ANALYSIS_DEFAULTS.startDelay, 'startDelay'), 0);
  const failureLimit = spec.failureLimit ?? ANALYSIS_DEFAULTS.failureLimit;
  const inconclusiveLimit = spec.inconclusiveLimit ?? ANALYSIS_DEFAULTS.inconclusiveLimit;
  for (const [field, value] of [
    ['failureLimit', failureLimit],
    ['inconclusiveLimit', inconclusiveLimit],
  ] as const)
    if (!Number.isInteger(value) || value < 1)
      problems.push(`${field} must be a whole number of at least 1, got ${value}`);
  const onInconclusive = spec.onInconclusive ?? ANALYSIS_DEFAULTS.onInconclusive;
  if (!ACTIONS.includes(onInconclusive))
    problems.push(`onInconclusive must be Pause or Rollback, got ${JSON.stringify(onInconclusive)}`);
  const alpha = spec.alpha ?? ANALYSIS_DEFAULTS.alpha;
  if (!(alpha > 0 && alpha < 1)) problems.push(`alpha must be between 0 and 1 (0.05 is usual), got ${alpha}`);

  const specs = spec.metrics ?? [];
  const kindOf = (metric: MetricSpec) => metric.kind ?? 'Threshold';
  const comparisons = specs.filter((metric) => kindOf(metric) !== 'Threshold').length;
  const baselineMode = spec.baseline?.mode ?? (comparisons > 0 ? 'Fresh' : 'None');
  if (!MODES.includes(baselineMode))
    problems.push(`baseline.mode must be Fresh, Stable or None, got ${JSON.stringify(baselineMode)}`);
  // Bonferroni: each comparison may spend alpha / m, so all of them together spend at most alpha.
  const metricAlpha = comparisons > 0 ? alpha / comparisons : alpha;

  const seen = new Set<string>();
  const metrics = specs.map((metric, index) => {
    const where = `metrics[${index}]${metric.name ? ` (${metric.name})` : ''}`;
    if (!metric.name) problems.push(`${where}: name is required`);
    else if (seen.has(metric.name)) problems.push(`${where}: the name ${metric.name} is used twice`);
    seen.add(metric.name);
    return resolveMetric(metric, where, { baselineMode, metricAlpha }, problems);
  });

  let prometheus: ResolvedAnalysis['prometheus'];
  const address = spec.prometheus?.address ?? defaultPrometheusAddress;
  if (address === undefined || address === '') {
    if (metrics.length > 0)
      problems.push('prometheus.address is required: set it here or in the operator configuration');
  } else {
    if (!/^https?:\/\/[^/]/.test(address))
      problems.push(`prometheus.address must be an http:// or https:// URL, got ${JSON.stringify(address)}`);
    const timeoutMs = check(
      () => parseDuration(spec.prometheus?.timeout ?? ANALYSIS_DEFAULTS.prometheusTimeout, 'prometheus.timeout'),
      10_000,
    );
    if (timeoutMs <= 0) problems.push('prometheus.timeout must be longer than 0s');
    prometheus = { address, timeoutMs, headers: { ...spec.prometheus?.headers } };
    if (spec.prometheus?.authSecretRef) prometheus.authSecretRef = { ...spec.prometheus.authSecretRef };
  }

  if (problems.length > 0) throw new AnalysisConfigError(`release.analysis is invalid: ${problems.join('; ')}`);
  const resolved: ResolvedAnalysis = {
    intervalMs,
    startDelayMs,
    failureLimit,
    inconclusiveLimit,
    onInconclusive,
    baselineMode,
    alpha,
    metrics,
  };
  if (prometheus) resolved.prometheus = prometheus;
  return resolved;
}

function resolveMetric(
  metric: MetricSpec,
  where: string,
  context: { baselineMode: BaselineMode; metricAlpha: number },
  problems: string[],
): ResolvedMetric {
  const kind = metric.kind ?? 'Threshold';
  const resolved: ResolvedMetric = {
    name: metric.name,
    kind,
    critical: metric.critical ?? false,
    minTotal: metric.minTotal ?? ANALYSIS_DEFAULTS.minTotal,
    allowedIncrease: metric.allowedIncrease ?? ANALYSIS_DEFAULTS.allowedIncrease,
    direction: metric.direction ?? ANALYSIS_DEFAULTS.direction,
    minSamples: metric.minSamples ?? ANALYSIS_DEFAULTS.minSamples,
    alpha: context.metricAlpha,
    confidence: metric.confidence ?? 1 - context.metricAlpha,
  };
  const problem = (text: string) => problems.push(`${where}: ${text}`);
  const templated = (field: string, text: string) => {
    try {
      renderTemplate(text, SAMPLE_VARS);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      problem(`${field}: ${err.message}`);
    }
  };
  if (!KINDS.includes(kind)) {
    problem(`kind must be Threshold, CountComparison or SeriesComparison, got ${JSON.stringify(kind)}`);
    return resolved;
  }
  if (kind !== 'Threshold' && context.baselineMode === 'None')
    problem(`${kind} compares the canary with a baseline: set baseline.mode to Fresh or Stable`);

  if (kind === 'CountComparison') {
    if (metric.template !== undefined || metric.query !== undefined)
      problem('CountComparison takes events and total queries, not template or query');
    for (const field of ['events', 'total'] as const) {
      const text = metric[field];
      if (!text) problem(`CountComparison needs ${field}: PromQL counting ${field} for {{track}} over {{window}}`);
      else templated(field, text);
    }
    if (metric.events) resolved.events = metric.events;
    if (metric.total) resolved.total = metric.total;
    if (!(resolved.minTotal >= 0)) problem(`minTotal must not be negative, got ${resolved.minTotal}`);
  } else {
    if ((metric.template === undefined) === (metric.query === undefined))
      problem('set exactly one of template (a built-in) or query');
    else
      try {
        resolved.query = metricQueryText(metric);
        templated(metric.template === undefined ? 'query' : 'template', resolved.query);
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        problem(err.message.replace(/^metric \S+: /, ''));
      }
  }

  if (kind === 'Threshold') {
    const range = metric.thresholdRange;
    if (!range || (range.min === undefined && range.max === undefined))
      problem('a Threshold metric needs thresholdRange with min, max or both');
    else if (range.min !== undefined && range.max !== undefined && range.min > range.max)
      problem(`thresholdRange.min ${range.min} is above max ${range.max}`);
    else resolved.thresholdRange = { ...range };
  }
  if (kind === 'SeriesComparison') {
    if (!DIRECTIONS.includes(resolved.direction))
      problem(`direction must be Increase, Decrease or Either, got ${JSON.stringify(resolved.direction)}`);
    if (!(resolved.confidence > 0.5 && resolved.confidence < 1))
      problem(`confidence must be between 0.5 and 1 (0.98 is usual), got ${resolved.confidence}`);
    if (!Number.isInteger(resolved.minSamples) || resolved.minSamples < 1)
      problem(`minSamples must be a whole number of at least 1, got ${resolved.minSamples}`);
  }
  if (kind !== 'Threshold' && !(resolved.allowedIncrease >= 0))
    problem(`allowedIncrease must not be negative (0.1 means 10%), got ${resolved.allowedIncrease}`);
  return resolved;
}
