// The metric names the chart's Grafana dashboard queries, and a check of them against a
// /metrics exposition: shared by the unit test (the registry /metrics serves) and the
// cluster test (a running operator's /metrics).
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const DASHBOARD = path.join(__dirname, '..', '..', '..', 'helm', 'msop', 'dashboards', 'msop.json');

interface Panel {
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** Every PromQL expression of the dashboard: panel targets and query variables. */
export function dashboardQueries(): string[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: Panel[];
    templating: { list: { type: string; query?: string | { query?: string } }[] };
  };
  const fromPanels = (panels: Panel[]): string[] =>
    panels.flatMap((p) => [
      ...(p.targets ?? []).flatMap((t) => (t.expr ? [t.expr] : [])),
      ...fromPanels(p.panels ?? []),
    ]);
  const fromVariables = dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => (typeof v.query === 'string' ? v.query : (v.query?.query ?? '')));
  return [...fromPanels(dashboard.panels), ...fromVariables];
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
]);

/** The metric names one PromQL expression selects: identifiers that are not functions, keywords or labels. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // grouping labels
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\$\{?\w+\}?/g, ''); // Grafana variables
  const names = [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .filter(
      (m) =>
        !bare
          .slice(m.index + m[0].length)
          .trimStart()
          .startsWith('('),
    ) // a function
    .map((m) => m[0])
    .filter((name) => !KEYWORDS.has(name));
  // label_values(metric, label): the second argument is a label.
  const labelValues = /label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*(\w+)\s*\)/.exec(bare);
  return [...new Set(names.filter((n) => n !== labelValues?.[2]))];
}

/** The names of the dashboard that no family of the exposition provides (x_bucket, x_count, x_sum of a histogram x). */
export function missingFrom(exposition: string, names: string[]): string[] {
  const types = new Map([...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  return names.filter((name) => {
    if (types.has(name)) return false;
    const family = name.replace(/_(bucket|count|sum)$/, '');
    return !(family !== name && ['histogram', 'summary'].includes(types.get(family) ?? ''));
  });
}
