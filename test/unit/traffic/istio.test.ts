import type { JsonPatchOperation } from '../../../src/kube/client';
import { readCanaryPercent, weightPatch } from '../../../src/traffic/backend-weights';
import { destinationLists, destinationShape, hostTargets, type VirtualService } from '../../../src/traffic/istio';
import { microservice } from './fixtures';
import { applyPatch } from './json-patch';

type Destination = { destination?: { host?: string; subset?: string; port?: unknown }; weight?: number };
type HTTPRoute = { name?: string; match?: unknown[]; route?: Destination[] };

const targets = hostTargets(microservice());

function virtualService(...http: HTTPRoute[]): VirtualService {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'orders', namespace: 'shop' },
    spec: { hosts: ['orders.example.com'], gateways: ['istio-system/public'], http } as VirtualService['spec'],
  };
}

const to = (host: string, weight?: number, extra: Destination['destination'] = {}): Destination => ({
  destination: { host, ...extra },
  ...(weight === undefined ? {} : { weight }),
});
const FQDN_STABLE = 'orders-stable.shop.svc.cluster.local';
const FQDN_CANARY = 'orders-canary.shop.svc.cluster.local';

const patchFor = (vs: VirtualService, weight: number) =>
  weightPatch(destinationLists(vs), destinationShape, targets, weight);
const percentOf = (vs: VirtualService) => readCanaryPercent(destinationLists(vs), destinationShape, targets);
const routesOf = (vs: VirtualService) => (vs.spec!.http as HTTPRoute[]).map((h) => h.route);

describe('hostTargets', () => {
  test.each<[string, boolean, boolean]>([
    ['orders-stable', true, false],
    ['orders-stable.shop', true, false],
    ['orders-stable.shop.svc', true, false],
    [FQDN_STABLE, true, false],
    ['orders-canary', false, true],
    ['orders-canary.shop', false, true],
    [FQDN_CANARY, false, true],
    ['orders', false, false],
    ['orders-stablex', false, false],
    ['orders-stable-v2', false, false],
    ['orders-canary2.shop', false, false],
    // The same Service name in another namespace is another Service.
    ['orders-stable.staging', false, false],
    ['orders-stable.staging.svc.cluster.local', false, false],
    ['orders-canary.staging.svc.cluster.local', false, false],
    // Not a cluster Service at all (a ServiceEntry host).
    ['orders-stable.example.com', false, false],
  ])('%j: stable %s, canary %s', (host, isStable, isCanary) => {
    expect(targets.isStable(host)).toBe(isStable);
    expect(targets.isCanary(host)).toBe(isCanary);
  });

  test.each<[string, string]>([
    ['orders-stable', 'orders-canary'],
    ['orders-stable.shop', 'orders-canary.shop'],
    ['orders-stable.shop.svc', 'orders-canary.shop.svc'],
    [FQDN_STABLE, FQDN_CANARY],
  ])('the canary of %j keeps its form: %j', (host, canary) => {
    expect(targets.canaryFor(host)).toBe(canary);
  });
});

describe('destinationShape', () => {
  test.each<[string, Destination, string | undefined, number]>([
    ['a host with a weight', to('orders-stable', 70), 'orders-stable', 70],
    ['a lone destination without a weight', to('orders-stable'), 'orders-stable', 0],
    ['no destination', {}, undefined, 0],
  ])('%s', (_name, destination, host, weight) => {
    expect(destinationShape.targetOf(destination)).toBe(host);
    expect(destinationShape.weightOf(destination)).toBe(weight);
  });
});

describe('weightPatch on a VirtualService', () => {
  test('short host: sets the stable weight and adds the canary with subset and port copied', () => {
    const vs = virtualService({
      name: 'orders',
      match: [{ uri: { prefix: '/orders' } }],
      route: [to('orders-stable', undefined, { subset: 'v1', port: { number: 80 } })],
    });
    const patch = patchFor(vs, 20);
    expect(patch).toEqual<JsonPatchOperation[]>([
      { op: 'test', path: '/spec/http/0/route/0/destination/host', value: 'orders-stable' },
      { op: 'add', path: '/spec/http/0/route/0/weight', value: 80 },
      {
        op: 'add',
        path: '/spec/http/0/route/-',
        value: { destination: { host: 'orders-canary', subset: 'v1', port: { number: 80 } }, weight: 20 },
      },
    ]);
    const patched = applyPatch(vs, patch);
    expect(routesOf(patched)).toEqual([
      [
        to('orders-stable', 80, { subset: 'v1', port: { number: 80 } }),
        to('orders-canary', 20, { subset: 'v1', port: { number: 80 } }),
      ],
    ]);
    expect((patched.spec!.http as HTTPRoute[])[0]!.match).toEqual([{ uri: { prefix: '/orders' } }]);
    expect(percentOf(patched)).toBe(20);
  });

  test('FQDN host: the canary keeps the FQDN form', () => {
    const vs = virtualService({ route: [to(FQDN_STABLE, 100, { port: { number: 8080 } })] });
    const patch = patchFor(vs, 10);
    expect(patch).toEqual<JsonPatchOperation[]>([
      { op: 'test', path: '/spec/http/0/route/0/destination/host', value: FQDN_STABLE },
      { op: 'add', path: '/spec/http/0/route/0/weight', value: 90 },
      { op: 'add', path: '/spec/http/0/route/-', value: to(FQDN_CANARY, 10, { port: { number: 8080 } }) },
    ]);
    expect(routesOf(applyPatch(vs, patch))).toEqual([
      [to(FQDN_STABLE, 90, { port: { number: 8080 } }), to(FQDN_CANARY, 10, { port: { number: 8080 } })],
    ]);
  });

  test('both present (FQDN): replaces both weights, testing both hosts', () => {
    const vs = virtualService({ route: [to(FQDN_STABLE, 90), to(FQDN_CANARY, 10)] });
    const patch = patchFor(vs, 60);
    expect(patch).toEqual<JsonPatchOperation[]>([
      { op: 'test', path: '/spec/http/0/route/0/destination/host', value: FQDN_STABLE },
      { op: 'add', path: '/spec/http/0/route/0/weight', value: 40 },
      { op: 'test', path: '/spec/http/0/route/1/destination/host', value: FQDN_CANARY },
      { op: 'add', path: '/spec/http/0/route/1/weight', value: 60 },
    ]);
    const patched = applyPatch(vs, patch);
    expect(routesOf(patched)).toEqual([[to(FQDN_STABLE, 40), to(FQDN_CANARY, 60)]]);
    expect(percentOf(patched)).toBe(60);
  });

  test('several HTTP routes: only those to the stable host change', () => {
    const vs = virtualService(
      { name: 'payments', route: [to('payments')] },
      { name: 'orders', route: [to('orders-stable.shop', 100)] },
      { name: 'redirect' },
      { name: 'staging', route: [to('orders-stable.staging.svc.cluster.local', 100)] },
    );
    const patch = patchFor(vs, 25);
    expect(patch).toEqual<JsonPatchOperation[]>([
      { op: 'test', path: '/spec/http/1/route/0/destination/host', value: 'orders-stable.shop' },
      { op: 'add', path: '/spec/http/1/route/0/weight', value: 75 },
      { op: 'add', path: '/spec/http/1/route/-', value: to('orders-canary.shop', 25) },
    ]);
    expect(routesOf(applyPatch(vs, patch))).toEqual([
      [to('payments')],
      [to('orders-stable.shop', 75), to('orders-canary.shop', 25)],
      undefined,
      [to('orders-stable.staging.svc.cluster.local', 100)],
    ]);
  });

  test.each<[string, VirtualService]>([
    ['no route to the stable host', virtualService({ route: [to('orders')] })],
    ['an HTTP route without destinations', virtualService({ name: 'redirect' })],
    ['no HTTP routes', virtualService()],
    ['no spec', { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'orders' } }],
  ])('%s: empty patch, no percentage', (_name, vs) => {
    expect(patchFor(vs, 50)).toEqual([]);
    expect(percentOf(vs)).toBeUndefined();
  });

  test.each([0, 5, 50, 95, 100])('weight %d reads back the same after the patch', (weight) => {
    const vs = virtualService({ route: [to(FQDN_STABLE)] });
    expect(percentOf(applyPatch(vs, patchFor(vs, weight)))).toBe(weight);
  });
});

describe('readCanaryPercent on a VirtualService', () => {
  test.each<[string, Destination[], number]>([
    ['a lone stable destination', [to('orders-stable')], 0],
    ['stable 100, canary 0', [to('orders-stable', 100), to('orders-canary', 0)], 0],
    ['80/20', [to('orders-stable', 80), to('orders-canary', 20)], 20],
    ['FQDN 50/50', [to(FQDN_STABLE, 50), to(FQDN_CANARY, 50)], 50],
    ['stable 0, canary 100', [to('orders-stable', 0), to('orders-canary', 100)], 100],
  ])('%s: %d%%', (_name, route, percent) => {
    expect(percentOf(virtualService({ route }))).toBe(percent);
  });
});
