// Malformed Microservices are refused by the API server itself (OpenAPI schema
// and CEL rules in the CRD), with a message that says what is wrong.
import type { MicroserviceSpec } from '../../src/api/types';
import { ApiError } from '../../src/kube/errors';
import { client, createNamespace, getOrUndefined } from './harness';

let ns: Awaited<ReturnType<typeof createNamespace>>;

beforeAll(async () => {
  ns = await createNamespace('admission');
});

afterAll(async () => {
  await ns?.cleanup();
});

const image = 'ghcr.io/example/app:1.0.0';

test.each<[string, string, Record<string, unknown>, RegExp]>([
  ['no image', 'no-image', { replicas: 1 }, /spec.image: Required value/],
  ['an empty image', 'empty-image', { image: '' }, /spec.image/],
  ['negative replicas', 'negative', { image, replicas: -1 }, /spec.replicas: Invalid value: -1/],
  [
    'minReplicas above maxReplicas',
    'minmax',
    { image, autoscaling: { minReplicas: 5, maxReplicas: 2 } },
    /autoscaling.minReplicas must not exceed autoscaling.maxReplicas/,
  ],
  [
    'duplicate port names',
    'dup-ports',
    {
      image,
      ports: [
        { name: 'http', containerPort: 8080 },
        { name: 'http', containerPort: 9090 },
      ],
    },
    /spec.ports\[\].name must be unique/,
  ],
  ['a port out of range', 'port-range', { image, ports: [{ name: 'http', containerPort: 70000 }] }, /containerPort/],
  [
    'an envFrom with both a ConfigMap and a Secret',
    'envfrom-both',
    { image, envFrom: [{ configMapRef: { name: 'a' }, secretRef: { name: 'b' } }] },
    /exactly one of configMapRef or secretRef/,
  ],
  [
    'a probe with two handlers',
    'two-handlers',
    { image, probes: { readiness: { httpGet: { path: '/' }, tcpSocket: {} } } },
    /at most one of httpGet, tcpSocket, grpc or exec/,
  ],
  [
    'a disruption budget with both fields',
    'pdb-both',
    { image, disruptionBudget: { maxUnavailable: 1, minAvailable: 1 } },
    /at most one of maxUnavailable or minAvailable/,
  ],
  [
    'an unknown strategy',
    'strategy',
    { image, release: { strategy: 'YOLO' } },
    /spec.release.strategy: Unsupported value: "YOLO"/,
  ],
  ['a name that cannot name a Service', '9lives', { image }, /DNS-1035 label/],
  ['a port name of digits only', 'port-digits', { image, ports: [{ name: '8080', containerPort: 8080 }] }, /IANA/],
  ['a port name with --', 'port-dashes', { image, ports: [{ name: 'http--alt', containerPort: 8080 }] }, /IANA/],
  ['an env name with =', 'env-equals', { image, env: [{ name: 'MODE=live', value: '1' }] }, /env\[0\].name/],
  [
    'an envFrom prefix with =',
    'prefix-equals',
    { image, envFrom: [{ prefix: 'DB=', configMapRef: { name: 'a' } }] },
    /envFrom\[0\].prefix/,
  ],
  ['a negative quantity', 'quantity-negative', { image, resources: { requests: { cpu: '-1' } } }, /requests.cpu/],
  ['a negative integer quantity', 'quantity-int', { image, resources: { limits: { cpu: -1 } } }, /limits.cpu/],
  [
    'a quantity with a fractional exponent',
    'quantity-exponent',
    { image, resources: { requests: { memory: '1e1.5' } } },
    /requests.memory/,
  ],
  [
    'an nginx Ingress name too long for the canary Ingress',
    'nginx-long',
    {
      image,
      release: { strategy: 'Canary', canary: { traffic: { router: 'nginx', nginx: { ingress: 'i'.repeat(240) } } } },
    },
    /the canary Ingress <ingress>-<name>-canary/,
  ],
  [
    'an analysis interval of 0s',
    'interval-zero',
    { image, release: { strategy: 'Canary', analysis: { interval: '0s' } } },
    /release.analysis.interval must be longer than 0s/,
  ],
  [
    'an analysis interval of 0m0.0s',
    'interval-zeros',
    { image, release: { strategy: 'Canary', analysis: { interval: '0m0.0s' } } },
    /release.analysis.interval must be longer than 0s/,
  ],
  [
    'a Prometheus timeout of 0ms',
    'timeout-zero',
    { image, release: { strategy: 'Canary', analysis: { prometheus: { timeout: '0ms' } } } },
    /release.analysis.prometheus.timeout must be longer than 0s/,
  ],
  [
    'a thresholdRange with min above max',
    'min-above-max',
    {
      image,
      release: {
        strategy: 'Canary',
        analysis: {
          metrics: [{ name: 'rate', template: 'request-success-rate', thresholdRange: { min: 99, max: 95 } }],
        },
      },
    },
    /thresholdRange.min must not be above thresholdRange.max/,
  ],
])('%s is refused', async (_case, name, spec, expected) => {
  const attempt = client.create({
    apiVersion: 'msop.dev/v1alpha1',
    kind: 'Microservice',
    metadata: { name, namespace: ns.name },
    spec: spec as unknown as MicroserviceSpec,
  });
  await expect(attempt).rejects.toBeInstanceOf(ApiError);
  await expect(attempt).rejects.toMatchObject({ statusCode: 422, message: expect.stringMatching(expected) as string });
  expect(await getOrUndefined('msop.dev/v1alpha1', 'Microservice', ns.name, name)).toBeUndefined();
});

test('a minimal Microservice is accepted; the schema defaults its ports and leaves the rest to its Environment', async () => {
  const created = await client.create({
    apiVersion: 'msop.dev/v1alpha1',
    kind: 'Microservice',
    metadata: { name: 'minimal', namespace: ns.name },
    spec: { image },
  });
  expect((created as unknown as { spec: MicroserviceSpec }).spec).toEqual({
    image,
    ports: [{ name: 'http', containerPort: 8080, servicePort: 80, protocol: 'TCP' }],
  });
});

test.each(['1.5m', '1m30s', '500ms', '0.5s'])('an analysis interval of %s is accepted', async (interval) => {
  const name = `interval-${interval.replace(/\./g, '-')}`;
  const created = await client.create({
    apiVersion: 'msop.dev/v1alpha1',
    kind: 'Microservice',
    metadata: { name, namespace: ns.name },
    spec: { image, release: { strategy: 'Canary', analysis: { interval } } },
  });
  expect((created as unknown as { spec: MicroserviceSpec }).spec.release?.analysis?.interval).toBe(interval);
});

const selector = { matchLabels: { 'msop.dev/environment': 'admission' } };

test.each<[string, Record<string, unknown>, RegExp]>([
  ['no namespaceSelector', {}, /spec.namespaceSelector: Required value/],
  ['an empty namespaceSelector', { namespaceSelector: {} }, /an empty selector would select every namespace/],
  [
    'In without values',
    { namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'In' }] } },
    /operators In and NotIn need values/,
  ],
  [
    'analysis defaults for Rolling releases',
    { namespaceSelector: selector, defaults: { release: { strategy: 'Rolling', analysis: { interval: '1m' } } } },
    /defaults.release.analysis applies to Canary releases only/,
  ],
  [
    'both steps and the shorthand',
    { namespaceSelector: selector, defaults: { release: { canary: { steps: [{ setWeight: 10 }], stepWeight: 10 } } } },
    /either steps or the stepWeight\/maxWeight shorthand/,
  ],
  ['negative replicas', { namespaceSelector: selector, defaults: { replicas: -1 } }, /spec.defaults.replicas/],
  ['a negative limit', { namespaceSelector: selector, limits: { maxReplicas: -1 } }, /spec.limits.maxReplicas/],
  [
    'an analysis interval of 0s',
    { namespaceSelector: selector, defaults: { release: { strategy: 'Canary', analysis: { interval: '0s' } } } },
    /release.analysis.interval must be longer than 0s/,
  ],
  [
    'a thresholdRange with min above max',
    {
      namespaceSelector: selector,
      defaults: {
        release: {
          strategy: 'Canary',
          analysis: {
            metrics: [{ name: 'p99', template: 'request-duration', thresholdRange: { min: 500, max: 100 } }],
          },
        },
      },
    },
    /thresholdRange.min must not be above thresholdRange.max/,
  ],
])('an Environment with %s is refused', async (_case, spec, expected) => {
  const attempt = client.create({
    apiVersion: 'msop.dev/v1alpha1',
    kind: 'Environment',
    metadata: { name: `admission-${ns.name}` },
    spec,
  } as never);
  await expect(attempt).rejects.toMatchObject({ statusCode: 422, message: expect.stringMatching(expected) as string });
});
