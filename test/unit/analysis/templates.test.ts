import { TemplateError } from '../../../src/analysis/errors';
import { BUILTIN_TEMPLATES, metricQueryText, renderTemplate, type TemplateVars } from '../../../src/analysis/templates';

const VARS: TemplateVars = {
  namespace: 'shop',
  name: 'orders',
  track: 'canary',
  revision: '7b66c4d1',
  interval: '1m',
  window: '4m30s',
};

describe('renderTemplate', () => {
  test.each<[string, string]>([
    ['{{namespace}}/{{name}}', 'shop/orders'],
    ['{{ track }}@{{revision}}', 'canary@7b66c4d1'],
    ['rate(x[{{interval}}]) increase(x[{{window}}])', 'rate(x[1m]) increase(x[4m30s])'],
    ['up{namespace="{{namespace}}"} == 1', 'up{namespace="shop"} == 1'],
    ['no placeholders', 'no placeholders'],
  ])('renders %j', (template, expected) => {
    expect(renderTemplate(template, VARS)).toBe(expected);
  });

  test.each<[string, string]>([
    [
      'x{pod="{{pod}}"}',
      'unknown placeholder {{pod}} in "x{pod=\\"{{pod}}\\"}"; known: {{namespace}}, {{name}}, {{track}}, {{revision}}, {{interval}}, {{window}}',
    ],
    ['x{track="{{Track}}"}', 'unknown placeholder {{Track}}'],
    ['x{track="{{track}"}', 'unclosed placeholder near "{{" in "x{track=\\"{{track}\\"}"'],
  ])('refuses %j', (template, message) => {
    expect(() => renderTemplate(template, VARS)).toThrow(TemplateError);
    expect(() => renderTemplate(template, VARS)).toThrow(message);
  });
});

describe('built-in templates', () => {
  test.each<[string, string]>([
    [
      'request-success-rate',
      '100 * (1 - (sum(rate(http_requests_total{namespace="shop",msop_dev_microservice="orders",msop_dev_track="canary",code=~"5.."}[1m])) or vector(0))' +
        ' / sum(rate(http_requests_total{namespace="shop",msop_dev_microservice="orders",msop_dev_track="canary"}[1m])))',
    ],
    [
      'request-duration',
      '1000 * histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="shop",msop_dev_microservice="orders",msop_dev_track="canary"}[1m])))',
    ],
    [
      'parallel-run-mismatch-rate',
      '100 * (sum(increase(msop_parallel_run_differing_total{namespace="shop",msop_dev_microservice="orders",msop_dev_track="comparator"}[4m30s])) or vector(0))' +
        ' / sum(increase(msop_parallel_run_compared_total{namespace="shop",msop_dev_microservice="orders",msop_dev_track="comparator"}[4m30s]))',
    ],
  ])('%s renders to the documented PromQL', (template, promql) => {
    expect(renderTemplate(metricQueryText({ name: 'm', template }), VARS)).toBe(promql);
  });

  test('are exactly the three documented ones', () => {
    expect(Object.keys(BUILTIN_TEMPLATES)).toEqual([
      'request-success-rate',
      'request-duration',
      'parallel-run-mismatch-rate',
    ]);
  });
});

describe('metricQueryText', () => {
  test('uses the metric own query', () => {
    expect(metricQueryText({ name: 'm', query: 'up' })).toBe('up');
  });

  test.each<[string, { name: string; template?: string; query?: string }, string]>([
    [
      'an unknown template',
      { name: 'errors', template: 'error-rate' },
      'metric errors: unknown template "error-rate"; built-ins: request-success-rate, request-duration, parallel-run-mismatch-rate',
    ],
    ['neither', { name: 'errors' }, 'metric errors: set template or query'],
  ])('refuses %s', (_name, metric, message) => {
    expect(() => metricQueryText(metric)).toThrow(new TemplateError(message));
  });
});
