// msop's own rules on a user's route (match steps, the mirror of a parallel run): the patch is applied to
// an in-memory route (json-patch.ts), and the route it leaves behind is checked, read back, patched again
// (nothing to do) and cleaned up (the user's rules as they were, all traffic on the stable Service).
import type { RequestMatch } from '../../../src/api/types';
import {
  type HTTPRoute,
  managedRules,
  renderHTTPRoute,
  routeObject as httpRouteObject,
} from '../../../src/traffic/gateway-api';
import { managedRoutes, routeObject as virtualServiceObject, type VirtualService } from '../../../src/traffic/istio';
import { matchAnnotations } from '../../../src/traffic/nginx';
import {
  cookieRegex,
  extrasKey,
  extrasKeyOf,
  isManagedRule,
  type RouteSpec,
  routeUpdate,
} from '../../../src/traffic/route';
import { microservice } from './fixtures';
import { applyPatch } from './json-patch';

const ORDERS = microservice({ release: { strategy: 'Canary', canary: { traffic: { router: 'gatewayAPI' } } } });
const BETA: RequestMatch[] = [{ headers: { 'x-beta': { exact: 'true' } } }, { cookie: { name: 'beta', value: '1' } }];
const MIRROR = { percent: 50, methods: ['GET', 'HEAD'], service: 'orders-compare', port: 8080 };
const spec = (over: Partial<RouteSpec> = {}): RouteSpec => ({ weight: 0, matches: [], ...over });

const ref = (name: string, weight?: number) => ({
  group: '',
  kind: 'Service',
  name,
  port: 80,
  ...(weight === undefined ? {} : { weight }),
});
const ordersRule = {
  matches: [{ path: { type: 'PathPrefix', value: '/orders' } }],
  filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-shop', value: 'a' }] } }],
  backendRefs: [ref('orders-stable', 1)],
};
const otherRule = { matches: [{ path: { type: 'PathPrefix', value: '/payments' } }], backendRefs: [ref('payments')] };

function httpRoute(): HTTPRoute {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'shop', namespace: 'shop' },
    spec: { parentRefs: [{ name: 'public' }], rules: [structuredClone(ordersRule), structuredClone(otherRule)] },
  };
}

/** What setRoute and finalize would leave on the user's HTTPRoute. */
function setHTTPRoute(route: HTTPRoute, desired: RouteSpec): HTTPRoute {
  const user = (route.spec?.rules ?? []).filter((rule) => !isManagedRule('orders', rule.name));
  const operations = routeUpdate(httpRouteObject(ORDERS, route), managedRules(ORDERS, user, desired), desired.weight);
  return operations ? applyPatch(route, operations) : route;
}
const cleanHTTPRoute = (route: HTTPRoute) => {
  const operations = routeUpdate(httpRouteObject(ORDERS, route), []);
  return operations ? applyPatch(route, operations) : route;
};
const namesOf = (route: HTTPRoute) => (route.spec?.rules ?? []).map((rule) => rule.name);

describe('Gateway API: msop rules on the user’s HTTPRoute', () => {
  test('a match step adds one rule ahead of the user’s: their matches plus each beta header or cookie, to the canary', () => {
    const desired = spec({ weight: 10, matches: BETA });
    const route = setHTTPRoute(httpRoute(), desired);
    const [beta, orders, payments] = route.spec!.rules!;
    expect(route.spec!.rules).toHaveLength(3);
    expect(beta!.name).toMatch(/^msop-orders-match-[0-9a-f]{8}-0$/);
    expect(beta!.matches).toEqual([
      {
        path: { type: 'PathPrefix', value: '/orders' },
        headers: [{ type: 'Exact', name: 'x-beta', value: 'true' }],
      },
      {
        path: { type: 'PathPrefix', value: '/orders' },
        headers: [{ type: 'RegularExpression', name: 'Cookie', value: cookieRegex('beta', '1') }],
      },
    ]);
    expect(beta!.filters).toEqual(ordersRule.filters);
    expect(beta!.backendRefs).toEqual([ref('orders-canary', 1)]);
    // The user's rules: their matches and filters as they were, only the weights are msop's.
    expect(orders).toEqual({ ...ordersRule, backendRefs: [ref('orders-stable', 90), ref('orders-canary', 10)] });
    expect(payments).toEqual(otherRule);
    expect(extrasKeyOf('orders', namesOf(route))).toBe(extrasKey(desired));
  });

  test('a mirror step copies the user’s rule for each mirrored method, with a RequestMirror filter; POST falls through', () => {
    const desired = spec({ mirror: MIRROR });
    const route = setHTTPRoute(httpRoute(), desired);
    const [mirror, orders] = route.spec!.rules!;
    expect(mirror!.name).toMatch(/^msop-orders-mirror-[0-9a-f]{8}-0$/);
    expect(mirror!.matches!.map((m) => m.method)).toEqual(['GET', 'HEAD']);
    expect(mirror!.matches!.every((m) => m.path?.value === '/orders')).toBe(true);
    expect(mirror!.filters).toEqual([
      ...ordersRule.filters,
      {
        type: 'RequestMirror',
        requestMirror: { backendRef: { group: '', kind: 'Service', name: 'orders-compare', port: 8080 }, percent: 50 },
      },
    ]);
    expect(mirror!.backendRefs).toEqual([ref('orders-stable', 100), ref('orders-canary', 0)]);
    expect(orders!.matches).toEqual(ordersRule.matches);
    expect(orders!.filters).toEqual(ordersRule.filters);
    expect(route.spec!.rules!.flatMap((rule) => rule.matches ?? []).some((m) => m.method === 'POST')).toBe(false);
  });

  test('with both, a beta rule carries the mirrored methods too, so a beta GET still outranks the mirror rule', () => {
    const route = setHTTPRoute(httpRoute(), spec({ matches: BETA, mirror: MIRROR }));
    const [beta, mirror] = route.spec!.rules!;
    expect(beta!.name).toContain('-match-');
    expect(mirror!.name).toContain('-mirror-');
    // Each beta match without a method, then with GET and with HEAD.
    expect(beta!.matches!.map((m) => m.method)).toEqual([undefined, 'GET', 'HEAD', undefined, 'GET', 'HEAD']);
  });

  test('a user rule that names a method is mirrored only if that method is', () => {
    const route = httpRoute();
    route.spec!.rules = [
      { ...structuredClone(ordersRule), matches: [{ path: { type: 'PathPrefix', value: '/orders' }, method: 'POST' }] },
    ];
    expect(setHTTPRoute(route, spec({ mirror: MIRROR })).spec!.rules).toHaveLength(1);
  });

  test.each<[string, RouteSpec]>([
    ['weights only', spec({ weight: 30 })],
    ['a match step', spec({ weight: 30, matches: BETA })],
    ['a mirror step', spec({ mirror: MIRROR })],
    ['both', spec({ weight: 5, matches: BETA, mirror: MIRROR })],
  ])('%s: applying the same route again needs no write', (_name, desired) => {
    const route = setHTTPRoute(httpRoute(), desired);
    const user = route.spec!.rules!.filter((rule) => !isManagedRule('orders', rule.name));
    expect(
      routeUpdate(httpRouteObject(ORDERS, route), managedRules(ORDERS, user, desired), desired.weight),
    ).toBeUndefined();
  });

  test('moving from a mirror step to a match step swaps msop’s rules and keeps the user’s', () => {
    const mirrored = setHTTPRoute(httpRoute(), spec({ mirror: MIRROR }));
    const matched = setHTTPRoute(mirrored, spec({ matches: BETA }));
    expect(namesOf(matched).filter((name) => name?.includes('-mirror-'))).toEqual([]);
    expect(namesOf(matched).filter((name) => name?.includes('-match-'))).toHaveLength(1);
    expect(matched.spec!.rules!.slice(1)).toEqual(mirrored.spec!.rules!.slice(1));
  });

  test('clean-up removes msop’s rules and the canary backendRef: the user’s rules as they were, stable at 100', () => {
    const used = setHTTPRoute(httpRoute(), spec({ weight: 40, matches: BETA, mirror: MIRROR }));
    const cleaned = cleanHTTPRoute(used);
    expect(cleaned.spec!.rules).toEqual([{ ...ordersRule, backendRefs: [ref('orders-stable', 100)] }, otherRule]);
    expect(routeUpdate(httpRouteObject(ORDERS, cleaned), [])).toBeUndefined();
  });

  test('rules of another Microservice on the same route are left alone', () => {
    const route = httpRoute();
    route.spec!.rules!.unshift({ name: 'msop-payments-match-0123abcd-1', backendRefs: [ref('payments-canary', 1)] });
    const set = setHTTPRoute(route, spec({ matches: BETA }));
    expect(namesOf(set)).toContain('msop-payments-match-0123abcd-1');
    expect(namesOf(cleanHTTPRoute(set))).toContain('msop-payments-match-0123abcd-1');
  });

  test('a generated route carries the rules ahead of its one rule', () => {
    const generated = microservice({
      release: {
        strategy: 'Canary',
        canary: { traffic: { router: 'gatewayAPI', gatewayAPI: { parentRefs: [{ name: 'public' }] } } },
      },
    });
    const rules = renderHTTPRoute(generated, spec({ weight: 10, matches: BETA })).spec!.rules!;
    expect(rules.map((rule) => rule.name?.replace(/[0-9a-f]{8}/, 'HASH'))).toEqual([
      'msop-orders-match-HASH-0',
      undefined,
    ]);
    expect(rules[0]!.matches![0]).toEqual({
      path: { type: 'PathPrefix', value: '/' },
      headers: [{ type: 'Exact', name: 'x-beta', value: 'true' }],
    });
  });
});

function virtualService(): VirtualService {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'orders', namespace: 'shop' },
    spec: {
      http: [
        {
          name: 'orders',
          match: [{ uri: { prefix: '/orders' } }],
          timeout: '5s',
          route: [{ destination: { host: 'orders-stable', port: { number: 80 } } }],
        },
      ],
    },
  };
}
const ISTIO = microservice({ release: { strategy: 'Canary', canary: { traffic: { router: 'istio' } } } });
function setVirtualService(vs: VirtualService, desired: RouteSpec): VirtualService {
  const user = (vs.spec?.http ?? []).filter((route) => !isManagedRule('orders', route.name));
  const operations = routeUpdate(virtualServiceObject(ISTIO, vs), managedRoutes(ISTIO, user, desired), desired.weight);
  return operations ? applyPatch(vs, operations) : vs;
}

describe('Istio: msop routes on the user’s VirtualService', () => {
  test('match and mirror routes go first (Istio takes the first that matches), the user’s route last', () => {
    const vs = setVirtualService(virtualService(), spec({ weight: 10, matches: BETA, mirror: MIRROR }));
    const [beta, mirror, user] = vs.spec!.http!;
    expect(beta).toMatchObject({
      match: [
        { uri: { prefix: '/orders' }, headers: { 'x-beta': { exact: 'true' } } },
        { uri: { prefix: '/orders' }, headers: { cookie: { regex: cookieRegex('beta', '1') } } },
      ],
      timeout: '5s',
      route: [{ destination: { host: 'orders-canary', port: { number: 80 } }, weight: 100 }],
    });
    expect(mirror).toMatchObject({
      match: [
        { uri: { prefix: '/orders' }, method: { exact: 'GET' } },
        { uri: { prefix: '/orders' }, method: { exact: 'HEAD' } },
      ],
      mirror: { host: 'orders-compare', port: { number: 8080 } },
      mirrorPercentage: { value: 50 },
    });
    expect(user).toMatchObject({ name: 'orders', match: [{ uri: { prefix: '/orders' } }], timeout: '5s' });
    expect(user!.route).toEqual([
      { destination: { host: 'orders-stable', port: { number: 80 } }, weight: 90 },
      { destination: { host: 'orders-canary', port: { number: 80 } }, weight: 10 },
    ]);
    expect(user).not.toHaveProperty('mirror');
  });

  test('applying again needs no write; clean-up leaves the user’s route with the stable host alone', () => {
    const desired = spec({ weight: 10, matches: BETA, mirror: MIRROR });
    const vs = setVirtualService(virtualService(), desired);
    const user = vs.spec!.http!.filter((route) => !isManagedRule('orders', route.name));
    expect(routeUpdate(virtualServiceObject(ISTIO, vs), managedRoutes(ISTIO, user, desired), 10)).toBeUndefined();
    const cleaned = applyPatch(vs, routeUpdate(virtualServiceObject(ISTIO, vs), [])!);
    expect(cleaned.spec!.http).toEqual([
      {
        ...virtualService().spec!.http![0],
        route: [{ destination: { host: 'orders-stable', port: { number: 80 } }, weight: 100 }],
      },
    ]);
  });
});

describe('nginx: match steps as canary annotations', () => {
  test.each<[string, RequestMatch[], Record<string, string>]>([
    [
      'a header with a value',
      [{ headers: { 'x-beta': { exact: 'true' } } }],
      {
        'nginx.ingress.kubernetes.io/canary-by-header': 'x-beta',
        'nginx.ingress.kubernetes.io/canary-by-header-value': 'true',
      },
    ],
    [
      'a header with a pattern',
      [{ headers: { 'x-beta': { regex: '^(yes|true)$' } } }],
      {
        'nginx.ingress.kubernetes.io/canary-by-header': 'x-beta',
        'nginx.ingress.kubernetes.io/canary-by-header-pattern': '^(yes|true)$',
      },
    ],
    [
      'a cookie set to always',
      [{ cookie: { name: 'beta', value: 'always' } }],
      { 'nginx.ingress.kubernetes.io/canary-by-cookie': 'beta' },
    ],
    ['none', [], {}],
  ])('%s', (_name, matches, annotations) => {
    expect(matchAnnotations(matches)).toEqual(annotations);
  });

  test.each<[string, RequestMatch[], string]>([
    ['two headers', [{ headers: { a: { exact: '1' }, b: { exact: '2' } } }], 'one header and one cookie at most'],
    [
      'two cookies',
      [{ cookie: { name: 'a', value: 'always' } }, { cookie: { name: 'b', value: 'always' } }],
      'one header and one cookie at most',
    ],
    [
      'a cookie value other than always',
      [{ cookie: { name: 'beta', value: '1' } }],
      'only when the cookie\'s value is "always"',
    ],
  ])('%s is refused with a message naming what nginx can do', (_name, matches, message) => {
    expect(() => matchAnnotations(matches)).toThrow(message);
  });
});

describe('route.ts', () => {
  test.each<[string, boolean]>([
    ['beta=1', true],
    ['a=2; beta=1', true],
    ['a=2;beta=1; c=3', true],
    ['beta=10', false],
    ['xbeta=1', false],
    ['a=beta=1', false],
    ['', false],
  ])('the cookie regex for beta=1 on %j: %s', (cookie, matches) => {
    expect(new RegExp(`^${cookieRegex('beta', '1')}$`).test(cookie)).toBe(matches);
  });

  test('the extras key names each part by the hash of what it asks for, and reads back from rule names', () => {
    expect(extrasKey(spec())).toBe('');
    const key = extrasKey(spec({ matches: BETA, mirror: MIRROR }));
    expect(key).toMatch(/^match-[0-9a-f]{8},mirror-[0-9a-f]{8}$/);
    expect(extrasKey(spec({ matches: BETA, mirror: { ...MIRROR, percent: 51 } }))).not.toBe(key);
    const [match, mirror] = key.split(',');
    const names = [
      `msop-orders-${mirror}-0`,
      'orders',
      `msop-orders-${match}-0`,
      `msop-orders-${match}-2`,
      'msop-other-match-00000000-0',
    ];
    expect(extrasKeyOf('orders', names)).toBe(key);
    expect(extrasKeyOf('orders', ['orders', undefined])).toBe('');
  });
});
