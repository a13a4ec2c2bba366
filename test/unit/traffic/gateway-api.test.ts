import type { JsonPatchOperation } from '../../../src/kube/client';
import { readCanaryPercent, weightPatch } from '../../../src/traffic/backend-weights';
import {
  backendLists,
  backendRefShape,
  type HTTPRoute,
  renderHTTPRoute,
  serviceTargets,
} from '../../../src/traffic/gateway-api';
import { microservice, OWNER_REFERENCE } from './fixtures';
import { applyPatch, PatchError } from './json-patch';

type Rule = NonNullable<NonNullable<HTTPRoute['spec']>['rules']>[number] & { matches?: unknown[] };

const ORDERS = microservice();
/** A route with weights only. */
const w = (weight: number) => ({ weight, matches: [] });
const targets = serviceTargets(ORDERS);

function route(...rules: Rule[]): HTTPRoute {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'shop', namespace: 'shop' },
    spec: { parentRefs: [{ name: 'public', namespace: 'gateways' }], hostnames: ['shop.example.com'], rules },
  };
}

const stable = (port = 80, weight?: number) => ({
  name: 'orders-stable',
  port,
  ...(weight === undefined ? {} : { weight }),
});
const canary = (port = 80, weight?: number) => ({
  name: 'orders-canary',
  port,
  ...(weight === undefined ? {} : { weight }),
});
const prefix = (value: string) => [{ path: { type: 'PathPrefix', value } }];

const patchFor = (r: HTTPRoute, weight: number) => weightPatch(backendLists(r), backendRefShape, targets, weight);
const percentOf = (r: HTTPRoute) => readCanaryPercent(backendLists(r), backendRefShape, targets);
const backendsOf = (r: HTTPRoute) => r.spec!.rules!.map((rule) => rule.backendRefs);

describe('serviceTargets', () => {
  test.each<[string, boolean, boolean]>([
    ['orders-stable', true, false],
    ['orders-canary', false, true],
    ['orders', false, false],
    ['orders-stable.shop', false, false],
    ['payments-stable', false, false],
    ['', false, false],
  ])('%j: stable %s, canary %s', (name, isStable, isCanary) => {
    expect(targets.isStable(name)).toBe(isStable);
    expect(targets.isCanary(name)).toBe(isCanary);
  });

  test('the canary of the stable Service is <name>-canary', () => {
    expect(targets.canaryFor('orders-stable')).toBe('orders-canary');
  });
});

describe('backendRefShape', () => {
  test.each<[string, object, string | undefined, number]>([
    ['a Service by default', { name: 'orders-stable' }, 'orders-stable', 1],
    ['an explicit core Service', { kind: 'Service', group: '', name: 'orders-stable', weight: 7 }, 'orders-stable', 7],
    ['another kind', { kind: 'Bucket', group: 'storage.example.com', name: 'orders-stable' }, undefined, 1],
    [
      'a Service kind in another group',
      { kind: 'Service', group: 'multicluster.x-k8s.io', name: 'orders-stable' },
      undefined,
      1,
    ],
    ['weight 0', { name: 'orders-stable', weight: 0 }, 'orders-stable', 0],
  ])('%s: target %j, weight %d (an unset weight is 1)', (_name, ref, target, weight) => {
    expect(backendRefShape.targetOf(ref)).toBe(target);
    expect(backendRefShape.weightOf(ref)).toBe(weight);
  });
});

describe('weightPatch on an HTTPRoute', () => {
  test('stable backendRef only: sets its weight and adds the canary with the same port, guarded by a test', () => {
    const r = route({ matches: prefix('/orders'), backendRefs: [stable(8080)] });
    const patch = patchFor(r, 20);
    expect(patch).toEqual<JsonPatchOperation[]>([
      { op: 'test', path: '/spec/rules/0/backendRefs/0/name', value: 'orders-stable' },
      { op: 'add', path: '/spec/rules/0/backendRefs/0/weight', value: 80 },
      { op: 'add', path: '/spec/rules/0/backendRefs/-', value: { name: 'orders-canary', port: 8080, weight: 20 } },
    ]);
    const patched = applyPatch(r, patch);
    expect(backendsOf(patched)).toEqual([[stable(8080, 80), canary(8080, 20)]]);
    expect(patched.spec!.rules![0]).toHaveProperty('matches', prefix('/orders'));
    expect(percentOf(patched)).toBe(20);
  });

  test('the added canary copies the stable ref’s other fields (kind, group, namespace)', () => {
    const r = route({
      backendRefs: [{ kind: 'Service', group: '', name: 'orders-stable', port: 80, namespace: 'shop' } as never],
    });
    const patched = applyPatch(r, patchFor(r, 10));
    expect(backendsOf(patched)[0]).toEqual([
      { kind: 'Service', group: '', name: 'orders-stable', port: 80, namespace: 'shop', weight: 90 },
      { kind: 'Service', group: '', name: 'orders-canary', port: 80, namespace: 'shop', weight: 10 },
    ]);
  });

  test.each<[string, Rule['backendRefs'], number, JsonPatchOperation[], Rule['backendRefs']]>([
    [
      'both present: replaces both weights, testing both names',
      [stable(80, 80), canary(80, 20)],
      50,
      [
        { op: 'test', path: '/spec/rules/0/backendRefs/0/name', value: 'orders-stable' },
        { op: 'add', path: '/spec/rules/0/backendRefs/0/weight', value: 50 },
        { op: 'test', path: '/spec/rules/0/backendRefs/1/name', value: 'orders-canary' },
        { op: 'add', path: '/spec/rules/0/backendRefs/1/weight', value: 50 },
      ],
      [stable(80, 50), canary(80, 50)],
    ],
    [
      'canary listed first',
      [canary(80, 50), stable(80, 50)],
      100,
      [
        { op: 'test', path: '/spec/rules/0/backendRefs/1/name', value: 'orders-stable' },
        { op: 'add', path: '/spec/rules/0/backendRefs/1/weight', value: 0 },
        { op: 'test', path: '/spec/rules/0/backendRefs/0/name', value: 'orders-canary' },
        { op: 'add', path: '/spec/rules/0/backendRefs/0/weight', value: 100 },
      ],
      [canary(80, 100), stable(80, 0)],
    ],
    [
      'both present without weights: weights added',
      [stable(), canary()],
      0,
      [
        { op: 'test', path: '/spec/rules/0/backendRefs/0/name', value: 'orders-stable' },
        { op: 'add', path: '/spec/rules/0/backendRefs/0/weight', value: 100 },
        { op: 'test', path: '/spec/rules/0/backendRefs/1/name', value: 'orders-canary' },
        { op: 'add', path: '/spec/rules/0/backendRefs/1/weight', value: 0 },
      ],
      [stable(80, 100), canary(80, 0)],
    ],
  ])('%s', (_name, backendRefs, weight, patch, after) => {
    const r = route({ backendRefs });
    expect(patchFor(r, weight)).toEqual(patch);
    expect(backendsOf(applyPatch(r, patchFor(r, weight)))).toEqual([after]);
  });

  test('several rules: only the ones pointing to <name>-stable change', () => {
    const r = route(
      { matches: prefix('/orders'), backendRefs: [stable()] },
      { matches: prefix('/payments'), backendRefs: [{ name: 'payments', port: 80 }] },
      { matches: prefix('/api/orders'), backendRefs: [{ name: 'legacy', port: 80, weight: 1 }, stable(8080, 5)] },
      { matches: prefix('/static') },
    );
    const patch = patchFor(r, 30);
    expect(patch).toEqual<JsonPatchOperation[]>([
      { op: 'test', path: '/spec/rules/0/backendRefs/0/name', value: 'orders-stable' },
      { op: 'add', path: '/spec/rules/0/backendRefs/0/weight', value: 70 },
      { op: 'add', path: '/spec/rules/0/backendRefs/-', value: canary(80, 30) },
      { op: 'test', path: '/spec/rules/2/backendRefs/1/name', value: 'orders-stable' },
      { op: 'add', path: '/spec/rules/2/backendRefs/1/weight', value: 70 },
      { op: 'add', path: '/spec/rules/2/backendRefs/-', value: canary(8080, 30) },
    ]);
    const patched = applyPatch(r, patch);
    expect(backendsOf(patched)).toEqual([
      [stable(80, 70), canary(80, 30)],
      [{ name: 'payments', port: 80 }],
      [{ name: 'legacy', port: 80, weight: 1 }, stable(8080, 70), canary(8080, 30)],
      undefined,
    ]);
  });

  test.each<[string, HTTPRoute]>([
    [
      'a non-Service backendRef of the same name is ignored',
      route({ backendRefs: [{ kind: 'Bucket', group: 'storage.example.com', name: 'orders-stable' }] }),
    ],
    ['no rule sends to <name>-stable', route({ backendRefs: [{ name: 'orders', port: 80 }] })],
    ['a rule without backendRefs', route({ matches: prefix('/') })],
    ['no rules', route()],
    ['no spec', { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'shop' } }],
  ])('%s: empty patch, no percentage', (_name, r) => {
    expect(patchFor(r, 40)).toEqual([]);
    expect(percentOf(r)).toBeUndefined();
  });

  test('the test operations make a patch for a route that changed since it was read fail', () => {
    const read = route({ backendRefs: [{ name: 'payments', port: 80 }, stable()] });
    const changed = route({ backendRefs: [stable(), { name: 'payments', port: 80 }] });
    expect(() => applyPatch(changed, patchFor(read, 20))).toThrow(PatchError);
  });

  test('does not change the route it reads', () => {
    const r = route({ backendRefs: [stable(80, 80), canary(80, 20)] });
    const before = structuredClone(r);
    patchFor(r, 60);
    expect(r).toEqual(before);
  });

  test.each([0, 1, 10, 20, 33, 50, 99, 100])('weight %d reads back the same after the patch', (weight) => {
    const first = route({ backendRefs: [stable()] });
    const once = applyPatch(first, patchFor(first, weight));
    expect(percentOf(once)).toBe(weight);
    // And again on the route that has the canary now.
    const twice = applyPatch(once, patchFor(once, 100 - weight));
    expect(percentOf(twice)).toBe(100 - weight);
    expect(twice.spec!.rules![0]!.backendRefs).toHaveLength(2);
  });
});

describe('readCanaryPercent on an HTTPRoute', () => {
  test.each<[string, Rule['backendRefs'], number]>([
    ['stable only', [stable()], 0],
    ['stable without weight and canary 1: Gateway API default weight 1 → 50', [stable(), canary(80, 1)], 50],
    ['both without weight', [stable(), canary()], 50],
    ['80/20', [stable(80, 80), canary(80, 20)], 20],
    ['stable 2, canary 1', [stable(80, 2), canary(80, 1)], 33],
    ['stable 0, canary 0', [stable(80, 0), canary(80, 0)], 0],
    ['stable 0, canary 5', [stable(80, 0), canary(80, 5)], 100],
    ['another backend does not count', [{ name: 'legacy', port: 80, weight: 50 }, stable(80, 25), canary(80, 25)], 50],
  ])('%s: %d%%', (_name, backendRefs, percent) => {
    expect(percentOf(route({ backendRefs }))).toBe(percent);
  });

  test('reads the first rule that sends to stable', () => {
    const r = route(
      { backendRefs: [{ name: 'payments' }] },
      { backendRefs: [stable(80, 90), canary(80, 10)] },
      { backendRefs: [stable(80, 50), canary(80, 50)] },
    );
    expect(percentOf(r)).toBe(10);
  });
});

describe('renderHTTPRoute', () => {
  const generated = microservice({
    release: {
      canary: {
        traffic: {
          router: 'gatewayAPI',
          gatewayAPI: { parentRefs: [{ name: 'public', namespace: 'gateways' }], hostnames: ['orders.example.com'] },
        },
      },
    },
  });

  test('parentRefs, hostnames, the two backendRefs and the owner reference', () => {
    const r = renderHTTPRoute(generated, w(30));
    expect(r.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(r.kind).toBe('HTTPRoute');
    expect(r.metadata!.name).toBe('orders');
    expect(r.metadata!.namespace).toBe('shop');
    expect(r.metadata!.ownerReferences).toEqual([OWNER_REFERENCE]);
    expect(r.metadata!.labels!['msop.dev/microservice']).toBe('orders');
    expect(r.spec!.parentRefs).toEqual([{ name: 'public', namespace: 'gateways' }]);
    expect(r.spec!.hostnames).toEqual(['orders.example.com']);
    expect(r.spec!.rules).toEqual([{ backendRefs: [stable(80, 70), canary(80, 30)] }]);
    expect(percentOf(r)).toBe(30);
  });

  test.each<[string, object, number]>([
    ['the default port: servicePort 80', {}, 80],
    [
      'the first port’s servicePort',
      {
        ports: [
          { name: 'grpc', containerPort: 9090, servicePort: 8443 },
          { name: 'metrics', containerPort: 9100 },
        ],
      },
      8443,
    ],
    ['the containerPort when there is no servicePort', { ports: [{ name: 'grpc', containerPort: 9090 }] }, 9090],
  ])('%s', (_name, spec, port) => {
    const r = renderHTTPRoute(microservice({ ...spec, release: generated.spec.release }), w(0));
    expect(r.spec!.rules![0]!.backendRefs).toEqual([stable(port, 100), canary(port, 0)]);
  });

  test.each<[string, string[] | undefined]>([
    ['no hostnames', undefined],
    ['empty hostnames', []],
  ])('%s: no hostnames field', (_name, hostnames) => {
    const r = renderHTTPRoute(
      microservice({
        release: { canary: { traffic: { gatewayAPI: { parentRefs: [{ name: 'public' }], hostnames } } } },
      }),
      w(50),
    );
    expect(r.spec).not.toHaveProperty('hostnames');
    expect(r.spec!.parentRefs).toEqual([{ name: 'public' }]);
  });

  test('renders the same bytes for the same input', () => {
    expect(JSON.stringify(renderHTTPRoute(generated, w(20)))).toBe(JSON.stringify(renderHTTPRoute(generated, w(20))));
  });
});
