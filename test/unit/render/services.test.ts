import type { V1Service } from '@kubernetes/client-node';
import type { Microservice, MicroserviceSpec } from '../../../src/api/types';
import { renderChildren, renderTrackService } from '../../../src/render';
import { defaults, find, microservice, noTracked, render } from './fixtures';

/** The apex and `-stable` Services, with `service.trackServices` set so that the latter exists. */
function servicesOf(spec: Partial<MicroserviceSpec> = {}): { apex: V1Service; stable: V1Service } {
  const children = render({ ...spec, service: { trackServices: true, ...spec.service } });
  return { apex: find<V1Service>(children, 'Service'), stable: find<V1Service>(children, 'Service', 'orders-stable') };
}

const canary = (traffic?: object, more: object = {}) => ({
  strategy: 'Canary' as const,
  canary: { steps: [{ setWeight: 50 }], ...(traffic ? { traffic } : {}), ...more },
});
const blueGreen = (traffic?: object) => ({ strategy: 'BlueGreen' as const, blueGreen: traffic ? { traffic } : {} });
const gateway = { router: 'gatewayAPI' as const, gatewayAPI: { httpRoute: 'orders' } };

test.each<[string, Partial<MicroserviceSpec>, string[]]>([
  ['Rolling: the apex alone', {}, ['orders']],
  ['Rolling with trackServices', { service: { trackServices: true } }, ['orders', 'orders-stable']],
  ['Canary under the replicas router: the apex alone carries the traffic', { release: canary() }, ['orders']],
  [
    'Canary under the replicas router with trackServices',
    { release: canary(), service: { trackServices: true } },
    ['orders', 'orders-stable', 'orders-canary'],
  ],
  [
    'Canary under a weighted router: its two backends',
    { release: canary(gateway) },
    ['orders', 'orders-stable', 'orders-canary'],
  ],
  ['BlueGreen under the replicas router: the preview', { release: blueGreen() }, ['orders', 'orders-preview']],
  [
    'BlueGreen under a weighted router: its two backends',
    { release: blueGreen(gateway) },
    ['orders', 'orders-stable', 'orders-preview'],
  ],
  [
    "a parallel run: the comparator's upstreams and its own Service",
    { release: canary(gateway, { steps: [{ mirror: { percent: 100 } }] }) },
    ['orders', 'orders-stable', 'orders-canary', 'orders-baseline', 'orders-compare'],
  ],
])('%s', (_name, spec, names) => {
  const services = render(spec).objects.filter((o) => o.kind === 'Service');
  expect(services.map((s) => s.metadata!.name)).toEqual(names);
});

test("Rolling with a weighted router configured keeps -stable: the user's route sends to it", () => {
  const spec = { release: { strategy: 'Rolling' as const, canary: { steps: [], traffic: gateway } } };
  const services = render(spec).objects.filter((o) => o.kind === 'Service');
  expect(services.map((s) => s.metadata!.name)).toEqual(['orders', 'orders-stable']);
});

test('a release begun on a weighted router keeps both backends after a switch to replicas, to drain its route', () => {
  const ms = { ...microservice({ release: canary() }), status: { release: { traffic: gateway } } } as Microservice;
  const services = renderChildren({ microservice: ms, tracked: noTracked, defaults }).objects.filter(
    (o) => o.kind === 'Service',
  );
  expect(services.map((s) => s.metadata!.name)).toEqual(['orders', 'orders-stable', 'orders-canary']);
});

describe('Services', () => {
  test('the apex selects every track, the stable one only the stable track', () => {
    const { apex, stable } = servicesOf();
    expect(apex.spec!.selector).toEqual({ 'msop.dev/microservice': 'orders' });
    expect(stable.spec!.selector).toEqual({ 'msop.dev/microservice': 'orders', 'msop.dev/track': 'stable' });
  });

  test.each([
    ['the default port', {}, [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]],
    [
      'declared ports, servicePort defaulting to containerPort',
      {
        ports: [
          { name: 'web', containerPort: 3000, servicePort: 80 },
          { name: 'metrics', containerPort: 9090 },
          { name: 'dns', containerPort: 5353, protocol: 'UDP' as const },
        ],
      },
      [
        { name: 'web', port: 80, targetPort: 'web', protocol: 'TCP' },
        { name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' },
        { name: 'dns', port: 5353, targetPort: 'dns', protocol: 'UDP' },
      ],
    ],
  ])('expose %s on both Services', (_name, spec, ports) => {
    const { apex, stable } = servicesOf(spec);
    expect(apex.spec!.ports).toEqual(ports);
    expect(stable.spec!.ports).toEqual(ports);
  });

  test.each<[string, Partial<MicroserviceSpec>, string]>([
    ['ClusterIP by default', {}, 'ClusterIP'],
    ['the type from spec.service', { service: { type: 'LoadBalancer' } }, 'LoadBalancer'],
  ])('the apex is %s', (_name, spec, type) => {
    expect(servicesOf(spec).apex.spec!.type).toBe(type);
  });

  test('the stable Service is always ClusterIP and gets no user annotations or labels', () => {
    const { stable } = servicesOf({ service: { type: 'NodePort', annotations: { a: 'b' }, labels: { team: 'shop' } } });
    expect(stable.spec!.type).toBe('ClusterIP');
    expect(stable.metadata).not.toHaveProperty('annotations');
    expect(stable.metadata!.labels).not.toHaveProperty('team');
  });

  test('the apex takes annotations and extra labels from spec.service, msop labels winning', () => {
    const { apex } = servicesOf({
      service: {
        annotations: { 'service.beta.kubernetes.io/aws-load-balancer-internal': 'true' },
        labels: { team: 'shop', 'msop.dev/microservice': 'other' },
      },
    });
    expect(apex.metadata!.annotations).toEqual({ 'service.beta.kubernetes.io/aws-load-balancer-internal': 'true' });
    expect(apex.metadata!.labels).toEqual({
      team: 'shop',
      'msop.dev/microservice': 'orders',
      'app.kubernetes.io/name': 'orders',
      'app.kubernetes.io/managed-by': 'msop',
    });
  });

  test('renderTrackService names and selects any track', () => {
    const canary = renderTrackService(microservice(), 'canary');
    expect(canary.metadata!.name).toBe('orders-canary');
    expect(canary.spec!.selector).toEqual({ 'msop.dev/microservice': 'orders', 'msop.dev/track': 'canary' });
  });
});
