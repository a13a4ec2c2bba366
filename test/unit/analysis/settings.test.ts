import { AnalysisConfigError } from '../../../src/analysis/errors';
import { resolveAnalysis } from '../../../src/analysis/settings';
import { BUILTIN_TEMPLATES } from '../../../src/analysis/templates';
import type { AnalysisSpec, MetricSpec } from '../../../src/analysis/types';

const PROM = { address: 'http://prometheus.monitoring:9090' };
const HTTP_5XX: MetricSpec = {
  name: 'http-5xx',
  kind: 'CountComparison',
  critical: true,
  events: 'sum(increase(http_requests_total{msop_dev_track="{{track}}",code=~"5.."}[{{window}}]))',
  total: 'sum(increase(http_requests_total{msop_dev_track="{{track}}"}[{{window}}]))',
};

describe('resolveAnalysis', () => {
  test('applies every default', () => {
    const resolved = resolveAnalysis({
      prometheus: PROM,
      metrics: [{ name: 'success-rate', template: 'request-success-rate', thresholdRange: { min: 99 } }],
    });
    expect(resolved).toEqual({
      intervalMs: 60_000,
      startDelayMs: 0,
      failureLimit: 2,
      inconclusiveLimit: 3,
      onInconclusive: 'Pause',
      baselineMode: 'None',
      alpha: 0.05,
      prometheus: { address: PROM.address, timeoutMs: 10_000, headers: {} },
      metrics: [
        {
          name: 'success-rate',
          kind: 'Threshold',
          critical: false,
          query: BUILTIN_TEMPLATES['request-success-rate']!.query,
          thresholdRange: { min: 99 },
          minTotal: 1000,
          allowedIncrease: 0.1,
          direction: 'Increase',
          minSamples: 20,
          alpha: 0.05,
          confidence: 0.95,
        },
      ],
    });
  });

  test('reads the DESIGN example', () => {
    const spec: AnalysisSpec = {
      interval: '1m',
      startDelay: '30s',
      failureLimit: 2,
      inconclusiveLimit: 3,
      onInconclusive: 'Pause',
      baseline: { mode: 'Fresh' },
      alpha: 0.05,
      prometheus: {
        ...PROM,
        authSecretRef: { name: 'prom-token' },
        timeout: '10s',
        headers: { 'X-Scope-OrgID': 'shop' },
      },
      metrics: [
        { name: 'success-rate', template: 'request-success-rate', thresholdRange: { min: 99 } },
        { name: 'latency-p99', template: 'request-duration', thresholdRange: { max: 500 } },
        { ...HTTP_5XX, minTotal: 1000, allowedIncrease: 0.1 },
        {
          name: 'p99-vs-baseline',
          kind: 'SeriesComparison',
          query:
            'histogram_quantile(0.99, sum by (le)(rate(http_request_duration_seconds_bucket{msop_dev_track="{{track}}"}[1m])))',
          confidence: 0.98,
          direction: 'Increase',
          minSamples: 20,
        },
      ],
    };
    const resolved = resolveAnalysis(spec);
    expect(resolved.startDelayMs).toBe(30_000);
    expect(resolved.baselineMode).toBe('Fresh');
    expect(resolved.prometheus).toEqual({
      address: PROM.address,
      timeoutMs: 10_000,
      headers: { 'X-Scope-OrgID': 'shop' },
      authSecretRef: { name: 'prom-token' },
    });
    // Bonferroni over the two comparison metrics: 0.05 / 2 each.
    expect(resolved.metrics.map((m) => [m.name, m.kind, m.critical, m.alpha, m.confidence])).toEqual([
      ['success-rate', 'Threshold', false, 0.025, 0.975],
      ['latency-p99', 'Threshold', false, 0.025, 0.975],
      ['http-5xx', 'CountComparison', true, 0.025, 0.975],
      ['p99-vs-baseline', 'SeriesComparison', false, 0.025, 0.98],
    ]);
  });

  test.each<[string, AnalysisSpec['baseline'], MetricSpec[], string]>([
    ['Fresh when a comparison is present', undefined, [HTTP_5XX], 'Fresh'],
    ['None with thresholds only', undefined, [{ name: 'x', query: 'up', thresholdRange: { min: 1 } }], 'None'],
    ['as given', { mode: 'Stable' }, [HTTP_5XX], 'Stable'],
  ])('defaults the baseline mode: %s', (_name, baseline, metrics, mode) => {
    expect(resolveAnalysis({ prometheus: PROM, baseline, metrics }).baselineMode).toBe(mode);
  });

  test('takes the operator default address', () => {
    expect(resolveAnalysis({ metrics: [HTTP_5XX] }, 'http://prom:9090').prometheus!.address).toBe('http://prom:9090');
  });

  test.each<[string, AnalysisSpec, string]>([
    [
      'a bad interval',
      { interval: '60', prometheus: PROM },
      'interval: "60" is not a duration (missing unit after "60")',
    ],
    ['a zero interval', { interval: '0s', prometheus: PROM }, 'interval must be longer than 0s'],
    [
      'failureLimit 0',
      { failureLimit: 0, prometheus: PROM },
      'failureLimit must be a whole number of at least 1, got 0',
    ],
    [
      'an unknown action',
      { onInconclusive: 'Promote' as never },
      'onInconclusive must be Pause or Rollback, got "Promote"',
    ],
    ['alpha 1', { alpha: 1 }, 'alpha must be between 0 and 1 (0.05 is usual), got 1'],
    [
      'no address',
      { metrics: [HTTP_5XX] },
      'prometheus.address is required: set it here or in the operator configuration',
    ],
    [
      'an address without scheme',
      { prometheus: { address: 'prometheus:9090' } },
      'prometheus.address must be an http:// or https:// URL, got "prometheus:9090"',
    ],
    ['a bad timeout', { prometheus: { ...PROM, timeout: '10' } }, 'prometheus.timeout: "10" is not a duration'],
    [
      'a duplicate name',
      { prometheus: PROM, metrics: [HTTP_5XX, HTTP_5XX] },
      'metrics[1] (http-5xx): the name http-5xx is used twice',
    ],
    [
      'a comparison without baseline',
      { prometheus: PROM, baseline: { mode: 'None' }, metrics: [HTTP_5XX] },
      'metrics[0] (http-5xx): CountComparison compares the canary with a baseline: set baseline.mode to Fresh or Stable',
    ],
    [
      'missing events',
      { prometheus: PROM, metrics: [{ ...HTTP_5XX, events: undefined }] },
      'metrics[0] (http-5xx): CountComparison needs events: PromQL counting events for {{track}} over {{window}}',
    ],
    [
      'a placeholder typo',
      { prometheus: PROM, metrics: [{ ...HTTP_5XX, total: 'sum(x{t="{{trak}}"})' }] },
      'metrics[0] (http-5xx): total: unknown placeholder {{trak}}',
    ],
    [
      'both template and query',
      {
        prometheus: PROM,
        metrics: [{ name: 'x', template: 'request-duration', query: 'up', thresholdRange: { max: 1 } }],
      },
      'metrics[0] (x): set exactly one of template (a built-in) or query',
    ],
    [
      'an unknown template',
      // The CRD's enum refuses this at admission; a spec that skipped admission still gets a clear error.
      { prometheus: PROM, metrics: [{ name: 'x', template: 'latency' as never, thresholdRange: { max: 1 } }] },
      'metrics[0] (x): unknown template "latency"; built-ins: request-success-rate, request-duration, parallel-run-mismatch-rate',
    ],
    [
      'a threshold without bounds',
      { prometheus: PROM, metrics: [{ name: 'x', query: 'up', thresholdRange: {} }] },
      'metrics[0] (x): a Threshold metric needs thresholdRange with min, max or both',
    ],
    [
      'min above max',
      { prometheus: PROM, metrics: [{ name: 'x', query: 'up', thresholdRange: { min: 2, max: 1 } }] },
      'metrics[0] (x): thresholdRange.min 2 is above max 1',
    ],
    [
      'confidence 1',
      { prometheus: PROM, metrics: [{ name: 's', kind: 'SeriesComparison', query: 'up', confidence: 1 }] },
      'metrics[0] (s): confidence must be between 0.5 and 1 (0.98 is usual), got 1',
    ],
    [
      'a negative margin',
      { prometheus: PROM, metrics: [{ ...HTTP_5XX, allowedIncrease: -0.1 }] },
      'metrics[0] (http-5xx): allowedIncrease must not be negative (0.1 means 10%), got -0.1',
    ],
    [
      'an unknown kind',
      { prometheus: PROM, metrics: [{ name: 'x', kind: 'Ratio' as never }] },
      'metrics[0] (x): kind must be Threshold, CountComparison or SeriesComparison, got "Ratio"',
    ],
  ])('refuses %s', (_name, spec, message) => {
    expect(() => resolveAnalysis(spec)).toThrow(AnalysisConfigError);
    expect(() => resolveAnalysis(spec)).toThrow(message);
  });

  test('reports every problem at once', () => {
    expect(() => resolveAnalysis({ interval: 'x', alpha: 2, metrics: [{ name: '' }] })).toThrow(
      'release.analysis is invalid: interval: "x" is not a duration (unexpected "x"); write a number and a unit such as "30s", "1m" or "1m30s"; ' +
        'alpha must be between 0 and 1 (0.05 is usual), got 2; metrics[0]: name is required; ' +
        'metrics[0]: set exactly one of template (a built-in) or query; ' +
        'metrics[0]: a Threshold metric needs thresholdRange with min, max or both; ' +
        'prometheus.address is required: set it here or in the operator configuration',
    );
  });
});
