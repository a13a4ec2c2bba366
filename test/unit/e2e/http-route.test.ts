// The e2e traffic driver's model of Gateway API rule selection (test/e2e/http-route.ts), checked against
// the precedence the HTTPRoute spec defines, and then run over the rules msop writes for a parallel run
// and a beta group: the e2e tests trust these counts, so the model must be right on its own.
import type { RequestMatch } from '../../../src/api/types';
import { managedRules } from '../../../src/traffic/gateway-api';
import { cookieRegex } from '../../../src/traffic/route';
import { type HTTPRouteRequest, type HTTPRouteRule, matches, mirrorsOf, selectRule } from '../../e2e/http-route';
import { microservice } from '../traffic/fixtures';

const get = (path = '/', headers: Record<string, string> = {}): HTTPRouteRequest => ({ method: 'GET', path, headers });
const post = (path = '/', headers: Record<string, string> = {}): HTTPRouteRequest => ({
  method: 'POST',
  path,
  headers,
});
const prefix = (value: string) => ({ path: { type: 'PathPrefix', value } });

describe('one match', () => {
  test.each<[string, Parameters<typeof matches>[0], HTTPRouteRequest, boolean]>([
    ['no conditions match every request', {}, post('/x'), true],
    ['a prefix of /', prefix('/'), get('/anything/at/all'), true],
    ['a prefix matches the same path', prefix('/foo'), get('/foo'), true],
    ['a prefix matches a path below it', prefix('/foo'), get('/foo/bar'), true],
    ['a trailing slash of the prefix is ignored', prefix('/foo/'), get('/foo'), true],
    ['a prefix is by path element, not by character', prefix('/foo'), get('/foobar'), false],
    ['the query is not part of the path', { path: { type: 'Exact', value: '/a' } }, get('/a?x=1'), true],
    ['an exact path', { path: { type: 'Exact', value: '/a' } }, get('/a/b'), false],
    ['a method', { method: 'GET' }, post(), false],
    [
      'an exact header, name in any case',
      { headers: [{ name: 'X-Beta', value: 'true' }] },
      get('/', { 'x-beta': 'true' }),
      true,
    ],
    [
      'an exact header with another value',
      { headers: [{ name: 'x-beta', value: 'true' }] },
      get('/', { 'x-beta': 'yes' }),
      false,
    ],
    ['a missing header', { headers: [{ name: 'x-beta', value: 'true' }] }, get(), false],
    [
      'a regular expression matches the whole value',
      { headers: [{ type: 'RegularExpression', name: 'x-v', value: 'b' }] },
      get('/', { 'x-v': 'abc' }),
      false,
    ],
    [
      'the beta cookie among others',
      { headers: [{ type: 'RegularExpression', name: 'Cookie', value: cookieRegex('beta', '1') }] },
      get('/', { cookie: 'theme=dark; beta=1; lang=en' }),
      true,
    ],
    [
      'a cookie whose name only ends in beta',
      { headers: [{ type: 'RegularExpression', name: 'Cookie', value: cookieRegex('beta', '1') }] },
      get('/', { cookie: 'notbeta=1' }),
      false,
    ],
    ['a query parameter', { queryParams: [{ name: 'v', value: '2' }] }, get('/?v=2'), true],
  ])('%s', (_name, match, request, expected) => {
    expect(matches(match, request)).toBe(expected);
  });
});

describe('precedence among the rules whose matches match', () => {
  const rule = (name: string, ...ms: HTTPRouteRule['matches'] & object) => ({ name, matches: ms });
  test.each<[string, HTTPRouteRule[], HTTPRouteRequest, string | undefined]>([
    [
      'an Exact path beats a longer prefix',
      [rule('p', prefix('/a/b')), rule('e', { path: { type: 'Exact', value: '/a/b' } })],
      get('/a/b'),
      'e',
    ],
    ['the longest prefix', [rule('short', prefix('/a')), rule('long', prefix('/a/b'))], get('/a/b/c'), 'long'],
    [
      'a method beats headers',
      [
        rule('h', {
          headers: [
            { name: 'x', value: '1' },
            { name: 'y', value: '2' },
          ],
        }),
        rule('m', { method: 'GET' }),
      ],
      get('/', { x: '1', y: '2' }),
      'm',
    ],
    [
      'more headers',
      [
        rule('one', { headers: [{ name: 'x', value: '1' }] }),
        rule('two', {
          headers: [
            { name: 'x', value: '1' },
            { name: 'y', value: '2' },
          ],
        }),
      ],
      get('/', { x: '1', y: '2' }),
      'two',
    ],
    [
      'a method and a header beat a method alone',
      [rule('m', { method: 'GET' }), rule('mh', { method: 'GET', headers: [{ name: 'x', value: '1' }] })],
      get('/', { x: '1' }),
      'mh',
    ],
    ['on a tie, the first rule', [rule('first', { method: 'GET' }), rule('second', { method: 'GET' })], get(), 'first'],
    ['a rule without matches matches everything', [rule('m', { method: 'POST' }), { name: 'all' }], get(), 'all'],
    ['no rule matches: 404', [rule('m', { method: 'POST' })], get(), undefined],
  ])('%s', (_name, rules, request, expected) => {
    expect(selectRule(rules, request)?.rule.name).toBe(expected);
  });
});

test.each<[string, HTTPRouteRule, number]>([
  [
    'percent',
    { filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'c', port: 1 }, percent: 25 } }] },
    0.25,
  ],
  [
    'fraction',
    {
      filters: [
        {
          type: 'RequestMirror',
          requestMirror: { backendRef: { name: 'c' }, fraction: { numerator: 1, denominator: 8 } },
        },
      ],
    },
    0.125,
  ],
  ['neither: every request', { filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'c' } } }] }, 1],
])('a RequestMirror filter with %s', (_name, rule, share) => {
  expect(mirrorsOf(rule)).toEqual([expect.objectContaining({ service: 'c', share })]);
});

describe('the rules msop writes for a parallel run and a beta group, as a gateway applies them', () => {
  const BETA: RequestMatch[] = [{ headers: { 'x-beta': { exact: 'true' } } }, { cookie: { name: 'beta', value: '1' } }];
  const ORDERS = microservice({ release: { strategy: 'Canary', canary: { traffic: { router: 'gatewayAPI' } } } });
  const user: HTTPRouteRule = { backendRefs: [{ name: 'orders-stable', port: 80 }] };
  const mirror = { percent: 100, methods: ['GET', 'HEAD', 'OPTIONS'], service: 'orders-compare', port: 8080 };
  const routeOf = (matchesOf: RequestMatch[], withMirror: boolean): HTTPRouteRule[] => [
    ...(managedRules(ORDERS, [user], {
      weight: 0,
      matches: matchesOf,
      mirror: withMirror ? mirror : undefined,
    }) as HTTPRouteRule[]),
    user,
  ];
  const where = (rules: HTTPRouteRule[], request: HTTPRouteRequest) => {
    const selected = selectRule(rules, request)!;
    return {
      rule: selected.rule.name?.replace(/-[0-9a-f]{8}-\d+$/, '') ?? 'user',
      backends: (selected.rule.backendRefs ?? []).filter((b) => (b.weight ?? 1) > 0).map((b) => b.name),
      mirrored: mirrorsOf(selected.rule).map((m) => m.service),
    };
  };

  test.each<[string, RequestMatch[], boolean, HTTPRouteRequest, ReturnType<typeof where>]>([
    [
      'mirror: a GET is mirrored',
      [],
      true,
      get(),
      { rule: 'msop-orders-mirror', backends: ['orders-stable'], mirrored: ['orders-compare'] },
    ],
    ['mirror: a POST is not', [], true, post(), { rule: 'user', backends: ['orders-stable'], mirrored: [] }],
    [
      'match: x-beta goes to the canary',
      BETA,
      false,
      get('/', { 'x-beta': 'true' }),
      { rule: 'msop-orders-match', backends: ['orders-canary'], mirrored: [] },
    ],
    [
      'match: the beta cookie goes to the canary',
      BETA,
      false,
      post('/', { cookie: 'a=b; beta=1' }),
      { rule: 'msop-orders-match', backends: ['orders-canary'], mirrored: [] },
    ],
    [
      'match: everyone else to the stable',
      BETA,
      false,
      get('/', { 'x-beta': 'false' }),
      { rule: 'user', backends: ['orders-stable'], mirrored: [] },
    ],
    [
      'both: a beta GET outranks the mirror rule',
      BETA,
      true,
      get('/', { 'x-beta': 'true' }),
      { rule: 'msop-orders-match', backends: ['orders-canary'], mirrored: [] },
    ],
    [
      'both: a beta POST reaches the canary',
      BETA,
      true,
      post('/', { cookie: 'beta=1' }),
      { rule: 'msop-orders-match', backends: ['orders-canary'], mirrored: [] },
    ],
    [
      'both: a plain GET is mirrored',
      BETA,
      true,
      get(),
      { rule: 'msop-orders-mirror', backends: ['orders-stable'], mirrored: ['orders-compare'] },
    ],
  ])('%s', (_name, beta, withMirror, request, expected) => {
    expect(where(routeOf(beta, withMirror), request)).toEqual(expected);
  });
});
