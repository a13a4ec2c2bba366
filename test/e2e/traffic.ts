// The traffic driver: a steady request rate at one Microservice, routed the way
// the data plane msop configured would route it, to the simulated apps of the pod
// mirror (pods.ts). Loopback only, bounded in count and time.
//
// - router `replicas`: the apex Service `<name>`. A request goes to a ready pod the
//   Service selects, uniformly: the canary's share is its share of ready pods.
// - router `gatewayAPI`: the rule of the HTTPRoute a gateway would apply to the
//   request (http-route.ts: the spec's precedence among the rules whose matches match
//   its method, path and headers; ties by rule order). A request picks one of that
//   rule's backend Services with probability weight / sum of weights, then a ready pod
//   that Service selects. The rule's RequestMirror filters copy the request, at their
//   percent, to a ready pod of the mirror Service; the copy's answer is discarded.
//
// Requests have a method (a weighted mix, default all GET) and may come from named
// groups of users that send extra headers (`x-beta: true`, a cookie), so match rules
// and method-specific mirror rules are exercised as a gateway would exercise them.
//
// The route and the Services are read from watches (kept current within
// milliseconds, not polled). Requests that reach no ready pod because of the routing
// state (no ready pod behind the chosen Service, the Service or route missing, all
// weights 0) are counted in noReadyEndpoint and not sent: the zero-downtime measure.
import type { KubernetesObject, V1Service } from '@kubernetes/client-node';
import pino from 'pino';
import { Agent, request } from 'undici';
import type { KubeClient } from '../../src/kube/client';
import { Informer } from '../../src/kube/informer';
import { client as testClient } from '../cluster/harness';
import { type HTTPRouteRequest, type HTTPRouteRule, type Mirror, mirrorsOf, selectRule } from './http-route';
import type { Endpoint, PodMirror } from './pods';

/** What the driver sends: the methods, and groups of users whose requests carry extra headers. */
export interface RequestMix {
  /** Relative weights, e.g. `{ GET: 8, POST: 2 }`. Default `{ GET: 1 }`. */
  methods?: Record<string, number>;
  /** Shares (0 to 1) of the requests from named groups, with their headers; the rest come from `everyone`. */
  groups?: { name: string; share: number; headers: Record<string, string> }[];
  /** Default `/`. */
  path?: string;
}

export type TrafficRouting = { router: 'replicas' } | { router: 'gatewayAPI'; httpRoute: string };

export interface TrafficOptions {
  namespace: string;
  microservice: string;
  mirror: PodMirror;
  /** Default: replicas. */
  routing?: TrafficRouting;
  /** Requests per second. Default 200. */
  ratePerSecond?: number;
  /** The driver stops by itself after this long. Default 120 s. */
  durationMs?: number;
  /** ... or after this many requests. Default ratePerSecond × durationMs / 1000. */
  maxRequests?: number;
  /** Per request. Default 5 s. */
  requestTimeoutMs?: number;
  /** Requests in flight at most; beyond it a request is skipped (counted), so the rate is never queued up. Default 400. */
  maxInFlight?: number;
  /** How long a request waits for a ready pod's simulated app to come up (harness lag, counted). Default 5 s. */
  simAppWaitMs?: number;
  /** Default: every request a plain `GET /`. */
  requests?: RequestMix;
  /** Mirrored copies in flight at most; beyond that a copy is dropped and counted. Default 200. */
  maxMirrorInFlight?: number;
  client?: KubeClient;
}

export interface Tally {
  /** Requests answered, by HTTP status. */
  byStatus: Record<string, number>;
  /** Requests answered. */
  responses: number;
  /** Requests that failed in transport (reset, timeout). */
  errors: number;
  /** Epoch ms of the first request sent, the last, and the first answered 5xx. */
  firstAt?: number;
  lastAt?: number;
  first5xxAt?: number;
}

export interface NoReadyEndpoint {
  /** Epoch ms. */
  at: number;
  /** The backend Service the request was routed to ('' when none could be chosen). */
  backend: string;
  /** Its track: the msop.dev/track its Service selects, else from the name `<name>-<track>`, else the backend name. */
  track: string;
  reason: string;
}

export interface TrafficCounts {
  startedAt: number;
  stoppedAt?: number;
  /** Requests due at the rate: sent + noReadyEndpoint + simAppUnavailable + skipped. */
  planned: number;
  /** Requests sent to a simulated app. */
  sent: number;
  /** By the track label of the pod that answered. */
  byTrack: Record<string, Tally>;
  /** By the image tag of the pod that answered (the simulated version). */
  byTag: Record<string, Tally>;
  /** By the revision label of the pod that answered. */
  byRevision: Record<string, Tally>;
  /** Requests the data plane could not have delivered to a ready pod. Must stay 0 across a release. */
  noReadyEndpoint: number;
  /** The first 50 of them, and the count by track. */
  noReadyEndpointSamples: NoReadyEndpoint[];
  noReadyEndpointByTrack: Record<string, number>;
  /** Requests that waited for a ready pod's simulated app to start: harness lag, not msop's doing. */
  waitedForSimApp: number;
  /** Requests given up while waiting for a ready pod's simulated app (after simAppWaitMs, or the driver stopped). */
  simAppUnavailable: number;
  /** Requests not sent because maxInFlight requests were outstanding (the machine could not keep the rate). */
  skipped: number;
  /** Transport errors and timeouts; samples of their messages. */
  errors: number;
  errorSamples: string[];
  /** By method: requests sent, and copies the route mirrored (whether or not a mirror pod took them). */
  byMethod: Record<string, { sent: number; mirrored: number }>;
  /** Answered requests by group of users (`everyone` without extra headers), then by the track that answered. */
  byGroup: Record<string, Record<string, number>>;
  /** Answered requests by the route rule that took them (its name, or `rules[i]`), then by the track that answered. */
  byRule: Record<string, Record<string, number>>;
  /** The mirrored copies. */
  mirror: MirrorCounts;
}

export interface MirrorCounts {
  /** Sent to a ready pod of the mirror Service. */
  sent: number;
  /** ... and answered (the answer is discarded), by status. */
  byStatus: Record<string, number>;
  /** Transport errors and timeouts of copies. */
  errors: number;
  /** Copies for a mirror Service that does not exist, lacks the port, or has no ready pod: a gateway drops them. */
  noReadyEndpoint: number;
  /** Copies for ready pods whose process had not started yet (harness lag): dropped. */
  notServing: number;
  /** Copies dropped because maxMirrorInFlight were outstanding. */
  skipped: number;
}

export interface TrafficDriver {
  /** A snapshot of the counts so far. */
  counts(): TrafficCounts;
  /** The current canary percentage the driver routes by (gatewayAPI), or the ready-pod share (replicas). */
  canaryPercent(): number | undefined;
  /** Resolves when the driver stopped by itself (duration or count reached) or after stop(). */
  readonly done: Promise<TrafficCounts>;
  /** Stops sending, waits for the requests in flight, and returns the counts. */
  stop(): Promise<TrafficCounts>;
}

interface HTTPRoute extends KubernetesObject {
  spec?: { rules?: HTTPRouteRule[] };
}

/** One request the driver sends: who sends it, and what the gateway sees. */
interface DriverRequest extends HTTPRouteRequest {
  group: string;
}

const PLAIN_GET: DriverRequest = { group: 'everyone', method: 'GET', path: '/', headers: {} };

const LABEL_TRACK = 'msop.dev/track';
const TICK_MS = 10;

const matches = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  selector !== undefined &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels[k] === v);

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;

function tally(map: Record<string, Tally>, key: string): Tally {
  return (map[key] ??= { byStatus: {}, responses: 0, errors: 0 });
}

type Decision =
  | { kind: 'send'; backend: string; track: string; pods: string[]; rule: string; mirrors: Mirror[] }
  | { kind: 'none'; backend: string; track: string; reason: string };

/** A draw from relative weights. */
function drawWeighted<T>(items: { item: T; weight: number }[]): T | undefined {
  const total = items.reduce((sum, i) => sum + i.weight, 0);
  if (total <= 0) return undefined;
  let draw = Math.random() * total;
  return (items.find((i) => (draw -= i.weight) < 0) ?? items[items.length - 1]!).item;
}

/** Starts sending at once; resolves after the route and Services were first listed. */
export async function startTraffic(options: TrafficOptions): Promise<TrafficDriver> {
  const { namespace, microservice: name, mirror } = options;
  const routing = options.routing ?? { router: 'replicas' };
  const rate = options.ratePerSecond ?? 200;
  const durationMs = options.durationMs ?? 120_000;
  const maxRequests = options.maxRequests ?? Math.floor((rate * durationMs) / 1000);
  const requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
  const maxInFlight = options.maxInFlight ?? 400;
  const simAppWaitMs = options.simAppWaitMs ?? 5_000;
  const maxMirrorInFlight = options.maxMirrorInFlight ?? 200;
  const methods = Object.entries(options.requests?.methods ?? { GET: 1 }).map(([item, weight]) => ({ item, weight }));
  const groups = options.requests?.groups ?? [];
  if (groups.reduce((sum, g) => sum + g.share, 0) > 1)
    throw new Error('the shares of the request groups add up to more than 1');
  const path = options.requests?.path ?? '/';
  const kube = options.client ?? testClient;
  const log = pino({ level: process.env.MSOP_TEST_LOG_LEVEL ?? 'silent' });

  const services = new Informer<V1Service>(kube, { apiVersion: 'v1', kind: 'Service', namespace }, log);
  const routes =
    routing.router === 'gatewayAPI'
      ? new Informer<HTTPRoute>(kube, { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', namespace }, log)
      : undefined;
  services.start();
  routes?.start();
  const deadline = Date.now() + 30_000;
  while (!services.hasSynced() || (routes && !routes.hasSynced())) {
    if (Date.now() > deadline) {
      await Promise.all([services.stop(), routes?.stop()]);
      throw new Error(`the traffic driver could not list the Services and HTTPRoutes of ${namespace} within 30 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  /** The track a backend serves: the msop.dev/track its Service selects, else msop's naming `<name>-<track>`. */
  const trackOf = (service: V1Service | undefined, backend: string) =>
    service?.spec?.selector?.[LABEL_TRACK] ??
    (backend.startsWith(`${name}-`) ? backend.slice(name.length + 1) : backend);

  /** The weighted backends of the rule that takes the request, its mirrors, or a reason why there are none. */
  const backends = (
    req: DriverRequest,
  ): { refs: { name: string; weight: number }[]; rule: string; mirrors: Mirror[] } | { reason: string } => {
    if (routing.router === 'replicas') return { refs: [{ name, weight: 1 }], rule: 'Service', mirrors: [] };
    const route = routes!.get(namespace, routing.httpRoute);
    if (!route) return { reason: `HTTPRoute ${routing.httpRoute} does not exist` };
    const selected = selectRule(route.spec?.rules ?? [], req);
    if (!selected)
      return { reason: `no rule of HTTPRoute ${routing.httpRoute} matches ${req.method} ${req.path} (404)` };
    const rule = selected.rule.name ?? `rules[${selected.index}]`;
    const refs = (selected.rule.backendRefs ?? [])
      .filter((r) => (r.kind ?? 'Service') === 'Service' && (r.group ?? '') === '' && r.name)
      .map((r) => ({ name: r.name!, weight: r.weight ?? 1 }));
    if (refs.length === 0) return { reason: `rule ${rule} of HTTPRoute ${routing.httpRoute} has no backendRefs` };
    return { refs, rule, mirrors: mirrorsOf(selected.rule) };
  };

  /** The ready pods a Service selects, if it exists (and serves `port`, when given). */
  const podsOf = (serviceName: string, port?: number): string[] | undefined => {
    const service = services.get(namespace, serviceName);
    if (!service) return undefined;
    if (port !== undefined && !(service.spec?.ports ?? []).some((p) => p.port === port)) return undefined;
    return mirror
      .readyPods()
      .filter((p) => matches(service.spec?.selector, p.labels))
      .map((p) => p.pod);
  };

  const decide = (req: DriverRequest): Decision => {
    const found = backends(req);
    if ('reason' in found) return { kind: 'none', backend: '', track: '', reason: found.reason };
    const ref = drawWeighted(found.refs.map((r) => ({ item: r, weight: r.weight })));
    if (!ref) return { kind: 'none', backend: '', track: '', reason: 'every backend weight is 0' };
    const service = services.get(namespace, ref.name);
    const track = trackOf(service, ref.name);
    if (!service) return { kind: 'none', backend: ref.name, track, reason: `Service ${ref.name} does not exist` };
    const pods = mirror
      .readyPods()
      .filter((p) => matches(service.spec?.selector, p.labels))
      .map((p) => p.pod);
    if (pods.length === 0)
      return { kind: 'none', backend: ref.name, track, reason: `Service ${ref.name} has no ready pod` };
    return { kind: 'send', backend: ref.name, track, pods, rule: found.rule, mirrors: found.mirrors };
  };

  const canaryPercent = (): number | undefined => {
    if (routing.router === 'replicas') {
      const ready = mirror.readyPods();
      return ready.length ? (100 * ready.filter((p) => p.track === 'canary').length) / ready.length : undefined;
    }
    // The split a plain GET / gets.
    const found = backends(PLAIN_GET);
    if ('reason' in found) return undefined;
    const total = found.refs.reduce((sum, r) => sum + r.weight, 0);
    const canary = found.refs
      .filter((r) => trackOf(services.get(namespace, r.name), r.name) === 'canary')
      .reduce((sum, r) => sum + r.weight, 0);
    return total > 0 ? (100 * canary) / total : undefined;
  };

  const counts: TrafficCounts = {
    startedAt: Date.now(),
    planned: 0,
    sent: 0,
    byTrack: {},
    byTag: {},
    byRevision: {},
    noReadyEndpoint: 0,
    noReadyEndpointSamples: [],
    noReadyEndpointByTrack: {},
    waitedForSimApp: 0,
    simAppUnavailable: 0,
    skipped: 0,
    errors: 0,
    errorSamples: [],
    byMethod: {},
    byGroup: {},
    byRule: {},
    mirror: { sent: 0, byStatus: {}, errors: 0, noReadyEndpoint: 0, notServing: 0, skipped: 0 },
  };
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 32 });
  let inFlight = 0;
  let mirrorsInFlight = 0;
  let stopping = false;
  const idle: (() => void)[] = [];
  const settled = () => {
    if (inFlight === 0 && mirrorsInFlight === 0) idle.splice(0).forEach((resolve) => resolve());
  };

  /** The next request: a method from the mix, and a group of users by share. */
  const nextRequest = (): DriverRequest => {
    const method = drawWeighted(methods) ?? 'GET';
    let draw = Math.random();
    const group = groups.find((g) => (draw -= g.share) < 0);
    return { group: group?.name ?? 'everyone', method, path, headers: { ...(group?.headers ?? {}) } };
  };

  /** A copy of the request to a ready pod of the mirror Service, fire and forget: its answer is discarded. */
  const mirrorOne = (req: DriverRequest, target: Mirror) => {
    const m = counts.mirror;
    if (mirrorsInFlight >= maxMirrorInFlight) {
      m.skipped++;
      return;
    }
    const pods = podsOf(target.service, target.port);
    if (!pods || pods.length === 0) {
      m.noReadyEndpoint++;
      return;
    }
    const serving = pods.map((p) => mirror.endpoint(p)).filter((e): e is Endpoint => e !== undefined);
    if (serving.length === 0) {
      m.notServing++;
      return;
    }
    const endpoint = pick(serving);
    m.sent++;
    mirrorsInFlight++;
    request(`${endpoint.url}${req.path}`, {
      dispatcher: agent,
      method: req.method as 'GET',
      headers: req.headers,
      headersTimeout: requestTimeoutMs,
      bodyTimeout: requestTimeoutMs,
    })
      .then(async (response) => {
        await response.body.dump();
        const status = String(response.statusCode);
        m.byStatus[status] = (m.byStatus[status] ?? 0) + 1;
      })
      .catch(() => m.errors++)
      .finally(() => {
        mirrorsInFlight--;
        settled();
      });
  };

  /** A serving endpoint among the chosen pods; waits (bounded) when they are ready but their apps are starting. */
  const endpointFor = async (req: DriverRequest, pods: string[]): Promise<Endpoint | undefined> => {
    const now = pods.map((p) => mirror.endpoint(p)).filter((e): e is Endpoint => e !== undefined);
    if (now.length) return pick(now);
    counts.waitedForSimApp++;
    const until = Date.now() + simAppWaitMs;
    while (Date.now() < until && !stopping) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      // Route again: the pods (or weights) may have changed while waiting.
      const decision = decide(req);
      if (decision.kind !== 'send') break;
      const later = decision.pods.map((p) => mirror.endpoint(p)).filter((e): e is Endpoint => e !== undefined);
      if (later.length) return pick(later);
    }
    counts.simAppUnavailable++;
    return undefined;
  };

  const one = async () => {
    counts.planned++;
    const req = nextRequest();
    const decision = decide(req);
    if (decision.kind === 'none') {
      counts.noReadyEndpoint++;
      counts.noReadyEndpointByTrack[decision.track || '(none)'] =
        (counts.noReadyEndpointByTrack[decision.track || '(none)'] ?? 0) + 1;
      if (counts.noReadyEndpointSamples.length < 50)
        counts.noReadyEndpointSamples.push({
          at: Date.now(),
          backend: decision.backend,
          track: decision.track,
          reason: decision.reason,
        });
      return;
    }
    inFlight++;
    try {
      const endpoint = await endpointFor(req, decision.pods);
      if (!endpoint) return;
      const byMethod = (counts.byMethod[req.method] ??= { sent: 0, mirrored: 0 });
      byMethod.sent++;
      for (const target of decision.mirrors) {
        if (Math.random() >= target.share) continue;
        byMethod.mirrored++;
        mirrorOne(req, target);
      }
      const at = Date.now();
      const tallies = [tally(counts.byTrack, endpoint.track), tally(counts.byTag, endpoint.tag)];
      tallies.push(tally(counts.byRevision, endpoint.revision));
      for (const t of tallies) {
        t.firstAt ??= at;
        t.lastAt = at;
      }
      counts.sent++;
      try {
        const response = await request(`${endpoint.url}${req.path}`, {
          dispatcher: agent,
          method: req.method as 'GET',
          headers: req.headers,
          headersTimeout: requestTimeoutMs,
          bodyTimeout: requestTimeoutMs,
        });
        await response.body.dump();
        const status = String(response.statusCode);
        const group = (counts.byGroup[req.group] ??= {});
        group[endpoint.track] = (group[endpoint.track] ?? 0) + 1;
        const rule = (counts.byRule[decision.rule] ??= {});
        rule[endpoint.track] = (rule[endpoint.track] ?? 0) + 1;
        for (const t of tallies) {
          t.responses++;
          t.byStatus[status] = (t.byStatus[status] ?? 0) + 1;
          if (response.statusCode >= 500) t.first5xxAt ??= Date.now();
        }
      } catch (err) {
        counts.errors++;
        for (const t of tallies) t.errors++;
        if (counts.errorSamples.length < 20) counts.errorSamples.push(`${endpoint.pod}: ${(err as Error).message}`);
      }
    } finally {
      inFlight--;
      settled();
    }
  };

  let issued = 0;
  let resolveDone!: (c: TrafficCounts) => void;
  const done = new Promise<TrafficCounts>((resolve) => (resolveDone = resolve));
  const snapshot = (): TrafficCounts => structuredClone(counts);

  const finish = async () => {
    if (stopping) return done;
    stopping = true;
    clearInterval(ticker);
    if (inFlight > 0 || mirrorsInFlight > 0) await new Promise<void>((resolve) => idle.push(resolve));
    counts.stoppedAt = Date.now();
    await Promise.all([services.stop(), routes?.stop(), agent.close()]);
    resolveDone(snapshot());
    return done;
  };

  const ticker = setInterval(() => {
    const elapsed = Date.now() - counts.startedAt;
    if (elapsed >= durationMs || issued >= maxRequests) {
      void finish();
      return;
    }
    const due = Math.min(maxRequests, Math.floor((elapsed * rate) / 1000));
    while (issued < due) {
      issued++;
      if (inFlight >= maxInFlight) {
        counts.planned++;
        counts.skipped++;
        continue;
      }
      void one();
    }
  }, TICK_MS);

  return { counts: snapshot, canaryPercent, done, stop: finish };
}

/** The share of answered requests with a 5xx status in a tally (NaN without responses). */
export function errorRatio(t: Tally | undefined): number {
  if (!t || t.responses === 0) return NaN;
  const errors = Object.entries(t.byStatus)
    .filter(([status]) => status.startsWith('5'))
    .reduce((sum, [, n]) => sum + n, 0);
  return errors / t.responses;
}
