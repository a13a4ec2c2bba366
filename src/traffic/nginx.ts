// ingress-nginx: a canary Ingress `<ingress>-<name>-canary` beside the user's Ingress,
// with the same hosts and paths sending to <name>-canary, weighted by the
// canary annotations. msop owns it, and removes it when the weight is 0.
import type { KubernetesObject, V1Ingress, V1IngressRule } from '@kubernetes/client-node';
import type { Microservice, RequestMatch } from '../api/types';
import type { KubeClient } from '../kube/client';
import { trafficOf } from '../render/defaults';
import { isNotFound, TerminalError } from '../kube/errors';
import { childMetadata, isControlledBy, notOwnedMessage } from '../render/ownership';
import { extrasKey, type ObservedRoute, type RouteSpec } from './route';
import { canaryServiceName, stableServiceName, type TrafficRouter } from './router';

const API_VERSION = 'networking.k8s.io/v1';
export const CANARY_ANNOTATION = 'nginx.ingress.kubernetes.io/canary';
export const WEIGHT_ANNOTATION = 'nginx.ingress.kubernetes.io/canary-weight';
const BY_HEADER = 'nginx.ingress.kubernetes.io/canary-by-header';
const BY_HEADER_VALUE = 'nginx.ingress.kubernetes.io/canary-by-header-value';
const BY_HEADER_PATTERN = 'nginx.ingress.kubernetes.io/canary-by-header-pattern';
const BY_COOKIE = 'nginx.ingress.kubernetes.io/canary-by-cookie';
/** What the canary Ingress carries besides the weight, so it can be read back (route.ts extrasKey). */
export const EXTRAS_ANNOTATION = 'msop.dev/route-extras';

/**
 * The canary annotations for match steps. ingress-nginx routes by one header (a value or a pattern)
 * and one cookie, and a cookie only when its value is "always"; anything else needs another router.
 */
export function matchAnnotations(matches: RequestMatch[]): Record<string, string> {
  const headers = matches.filter((m) => m.headers);
  const cookies = matches.filter((m) => m.cookie);
  const entries = headers.flatMap((m) => Object.entries(m.headers!));
  if (entries.length > 1 || cookies.length > 1)
    throw new TerminalError(
      'RouteNotUsable',
      'router nginx routes match steps by one header and one cookie at most; use gatewayAPI or istio for more',
    );
  const cookie = cookies[0]?.cookie;
  if (cookie && cookie.value !== 'always')
    throw new TerminalError(
      'RouteNotUsable',
      `router nginx sends a request to the canary by cookie only when the cookie's value is "always"; set release.canary.steps[].match cookie ${cookie.name} to value "always", or use gatewayAPI or istio`,
    );
  const annotations: Record<string, string> = {};
  const [header] = entries;
  if (header) {
    annotations[BY_HEADER] = header[0];
    if (header[1].exact !== undefined) annotations[BY_HEADER_VALUE] = header[1].exact;
    else annotations[BY_HEADER_PATTERN] = header[1].regex ?? '';
  }
  if (cookie) annotations[BY_COOKIE] = cookie.name;
  return annotations;
}

/** One canary Ingress per Microservice, so services sharing an Ingress (one host, several paths) do not collide. */
export const canaryIngressName = (ingress: string, microservice: string): string => `${ingress}-${microservice}-canary`;

/** The canary Ingress for a weight, or undefined when the user's Ingress sends nothing to this Microservice. */
export function renderCanaryIngress(
  microservice: Microservice,
  ingress: V1Ingress,
  route: RouteSpec,
): V1Ingress | undefined {
  const ours = new Set([microservice.metadata.name, stableServiceName(microservice)]);
  const rules: V1IngressRule[] = [];
  for (const rule of ingress.spec?.rules ?? []) {
    const paths = (rule.http?.paths ?? [])
      .filter((path) => path.backend.service && ours.has(path.backend.service.name))
      .map((path) => ({
        ...path,
        backend: { service: { ...path.backend.service!, name: canaryServiceName(microservice) } },
      }));
    if (paths.length > 0) rules.push({ ...(rule.host ? { host: rule.host } : {}), http: { paths } });
  }
  if (rules.length === 0) return undefined;
  return {
    apiVersion: API_VERSION,
    kind: 'Ingress',
    metadata: childMetadata(microservice, canaryIngressName(ingress.metadata!.name!, microservice.metadata.name!), {
      annotations: {
        [CANARY_ANNOTATION]: 'true',
        [WEIGHT_ANNOTATION]: String(route.weight),
        ...matchAnnotations(route.matches),
        ...(route.matches.length > 0 ? { [EXTRAS_ANNOTATION]: extrasKey(route) } : {}),
      },
    }),
    spec: { ...(ingress.spec?.ingressClassName ? { ingressClassName: ingress.spec.ingressClassName } : {}), rules },
  };
}

export class NginxRouter implements TrafficRouter {
  constructor(private readonly client: KubeClient) {}

  /** The canary Ingress while the canary has a weight or match steps; otherwise there is none (setRoute removes it). */
  async reconcile(microservice: Microservice, route: RouteSpec): Promise<KubernetesObject[]> {
    if (!carried(route)) return [];
    if (route.mirror)
      throw new TerminalError(
        'RouteNotUsable',
        'router nginx cannot mirror requests; use gatewayAPI or istio for mirror steps',
      );
    const { namespace = '' } = microservice.metadata;
    await this.canaryIngress(microservice);
    const ingress = await this.userIngress(microservice);
    const canary = renderCanaryIngress(microservice, ingress, route);
    if (!canary) {
      throw new TerminalError(
        'RouteNotUsable',
        `Ingress ${namespace}/${ingress.metadata?.name} has no path to the Service ${microservice.metadata.name} or ${stableServiceName(microservice)}; point it at one of them`,
      );
    }
    return [canary];
  }

  async readRoute(microservice: Microservice): Promise<ObservedRoute> {
    const annotations = (await this.canaryIngress(microservice))?.metadata?.annotations ?? {};
    return { weight: Number(annotations[WEIGHT_ANNOTATION] ?? 0), extras: annotations[EXTRAS_ANNOTATION] ?? '' };
  }

  /** A weight or match steps are carried by the canary Ingress that reconcile rendered; with neither it goes. */
  async setRoute(microservice: Microservice, route: RouteSpec): Promise<boolean> {
    if (carried(route) || !(await this.canaryIngress(microservice))) return false;
    await this.finalize(microservice);
    return true;
  }

  /** The canary Ingress is msop's own: deleting it sends everything back to the user's Ingress. */
  async finalize(microservice: Microservice): Promise<void> {
    const canary = await this.canaryIngress(microservice);
    if (canary) {
      const { namespace = '' } = microservice.metadata;
      await this.client.delete(API_VERSION, 'Ingress', namespace, canary.metadata!.name!, canary.metadata!.uid!);
    }
  }

  private ingressName(microservice: Microservice): string {
    return trafficOf(microservice.spec)?.nginx?.ingress ?? '';
  }

  private async userIngress(microservice: Microservice): Promise<V1Ingress> {
    const { namespace = '' } = microservice.metadata;
    try {
      return await this.client.get<V1Ingress>(API_VERSION, 'Ingress', namespace, this.ingressName(microservice));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      throw new TerminalError(
        'RouteNotFound',
        `Ingress ${namespace}/${this.ingressName(microservice)} named in spec.release.canary.traffic.nginx.ingress was not found`,
      );
    }
  }

  /** The canary Ingress msop made, or undefined; one of the same name made by someone else is never touched. */
  private async canaryIngress(microservice: Microservice): Promise<V1Ingress | undefined> {
    const { namespace = '', name = '', uid = '' } = microservice.metadata;
    const canaryName = canaryIngressName(this.ingressName(microservice), name);
    let found: V1Ingress;
    try {
      found = await this.client.get<V1Ingress>(API_VERSION, 'Ingress', namespace, canaryName);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    if (!isControlledBy(found, uid))
      throw new TerminalError('NotOwned', notOwnedMessage('Ingress', namespace, canaryName, name));
    return found;
  }
}

const carried = (route: RouteSpec) => route.weight > 0 || route.matches.length > 0;
