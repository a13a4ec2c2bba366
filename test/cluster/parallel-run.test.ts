// Mirror and match steps against the real control plane, on each router that carries them: msop's rules
// appear on the user's route at the right steps, the user's own rules are never rewritten, and nothing msop
// added is left at promotion, abort, deletion, or when the route changes mid-release.
import type { KubernetesObject, V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import type { CanaryStep, MicroserviceSpec, TrafficSettings } from '../../src/api/types';
import { ApiError } from '../../src/kube/errors';
import {
  client,
  eventually,
  getMicroservice,
  getOrUndefined,
  microservice,
  operatorNamespace,
  releaseHelpers,
  waitReady,
} from './harness';

const ns = operatorNamespace('parallel', { comparatorImage: 'ghcr.io/example/msop:test' });
const { setImage, untilStatus, eventsOf } = releaseHelpers(() => ns.name);

const GATEWAY = 'gateway.networking.k8s.io/v1';
const ISTIO = 'networking.istio.io/v1';
const BETA = [{ headers: { 'x-beta': { exact: 'true' } } }, { cookie: { name: 'beta', value: '1' } }];

interface Rule {
  name?: string;
  matches?: { path?: unknown; method?: string; headers?: { type?: string; name: string; value: string }[] }[];
  filters?: { type: string; requestMirror?: { backendRef: { name: string; port: number }; percent?: number } }[];
  backendRefs?: { name: string; port?: number; weight?: number }[];
}
type HTTPRoute = KubernetesObject & { spec: { parentRefs: unknown[]; rules: Rule[] } };

/** The user's own rules: one to this Microservice (with a filter of theirs), one to another Service. */
const userRules = (name: string): Rule[] => [
  {
    matches: [{ path: { type: 'PathPrefix', value: '/orders' } }],
    filters: [
      { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-shop', value: 'a' }] } } as never,
    ],
    backendRefs: [{ name: `${name}-stable`, port: 80 }],
  },
  { matches: [{ path: { type: 'PathPrefix', value: '/payments' } }], backendRefs: [{ name: 'payments', port: 80 }] },
];

async function createRoute(name: string): Promise<void> {
  await client.create({
    apiVersion: GATEWAY,
    kind: 'HTTPRoute',
    metadata: { name: `${name}-route`, namespace: ns.name },
    spec: { parentRefs: [{ name: 'public' }], rules: userRules(name) },
  } as KubernetesObject);
}

const route = (name: string) => client.get<HTTPRoute>(GATEWAY, 'HTTPRoute', ns.name, `${name}-route`);
const msopRules = (r: HTTPRoute) => r.spec.rules.filter((rule) => rule.name?.startsWith('msop-'));
/** The user's rules as stored, with msop's weights and canary backendRef left out: what the user wrote. */
const asWritten = (r: HTTPRoute) =>
  r.spec.rules
    .filter((rule) => !rule.name?.startsWith('msop-'))
    .map((rule) => ({
      matches: rule.matches,
      filters: rule.filters,
      backendRefs: rule.backendRefs?.filter((ref) => !ref.name.endsWith('-canary')).map((ref) => ref.name),
    }));
const canaryWeight = (r: HTTPRoute) =>
  r.spec.rules
    .find((rule) => !rule.name && rule.backendRefs?.some((ref) => ref.name.endsWith('-stable')))
    ?.backendRefs?.find((ref) => ref.name.endsWith('-canary'))?.weight ?? 0;

const replicaSets = async (name: string, track: string) =>
  (
    await client.list<V1ReplicaSet>('apps/v1', 'ReplicaSet', ns.name, {
      labelSelector: `msop.dev/microservice=${name},msop.dev/track=${track}`,
    })
  ).items;

async function untilRoute(name: string, what: string, test: (r: HTTPRoute) => boolean): Promise<HTTPRoute> {
  return eventually(
    async () => {
      const r = await route(name);
      return test(r) ? r : undefined;
    },
    { message: `${name}: ${what}`, timeoutMs: 30_000 },
  );
}

async function releaseOn(
  name: string,
  steps: CanaryStep[],
  traffic: TrafficSettings,
  extra: Partial<MicroserviceSpec> = {},
) {
  await client.create(
    microservice(ns.name, name, {
      image: 'ghcr.io/example/shop:1.0.0',
      replicas: 4,
      release: { strategy: 'Canary', canary: { steps, traffic } },
      ...extra,
    }),
  );
  const before = await waitReady(ns.name, name);
  await setImage(name, 'ghcr.io/example/shop:2.0.0');
  return before;
}

const gatewayTraffic = (name: string): TrafficSettings => ({
  router: 'gatewayAPI',
  gatewayAPI: { httpRoute: `${name}-route` },
});

test('gatewayAPI: a parallel run, then a beta group, then a weight; promotion leaves the user’s rules as written', async () => {
  const name = 'gw';
  await createRoute(name);
  const written = asWritten(await route(name));
  const before = await releaseOn(
    name,
    [{ mirror: { percent: 50, duration: '3s' } }, { match: BETA }, { setWeight: 25 }, { pause: {} }],
    gatewayTraffic(name),
  );

  // The parallel run: the comparator and a fresh baseline are ready, then the route mirrors, users see stable only.
  const mirroring = await untilRoute(name, 'the mirror rule', (r) =>
    msopRules(r).some((rule) => rule.name?.includes('-mirror-')),
  );
  const [mirrorRule] = msopRules(mirroring);
  expect(mirroring.spec.rules[0]).toBe(mirroring.spec.rules.find((rule) => rule.name === mirrorRule!.name));
  expect(mirrorRule!.matches!.map((m) => m.method)).toEqual(['GET', 'HEAD', 'OPTIONS']);
  expect(mirrorRule!.filters!.at(-1)).toMatchObject({
    type: 'RequestMirror',
    requestMirror: { backendRef: { name: `${name}-compare`, port: 8080 }, percent: 50 },
  });
  expect(canaryWeight(mirroring)).toBe(0);
  expect(asWritten(mirroring)).toEqual(written);
  const [comparator] = await replicaSets(name, 'comparator');
  expect(comparator?.status?.readyReplicas).toBe(1);
  expect(comparator?.spec?.template?.spec?.containers[0]).toMatchObject({
    image: 'ghcr.io/example/msop:test',
    args: expect.arrayContaining([
      'comparator',
      `--primary=http://${name}-baseline.${ns.name}.svc:80`,
      `--candidate=http://${name}-canary.${ns.name}.svc:80`,
      '--methods=GET,HEAD,OPTIONS',
    ]) as string[],
  });
  expect((await replicaSets(name, 'baseline'))[0]?.status?.readyReplicas).toBe(2);
  for (const service of [`${name}-baseline`, `${name}-compare`])
    expect(await getOrUndefined<V1Service>('v1', 'Service', ns.name, service)).toBeDefined();

  // The beta group: the mirror and the baseline go, the match rule sends beta requests to the canary.
  const matching = await untilRoute(
    name,
    'the match rule, and no mirror rule',
    (r) => msopRules(r).length === 1 && msopRules(r)[0]!.name!.includes('-match-'),
  );
  const [betaRule] = msopRules(matching);
  expect(betaRule!.backendRefs!.map((ref) => ref.name)).toEqual([`${name}-canary`]);
  expect(betaRule!.matches).toEqual([
    { path: { type: 'PathPrefix', value: '/orders' }, headers: [{ type: 'Exact', name: 'x-beta', value: 'true' }] },
    {
      path: { type: 'PathPrefix', value: '/orders' },
      headers: [{ type: 'RegularExpression', name: 'Cookie', value: expect.stringContaining('beta=1') as string }],
    },
  ]);
  expect(asWritten(matching)).toEqual(written);
  await eventually(async () => (await replicaSets(name, 'baseline')).length === 0, {
    message: 'the baseline to go after the parallel run',
  });

  // The weight step keeps the beta rule; the gate waits for a person.
  await untilStatus(name, 'paused at 25%', (ms) => ms.status?.phase === 'Paused' && ms.status.canaryWeight === 25);
  const at25 = await route(name);
  expect(msopRules(at25).map((rule) => rule.name)).toEqual([betaRule!.name]);
  expect(canaryWeight(at25)).toBe(25);

  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
    metadata: { annotations: { 'msop.dev/action': 'promote' } },
  });
  await untilStatus(
    name,
    'promoted',
    (ms) => ms.status?.phase === 'Ready' && ms.status.stableRevision !== before.status?.stableRevision,
  );
  const promoted = await untilRoute(name, 'no msop rule left', (r) => msopRules(r).length === 0);
  expect(asWritten(promoted)).toEqual(written);
  expect(canaryWeight(promoted)).toBe(0);
  await eventually(async () => (await replicaSets(name, 'comparator')).length === 0, {
    message: 'the comparator to go at promotion',
  });
  expect(await eventsOf(name)).toMatch(/ran in parallel with the stable revision/);
});

test('gatewayAPI: an abort while the beta group is on the canary takes the rule off and removes the comparator', async () => {
  const name = 'abort';
  await createRoute(name);
  const written = asWritten(await route(name));
  await releaseOn(name, [{ mirror: { duration: '1s' } }, { match: BETA }, { pause: {} }], gatewayTraffic(name));
  await untilStatus(name, 'paused after the match step', (ms) => ms.status?.phase === 'Paused');
  expect(msopRules(await route(name))).toHaveLength(1);
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
    metadata: { annotations: { 'msop.dev/action': 'abort' } },
  });
  await untilStatus(name, 'rolled back', (ms) => ms.status?.phase === 'RolledBack');
  const after = await untilRoute(name, 'no msop rule left', (r) => msopRules(r).length === 0);
  expect(asWritten(after)).toEqual(written);
  expect(canaryWeight(after)).toBe(0);
  await eventually(
    async () =>
      (await replicaSets(name, 'comparator')).length === 0 && (await replicaSets(name, 'canary')).length === 0,
    { message: 'the comparator and the canary to go' },
  );
});

test('gatewayAPI: deleting the Microservice mid-release gives the user’s route back before it goes', async () => {
  const name = 'deleted';
  await createRoute(name);
  const written = asWritten(await route(name));
  await releaseOn(name, [{ match: BETA }, { setWeight: 50 }, { pause: {} }], gatewayTraffic(name));
  await untilStatus(name, 'paused at 50%', (ms) => ms.status?.phase === 'Paused' && ms.status.canaryWeight === 50);
  const ms = await getMicroservice(ns.name, name);
  expect(ms.metadata.finalizers).toContain('msop.dev/routes');
  await client.delete('msop.dev/v1alpha1', 'Microservice', ns.name, name, ms.metadata.uid!);
  await eventually(
    async () => (await getOrUndefined('msop.dev/v1alpha1', 'Microservice', ns.name, name)) === undefined,
    {
      message: 'the Microservice to be deleted once msop took its rules back',
    },
  );
  const after = await route(name);
  expect(msopRules(after)).toEqual([]);
  expect(after.spec.rules.flatMap((rule) => rule.backendRefs ?? []).some((ref) => ref.name.endsWith('-canary'))).toBe(
    false,
  );
  expect(asWritten(after)).toEqual(written);
  expect(after.spec.rules[0]!.backendRefs).toEqual([expect.objectContaining({ name: `${name}-stable`, weight: 100 })]);
});

test('a route changed mid-release: the old route is drained first, and the release goes on with the new one', async () => {
  const name = 'moved';
  await createRoute(name);
  await client.create({
    apiVersion: GATEWAY,
    kind: 'HTTPRoute',
    metadata: { name: `${name}-next`, namespace: ns.name },
    spec: { parentRefs: [{ name: 'public' }], rules: [{ backendRefs: [{ name: `${name}-stable`, port: 80 }] }] },
  } as KubernetesObject);
  await releaseOn(name, [{ match: BETA }, { setWeight: 50 }, { pause: {} }], gatewayTraffic(name));
  await untilStatus(name, 'paused at 50%', (ms) => ms.status?.phase === 'Paused' && ms.status.canaryWeight === 50);
  expect((await getMicroservice(ns.name, name)).status?.release?.traffic).toEqual(gatewayTraffic(name));

  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
    spec: { release: { canary: { traffic: { gatewayAPI: { httpRoute: `${name}-next` } } } } },
  });
  const old = await untilRoute(name, 'the old route drained', (r) => msopRules(r).length === 0);
  expect(old.spec.rules.flatMap((rule) => rule.backendRefs ?? []).some((ref) => ref.name.endsWith('-canary'))).toBe(
    false,
  );
  const next = await eventually(
    async () => {
      const r = await client.get<HTTPRoute>(GATEWAY, 'HTTPRoute', ns.name, `${name}-next`);
      return msopRules(r).length === 1 && canaryWeight(r) === 50 ? r : undefined;
    },
    { message: 'the new route to carry the release: the beta rule and 50%', timeoutMs: 30_000 },
  );
  expect(next.spec.rules.at(-1)!.backendRefs!.map((ref) => ref.name)).toEqual([`${name}-stable`, `${name}-canary`]);
  await untilStatus(
    name,
    'the new traffic settings recorded',
    (ms) => ms.status?.release?.traffic?.gatewayAPI?.httpRoute === `${name}-next`,
  );
  expect(await eventsOf(name)).toMatch(
    /RouteChanged\|Moved the release of \w+ from gatewayAPI\/HTTPRoute\/moved-route to gatewayAPI\/HTTPRoute\/moved-next/,
  );

  // Removing the canary section (the strategy falls back to Rolling) drains the route the release is on.
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
    spec: { release: { strategy: 'Rolling', canary: null } },
  });
  await eventually(
    async () => {
      const r = await client.get<HTTPRoute>(GATEWAY, 'HTTPRoute', ns.name, `${name}-next`);
      return (
        msopRules(r).length === 0 &&
        !r.spec.rules.some((rule) => rule.backendRefs?.some((ref) => ref.name.endsWith('-canary')))
      );
    },
    { message: 'the route to be drained when the canary section went', timeoutMs: 30_000 },
  );
  await waitReady(ns.name, name, 60_000);
});

test('istio: the mirror and the beta routes go ahead of the user’s route, and promotion removes them', async () => {
  const name = 'mesh';
  const userRoute = {
    name: 'main',
    match: [{ uri: { prefix: '/' } }],
    route: [{ destination: { host: `${name}-stable` } }],
  };
  await client.create({
    apiVersion: ISTIO,
    kind: 'VirtualService',
    metadata: { name: `${name}-vs`, namespace: ns.name },
    spec: { hosts: [name], http: [userRoute] },
  } as KubernetesObject);
  type VS = KubernetesObject & {
    spec: {
      http: { name?: string; mirror?: unknown; mirrorPercentage?: unknown; match?: unknown[]; route?: unknown[] }[];
    };
  };
  const vs = () => client.get<VS>(ISTIO, 'VirtualService', ns.name, `${name}-vs`);
  await releaseOn(name, [{ mirror: { percent: 20, duration: '2s' } }, { match: BETA }, { pause: {} }], {
    router: 'istio',
    istio: { virtualService: `${name}-vs` },
  });
  const mirroring = await eventually(
    async () => {
      const v = await vs();
      return v.spec.http[0]?.name?.includes('-mirror-') ? v : undefined;
    },
    { message: 'the mirror route first', timeoutMs: 30_000 },
  );
  expect(mirroring.spec.http[0]).toMatchObject({
    mirror: { host: `${name}-compare`, port: { number: 8080 } },
    mirrorPercentage: { value: 20 },
  });
  expect(mirroring.spec.http.at(-1)).toMatchObject({ name: 'main', match: userRoute.match });
  const matching = await eventually(
    async () => {
      const v = await vs();
      return v.spec.http.length === 2 && v.spec.http[0]?.name?.includes('-match-') ? v : undefined;
    },
    { message: 'the beta route first, the mirror gone', timeoutMs: 30_000 },
  );
  expect(matching.spec.http[0]!.route).toEqual([{ destination: { host: `${name}-canary` }, weight: 100 }]);
  await untilStatus(name, 'paused', (ms) => ms.status?.phase === 'Paused');
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
    metadata: { annotations: { 'msop.dev/action': 'promote' } },
  });
  const after = await eventually(
    async () => {
      const v = await vs();
      return v.spec.http.length === 1 ? v : undefined;
    },
    { message: 'only the user’s route left', timeoutMs: 30_000 },
  );
  expect(after.spec.http[0]).toMatchObject({ name: 'main', match: userRoute.match });
  expect(after.spec.http[0]).not.toHaveProperty('mirror');
});

test('nginx: a match step is the canary Ingress’s header annotation, even at weight 0; promotion removes it', async () => {
  const name = 'edge';
  await client.create({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: `${name}-ing`, namespace: ns.name },
    spec: {
      ingressClassName: 'nginx',
      rules: [
        { http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 80 } } } }] } },
      ],
    },
  } as KubernetesObject);
  await releaseOn(name, [{ match: [{ headers: { 'x-beta': { exact: 'true' } } }] }, { pause: {} }], {
    router: 'nginx',
    nginx: { ingress: `${name}-ing` },
  });
  const canary = await eventually(
    () => getOrUndefined<KubernetesObject>('networking.k8s.io/v1', 'Ingress', ns.name, `${name}-ing-${name}-canary`),
    { message: 'the canary Ingress', timeoutMs: 30_000 },
  );
  expect(canary.metadata?.annotations).toMatchObject({
    'nginx.ingress.kubernetes.io/canary': 'true',
    'nginx.ingress.kubernetes.io/canary-weight': '0',
    'nginx.ingress.kubernetes.io/canary-by-header': 'x-beta',
    'nginx.ingress.kubernetes.io/canary-by-header-value': 'true',
  });
  await untilStatus(name, 'paused', (ms) => ms.status?.phase === 'Paused');
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
    metadata: { annotations: { 'msop.dev/action': 'promote' } },
  });
  await waitReady(ns.name, name, 60_000);
  await eventually(
    async () =>
      (await getOrUndefined('networking.k8s.io/v1', 'Ingress', ns.name, `${name}-ing-${name}-canary`)) === undefined,
    { message: 'the canary Ingress to go', timeoutMs: 30_000 },
  );
});

test('an Environment-resolved replicas router with a mirror step is Stalled, naming the routers that can mirror', async () => {
  const name = 'nomirror';
  await client.create(
    microservice(ns.name, name, {
      image: 'ghcr.io/example/shop:1.0.0',
      release: { strategy: 'Canary', canary: { steps: [{ mirror: { duration: '1m' } }] } },
    }),
  );
  const ms = await untilStatus(
    name,
    'Stalled',
    (m) => m.status?.conditions?.some((c) => c.type === 'Stalled' && c.status === 'True') ?? false,
  );
  expect(ms.status?.conditions?.find((c) => c.type === 'Stalled')?.message).toMatch(
    /mirror steps need router gatewayAPI or istio/,
  );
});

test.each<[string, MicroserviceSpec['release'], RegExp]>([
  [
    'a mirror step on nginx',
    {
      strategy: 'Canary',
      canary: { traffic: { router: 'nginx', nginx: { ingress: 'x' } }, steps: [{ mirror: { duration: '1m' } }] },
    },
    /mirror steps need router gatewayAPI or istio/,
  ],
  [
    'a match step on the replicas router',
    { strategy: 'Canary', canary: { traffic: { router: 'replicas' }, steps: [{ match: BETA }] } },
    /match steps need router gatewayAPI, istio or nginx/,
  ],
  [
    'a step with two kinds',
    { strategy: 'Canary', canary: { steps: [{ setWeight: 10, mirror: { duration: '1m' } } as CanaryStep] } },
    /exactly one of setWeight, pause, mirror or match/,
  ],
  [
    'a match entry with both headers and a cookie',
    {
      strategy: 'Canary',
      canary: { steps: [{ match: [{ headers: { a: { exact: '1' } }, cookie: { name: 'b', value: '1' } }] }] },
    },
    /exactly one of headers or cookie/,
  ],
  [
    'parallelRun without a mirror step',
    { strategy: 'Canary', canary: { steps: [{ setWeight: 10 }], parallelRun: { methods: ['GET'] } } },
    /parallelRun needs a mirror step/,
  ],
  [
    'the parallel-run template without a mirror step',
    {
      strategy: 'Canary',
      canary: { steps: [{ setWeight: 10 }] },
      analysis: { metrics: [{ name: 'same', template: 'parallel-run-mismatch-rate', thresholdRange: { max: 1 } }] },
    },
    /parallel-run-mismatch-rate needs a mirror step/,
  ],
  [
    'an ignored JSON path msop cannot read',
    {
      strategy: 'Canary',
      canary: {
        traffic: { router: 'istio', istio: { virtualService: 'x' } },
        steps: [{ mirror: { duration: '1m' } }],
        parallelRun: { compare: { ignoreJSONPaths: ['generatedAt'] } },
      },
    },
    /ignoreJSONPaths/,
  ],
])('admission refuses %s', async (_label, release, message) => {
  const attempt = client.create(microservice(ns.name, 'refused', { image: 'ghcr.io/example/shop:1.0.0', release }));
  await expect(attempt).rejects.toBeInstanceOf(ApiError);
  await expect(attempt).rejects.toMatchObject({ statusCode: 422, message: expect.stringMatching(message) as string });
});
