import { readFileSync } from 'node:fs';
import { OperatorMetrics } from '../../../src/observability/metrics';
import { DASHBOARD, dashboardQueries, metricNames, missingFrom } from './dashboard';

describe('metricNames', () => {
  test.each<[string, string[]]>([
    [
      'sum by (result) (rate(controller_runtime_reconcile_total{job=~"$job",controller="x"}[$__rate_interval]))',
      ['controller_runtime_reconcile_total'],
    ],
    [
      'histogram_quantile(0.99, sum by (le) (rate(workqueue_queue_duration_seconds_bucket[5m])))',
      ['workqueue_queue_duration_seconds_bucket'],
    ],
    ['max by (pod, name) (leader_election_master_status)', ['leader_election_master_status']],
    ['a_total / on (pod) group_left b_info', ['a_total', 'b_info']],
    ['label_values(msop_build_info, job)', ['msop_build_info']],
    ['sum(x{code=~"5..|<error>"}) or vector(0)', ['x']],
  ])('%s names %j', (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });
});

describe('missingFrom', () => {
  const exposition = '# TYPE a_total counter\n# TYPE h histogram\n# TYPE g gauge\n';
  test.each<[string[], string[]]>([
    [['a_total', 'h_bucket', 'h_count', 'g'], []],
    [
      ['g_bucket', 'nope', 'a'],
      ['g_bucket', 'nope', 'a'],
    ],
  ])('%j misses %j', (names, missing) => {
    expect(missingFrom(exposition, names)).toEqual(missing);
  });
});

describe('the Grafana dashboard', () => {
  test('is JSON with a uid, panels and queries', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string };
    expect(dashboard.uid).toBe('msop-operator');
    expect(dashboardQueries().length).toBeGreaterThan(15);
  });

  test('names only metrics that the registry /metrics serves exports', async () => {
    // The same registry main.ts serves, with Node's process metrics as main.ts adds them.
    const metrics = new OperatorMetrics();
    metrics.collectProcessMetrics();
    const { body } = await metrics.render();
    const names = [...new Set(dashboardQueries().flatMap(metricNames))];
    expect(names.length).toBeGreaterThan(15);
    expect(missingFrom(body, names)).toEqual([]);
  });
});
