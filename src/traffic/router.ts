// The traffic router seam (Flagger's router.Interface, Argo's VerifyWeight):
// the objects a router owns, the new revision's share of traffic, read back
// from what the data plane was given, and the clean-up at the end.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Microservice } from '../api/types';
import { newTrackOf } from '../render/defaults';
import type { ObservedRoute, RouteSpec } from './route';

export interface TrafficRouter {
  /**
   * The objects msop owns for this route (a generated HTTPRoute, a canary Ingress), applied by the
   * reconciler's own apply path with its hash, ownership and events. Empty when the router owns none.
   */
  reconcile(microservice: Microservice, route: RouteSpec): Promise<KubernetesObject[]>;
  /** The route as the route object holds it now; undefined when there is no route object yet. */
  readRoute(microservice: Microservice): Promise<ObservedRoute | undefined>;
  /**
   * Gives the new revision the weight (the stable Service the rest) and adds msop's rules for the
   * extras, on objects the user owns; writes nothing when the route already is so. True when it wrote.
   */
  setRoute(microservice: Microservice, route: RouteSpec): Promise<boolean>;
  /** Takes back everything msop added to objects the user owns: the Microservice is being deleted. */
  finalize(microservice: Microservice): Promise<void>;
}

export const stableServiceName = (microservice: Microservice): string => `${microservice.metadata.name}-stable`;
/** The Service of the new revision: `<name>-canary`, or `<name>-preview` under BlueGreen. */
export const canaryServiceName = (microservice: Microservice): string =>
  `${microservice.metadata.name}-${newTrackOf(microservice.spec)}`;

/** Weights are relative: the canary's percentage of the two. */
export function percentOf(canary: number, stable: number): number {
  return canary + stable === 0 ? 0 : Math.round((100 * canary) / (canary + stable));
}
