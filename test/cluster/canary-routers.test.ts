// A full 4-step canary with each traffic router, against the real control plane:
// replica counts and route weights at every step, promotion, and the release
// invariants checked over every write (ReleaseRecorder).
import type { KubernetesObject, V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import type { TrafficSettings } from '../../src/api/types';
import {
  client,
  eventually,
  getMicroservice,
  getOrUndefined,
  microservice,
  operatorNamespace,
  waitReady,
} from './harness';
import { inOrder, ReleaseRecorder, type WeightReader } from './release-recorder';

const ns = operatorNamespace('routers');

const REPLICAS = 4;
const steps = [{ setWeight: 25 }, { pause: { duration: '2s' } }, { setWeight: 50 }, { pause: { duration: '2s' } }];

/** The canary's percentage in a list of weighted backends, read independently of msop's code. */
function percent(stable: number | undefined, canary: number | undefined): number | undefined {
  if (stable === undefined) return undefined;
  const c = canary ?? 0;
  return stable + c === 0 ? 0 : Math.round((100 * c) / (stable + c));
}

interface RouterCase {
  label: string;
  traffic: (name: string) => TrafficSettings;
  kinds: ('HTTPRoute' | 'VirtualService' | 'Ingress')[];
  prepare?: (name: string) => Promise<void>;
  weight?: (name: string) => WeightReader;
}

type Ref = { name?: string; weight?: number };
const backendWeight = (refs: Ref[] | undefined, target: string) => {
  const ref = refs?.find((r) => r.name === target);
  return ref ? (ref.weight ?? 1) : undefined;
};

const httpRouteWeight =
  (routeName: string, name: string): WeightReader =>
  (objects) => {
    const route = objects.get(`HTTPRoute/${routeName}`) as { spec?: { rules?: { backendRefs?: Ref[] }[] } } | undefined;
    const refs = route?.spec?.rules?.[0]?.backendRefs;
    return percent(backendWeight(refs, `${name}-stable`), backendWeight(refs, `${name}-canary`));
  };

const cases: RouterCase[] = [
  { label: 'replicas', traffic: () => ({ router: 'replicas' }), kinds: [] },
  {
    label: 'gatewayAPI (a named HTTPRoute)',
    traffic: (name) => ({ router: 'gatewayAPI', gatewayAPI: { httpRoute: `${name}-route` } }),
    kinds: ['HTTPRoute'],
    prepare: async (name) => {
      await client.create({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: `${name}-route`, namespace: ns.name },
        spec: {
          parentRefs: [{ name: 'public' }],
          rules: [
            {
              matches: [{ path: { type: 'PathPrefix', value: '/' } }],
              backendRefs: [{ name: `${name}-stable`, port: 80 }],
            },
          ],
        },
      } as KubernetesObject);
    },
    weight: (name) => httpRouteWeight(`${name}-route`, name),
  },
  {
    label: 'gatewayAPI (a generated HTTPRoute)',
    traffic: () => ({
      router: 'gatewayAPI',
      gatewayAPI: { parentRefs: [{ name: 'public' }], hostnames: ['shop.example.com'] },
    }),
    kinds: ['HTTPRoute'],
    weight: (name) => httpRouteWeight(name, name),
  },
  {
    label: 'istio',
    traffic: (name) => ({ router: 'istio', istio: { virtualService: `${name}-vs` } }),
    kinds: ['VirtualService'],
    prepare: async (name) => {
      await client.create({
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: `${name}-vs`, namespace: ns.name },
        spec: { hosts: [name], http: [{ route: [{ destination: { host: `${name}-stable` } }] }] },
      } as KubernetesObject);
    },
    weight: (name) => (objects) => {
      const vs = objects.get(`VirtualService/${name}-vs`) as
        { spec?: { http?: { route?: { destination?: { host?: string }; weight?: number }[] }[] } } | undefined;
      const route = vs?.spec?.http?.[0]?.route;
      const weightOf = (host: string) => {
        const found = route?.find((d) => d.destination?.host === host);
        return found ? (found.weight ?? 100) : undefined;
      };
      return percent(weightOf(`${name}-stable`), weightOf(`${name}-canary`));
    },
  },
  {
    label: 'nginx',
    traffic: (name) => ({ router: 'nginx', nginx: { ingress: `${name}-ing` } }),
    kinds: ['Ingress'],
    prepare: async (name) => {
      await client.create({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: `${name}-ing`, namespace: ns.name },
        spec: {
          ingressClassName: 'nginx',
          rules: [
            {
              host: 'shop.example.com',
              http: {
                paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 80 } } } }],
              },
            },
          ],
        },
      } as KubernetesObject);
    },
    weight: (name) => (objects) => {
      const canary = objects.get(`Ingress/${name}-ing-${name}-canary`);
      return canary ? Number(canary.metadata?.annotations?.['nginx.ingress.kubernetes.io/canary-weight']) : 0;
    },
  },
];

const canaryReplicaSets = async (name: string) =>
  (
    await client.list<V1ReplicaSet>('apps/v1', 'ReplicaSet', ns.name, {
      labelSelector: `msop.dev/microservice=${name},msop.dev/track=canary`,
    })
  ).items;

test.each(cases.map((c, i) => [c.label, c, i] as const))(
  'a full canary release with the %s router',
  async (_label, routerCase, index) => {
    const name = `shop${index}`;
    const weighted = routerCase.label !== 'replicas';
    await routerCase.prepare?.(name);
    await client.create(
      microservice(ns.name, name, {
        image: 'ghcr.io/example/shop:1.0.0',
        replicas: REPLICAS,
        release: { strategy: 'Canary', canary: { steps, traffic: routerCase.traffic(name) } },
      }),
    );
    const before = await waitReady(ns.name, name);
    const readWeight = routerCase.weight?.(name);
    const recorder = new ReleaseRecorder(ns.name, name, routerCase.kinds, readWeight);
    await recorder.start();
    const routeWeight = async () => {
      if (!readWeight) return undefined;
      const objects = new Map<string, KubernetesObject>();
      for (const kind of routerCase.kinds) {
        const api = {
          HTTPRoute: 'gateway.networking.k8s.io/v1',
          VirtualService: 'networking.istio.io/v1',
          Ingress: 'networking.k8s.io/v1',
        }[kind];
        for (const item of (await client.list(api, kind, ns.name)).items)
          objects.set(`${kind}/${item.metadata?.name}`, item);
      }
      return readWeight(objects);
    };

    const writesBefore = ns.operator.client.writes.length;
    const started = Date.now();
    await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
      spec: { image: 'ghcr.io/example/shop:2.0.0' },
    });

    for (const [step, weight, canaryPods] of [
      [1, 25, 1],
      [3, 50, 2],
    ] as const) {
      const ms = await eventually(
        async () => {
          const found = await getMicroservice(ns.name, name);
          return found.status?.canaryRevision && found.status.currentStep === step ? found : undefined;
        },
        { message: `step ${step} of ${name} to complete` },
      );
      const [canary] = await canaryReplicaSets(name);
      expect(canary?.spec?.replicas).toBe(canaryPods);
      expect(canary?.status?.readyReplicas).toBe(canaryPods);
      const deployment = await client.get<V1Deployment>('apps/v1', 'Deployment', ns.name, name);
      expect(deployment.spec?.replicas).toBe(weighted ? REPLICAS : REPLICAS - canaryPods);
      expect(deployment.spec?.template.metadata?.labels?.['msop.dev/revision']).toBe(before.status?.stableRevision);
      expect(ms.status).toMatchObject({
        phase: 'Progressing',
        desiredWeight: weight,
        canaryWeight: weight,
        stableRevision: before.status?.stableRevision,
      });
      if (weighted) expect(await routeWeight()).toBe(weight);
    }

    const after = await eventually(
      async () => {
        const ms = await waitReady(ns.name, name);
        return ms.status?.stableRevision !== before.status?.stableRevision ? ms : undefined;
      },
      { message: `${name} to be promoted` },
    );
    const elapsed = Date.now() - started;
    expect(after.status?.canaryRevision).toBeUndefined();
    expect(after.status?.canaryWeight).toBeUndefined();
    expect(
      await eventually(async () => (await canaryReplicaSets(name)).length === 0, {
        message: 'the canary ReplicaSet to be deleted',
      }),
    ).toBe(true);
    const deployment = await client.get<V1Deployment>('apps/v1', 'Deployment', ns.name, name);
    expect(deployment.spec?.replicas).toBe(REPLICAS);
    expect(deployment.spec?.template.spec?.containers[0]?.image).toBe('ghcr.io/example/shop:2.0.0');
    if (weighted) expect(await routeWeight()).toBe(0);
    if (routerCase.label === 'nginx')
      expect(
        await getOrUndefined('networking.k8s.io/v1', 'Ingress', ns.name, `${name}-ing-${name}-canary`),
      ).toBeUndefined();
    if (routerCase.label.includes('named')) {
      const route = await client.get<
        KubernetesObject & { spec: { parentRefs: unknown; rules: { matches: unknown }[] } }
      >('gateway.networking.k8s.io/v1', 'HTTPRoute', ns.name, `${name}-route`);
      expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public' }]);
      expect(route.spec.rules[0]?.matches).toEqual([{ path: { type: 'PathPrefix', value: '/' } }]);
    }

    await recorder.stop();
    expect(recorder.violations()).toEqual([]);
    const weights = recorder.weights();
    expect(inOrder(weights, [0, 25, 50])).toBe(true);
    // A weighted route goes back to 0 once the stable Service serves the new revision; under the replicas
    // router the weight is the new revision's share of ready pods, all of them once the old pods are gone.
    if (weighted) expect(weights).toEqual([0, 25, 50, 100, 0]);
    else {
      expect(weights).toEqual([...weights].sort((a, b) => a - b));
      expect(weights[weights.length - 1]).toBe(100);
    }
    const writes = ns.operator.client.writes.slice(writesBefore);
    console.log(
      `${routerCase.label}: a 4-step canary took ${elapsed} ms and ${writes.length} API writes (${writes.filter((w) => w.includes('Event')).length} of them Events)`,
    );
  },
);

/** A person's edit of the route mid-release: all traffic back to stable, by hand. */
const tamper: Record<string, (name: string) => Promise<unknown>> = {
  HTTPRoute: async (routeName) => {
    const route = await client.get<KubernetesObject & { spec: { rules: { backendRefs?: Ref[] }[] } }>(
      'gateway.networking.k8s.io/v1',
      'HTTPRoute',
      ns.name,
      routeName,
    );
    const rules = route.spec.rules.map((rule) => ({
      ...rule,
      backendRefs: rule.backendRefs?.map((ref) => ({ ...ref, weight: ref.name?.endsWith('-canary') ? 0 : 100 })),
    }));
    return client.jsonPatch('gateway.networking.k8s.io/v1', 'HTTPRoute', ns.name, routeName, [
      { op: 'replace', path: '/spec/rules', value: rules },
    ]);
  },
  VirtualService: async (vsName) => {
    type Route = { destination?: { host?: string }; weight?: number };
    const vs = await client.get<KubernetesObject & { spec: { http: { route: Route[] }[] } }>(
      'networking.istio.io/v1',
      'VirtualService',
      ns.name,
      vsName,
    );
    const http = vs.spec.http.map((h) => ({
      ...h,
      route: h.route.map((r) => ({ ...r, weight: r.destination?.host?.endsWith('-canary') ? 0 : 100 })),
    }));
    return client.jsonPatch('networking.istio.io/v1', 'VirtualService', ns.name, vsName, [
      { op: 'replace', path: '/spec/http', value: http },
    ]);
  },
  Ingress: (canaryIngress) =>
    client.mergePatch('networking.k8s.io/v1', 'Ingress', ns.name, canaryIngress, {
      metadata: { annotations: { 'nginx.ingress.kubernetes.io/canary-weight': '0' } },
    }),
};

test.each(cases.filter((c) => c.label !== 'replicas').map((c, i) => [c.label, c, i] as const))(
  'a hand edit of the weights with the %s router is put right within seconds, long before a resync',
  async (_label, routerCase, index) => {
    const name = `edit${index}`;
    await routerCase.prepare?.(name);
    await client.create(
      microservice(ns.name, name, {
        image: 'ghcr.io/example/shop:1.0.0',
        replicas: 2,
        release: {
          strategy: 'Canary',
          canary: { steps: [{ setWeight: 30 }, { pause: {} }], traffic: routerCase.traffic(name) },
          // No Prometheus answers: the step waits at 30% for a passing check, the next one an hour away.
          analysis: {
            interval: '1h',
            inconclusiveLimit: 100,
            prometheus: { address: 'http://127.0.0.1:1', timeout: '1s' },
            metrics: [{ name: 'rate', template: 'request-success-rate', thresholdRange: { min: 99 } }],
          },
        },
      }),
    );
    await waitReady(ns.name, name);
    const kind = routerCase.kinds[0]!;
    const api = {
      HTTPRoute: 'gateway.networking.k8s.io/v1',
      VirtualService: 'networking.istio.io/v1',
      Ingress: 'networking.k8s.io/v1',
    }[kind];
    const readWeight = routerCase.weight!(name);
    const routeWeight = async () => {
      const objects = new Map<string, KubernetesObject>();
      for (const item of (await client.list(api, kind, ns.name)).items)
        objects.set(`${kind}/${item.metadata?.name}`, item);
      return readWeight(objects);
    };
    await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, {
      spec: { image: 'ghcr.io/example/shop:2.0.0' },
    });
    await eventually(
      async () =>
        /waiting for a passing analysis check/.test((await getMicroservice(ns.name, name)).status?.message ?? ''),
      { message: `${name} waiting at 30% for a passing check` },
    );
    expect(await routeWeight()).toBe(30);

    const routeName = {
      HTTPRoute: routerCase.label.includes('named') ? `${name}-route` : name,
      VirtualService: `${name}-vs`,
      Ingress: `${name}-ing-${name}-canary`,
    }[kind];
    const editedAt = Date.now();
    await tamper[kind]!(routeName);
    await eventually(async () => (await routeWeight()) === 30, {
      message: `msop to put the ${kind} back at 30%`,
      timeoutMs: 5_000,
      intervalMs: 100,
    });
    console.log(`${routerCase.label}: a hand edit of the route was put right in ${Date.now() - editedAt} ms`);
  },
);
