import { compareCounts } from './count-comparison';
import { formatDuration } from './duration';
import { NaNError, NoDataError, TemplateError } from './errors';
import { round } from './format';
import type { MetricsProvider } from './prometheus';
import { compareSeries } from './series-comparison';
import type { ResolvedAnalysis, ResolvedMetric } from './settings';
import { renderTemplate, type TemplateVars } from './templates';
import { checkThreshold } from './threshold';
import type { MetricResult } from './types';

// One analysis run: render each metric's queries for the canary (and baseline) arm, ask the
// provider, and turn answers and errors alike into MetricResults for judge(). Never throws for a
// metric: a Prometheus or template problem becomes that metric's NoData or Error verdict.

export interface RunContext {
  namespace: string;
  /** The Microservice's name. */
  name: string;
  canaryRevision: string;
  baselineRevision: string;
  /** The track label of the new revision's pods: canary, or preview under BlueGreen. Default canary. */
  canaryTrack?: string;
  /**
   * Where the counting window (`{{window}}`, and the range of SeriesComparison) begins. Counting from
   * the start of the analysis rather than of the step keeps the CountComparison evidence growing;
   * with a Fresh baseline the two arms share traffic equally at every step, so that stays valid.
   */
  windowStart: Date;
  now: Date;
  /** Resolution of SeriesComparison range queries; default: the analysis interval. */
  stepSeconds?: number;
}

export async function runAnalysis(
  analysis: ResolvedAnalysis,
  provider: MetricsProvider,
  context: RunContext,
): Promise<MetricResult[]> {
  const vars = templateVars(analysis, context);
  return Promise.all(analysis.metrics.map((metric) => runMetric(metric, analysis, provider, context, vars)));
}

/** The template values of both arms: the baseline arm is track baseline (Fresh) or stable (Stable). */
export function templateVars(
  analysis: Pick<ResolvedAnalysis, 'intervalMs' | 'baselineMode'>,
  context: RunContext,
): { canary: TemplateVars; baseline: TemplateVars } {
  // Whole seconds, at least one: PromQL refuses "0s" and fractions of a millisecond.
  const seconds = (ms: number) => formatDuration(Math.max(1000, Math.round(ms / 1000) * 1000));
  const shared = {
    namespace: context.namespace,
    name: context.name,
    interval: seconds(analysis.intervalMs),
    window: seconds(context.now.getTime() - context.windowStart.getTime()),
  };
  return {
    canary: { ...shared, track: context.canaryTrack ?? 'canary', revision: context.canaryRevision },
    baseline: {
      ...shared,
      track: analysis.baselineMode === 'Stable' ? 'stable' : 'baseline',
      revision: context.baselineRevision,
    },
  };
}

async function runMetric(
  metric: ResolvedMetric,
  analysis: ResolvedAnalysis,
  provider: MetricsProvider,
  context: RunContext,
  vars: { canary: TemplateVars; baseline: TemplateVars },
): Promise<MetricResult> {
  const base = { name: metric.name, kind: metric.kind, critical: metric.critical };
  let query: string | undefined;
  try {
    if (metric.kind === 'Threshold') {
      query = renderTemplate(metric.query!, vars.canary);
      const value = await provider.query(query, context.now);
      const outcome = checkThreshold(metric.name, value, metric.thresholdRange!);
      return { ...base, ...outcome, canary: { value: round(value) }, threshold: metric.thresholdRange!, query };
    }
    if (metric.kind === 'CountComparison') {
      query = renderTemplate(metric.events!, vars.canary);
      const [canary, baseline] = await Promise.all([
        counts(provider, metric, vars.canary, context.now),
        counts(provider, metric, vars.baseline, context.now),
      ]);
      const outcome = compareCounts({
        name: metric.name,
        canary,
        baseline,
        allowedIncrease: metric.allowedIncrease,
        alpha: metric.alpha,
        minTotal: metric.minTotal,
      });
      return {
        ...base,
        ...outcome,
        canary,
        baseline,
        threshold: { allowedIncrease: metric.allowedIncrease },
        query,
      };
    }
    query = renderTemplate(metric.query!, vars.canary);
    const step = context.stepSeconds ?? Math.max(1, Math.round(analysis.intervalMs / 1000));
    const [canary, baseline] = await Promise.all([
      provider.querySeries(query, context.windowStart, context.now, step),
      provider.querySeries(renderTemplate(metric.query!, vars.baseline), context.windowStart, context.now, step),
    ]);
    const outcome = compareSeries({
      name: metric.name,
      canary,
      baseline,
      direction: metric.direction,
      confidence: metric.confidence,
      minSamples: metric.minSamples,
      allowedIncrease: metric.allowedIncrease,
    });
    return { ...base, ...outcome, threshold: { allowedIncrease: metric.allowedIncrease }, query };
  } catch (err) {
    const verdict = err instanceof NoDataError || err instanceof NaNError ? 'NoData' : 'Error';
    const message = err instanceof Error ? err.message : String(err);
    const reason = message.startsWith(`${metric.name}: `) ? message : `${metric.name}: ${message}`;
    const result: MetricResult = { ...base, verdict, reason };
    if (query !== undefined && !(err instanceof TemplateError)) result.query = query;
    return result;
  }
}

/** Events and requests of one arm. No events series while requests flow means no events. */
async function counts(provider: MetricsProvider, metric: ResolvedMetric, vars: TemplateVars, at: Date) {
  const total = await provider.query(renderTemplate(metric.total!, vars), at);
  let events: number;
  try {
    events = await provider.query(renderTemplate(metric.events!, vars), at);
  } catch (err) {
    if (!(err instanceof NoDataError)) throw err;
    events = 0;
  }
  return { events, total };
}
