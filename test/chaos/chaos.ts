// The shared parts of the chaos suite: a seeded random source that prints its seed, the release
// scenarios (a canary under each router, a canary judged by an analysis webhook, a blue-green release),
// the end state each must reach, the orphan check, and the figures.
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Microservice, MicroserviceSpec } from '../../src/api/types';
import type { RandomSource } from '../../src/kube/backoff';
import { client, eventually, getMicroservice, microservice, waitReady } from '../cluster/harness';
import type { ReleaseRecorder, WeightReader } from '../cluster/release-recorder';
import { seededRandom } from '../seeded-random';

/**
 * The seed of this run: MSOP_CHAOS_SEED replays one; printed with the command that replays it (the
 * settings that shape the schedule, such as MSOP_CHAOS_KILLS, go in `settings`).
 */
export function chaosRandom(file: string, settings: string): { seed: number; random: RandomSource } {
  const seed = process.env.MSOP_CHAOS_SEED ? Number(process.env.MSOP_CHAOS_SEED) : (Date.now() % 2 ** 31) >>> 0;
  if (!Number.isInteger(seed))
    throw new Error(`MSOP_CHAOS_SEED must be an integer, got ${process.env.MSOP_CHAOS_SEED}`);
  console.log(`${file}: chaos seed ${seed} (replay: MSOP_CHAOS_SEED=${seed} ${settings} hack/test-chaos.sh ${file})`);
  return { seed, random: seededRandom(seed) };
}

/** The short form (make test) or the full run (npm run test:chaos). */
export const SHORT = process.env.MSOP_CHAOS_SHORT === '1';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A webhook receiver in the test process: answers 500 when the payload's metadata says verdict=fail. */
export class WebhookReceiver {
  url = '';
  /** While true, requests are held open and never answered (a hanging webhook). */
  hang = false;
  calls = 0;
  private server?: Server;
  private readonly held: ServerResponse[] = [];

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        this.calls += 1;
        if (this.hang) {
          this.held.push(res);
          return;
        }
        const body = JSON.parse(raw || '{}') as { metadata?: Record<string, string> };
        const fail = body.metadata?.verdict === 'fail';
        res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain' });
        res.end(fail ? 'the canary is bad' : 'ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.held.splice(0)) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

type RouteKind = 'HTTPRoute' | 'VirtualService' | 'Ingress';
type Ref = { name?: string; weight?: number };
const ROUTE_API: Record<RouteKind, string> = {
  HTTPRoute: 'gateway.networking.k8s.io/v1',
  VirtualService: 'networking.istio.io/v1',
  Ingress: 'networking.k8s.io/v1',
};

function percent(stable: number | undefined, canary: number | undefined): number | undefined {
  if (stable === undefined) return undefined;
  const c = canary ?? 0;
  return stable + c === 0 ? 0 : Math.round((100 * c) / (stable + c));
}

export interface Scenario {
  label: string;
  name: string;
  /** The route kinds the recorder watches besides the Microservice, Deployment and ReplicaSets. */
  kinds: ('HTTPRoute' | 'VirtualService' | 'Ingress' | 'Service' | 'EndpointSlice')[];
  blueGreen: boolean;
  spec: (hook: string) => MicroserviceSpec;
  /** The route objects a user would have made before, in the namespace given. */
  prepare?: (namespace: string) => Promise<void>;
  weight?: WeightReader;
  /** What release `index` changes besides the image; `bad` releases must end rolled back. */
  release: (index: number, hook: string) => { bad: boolean; spec: Partial<MicroserviceSpec> };
}

const steps = [
  { setWeight: 25 },
  { pause: { duration: '1s' } },
  { setWeight: 50 },
  { pause: { duration: '1s' } },
  { setWeight: 75 },
  { pause: { duration: '1s' } },
];
const base = (release: MicroserviceSpec['release']): MicroserviceSpec => ({
  image: 'ghcr.io/example/app:1.0.0',
  replicas: 4,
  release,
});
const imageOnly = () => ({ bad: false, spec: {} });

/** An analysis judged by one rollout webhook; `verdict: fail` in its metadata makes the receiver fail it. */
export const webhookAnalysis = (hook: string, verdict: 'pass' | 'fail', extra: Record<string, unknown> = {}) => ({
  interval: '1s',
  startDelay: '0s',
  failureLimit: 2,
  inconclusiveLimit: 3,
  webhooks: [{ name: 'judge', type: 'rollout', url: `${hook}/judge`, timeoutSeconds: 2, metadata: { verdict } }],
  ...extra,
});

export function scenarios(): Scenario[] {
  return [
    {
      label: 'canary, replicas router',
      name: 'replicas',
      kinds: [],
      blueGreen: false,
      spec: () => base({ strategy: 'Canary', canary: { steps, traffic: { router: 'replicas' } } }),
      release: imageOnly,
    },
    {
      label: 'canary, gatewayAPI router',
      name: 'gateway',
      kinds: ['HTTPRoute'],
      blueGreen: false,
      spec: () =>
        base({
          strategy: 'Canary',
          canary: { steps, traffic: { router: 'gatewayAPI', gatewayAPI: { httpRoute: 'gateway-route' } } },
        }),
      prepare: async (ns) => {
        await client.create({
          apiVersion: ROUTE_API.HTTPRoute,
          kind: 'HTTPRoute',
          metadata: { name: 'gateway-route', namespace: ns },
          spec: { parentRefs: [{ name: 'public' }], rules: [{ backendRefs: [{ name: 'gateway-stable', port: 80 }] }] },
        } as KubernetesObject);
      },
      weight: (objects) => {
        const route = objects.get('HTTPRoute/gateway-route') as
          { spec?: { rules?: { backendRefs?: Ref[] }[] } } | undefined;
        const refs = route?.spec?.rules?.[0]?.backendRefs;
        const weightOf = (n: string) => {
          const ref = refs?.find((r) => r.name === n);
          return ref ? (ref.weight ?? 1) : undefined;
        };
        return percent(weightOf('gateway-stable'), weightOf('gateway-canary'));
      },
      release: imageOnly,
    },
    {
      label: 'canary, istio router',
      name: 'istio',
      kinds: ['VirtualService'],
      blueGreen: false,
      spec: () =>
        base({
          strategy: 'Canary',
          canary: { steps, traffic: { router: 'istio', istio: { virtualService: 'istio-vs' } } },
        }),
      prepare: async (ns) => {
        await client.create({
          apiVersion: ROUTE_API.VirtualService,
          kind: 'VirtualService',
          metadata: { name: 'istio-vs', namespace: ns },
          spec: { hosts: ['istio'], http: [{ route: [{ destination: { host: 'istio-stable' } }] }] },
        } as KubernetesObject);
      },
      weight: (objects) => {
        const vs = objects.get('VirtualService/istio-vs') as
          { spec?: { http?: { route?: { destination?: { host?: string }; weight?: number }[] }[] } } | undefined;
        const route = vs?.spec?.http?.[0]?.route;
        const weightOf = (host: string) => {
          const found = route?.find((d) => d.destination?.host === host);
          return found ? (found.weight ?? 100) : undefined;
        };
        return percent(weightOf('istio-stable'), weightOf('istio-canary'));
      },
      release: imageOnly,
    },
    {
      label: 'canary, nginx router',
      name: 'nginx',
      kinds: ['Ingress'],
      blueGreen: false,
      spec: () =>
        base({ strategy: 'Canary', canary: { steps, traffic: { router: 'nginx', nginx: { ingress: 'nginx-ing' } } } }),
      prepare: async (ns) => {
        await client.create({
          apiVersion: ROUTE_API.Ingress,
          kind: 'Ingress',
          metadata: { name: 'nginx-ing', namespace: ns },
          spec: {
            ingressClassName: 'nginx',
            rules: [
              {
                host: 'shop.example.com',
                http: {
                  paths: [
                    { path: '/', pathType: 'Prefix', backend: { service: { name: 'nginx', port: { number: 80 } } } },
                  ],
                },
              },
            ],
          },
        } as KubernetesObject);
      },
      weight: (objects) => {
        const canary = objects.get('Ingress/nginx-ing-nginx-canary');
        return canary ? Number(canary.metadata?.annotations?.['nginx.ingress.kubernetes.io/canary-weight']) : 0;
      },
      release: imageOnly,
    },
    {
      // Every second release, the first included, is judged bad by the webhook and must end rolled back.
      label: 'canary with analysis (a rollout webhook)',
      name: 'analysis',
      kinds: [],
      blueGreen: false,
      spec: (hook) =>
        base({
          strategy: 'Canary',
          canary: { steps, traffic: { router: 'replicas' } },
          analysis: webhookAnalysis(hook, 'pass'),
        } as MicroserviceSpec['release']),
      release: (index, hook) => {
        const bad = index % 2 === 0;
        return {
          bad,
          spec: {
            release: {
              strategy: 'Canary',
              canary: { steps, traffic: { router: 'replicas' } },
              analysis: webhookAnalysis(hook, bad ? 'fail' : 'pass'),
            } as MicroserviceSpec['release'],
          },
        };
      },
    },
    {
      label: 'blue-green',
      name: 'bluegreen',
      kinds: ['Service', 'EndpointSlice'],
      blueGreen: true,
      spec: () =>
        base({
          strategy: 'BlueGreen',
          blueGreen: { autoPromotionSeconds: 1, scaleDownDelaySeconds: 1, abortScaleDownDelaySeconds: 1 },
        }),
      release: imageOnly,
    },
  ];
}

export async function createScenario(namespace: string, scenario: Scenario, hook: string): Promise<Microservice> {
  await scenario.prepare?.(namespace);
  await client.create(microservice(namespace, scenario.name, scenario.spec(hook)));
  return waitReady(namespace, scenario.name, 60_000);
}

/** Promoted: Ready at the new generation on the new image. Rolled back: RolledBack, the stable untouched. */
export function converged(ms: Microservice, before: Microservice, image: string, bad: boolean): boolean {
  const generation = ms.status?.observedGeneration === ms.metadata.generation;
  if (bad)
    return (
      generation &&
      ms.status?.phase === 'RolledBack' &&
      ms.status.stableRevision === before.status?.stableRevision &&
      ms.status.failedRevision !== undefined
    );
  return (
    generation &&
    ms.status?.phase === 'Ready' &&
    ms.status.stableRevision !== before.status?.stableRevision &&
    ms.spec.image === image
  );
}

const OWNED_KINDS: [string, string][] = [
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'ReplicaSet'],
  ['v1', 'Service'],
  ['policy/v1', 'PodDisruptionBudget'],
  ['autoscaling/v2', 'HorizontalPodAutoscaler'],
  ['networking.k8s.io/v1', 'Ingress'],
  ['gateway.networking.k8s.io/v1', 'HTTPRoute'],
  ['networking.istio.io/v1', 'VirtualService'],
];

/**
 * What msop made for one Microservice, as `Kind/name` lines, plus one line per traffic rule of the route
 * objects (backends with a share of traffic). An object counts as msop's when it carries the
 * `msop.dev/microservice` label or an ownerReference to the Microservice; ReplicaSets the Deployment
 * controller made for the stable Deployment are not msop's.
 */
export async function footprint(namespace: string, name: string): Promise<string[]> {
  const ms = await getMicroservice(namespace, name);
  const lines: string[] = [];
  for (const [apiVersion, kind] of OWNED_KINDS) {
    for (const item of (await client.list(apiVersion, kind, namespace)).items) {
      const owners = item.metadata?.ownerReferences ?? [];
      const byDeployment = owners.some((o) => o.kind === 'Deployment');
      const ours =
        item.metadata?.labels?.['msop.dev/microservice'] === name || owners.some((o) => o.uid === ms.metadata.uid);
      if (ours && !byDeployment) lines.push(`${kind}/${item.metadata?.name}`);
      const traffic = ms.spec.release?.canary?.traffic;
      const named = [traffic?.gatewayAPI?.httpRoute, traffic?.istio?.virtualService].includes(item.metadata?.name);
      if ((kind === 'HTTPRoute' || kind === 'VirtualService') && (ours || named)) {
        for (const rule of routeRules(kind, item)) lines.push(`${kind}/${item.metadata?.name} routes to ${rule}`);
      }
    }
  }
  return lines.sort();
}

/**
 * The backends of each rule of a route that carry traffic, with their share in percent: a lone backend
 * with no weight and one with weight 100 are the same route.
 */
function routeRules(kind: string, route: KubernetesObject): string[] {
  const spec = (route as { spec?: Record<string, unknown> }).spec ?? {};
  const rules =
    kind === 'HTTPRoute'
      ? ((spec.rules ?? []) as { backendRefs?: Ref[] }[]).map((r) =>
          (r.backendRefs ?? []).map((b) => ({ to: b.name, weight: b.weight ?? 1 })),
        )
      : ((spec.http ?? []) as { route?: { destination?: { host?: string }; weight?: number }[] }[]).map((h) =>
          (h.route ?? []).map((d) => ({ to: d.destination?.host, weight: d.weight ?? 100 })),
        );
  return rules.flatMap((backends, i) => {
    const total = backends.reduce((sum, b) => sum + b.weight, 0);
    return backends
      .filter((b) => b.weight > 0)
      .map((b) => `rule ${i}: ${b.to} ${Math.round((100 * b.weight) / total)}%`);
  });
}

/**
 * Orphans: what msop made that should not exist in the end state. The end state of a release is the same
 * spec at rest, so the footprint after the release must equal the footprint before it (taken when the
 * Microservice was Ready): anything extra (a canary, baseline or preview ReplicaSet, a Service, a canary
 * Ingress, a route rule that still sends traffic to the canary) is an orphan; anything missing is reported
 * too. Polled for a while: deletions of scaled-down ReplicaSets lag the status by a moment.
 */
export async function orphans(
  namespace: string,
  name: string,
  atRest: string[],
  timeoutMs = 20_000,
): Promise<string[]> {
  let diff: string[] = [];
  try {
    await eventually(
      async () => {
        const now = await footprint(namespace, name);
        diff = [
          ...now.filter((l) => !atRest.includes(l)).map((l) => `orphan: ${l}`),
          ...atRest.filter((l) => !now.includes(l)).map((l) => `missing: ${l}`),
        ];
        return diff.length === 0;
      },
      { timeoutMs, intervalMs: 250, message: 'the footprint at rest' },
    );
  } catch {
    // The diff of the last look is the answer.
  }
  return diff;
}

export interface RunResult {
  scenario: string;
  release: number;
  bad: boolean;
  kills: number;
  converged: boolean;
  /** From the spec change to the end state. */
  convergeMs: number;
  /** From the last restart of the operator to the end state. */
  afterLastKillMs: number;
  problems: string[];
}

export function violationsOf(recorder: ReleaseRecorder, blueGreen: boolean): string[] {
  return blueGreen ? [...recorder.violations(), ...recorder.blueGreenViolations()] : recorder.violations();
}

export async function deploymentImage(namespace: string, name: string): Promise<string | undefined> {
  return (await client.get<V1Deployment>('apps/v1', 'Deployment', namespace, name)).spec?.template.spec?.containers[0]
    ?.image;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The figures of a chaos file, one line each, for the log and the report. */
export function figures(title: string, seed: number, results: RunResult[]): string {
  const ok = results.filter((r) => r.converged && r.problems.length === 0);
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const converge = results.filter((r) => r.converged).map((r) => r.convergeMs);
  const after = results.filter((r) => r.converged).map((r) => r.afterLastKillMs);
  const lines = [
    `${title} (seed ${seed}): ${ok.length} of ${results.length} releases converged with every invariant held, ` +
      `${results.reduce((n, r) => n + r.kills, 0)} SIGKILLs`,
    `  time to converge from the spec change: median ${seconds(median(converge))}, max ${seconds(Math.max(...converge))}`,
    `  time to converge from the last restart: median ${seconds(median(after))}, max ${seconds(Math.max(...after))}`,
    ...results.map(
      (r) =>
        `  ${r.converged && r.problems.length === 0 ? 'ok  ' : 'FAIL'} ${r.scenario} #${r.release}${r.bad ? ' (bad: rollback)' : ''}: ` +
        `${r.kills} kills, ${seconds(r.convergeMs)}${r.problems.length ? `; ${r.problems.join('; ')}` : ''}`,
    ),
  ];
  return lines.join('\n');
}
