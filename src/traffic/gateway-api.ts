// Gateway API: weights on the backendRefs of an HTTPRoute. Either the user's
// route (only the weights and the canary backendRef are msop's), or a route
// msop generates from parentRefs and owns whole.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Microservice, RequestMatch } from '../api/types';
import type { JsonPatchOperation, KubeClient } from '../kube/client';
import { isNotFound, TerminalError } from '../kube/errors';
import { childMetadata, isControlledBy, notOwnedMessage } from '../render/ownership';
import { primaryPort, trafficOf } from '../render/defaults';
import { type BackendList, type BackendShape, readCanaryPercent, type Targets } from './backend-weights';
import {
  cookieRegex,
  extraParts,
  extrasKeyOf,
  isManagedRule,
  type ObservedRoute,
  type RouteObject,
  type RouteSpec,
  routeUpdate,
  ruleName,
} from './route';
import { canaryServiceName, stableServiceName, type TrafficRouter } from './router';

const API_VERSION = 'gateway.networking.k8s.io/v1';

interface BackendRef {
  name?: string;
  kind?: string;
  group?: string;
  port?: number;
  weight?: number;
}

interface HeaderMatch {
  type?: string;
  name: string;
  value: string;
}

interface HTTPRouteMatch {
  path?: { type?: string; value?: string };
  headers?: HeaderMatch[];
  method?: string;
  queryParams?: unknown[];
}

export interface HTTPRouteRule {
  name?: string;
  matches?: HTTPRouteMatch[];
  filters?: unknown[];
  backendRefs?: BackendRef[];
  timeouts?: unknown;
}

export interface HTTPRoute extends KubernetesObject {
  spec?: { parentRefs?: unknown[]; hostnames?: string[]; rules?: HTTPRouteRule[] };
}

const isServiceRef = (ref: BackendRef) => (ref.kind ?? 'Service') === 'Service' && (ref.group ?? '') === '';

export const backendRefShape: BackendShape = {
  targetOf: (b) => (isServiceRef(b as BackendRef) ? (b as BackendRef).name : undefined),
  // Gateway API: an unset weight is 1.
  weightOf: (b) => (b as BackendRef).weight ?? 1,
  targetPointer: '/name',
  canaryLike: (stable, target, weight) => ({ ...(stable as BackendRef), name: target, weight }),
};

/** The backend lists of the user's rules (msop's own rules are left out), with their paths once msop's are removed. */
export function backendLists(route: HTTPRoute, microservice?: string): BackendList[] {
  return userRules(route, microservice).map((rule, i) => ({
    path: `/spec/rules/${i}/backendRefs`,
    backends: rule.backendRefs ?? [],
  }));
}

const userRules = (route: HTTPRoute, microservice?: string) =>
  (route.spec?.rules ?? []).filter((rule) => microservice === undefined || !isManagedRule(microservice, rule.name));

// The API server fills these in; msop's rules spell them out, so what it reads back equals what it wrote.
const ALL_PATHS = { type: 'PathPrefix', value: '/' };
const serviceRef = (ref: BackendRef, name: string, weight: number): BackendRef => ({
  ...ref,
  group: '',
  kind: 'Service',
  name,
  weight,
});

function headerMatches(match: RequestMatch): HeaderMatch[] {
  if (match.cookie)
    return [{ type: 'RegularExpression', name: 'Cookie', value: cookieRegex(match.cookie.name, match.cookie.value) }];
  return Object.entries(match.headers ?? {}).map(([name, value]) =>
    value.exact !== undefined
      ? { type: 'Exact', name, value: value.exact }
      : { type: 'RegularExpression', name, value: value.regex ?? '' },
  );
}

/** A match narrowed to each mirrored method; one that names a method of its own keeps it only if it is mirrored. */
function byMethods(match: HTTPRouteMatch, methods: string[]): HTTPRouteMatch[] {
  if (match.method) return methods.includes(match.method) ? [match] : [];
  return methods.map((method) => ({ ...match, method }));
}

/**
 * msop's rules for a route, ahead of the user's: for every user rule that sends to `<name>-stable`,
 * - with match steps, a copy of its matches plus the beta headers (or cookie), sending to `<name>-canary` only;
 * - with a mirror step, a copy of its matches for each mirrored method, at the release's weights, with a
 *   RequestMirror filter to the comparator. Other methods fall through to the user's rule, unmirrored.
 * Gateway API ranks a method match above header matches, so while both exist a beta rule also carries
 * each mirrored method: a beta user's GET still reaches the canary.
 */
export function managedRules(microservice: Microservice, rules: HTTPRouteRule[], route: RouteSpec): HTTPRouteRule[] {
  const name = microservice.metadata.name!;
  const targets = serviceTargets(microservice);
  const hashes = Object.fromEntries(extraParts(route).map(({ part, hash }) => [part, hash]));
  const matchRules: HTTPRouteRule[] = [];
  const mirrorRules: HTTPRouteRule[] = [];
  rules.forEach((rule, index) => {
    const stable = rule.backendRefs?.find((ref) => isServiceRef(ref) && targets.isStable(ref.name ?? ''));
    if (!stable) return;
    const base = (rule.matches?.length ? rule.matches : [{}]).map((m) => ({ path: ALL_PATHS, ...m }));
    const filters = rule.filters?.length ? { filters: rule.filters } : {};
    const mirror = route.mirror;
    if (hashes.match) {
      const beta = base.flatMap((m) =>
        route.matches.map((b) => ({ ...m, headers: [...(m.headers ?? []), ...headerMatches(b)] })),
      );
      matchRules.push({
        name: ruleName(name, 'match', hashes.match, index),
        matches: mirror ? beta.flatMap((m) => [m, ...byMethods(m, mirror.methods)]) : beta,
        ...filters,
        backendRefs: [serviceRef(stable, canaryServiceName(microservice), 1)],
      });
    }
    if (mirror && hashes.mirror) {
      const matches = base.flatMap((m) => byMethods(m, mirror.methods));
      if (matches.length === 0) return;
      mirrorRules.push({
        name: ruleName(name, 'mirror', hashes.mirror, index),
        matches,
        filters: [
          ...(rule.filters ?? []),
          {
            type: 'RequestMirror',
            requestMirror: {
              backendRef: { group: '', kind: 'Service', name: mirror.service, port: mirror.port },
              percent: mirror.percent,
            },
          },
        ],
        backendRefs: [
          serviceRef(stable, stableServiceName(microservice), 100 - route.weight),
          serviceRef(stable, canaryServiceName(microservice), route.weight),
        ],
      });
    }
  });
  return [...matchRules, ...mirrorRules];
}

/** True when msop generates the HTTPRoute `<name>` itself (gatewayAPI.parentRefs rather than a named route). */
export function isGeneratedRoute(microservice: Microservice): boolean {
  const traffic = trafficOf(microservice.spec);
  return traffic?.router === 'gatewayAPI' && traffic.gatewayAPI?.httpRoute === undefined;
}

/** The HTTPRoute `<name>` msop generates from gatewayAPI.parentRefs. */
export function renderHTTPRoute(microservice: Microservice, route: RouteSpec): HTTPRoute {
  const gateway = trafficOf(microservice.spec)?.gatewayAPI ?? {};
  const port = primaryPort(microservice.spec);
  const servicePort = port.servicePort ?? port.containerPort;
  const rule: HTTPRouteRule = {
    backendRefs: [
      { name: stableServiceName(microservice), port: servicePort, weight: 100 - route.weight },
      { name: canaryServiceName(microservice), port: servicePort, weight: route.weight },
    ],
  };
  return {
    apiVersion: API_VERSION,
    kind: 'HTTPRoute',
    metadata: childMetadata(microservice, microservice.metadata.name!),
    spec: {
      parentRefs: gateway.parentRefs,
      ...(gateway.hostnames?.length ? { hostnames: gateway.hostnames } : {}),
      rules: [...managedRules(microservice, [rule], route), rule],
    },
  };
}

export class GatewayAPIRouter implements TrafficRouter {
  constructor(private readonly client: KubeClient) {}

  /** A generated route is msop's whole: rendered for the route, and put right on every reconcile. */
  async reconcile(microservice: Microservice, route: RouteSpec): Promise<KubernetesObject[]> {
    if (!isGeneratedRoute(microservice)) return [];
    await this.route(microservice);
    return [renderHTTPRoute(microservice, route)];
  }

  async readRoute(microservice: Microservice): Promise<ObservedRoute | undefined> {
    const route = await this.route(microservice);
    if (!route) return undefined;
    const name = microservice.metadata.name!;
    const weight = readCanaryPercent(backendLists(route, name), backendRefShape, serviceTargets(microservice));
    if (weight === undefined) {
      throw new TerminalError(
        'RouteNotUsable',
        `HTTPRoute ${microservice.metadata.namespace}/${route.metadata?.name} has no rule with a backendRef to the Service ${stableServiceName(microservice)}; point its rules at ${stableServiceName(microservice)}`,
      );
    }
    return {
      weight,
      extras: extrasKeyOf(
        name,
        (route.spec?.rules ?? []).map((rule) => rule.name),
      ),
    };
  }

  /** Sets the weights and msop's own rules on the user's route; writes nothing when they are already so. */
  async setRoute(microservice: Microservice, desired: RouteSpec): Promise<boolean> {
    const named = trafficOf(microservice.spec)?.gatewayAPI?.httpRoute;
    // A generated route took its weights and rules in reconcile.
    if (!named) return false;
    const route = (await this.route(microservice))!;
    const wanted = managedRules(microservice, userRules(route, microservice.metadata.name), desired);
    return this.patch(route, routeUpdate(routeObject(microservice, route), wanted, desired.weight));
  }

  /**
   * Takes back what msop added: on the user's route its rules and the canary backendRefs (all traffic to
   * the stable Service); a generated route is msop's own, and goes.
   */
  async finalize(microservice: Microservice): Promise<void> {
    const route = await this.route(microservice);
    if (!route) return;
    if (isGeneratedRoute(microservice)) {
      const { namespace = '', name = '' } = microservice.metadata;
      await this.client.delete(API_VERSION, 'HTTPRoute', namespace, name, route.metadata!.uid!);
      return;
    }
    await this.patch(route, routeUpdate(routeObject(microservice, route), []));
  }

  private async patch(route: HTTPRoute, operations: JsonPatchOperation[] | undefined): Promise<boolean> {
    if (!operations) return false;
    const { namespace = '', name = '' } = route.metadata ?? {};
    await this.client.jsonPatch(API_VERSION, 'HTTPRoute', namespace, name, operations);
    return true;
  }

  /** The route, or undefined for a generated one not created yet; a missing named route needs a person. */
  private async route(microservice: Microservice): Promise<HTTPRoute | undefined> {
    const { namespace = '', name = '', uid = '' } = microservice.metadata;
    const named = trafficOf(microservice.spec)?.gatewayAPI?.httpRoute;
    try {
      const route = await this.client.get<HTTPRoute>(API_VERSION, 'HTTPRoute', namespace, named ?? name);
      if (!named && !isControlledBy(route, uid))
        throw new TerminalError('NotOwned', notOwnedMessage('HTTPRoute', namespace, name, name));
      return route;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      if (!named) return undefined;
      throw new TerminalError(
        'RouteNotFound',
        `HTTPRoute ${namespace}/${named} named in spec.release.canary.traffic.gatewayAPI.httpRoute was not found (or the Gateway API CRDs are not installed)`,
      );
    }
  }
}

/** The user's HTTPRoute as routeUpdate reads it. */
export function routeObject(microservice: Microservice, route: HTTPRoute): RouteObject {
  const name = microservice.metadata.name!;
  return {
    listPath: '/spec/rules',
    rules: route.spec?.rules ?? [],
    microservice: name,
    lists: backendLists(route, name),
    shape: backendRefShape,
    targets: serviceTargets(microservice),
  };
}

/** backendRefs name Services in the route's namespace. */
export function serviceTargets(microservice: Microservice): Targets {
  return {
    isStable: (target) => target === stableServiceName(microservice),
    isCanary: (target) => target === canaryServiceName(microservice),
    canaryFor: () => canaryServiceName(microservice),
  };
}
