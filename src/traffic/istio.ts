// Istio: weights on the HTTP route destinations of a VirtualService that sends
// to the host <name>-stable (short or fully qualified). Only the weights and
// the canary destination are msop's.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Microservice, RequestMatch } from '../api/types';
import type { JsonPatchOperation, KubeClient } from '../kube/client';
import { trafficOf } from '../render/defaults';
import { isNotFound, TerminalError } from '../kube/errors';
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

const API_VERSION = 'networking.istio.io/v1';

interface Destination {
  destination?: { host?: string; subset?: string; port?: unknown };
  weight?: number;
}

type StringMatch = { exact?: string; prefix?: string; regex?: string };

interface HTTPMatchRequest {
  headers?: Record<string, StringMatch>;
  method?: StringMatch;
  [field: string]: unknown;
}

export interface HTTPRoute {
  name?: string;
  match?: HTTPMatchRequest[];
  route?: Destination[];
  mirror?: unknown;
  mirrorPercentage?: unknown;
  mirrors?: unknown;
  [field: string]: unknown;
}

export interface VirtualService extends KubernetesObject {
  spec?: { http?: HTTPRoute[] };
}

export const destinationShape: BackendShape = {
  targetOf: (d) => (d as Destination).destination?.host,
  // Istio: a lone destination without a weight takes all traffic.
  weightOf: (d) => (d as Destination).weight ?? 0,
  targetPointer: '/destination/host',
  canaryLike: (stable, target, weight) => {
    const { destination = {} } = stable as Destination;
    return { destination: { ...destination, host: target }, weight };
  },
};

/** The destination lists of the user's HTTP routes (msop's own left out), with their paths once msop's are removed. */
export function destinationLists(virtualService: VirtualService, microservice?: string): BackendList[] {
  return userRoutes(virtualService, microservice).map((route, i) => ({
    path: `/spec/http/${i}/route`,
    backends: route.route ?? [],
  }));
}

const userRoutes = (virtualService: VirtualService, microservice?: string) =>
  (virtualService.spec?.http ?? []).filter(
    (route) => microservice === undefined || !isManagedRule(microservice, route.name),
  );

function headerMatches(match: RequestMatch): Record<string, StringMatch> {
  if (match.cookie) return { cookie: { regex: cookieRegex(match.cookie.name, match.cookie.value) } };
  return Object.fromEntries(
    Object.entries(match.headers ?? {}).map(([name, value]) => [
      name.toLowerCase(),
      value.exact !== undefined ? { exact: value.exact } : { regex: value.regex ?? '' },
    ]),
  );
}

/** A match narrowed to each mirrored method; one that names a method of its own keeps it only if it is mirrored. */
function byMethods(match: HTTPMatchRequest, methods: string[]): HTTPMatchRequest[] {
  if (match.method) return match.method.exact && methods.includes(match.method.exact) ? [match] : [];
  return methods.map((method) => ({ ...match, method: { exact: method } }));
}

/**
 * msop's HTTP routes, ahead of the user's (Istio takes the first route that matches): for every user
 * route that sends to `<name>-stable`, a copy of it for the beta matches sending to `<name>-canary`
 * only, and a copy for the mirrored methods at the release's weights with a mirror to the comparator.
 */
export function managedRoutes(microservice: Microservice, routes: HTTPRoute[], route: RouteSpec): HTTPRoute[] {
  const name = microservice.metadata.name!;
  const targets = hostTargets(microservice);
  const hashes = Object.fromEntries(extraParts(route).map(({ part, hash }) => [part, hash]));
  const matchRoutes: HTTPRoute[] = [];
  const mirrorRoutes: HTTPRoute[] = [];
  routes.forEach((user, index) => {
    const stable = user.route?.find((d) => targets.isStable(destinationShape.targetOf(d) ?? ''));
    if (!stable) return;
    const host = destinationShape.targetOf(stable)!;
    // The user's route without its own mirrors: msop's copies mirror only what a mirror step asks for.
    const rest = { ...user };
    delete rest.mirror;
    delete rest.mirrorPercentage;
    delete rest.mirrors;
    const base = user.match?.length ? user.match : [{}];
    if (hashes.match) {
      matchRoutes.push({
        ...rest,
        name: ruleName(name, 'match', hashes.match, index),
        match: base.flatMap((m) =>
          route.matches.map((b) => ({ ...m, headers: { ...(m.headers ?? {}), ...headerMatches(b) } })),
        ),
        route: [destinationShape.canaryLike(stable, targets.canaryFor(host), 100) as Destination],
      });
    }
    const mirror = route.mirror;
    if (mirror && hashes.mirror) {
      const match = base.flatMap((m) => byMethods(m, mirror.methods));
      if (match.length === 0) return;
      mirrorRoutes.push({
        ...rest,
        name: ruleName(name, 'mirror', hashes.mirror, index),
        match,
        route: [
          destinationShape.canaryLike(stable, host, 100 - route.weight) as Destination,
          destinationShape.canaryLike(stable, targets.canaryFor(host), route.weight) as Destination,
        ],
        mirror: { host: mirror.service, port: { number: mirror.port } },
        mirrorPercentage: { value: mirror.percent },
      });
    }
  });
  return [...matchRoutes, ...mirrorRoutes];
}

/** Hosts are `<svc>` or `<svc>.<namespace>[.svc[.cluster.local]]`; the canary keeps the stable host's form. */
export function hostTargets(microservice: Microservice): Targets {
  const stable = stableServiceName(microservice);
  const canary = canaryServiceName(microservice);
  // Another namespace's Service of the same name, or a host outside the cluster, is not ours.
  const { namespace = '' } = microservice.metadata;
  const named = (service: string) => (host: string) =>
    host === service ||
    host === `${service}.${namespace}` ||
    host === `${service}.${namespace}.svc` ||
    host.startsWith(`${service}.${namespace}.svc.`);
  return { isStable: named(stable), isCanary: named(canary), canaryFor: (host) => canary + host.slice(stable.length) };
}

/** The user's VirtualService as routeUpdate reads it. */
export function routeObject(microservice: Microservice, virtualService: VirtualService): RouteObject {
  const name = microservice.metadata.name!;
  return {
    listPath: '/spec/http',
    rules: virtualService.spec?.http ?? [],
    microservice: name,
    lists: destinationLists(virtualService, name),
    shape: destinationShape,
    targets: hostTargets(microservice),
  };
}

export class IstioRouter implements TrafficRouter {
  constructor(private readonly client: KubeClient) {}

  async readRoute(microservice: Microservice): Promise<ObservedRoute> {
    const virtualService = await this.virtualService(microservice);
    const name = microservice.metadata.name!;
    const weight = readCanaryPercent(
      destinationLists(virtualService, name),
      destinationShape,
      hostTargets(microservice),
    );
    if (weight === undefined) {
      throw new TerminalError(
        'RouteNotUsable',
        `VirtualService ${microservice.metadata.namespace}/${virtualService.metadata?.name} has no HTTP route to the host ${stableServiceName(microservice)}; route it to ${stableServiceName(microservice)}`,
      );
    }
    return {
      weight,
      extras: extrasKeyOf(
        name,
        (virtualService.spec?.http ?? []).map((route) => route.name),
      ),
    };
  }

  /** The user owns the VirtualService; msop owns only its weights, the canary destination and its own routes. */
  reconcile(): Promise<KubernetesObject[]> {
    return Promise.resolve([]);
  }

  /** Takes back what msop added: its routes and the canary destinations, all traffic to the stable host. */
  async finalize(microservice: Microservice): Promise<void> {
    const virtualService = await this.virtualService(microservice);
    await this.patch(virtualService, routeUpdate(routeObject(microservice, virtualService), []));
  }

  async setRoute(microservice: Microservice, desired: RouteSpec): Promise<boolean> {
    const virtualService = await this.virtualService(microservice);
    const wanted = managedRoutes(microservice, userRoutes(virtualService, microservice.metadata.name), desired);
    return this.patch(virtualService, routeUpdate(routeObject(microservice, virtualService), wanted, desired.weight));
  }

  private async patch(virtualService: VirtualService, operations: JsonPatchOperation[] | undefined): Promise<boolean> {
    if (!operations) return false;
    const { namespace = '', name = '' } = virtualService.metadata ?? {};
    await this.client.jsonPatch(API_VERSION, 'VirtualService', namespace, name, operations);
    return true;
  }

  private async virtualService(microservice: Microservice): Promise<VirtualService> {
    const { namespace = '' } = microservice.metadata;
    const name = trafficOf(microservice.spec)?.istio?.virtualService ?? '';
    try {
      return await this.client.get<VirtualService>(API_VERSION, 'VirtualService', namespace, name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      throw new TerminalError(
        'RouteNotFound',
        `VirtualService ${namespace}/${name} named in spec.release.canary.traffic.istio.virtualService was not found (or Istio's CRDs are not installed)`,
      );
    }
  }
}
