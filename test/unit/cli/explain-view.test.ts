// kubectl msop explain: the effective spec, field by field, with the source of each value.
import type { Microservice } from '../../../src/api/types';
import { effectiveValue, explainFields, renderExplain } from '../../../src/cli/explain-view';
import { renderStatus } from '../../../src/cli/status-view';

function ms(spec: Partial<Microservice['spec']>, status: Microservice['status'] = {}, generation = 2): Microservice {
  return {
    apiVersion: 'msop.dev/v1alpha1',
    kind: 'Microservice',
    metadata: { name: 'orders', namespace: 'shop-prod', generation },
    spec: { image: 'ghcr.io/example/orders:1.4.2', ...spec },
    status: { observedGeneration: 2, ...status },
  };
}

const prod = ms(
  {
    env: [{ name: 'LOG_LEVEL', value: 'info' }],
    release: { canary: { traffic: { istio: { virtualService: 'orders' } } } },
  },
  {
    environment: 'production',
    defaulted: [
      {
        field: 'env[ENVIRONMENT]',
        source: 'Environment/production',
        value: '{"name":"ENVIRONMENT","value":"production"}',
      },
      { field: 'release.canary.traffic.router', source: 'operator', value: '"istio"' },
      { field: 'release.strategy', source: 'Environment/production', value: '"Canary"' },
      { field: 'replicas', source: 'Environment/production', value: '4' },
    ],
  },
);

describe('explainFields', () => {
  test('merges the own fields and the defaulted ones, sorted by field', () => {
    expect(explainFields(prod).map((f) => [f.field, f.source])).toEqual([
      ['env[ENVIRONMENT]', 'Environment/production'],
      ['env[LOG_LEVEL]', 'Microservice'],
      ['image', 'Microservice'],
      ['release.canary.traffic.istio.virtualService', 'Microservice'],
      ['release.canary.traffic.router', 'operator'],
      ['release.strategy', 'Environment/production'],
      ['replicas', 'Environment/production'],
    ]);
  });

  test.each<[string, Partial<Microservice['spec']>, string, string]>([
    ['the same field', { replicas: 2 }, 'replicas', 'replicas'],
    ['a deeper own field', { resources: { requests: { cpu: '1' } } }, 'resources.requests.cpu', 'resources.requests'],
  ])('a field the Microservice sets now wins over a stale status entry: %s', (_name, spec, own, dropped) => {
    const stale = ms(spec, {
      defaulted: [
        { field: 'replicas', source: 'Environment/production', value: '4' },
        { field: 'resources.requests', source: 'operator', value: '{"cpu":"100m"}' },
      ],
    });
    const fields = explainFields(stale);
    expect(fields.find((f) => f.field === own)?.source).toBe('Microservice');
    expect(fields.filter((f) => f.field === dropped && f.source !== 'Microservice')).toEqual([]);
  });
});

test('effectiveValue reads the own value, else the defaulted one', () => {
  expect(effectiveValue(prod, 'release.strategy')).toBe('Canary');
  expect(effectiveValue(prod, 'image')).toBe('ghcr.io/example/orders:1.4.2');
  expect(effectiveValue(prod, 'autoscaling')).toBeUndefined();
});

test('renderExplain prints a header and aligned FIELD, FROM and VALUE columns', () => {
  expect(renderExplain(prod)).toBe(
    [
      'Microservice shop-prod/orders: Environment production',
      '',
      'FIELD                                        FROM                    VALUE',
      'env[ENVIRONMENT]                             Environment/production  {"name":"ENVIRONMENT","value":"production"}',
      'env[LOG_LEVEL]                               Microservice            {"name":"LOG_LEVEL","value":"info"}',
      'image                                        Microservice            ghcr.io/example/orders:1.4.2',
      'release.canary.traffic.istio.virtualService  Microservice            orders',
      'release.canary.traffic.router                operator                istio',
      'release.strategy                             Environment/production  Canary',
      'replicas                                     Environment/production  4',
      '',
    ].join('\n'),
  );
});

test.each<[string, Microservice, RegExp]>([
  ['not reconciled yet', { ...ms({}), status: undefined }, /not reconciled this Microservice yet/],
  [
    'a newer generation',
    ms({}, {}, 3),
    /has not reconciled generation 3 yet; the defaulted fields are those of generation 2/,
  ],
  ['no Environment', ms({}), /^Microservice shop-prod\/orders: no Environment\n/],
])('renderExplain says when: %s', (_name, microservice, expected) => {
  expect(renderExplain(microservice)).toMatch(expected);
});

test('status draws the steps and strategy an Environment defined', () => {
  const fromEnvironment = ms(
    {},
    {
      defaulted: [
        { field: 'release.canary.stepWeight', source: 'Environment/production', value: '25' },
        { field: 'release.canary.maxWeight', source: 'Environment/production', value: '50' },
        { field: 'release.strategy', source: 'Environment/production', value: '"Canary"' },
      ],
    },
  );
  const view = renderStatus(fromEnvironment, new Date('2026-01-01T00:00:00Z'));
  expect(view).toMatch(/Strategy\s+Canary, router replicas/);
  expect(view).toMatch(/1 +setWeight 25\n +2 +pause 1m\n +3 +setWeight 50\n/);
});
