// Istio: weights on the HTTP route destinations of a VirtualService that sends
// to the host <name>-stable (short or fully qualified). Only the weights and
// the canary destination are msop's.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Microservice } from '../api/types';
import type { KubeClient } from '../kube/client';
import { trafficOf } from '../render/defaults';
import { isNotFound, TerminalError } from '../kube/errors';
import { type BackendList, type BackendShape, readCanaryPercent, type Targets, weightPatch } from './backend-weights';
import { canaryServiceName, stableServiceName, type TrafficRouter } from './router';

const API_VERSION = 'networking.istio.io/v1';

interface Destination {
  destination?: { host?: string; subset?: string; port?: unknown };
  weight?: number;
}

export interface VirtualService extends KubernetesObject {
  spec?: { http?: { route?: Destination[] }[] };
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

export function destinationLists(virtualService: VirtualService): BackendList[] {
  return (virtualService.spec?.http ?? []).map((route, i) => ({
    path: `/spec/http/${i}/route`,
    backends: route.route ?? [],
  }));
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

export class IstioRouter implements TrafficRouter {
  constructor(private readonly client: KubeClient) {}

  async readWeight(microservice: Microservice): Promise<number | undefined> {
    const virtualService = await this.virtualService(microservice);
    const percent = readCanaryPercent(destinationLists(virtualService), destinationShape, hostTargets(microservice));
    if (percent === undefined) {
      throw new TerminalError(
        'RouteNotUsable',
        `VirtualService ${microservice.metadata.namespace}/${virtualService.metadata?.name} has no HTTP route to the host ${stableServiceName(microservice)}; route it to ${stableServiceName(microservice)}`,
      );
    }
    return percent;
  }

  /** The user owns the VirtualService; msop owns only its weights and the canary destination. */
  reconcile(): Promise<KubernetesObject[]> {
    return Promise.resolve([]);
  }

  finalize(): Promise<void> {
    return Promise.resolve();
  }

  async setWeight(microservice: Microservice, weight: number): Promise<void> {
    const virtualService = await this.virtualService(microservice);
    const operations = weightPatch(
      destinationLists(virtualService),
      destinationShape,
      hostTargets(microservice),
      weight,
    );
    await this.client.jsonPatch(
      API_VERSION,
      'VirtualService',
      microservice.metadata.namespace!,
      virtualService.metadata!.name!,
      operations,
    );
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
