// ingress-nginx: a canary Ingress `<ingress>-<name>-canary` beside the user's Ingress,
// with the same hosts and paths sending to <name>-canary, weighted by the
// canary annotations. msop owns it, and removes it when the weight is 0.
import type { KubernetesObject, V1Ingress, V1IngressRule } from '@kubernetes/client-node';
import type { Microservice } from '../api/types';
import type { KubeClient } from '../kube/client';
import { trafficOf } from '../render/defaults';
import { isNotFound, TerminalError } from '../kube/errors';
import { childMetadata, isControlledBy, notOwnedMessage } from '../render/ownership';
import { canaryServiceName, stableServiceName, type TrafficRouter } from './router';

const API_VERSION = 'networking.k8s.io/v1';
export const CANARY_ANNOTATION = 'nginx.ingress.kubernetes.io/canary';
export const WEIGHT_ANNOTATION = 'nginx.ingress.kubernetes.io/canary-weight';

/** One canary Ingress per Microservice, so services sharing an Ingress (one host, several paths) do not collide. */
export const canaryIngressName = (ingress: string, microservice: string): string => `${ingress}-${microservice}-canary`;

/** The canary Ingress for a weight, or undefined when the user's Ingress sends nothing to this Microservice. */
export function renderCanaryIngress(
  microservice: Microservice,
  ingress: V1Ingress,
  weight: number,
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
      annotations: { [CANARY_ANNOTATION]: 'true', [WEIGHT_ANNOTATION]: String(weight) },
    }),
    spec: { ...(ingress.spec?.ingressClassName ? { ingressClassName: ingress.spec.ingressClassName } : {}), rules },
  };
}

export class NginxRouter implements TrafficRouter {
  constructor(private readonly client: KubeClient) {}

  /** The canary Ingress while the canary has a weight; at 0 there is none (setWeight removes it). */
  async reconcile(microservice: Microservice, weight: number): Promise<KubernetesObject[]> {
    if (weight === 0) return [];
    const { namespace = '' } = microservice.metadata;
    await this.canaryIngress(microservice);
    const ingress = await this.userIngress(microservice);
    const canary = renderCanaryIngress(microservice, ingress, weight);
    if (!canary) {
      throw new TerminalError(
        'RouteNotUsable',
        `Ingress ${namespace}/${ingress.metadata?.name} has no path to the Service ${microservice.metadata.name} or ${stableServiceName(microservice)}; point it at one of them`,
      );
    }
    return [canary];
  }

  async readWeight(microservice: Microservice): Promise<number | undefined> {
    const canary = await this.canaryIngress(microservice);
    return canary ? Number(canary.metadata?.annotations?.[WEIGHT_ANNOTATION] ?? 0) : 0;
  }

  /** A weight above 0 is carried by the canary Ingress that reconcile rendered; 0 removes it. */
  async setWeight(microservice: Microservice, weight: number): Promise<void> {
    if (weight === 0) await this.finalize(microservice);
  }

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
