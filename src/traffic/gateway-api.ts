// Gateway API: weights on the backendRefs of an HTTPRoute. Either the user's
// route (only the weights and the canary backendRef are msop's), or a route
// msop generates from parentRefs and owns whole.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Microservice } from '../api/types';
import type { KubeClient } from '../kube/client';
import { isNotFound, TerminalError } from '../kube/errors';
import { childMetadata, isControlledBy, notOwnedMessage } from '../render/ownership';
import { primaryPort, trafficOf } from '../render/defaults';
import { type BackendList, type BackendShape, readCanaryPercent, type Targets, weightPatch } from './backend-weights';
import { canaryServiceName, stableServiceName, type TrafficRouter } from './router';

const API_VERSION = 'gateway.networking.k8s.io/v1';

interface BackendRef {
  name?: string;
  kind?: string;
  group?: string;
  port?: number;
  weight?: number;
}

export interface HTTPRoute extends KubernetesObject {
  spec?: { parentRefs?: unknown[]; hostnames?: string[]; rules?: { backendRefs?: BackendRef[] }[] };
}

const isServiceRef = (ref: BackendRef) => (ref.kind ?? 'Service') === 'Service' && (ref.group ?? '') === '';

export const backendRefShape: BackendShape = {
  targetOf: (b) => (isServiceRef(b as BackendRef) ? (b as BackendRef).name : undefined),
  // Gateway API: an unset weight is 1.
  weightOf: (b) => (b as BackendRef).weight ?? 1,
  targetPointer: '/name',
  canaryLike: (stable, target, weight) => ({ ...(stable as BackendRef), name: target, weight }),
};

export function backendLists(route: HTTPRoute): BackendList[] {
  return (route.spec?.rules ?? []).map((rule, i) => ({
    path: `/spec/rules/${i}/backendRefs`,
    backends: rule.backendRefs ?? [],
  }));
}

/** True when msop generates the HTTPRoute `<name>` itself (gatewayAPI.parentRefs rather than a named route). */
export function isGeneratedRoute(microservice: Microservice): boolean {
  const traffic = trafficOf(microservice.spec);
  return traffic?.router === 'gatewayAPI' && traffic.gatewayAPI?.httpRoute === undefined;
}

/** The HTTPRoute `<name>` msop generates from gatewayAPI.parentRefs. */
export function renderHTTPRoute(microservice: Microservice, weight: number): HTTPRoute {
  const gateway = trafficOf(microservice.spec)?.gatewayAPI ?? {};
  const port = primaryPort(microservice.spec);
  const servicePort = port.servicePort ?? port.containerPort;
  return {
    apiVersion: API_VERSION,
    kind: 'HTTPRoute',
    metadata: childMetadata(microservice, microservice.metadata.name!),
    spec: {
      parentRefs: gateway.parentRefs,
      ...(gateway.hostnames?.length ? { hostnames: gateway.hostnames } : {}),
      rules: [
        {
          backendRefs: [
            { name: stableServiceName(microservice), port: servicePort, weight: 100 - weight },
            { name: canaryServiceName(microservice), port: servicePort, weight },
          ],
        },
      ],
    },
  };
}

export class GatewayAPIRouter implements TrafficRouter {
  constructor(private readonly client: KubeClient) {}

  /** A generated route is msop's whole: rendered for the weight, and put right on every reconcile. */
  async reconcile(microservice: Microservice, weight: number): Promise<KubernetesObject[]> {
    if (!isGeneratedRoute(microservice)) return [];
    await this.route(microservice);
    return [renderHTTPRoute(microservice, weight)];
  }

  async readWeight(microservice: Microservice): Promise<number | undefined> {
    const route = await this.route(microservice);
    if (!route) return undefined;
    const percent = readCanaryPercent(backendLists(route), backendRefShape, serviceTargets(microservice));
    if (percent === undefined) {
      throw new TerminalError(
        'RouteNotUsable',
        `HTTPRoute ${microservice.metadata.namespace}/${route.metadata?.name} has no rule with a backendRef to the Service ${stableServiceName(microservice)}; point its rules at ${stableServiceName(microservice)}`,
      );
    }
    return percent;
  }

  async setWeight(microservice: Microservice, weight: number): Promise<void> {
    const { namespace = '' } = microservice.metadata;
    const named = trafficOf(microservice.spec)?.gatewayAPI?.httpRoute;
    // A generated route took its weight in reconcile.
    if (!named) return;
    const route = await this.route(microservice);
    const operations = weightPatch(backendLists(route!), backendRefShape, serviceTargets(microservice), weight);
    await this.client.jsonPatch(API_VERSION, 'HTTPRoute', namespace, named, operations);
  }

  /** The weights went back to the stable Service with the last route write; nothing else was added. */
  finalize(): Promise<void> {
    return Promise.resolve();
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

/** backendRefs name Services in the route's namespace. */
export function serviceTargets(microservice: Microservice): Targets {
  return {
    isStable: (target) => target === stableServiceName(microservice),
    isCanary: (target) => target === canaryServiceName(microservice),
    canaryFor: () => canaryServiceName(microservice),
  };
}
