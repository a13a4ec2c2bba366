// The effective Microservice: the Microservice's own field, then its Environment, then the operator's
// flags, then built-in defaults; ambiguity and exceeded limits are errors, never guesses.
import { load } from 'js-yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment, EnvironmentSpec } from '../../../src/api/environment.generated';
import type { MicroserviceSpec } from '../../../src/api/types';
import { type OperatorDefaults, type Resolution, resolveMicroservice } from '../../../src/environment/resolve';
import { selects } from '../../../src/environment/selector';
import { renderChildren, stableStringify } from '../../../src/render';
import { defaults as renderDefaults, microservice, noTracked } from '../render/fixtures';

const operator: OperatorDefaults = {
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  router: 'replicas',
};

function environment(name: string, spec: Partial<EnvironmentSpec> = {}): Environment {
  return {
    apiVersion: 'msop.dev/v1alpha1',
    kind: 'Environment',
    metadata: { name },
    spec: { namespaceSelector: { matchLabels: { 'msop.dev/environment': name } }, ...spec },
  };
}

const labels = (name: string) => ({ 'msop.dev/environment': name });

function resolve(
  spec: Partial<MicroserviceSpec>,
  envs: Environment[],
  nsLabels: Record<string, string> | undefined = labels('production'),
  op: OperatorDefaults = operator,
): Resolution {
  return resolveMicroservice(microservice(spec), envs, nsLabels, op);
}

function effective(spec: Partial<MicroserviceSpec>, envs: Environment[], op: OperatorDefaults = operator) {
  const resolution = resolve(spec, envs, labels('production'), op);
  if (!resolution.ok) throw new Error(resolution.message);
  return resolution;
}

const sourceOf = (resolution: Resolution, field: string) =>
  resolution.ok ? resolution.defaulted.find((d) => d.field === field)?.source : undefined;

describe('selects', () => {
  test.each<[string, Parameters<typeof selects>[0], Record<string, string>, boolean]>([
    ['matchLabels equal', { matchLabels: { env: 'prod' } }, { env: 'prod', team: 'a' }, true],
    ['matchLabels differ', { matchLabels: { env: 'prod' } }, { env: 'dev' }, false],
    ['matchLabels missing', { matchLabels: { env: 'prod' } }, {}, false],
    ['In', { matchExpressions: [{ key: 'env', operator: 'In', values: ['a', 'b'] }] }, { env: 'b' }, true],
    ['In, other value', { matchExpressions: [{ key: 'env', operator: 'In', values: ['a'] }] }, { env: 'b' }, false],
    ['NotIn, absent', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['a'] }] }, {}, true],
    ['NotIn, listed', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['a'] }] }, { env: 'a' }, false],
    ['Exists', { matchExpressions: [{ key: 'env', operator: 'Exists' }] }, { env: '' }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, { env: 'x' }, false],
    [
      'labels and expressions together',
      { matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'region', operator: 'Exists' }] },
      { env: 'prod' },
      false,
    ],
    ['an empty selector selects nothing', {}, { env: 'prod' }, false],
    ['no selector selects nothing', undefined, {}, false],
  ])('%s', (_name, selector, nsLabels, expected) => {
    expect(selects(selector, nsLabels)).toBe(expected);
  });
});

describe('precedence: the Microservice, then the Environment, then the operator, then built-in', () => {
  const production = environment('production', {
    defaults: {
      replicas: 4,
      placement: { spreadAcrossZones: true, spreadAcrossNodes: false },
      disruptionBudget: { maxUnavailable: 2 },
      resources: { requests: { cpu: '200m' }, limits: { memory: '512Mi' } },
      release: {
        strategy: 'Canary',
        progressDeadlineSeconds: 900,
        canary: { stepWeight: 10, maxWeight: 50, stepInterval: '2m', traffic: { router: 'replicas' } },
        analysis: { interval: '1m', prometheus: { address: 'http://prometheus.env:9090' } },
      },
    },
  });

  test.each<[string, Partial<MicroserviceSpec>, OperatorDefaults, string, unknown, string | undefined]>([
    ['the Microservice wins', { replicas: 2 }, operator, 'replicas', 2, undefined],
    ['else the Environment', {}, operator, 'replicas', 4, 'Environment/production'],
    [
      'placement merges field by field',
      { placement: { spreadAcrossNodes: true } },
      operator,
      'placement',
      { spreadAcrossNodes: true, spreadAcrossZones: true },
      undefined,
    ],
    [
      'a disruption budget is taken whole',
      { disruptionBudget: { minAvailable: 1 } },
      operator,
      'disruptionBudget',
      { minAvailable: 1 },
      undefined,
    ],
    [
      'requests are taken whole',
      { resources: { requests: { memory: '1Gi' } } },
      operator,
      'resources',
      { requests: { memory: '1Gi' }, limits: { memory: '512Mi' } },
      undefined,
    ],
    ['the strategy', {}, operator, 'release.strategy', 'Canary', 'Environment/production'],
    [
      "the Microservice's strategy",
      { release: { strategy: 'Rolling' } },
      operator,
      'release.strategy',
      'Rolling',
      undefined,
    ],
    ['the progress deadline', {}, operator, 'release.progressDeadlineSeconds', 900, 'Environment/production'],
    ['canary steps from the Environment', {}, operator, 'release.canary.stepWeight', 10, 'Environment/production'],
    ['analysis from the Environment', {}, operator, 'release.analysis.interval', '1m', 'Environment/production'],
  ])('%s', (_name, spec, op, field, value, source) => {
    const resolution = effective({ image: 'x', ...spec }, [production], op);
    const path = field.split('.');
    let got: unknown = resolution.microservice.spec;
    for (const part of path) got = (got as Record<string, unknown> | undefined)?.[part];
    expect(got).toEqual(value);
    if (source) expect(sourceOf(resolution, field)).toBe(source);
  });

  test('the operator fills what neither sets: router, analysis, resources; built-in the rest', () => {
    const op: OperatorDefaults = {
      ...operator,
      router: 'gatewayAPI',
      analysis: {
        interval: '30s',
        failureLimit: 3,
        metrics: [{ name: 'ok', query: 'vector(1)', thresholdRange: { min: 0 } }],
      },
      prometheusAddress: 'http://prometheus.operator:9090',
    };
    const resolution = effective(
      {
        release: {
          strategy: 'Canary',
          canary: { traffic: { gatewayAPI: { httpRoute: 'orders' } } },
          analysis: { failureLimit: 1 },
        },
      },
      [],
      op,
    );
    expect(resolution.microservice.spec.release).toEqual({
      strategy: 'Canary',
      canary: { traffic: { gatewayAPI: { httpRoute: 'orders' }, router: 'gatewayAPI' } },
      analysis: { failureLimit: 1, interval: '30s', metrics: op.analysis!.metrics },
    });
    expect(resolution.defaulted).toEqual([
      { field: 'placement.spreadAcrossNodes', source: 'built-in', value: 'true' },
      { field: 'placement.spreadAcrossZones', source: 'built-in', value: 'true' },
      { field: 'release.analysis.interval', source: 'operator', value: '"30s"' },
      { field: 'release.analysis.metrics', source: 'operator', value: JSON.stringify(op.analysis!.metrics) },
      { field: 'release.analysis.prometheus.address', source: 'operator', value: '"http://prometheus.operator:9090"' },
      { field: 'release.canary.traffic.router', source: 'operator', value: '"gatewayAPI"' },
      { field: 'release.progressDeadlineSeconds', source: 'built-in', value: '600' },
      { field: 'replicas', source: 'built-in', value: '1' },
      { field: 'resources.limits', source: 'operator', value: '{"memory":"256Mi"}' },
      { field: 'resources.requests', source: 'operator', value: '{"cpu":"100m","memory":"128Mi"}' },
    ]);
  });

  test("the operator's router and analysis apply to Canary releases only", () => {
    const op = { ...operator, router: 'istio', analysis: { interval: '30s' } };
    const resolution = effective({}, [], op);
    expect(resolution.microservice.spec.release).toBeUndefined();
  });

  test("a Rolling Microservice takes none of the Environment's canary and analysis defaults", () => {
    const resolution = effective({ release: { strategy: 'Rolling' } }, [production]);
    expect(resolution.microservice.spec.release).toEqual({ strategy: 'Rolling', progressDeadlineSeconds: 900 });
  });

  test('a BlueGreen Microservice takes the blueGreen and analysis defaults, not the canary ones', () => {
    const env = environment('production', {
      defaults: {
        release: {
          canary: { stepWeight: 10 },
          blueGreen: { scaleDownDelaySeconds: 120 },
          analysis: { interval: '30s' },
        },
      },
    });
    const resolution = effective({ release: { strategy: 'BlueGreen' } }, [env], { ...operator, router: 'replicas' });
    expect(resolution.microservice.spec.release).toMatchObject({
      strategy: 'BlueGreen',
      blueGreen: { scaleDownDelaySeconds: 120, traffic: { router: 'replicas' } },
      analysis: { interval: '30s' },
    });
    expect(resolution.microservice.spec.release?.canary).toBeUndefined();
    expect(sourceOf(resolution, 'release.blueGreen.scaleDownDelaySeconds')).toBe('Environment/production');
    expect(sourceOf(resolution, 'release.blueGreen.traffic.router')).toBe('operator');
  });

  test('a weighted default router without its settings stalls a BlueGreen too, naming the field', () => {
    const resolution = resolve({ release: { strategy: 'BlueGreen' } }, [], labels('production'), {
      ...operator,
      router: 'gatewayAPI',
    });
    expect(resolution).toMatchObject({ ok: false, reason: 'InvalidTraffic' });
    expect(!resolution.ok && resolution.message).toContain('release.blueGreen.traffic.gatewayAPI');
  });

  test('explicit steps in the Microservice exclude the shorthand of the Environment', () => {
    const resolution = effective({ release: { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } } }, [production]);
    expect(resolution.microservice.spec.release?.canary).toEqual({
      steps: [{ setWeight: 50 }, { pause: {} }],
      traffic: { router: 'replicas' },
    });
  });

  test('under autoscaling the Environment does not set replicas', () => {
    const resolution = effective({ autoscaling: { minReplicas: 2, maxReplicas: 6 } }, [production]);
    expect(resolution.microservice.spec.replicas).toBeUndefined();
    expect(sourceOf(resolution, 'replicas')).toBeUndefined();
  });

  test('leaves the stored Microservice untouched', () => {
    const ms = microservice({ release: { canary: { traffic: {} } } });
    const before = JSON.stringify(ms);
    resolveMicroservice(ms, [production], labels('production'), operator);
    expect(JSON.stringify(ms)).toBe(before);
  });
});

describe('env and envFrom', () => {
  const production = environment('production', {
    env: [
      { name: 'ENVIRONMENT', value: 'production' },
      { name: 'LOG_LEVEL', value: 'warn' },
    ],
    envFrom: [{ configMapRef: { name: 'production-settings' } }],
  });

  test("come first, so the Microservice's own win", () => {
    const resolution = effective(
      { env: [{ name: 'LOG_LEVEL', value: 'debug' }], envFrom: [{ secretRef: { name: 'db' } }] },
      [production],
    );
    expect(resolution.microservice.spec.env).toEqual([
      { name: 'ENVIRONMENT', value: 'production' },
      { name: 'LOG_LEVEL', value: 'debug' },
    ]);
    expect(resolution.microservice.spec.envFrom).toEqual([
      { configMapRef: { name: 'production-settings' } },
      { secretRef: { name: 'db' } },
    ]);
    expect(sourceOf(resolution, 'env[ENVIRONMENT]')).toBe('Environment/production');
    expect(sourceOf(resolution, 'env[LOG_LEVEL]')).toBeUndefined();
    expect(sourceOf(resolution, 'envFrom[configMapRef=production-settings]')).toBe('Environment/production');
  });
});

describe('errors', () => {
  test.each<[string, Environment[], Partial<MicroserviceSpec>, string, RegExp]>([
    [
      'two Environments select the namespace',
      [
        environment('production'),
        environment('prod-eu', {
          namespaceSelector: { matchExpressions: [{ key: 'msop.dev/environment', operator: 'Exists' }] },
        }),
      ],
      {},
      'AmbiguousEnvironment',
      /selected by 2 Environments \(prod-eu, production\).*leaves what runs untouched/,
    ],
    [
      'the replicas exceed the limit',
      [environment('production', { limits: { maxReplicas: 5 } })],
      { replicas: 6 },
      'EnvironmentLimitExceeded',
      /spec.replicas asks for 6 replicas, more than the 5 that Environment production allows/,
    ],
    [
      "the Environment's own default exceeds its limit",
      [environment('production', { defaults: { replicas: 8 }, limits: { maxReplicas: 5 } })],
      {},
      'EnvironmentLimitExceeded',
      /asks for 8 replicas \(from Environment\/production's defaults.replicas\)/,
    ],
    [
      'the autoscaling ceiling exceeds the limit',
      [environment('production', { limits: { maxReplicas: 5 } })],
      { autoscaling: { maxReplicas: 10 } },
      'EnvironmentLimitExceeded',
      /spec.autoscaling.maxReplicas asks for 10 replicas/,
    ],
    [
      'a defaulted weighted router without its settings',
      [
        environment('production', {
          defaults: { release: { strategy: 'Canary', canary: { traffic: { router: 'istio' } } } },
        }),
      ],
      {},
      'InvalidTraffic',
      /router is istio \(from Environment\/production\), but release.canary.traffic.istio.virtualService is not set/,
    ],
  ])('%s', (_name, envs, spec, reason, message) => {
    const resolution = resolve(spec, envs);
    expect(resolution).toMatchObject({ ok: false, reason, terminal: true });
    expect(resolution.ok ? '' : resolution.message).toMatch(message);
  });

  test('within the limit is fine', () => {
    expect(resolve({ replicas: 5 }, [environment('production', { limits: { maxReplicas: 5 } })]).ok).toBe(true);
  });

  test('an unknown namespace is retried, not resolved without its Environment', () => {
    expect(resolveMicroservice(microservice(), [environment('production')], undefined, operator)).toMatchObject({
      ok: false,
      reason: 'NamespaceUnknown',
      terminal: false,
    });
  });
});

describe('without an Environment or operator defaults', () => {
  // Upgrading msop must not release every Microservice: the effective spec renders the same bytes.
  test.each<[string, Partial<MicroserviceSpec>]>([
    ['minimal', {}],
    ['replicas and env', { replicas: 3, env: [{ name: 'A', value: '1' }], envFrom: [{ configMapRef: { name: 'c' } }] }],
    ['canary', { release: { strategy: 'Canary', canary: { stepWeight: 10 } } }],
    ['canary with analysis', { release: { strategy: 'Canary', analysis: { interval: '1m' } } }],
    ['autoscaling', { autoscaling: { maxReplicas: 4 }, resources: { requests: { cpu: 1 } } }],
    ['placement off', { placement: { spreadAcrossZones: false } }],
  ])('%s renders exactly what the Microservice alone renders', (_name, spec) => {
    const ms = microservice(spec);
    const resolution = resolveMicroservice(ms, [environment('elsewhere')], {}, operator);
    if (!resolution.ok) throw new Error(resolution.message);
    expect(resolution.environment).toBeUndefined();
    const render = (m: typeof ms) =>
      stableStringify(renderChildren({ microservice: m, tracked: noTracked, defaults: renderDefaults }));
    expect(render(resolution.microservice)).toBe(render(ms));
  });
});

test("an Environment at its schema's limits fits in status.defaulted's maxItems", () => {
  const read = (file: string) =>
    load(readFileSync(join(__dirname, '..', '..', '..', 'crds', file), 'utf8')) as {
      spec: {
        versions: {
          schema: {
            openAPIV3Schema: { properties: Record<string, { properties: Record<string, { maxItems: number }> }> };
          };
        }[];
      };
    };
  const schema = (file: string) => read(file).spec.versions[0]!.schema.openAPIV3Schema.properties;
  const envSpec = schema('environment.yaml').spec!.properties;
  const maxItems = schema('microservice.yaml').status!.properties.defaulted!.maxItems;
  const full = environment('production', {
    env: Array.from({ length: envSpec.env!.maxItems }, (_, i) => ({ name: `V${i}`, value: String(i) })),
    envFrom: Array.from({ length: envSpec.envFrom!.maxItems }, (_, i) => ({ configMapRef: { name: `c${i}` } })),
    defaults: {
      replicas: 2,
      placement: {
        spreadAcrossZones: true,
        spreadAcrossNodes: true,
        nodeSelector: { a: 'b' },
        tolerations: [],
        affinity: {},
      },
      disruptionBudget: { maxUnavailable: 1 },
      resources: { requests: { cpu: '1' }, limits: { memory: '1Gi' } },
      release: {
        strategy: 'Canary',
        progressDeadlineSeconds: 60,
        canary: { stepWeight: 10, maxWeight: 50, stepInterval: '1m', traffic: { router: 'replicas' } },
        analysis: {
          interval: '1m',
          startDelay: '1m',
          failureLimit: 1,
          inconclusiveLimit: 1,
          onInconclusive: 'Pause',
          alpha: 0.05,
          baseline: { mode: 'Fresh' },
          prometheus: { address: 'http://p:9090', timeout: '5s', headers: {}, authSecretRef: { name: 's' } },
          metrics: [],
          webhooks: [],
        },
      },
    },
  });
  const resolution = effective({}, [full]);
  expect(resolution.defaulted.length).toBeGreaterThan(envSpec.env!.maxItems + envSpec.envFrom!.maxItems);
  expect(resolution.defaulted.length).toBeLessThanOrEqual(maxItems);
});
