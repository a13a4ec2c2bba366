import { TemplateError } from './errors';

/** The values a query template can use; every one is always set. */
export interface TemplateVars {
  namespace: string;
  /** The Microservice's name. */
  name: string;
  /** canary, baseline or stable: the arm this query measures. */
  track: string;
  /** The revision hash of that arm. */
  revision: string;
  /** The analysis interval as a PromQL duration ("1m"): the window of a recent rate. */
  interval: string;
  /** The time since the window began ("4m30s"): the window of a cumulative count. */
  window: string;
}

export const PLACEHOLDERS: readonly (keyof TemplateVars)[] = [
  'namespace',
  'name',
  'track',
  'revision',
  'interval',
  'window',
];

// Pod labels msop.dev/microservice and msop.dev/track, relabelled into Prometheus (docs/analysis.md).
const SELECTOR = 'namespace="{{namespace}}",msop_dev_microservice="{{name}}",msop_dev_track="{{track}}"';
// The comparator pod has a track of its own; it compares both arms itself, so {{track}} does not apply.
const COMPARATOR = 'namespace="{{namespace}}",msop_dev_microservice="{{name}}",msop_dev_track="comparator"';

export interface BuiltinTemplate {
  description: string;
  unit: string;
  query: string;
}

export const BUILTIN_TEMPLATES: Readonly<Record<string, BuiltinTemplate>> = {
  'request-success-rate': {
    description: 'Percentage of requests that did not answer 5xx, over the last interval',
    unit: 'percent',
    // `or vector(0)`: no 5xx series at all means no errors, not no data. No requests at all stays
    // empty (or 0/0 = NaN), which is NoData: an idle canary never passes.
    query:
      `100 * (1 - (sum(rate(http_requests_total{${SELECTOR},code=~"5.."}[{{interval}}])) or vector(0))` +
      ` / sum(rate(http_requests_total{${SELECTOR}}[{{interval}}])))`,
  },
  'request-duration': {
    description: '99th percentile request duration in milliseconds, over the last interval',
    unit: 'milliseconds',
    query:
      `1000 * histogram_quantile(0.99, sum by (le) ` +
      `(rate(http_request_duration_seconds_bucket{${SELECTOR}}[{{interval}}])))`,
  },
  'parallel-run-mismatch-rate': {
    description:
      "Percentage of mirrored requests whose candidate answer differed from the old version's, since the analysis began",
    unit: 'percent',
    // The comparator's counters (docs/parallel-run.md). `or vector(0)`: no differing series means no
    // differences; nothing compared stays empty or 0/0 = NaN, which is NoData: never a pass.
    query:
      `100 * (sum(increase(msop_parallel_run_differing_total{${COMPARATOR}}[{{window}}])) or vector(0))` +
      ` / sum(increase(msop_parallel_run_compared_total{${COMPARATOR}}[{{window}}]))`,
  },
};

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Fills `{{placeholder}}`s; an unknown one or a stray `{{` is an error that names it. */
export function renderTemplate(text: string, vars: TemplateVars): string {
  const rendered = text.replace(PLACEHOLDER, (_match, key: string) => {
    if (!(PLACEHOLDERS as readonly string[]).includes(key))
      throw new TemplateError(
        `unknown placeholder {{${key}}} in ${JSON.stringify(text)}; known: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`,
      );
    return vars[key as keyof TemplateVars];
  });
  // PromQL never contains "{{" or "}}", so any left over is a typo such as "{{track}".
  const stray = /\{\{|\}\}/.exec(rendered);
  if (stray)
    throw new TemplateError(`unclosed placeholder near ${JSON.stringify(stray[0])} in ${JSON.stringify(text)}`);
  return rendered;
}

/** The query text of a metric: its built-in template's, or its own `query`. */
export function metricQueryText(metric: { name: string; template?: string; query?: string }): string {
  if (metric.template !== undefined) {
    const builtin = BUILTIN_TEMPLATES[metric.template];
    if (!builtin)
      throw new TemplateError(
        `metric ${metric.name}: unknown template "${metric.template}"; built-ins: ${Object.keys(BUILTIN_TEMPLATES).join(', ')}`,
      );
    return builtin.query;
  }
  if (metric.query !== undefined) return metric.query;
  throw new TemplateError(`metric ${metric.name}: set template or query`);
}
