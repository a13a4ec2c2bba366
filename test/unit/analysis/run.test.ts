import { MultipleSeriesError, NaNError, NoDataError, PrometheusUnreachableError } from '../../../src/analysis/errors';
import type { MetricsProvider } from '../../../src/analysis/prometheus';
import { runAnalysis, templateVars, type RunContext } from '../../../src/analysis/run';
import { resolveAnalysis } from '../../../src/analysis/settings';
import type { AnalysisSpec, MetricSpec } from '../../../src/analysis/types';

type Answer = number | number[] | Error;

/** A provider that answers from a table keyed by the exact PromQL, and records every call. */
class TableProvider implements MetricsProvider {
  readonly calls: string[] = [];
  constructor(private readonly table: Record<string, Answer>) {}

  private answer(promql: string): Answer {
    this.calls.push(promql);
    const answer = this.table[promql];
    if (answer === undefined) throw new NoDataError(promql);
    if (answer instanceof Error) throw answer;
    return answer;
  }
  async query(promql: string): Promise<number> {
    return this.answer(promql) as number;
  }
  async querySeries(promql: string, start: Date, end: Date, step: number): Promise<number[]> {
    this.calls.push(`range ${start.toISOString()} ${end.toISOString()} ${step}`);
    return this.answer(promql) as number[];
  }
  async isOnline(): Promise<boolean> {
    return true;
  }
}

const CONTEXT: RunContext = {
  namespace: 'shop',
  name: 'orders',
  canaryRevision: '7b66c4d1',
  baselineRevision: '5d8f7c9b',
  windowStart: new Date('2024-05-01T12:00:00Z'),
  now: new Date('2024-05-01T12:04:30Z'),
};
const PROM = { address: 'http://prometheus:9090' };
const ERRORS = 'errors{track="{{track}}",rev="{{revision}}"}[{{window}}]';
const TOTAL = 'total{track="{{track}}"}[{{window}}]';
const COUNT: MetricSpec = { name: 'http-5xx', kind: 'CountComparison', critical: true, events: ERRORS, total: TOTAL };

async function run(spec: AnalysisSpec, table: Record<string, Answer>) {
  const provider = new TableProvider(table);
  const results = await runAnalysis(resolveAnalysis({ prometheus: PROM, ...spec }), provider, CONTEXT);
  return { results, calls: provider.calls };
}

describe('templateVars', () => {
  test.each<[AnalysisSpec['baseline'], string]>([
    [{ mode: 'Fresh' }, 'baseline'],
    [{ mode: 'Stable' }, 'stable'],
  ])('names the baseline arm for %j', (baseline, track) => {
    const analysis = resolveAnalysis({ prometheus: PROM, baseline, interval: '30s', metrics: [COUNT] });
    expect(templateVars(analysis, CONTEXT)).toEqual({
      canary: {
        namespace: 'shop',
        name: 'orders',
        track: 'canary',
        revision: '7b66c4d1',
        interval: '30s',
        window: '4m30s',
      },
      baseline: { namespace: 'shop', name: 'orders', track, revision: '5d8f7c9b', interval: '30s', window: '4m30s' },
    });
  });

  test('never renders a window below one second', () => {
    const analysis = resolveAnalysis({ prometheus: PROM, metrics: [COUNT] });
    expect(templateVars(analysis, { ...CONTEXT, now: CONTEXT.windowStart }).canary.window).toBe('1s');
  });
});

describe('runAnalysis', () => {
  test('checks a threshold on the rendered canary query', async () => {
    const { results, calls } = await run(
      { metrics: [{ name: 'up', query: 'up{track="{{track}}"}[{{interval}}]', thresholdRange: { min: 1 } }] },
      { 'up{track="canary"}[1m]': 1 },
    );
    expect(calls).toEqual(['up{track="canary"}[1m]']);
    expect(results).toEqual([
      {
        name: 'up',
        kind: 'Threshold',
        critical: false,
        verdict: 'Pass',
        reason: 'up 1 >= min 1',
        canary: { value: 1 },
        threshold: { min: 1 },
        query: 'up{track="canary"}[1m]',
      },
    ]);
  });

  test('compares counts of both arms, reading a missing error series as zero errors', async () => {
    const { results, calls } = await run(
      { metrics: [COUNT] },
      {
        'total{track="canary"}[4m30s]': 20000,
        'total{track="baseline"}[4m30s]': 20000,
        'errors{track="baseline",rev="5d8f7c9b"}[4m30s]': 3,
      },
    );
    expect(calls.sort()).toEqual([
      'errors{track="baseline",rev="5d8f7c9b"}[4m30s]',
      'errors{track="canary",rev="7b66c4d1"}[4m30s]',
      'total{track="baseline"}[4m30s]',
      'total{track="canary"}[4m30s]',
    ]);
    const [result] = results;
    expect(result).toMatchObject({
      name: 'http-5xx',
      kind: 'CountComparison',
      critical: true,
      verdict: 'Pass',
      canary: { events: 0, total: 20000 },
      baseline: { events: 3, total: 20000 },
      threshold: { allowedIncrease: 0.1 },
      query: 'errors{track="canary",rev="7b66c4d1"}[4m30s]',
    });
    expect(result!.evidence!.rejectAt).toBe(20);
  });

  test('compares series over the window at the interval step', async () => {
    const canary = Array.from({ length: 20 }, (_, i) => 100 + i);
    const { results, calls } = await run(
      {
        interval: '15s',
        metrics: [{ name: 'p99', kind: 'SeriesComparison', query: 'p99{track="{{track}}"}', minSamples: 20 }],
      },
      { 'p99{track="canary"}': canary, 'p99{track="baseline"}': canary.map((v) => v + 0.5) },
    );
    expect(calls).toContain('range 2024-05-01T12:00:00.000Z 2024-05-01T12:04:30.000Z 15');
    expect(results[0]).toMatchObject({
      name: 'p99',
      verdict: 'Pass',
      canary: { samples: 20 },
      baseline: { samples: 20 },
    });
  });

  test.each<[string, string, Answer, string]>([
    ['no series', 'NoData', new NoDataError('up'), 'up: no data: the query returned no series'],
    ['NaN', 'NoData', new NaNError('NaN', 'up'), 'up: the query returned NaN'],
    ['several series', 'Error', new MultipleSeriesError(3, 'up'), 'up: the query returned 3 series'],
    [
      'Prometheus down',
      'Error',
      new PrometheusUnreachableError('http://prometheus:9090', 'connect ECONNREFUSED'),
      'up: Prometheus at http://prometheus:9090 is unreachable: connect ECONNREFUSED',
    ],
  ])('turns %s into %s', async (_name, verdict, answer, reason) => {
    const { results } = await run(
      { metrics: [{ name: 'up', query: 'up', thresholdRange: { min: 1 } }] },
      { up: answer },
    );
    expect(results[0]!.verdict).toBe(verdict);
    expect(results[0]!.reason).toContain(reason);
    expect(results[0]!.query).toBe('up');
  });

  test('reports no requests as NoData for a count comparison', async () => {
    const { results } = await run({ metrics: [COUNT] }, {});
    expect(results[0]!.verdict).toBe('NoData');
  });

  test('turns impossible counts into an Error verdict', async () => {
    const { results } = await run(
      { metrics: [COUNT] },
      {
        'total{track="canary"}[4m30s]': -5,
        'total{track="baseline"}[4m30s]': 10,
      },
    );
    expect(results[0]).toMatchObject({
      verdict: 'Error',
      reason: 'http-5xx: canary counts must be finite and not negative, got 0 of -5',
    });
  });
});
