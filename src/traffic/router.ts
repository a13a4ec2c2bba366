// The traffic router seam (Flagger's router.Interface, Argo's VerifyWeight):
// set the canary's share of traffic, and read back what the data plane was given.
import type { Microservice } from '../api/types';

export interface TrafficRouter {
  /** The canary's weight as the route object holds it now; undefined when there is no route object yet. */
  readWeight(microservice: Microservice): Promise<number | undefined>;
  /** Gives the canary this weight and the stable Service the rest. */
  setWeight(microservice: Microservice, weight: number): Promise<void>;
}

export const stableServiceName = (microservice: Microservice): string => `${microservice.metadata.name}-stable`;
export const canaryServiceName = (microservice: Microservice): string => `${microservice.metadata.name}-canary`;

/** Weights are relative: the canary's percentage of the two. */
export function percentOf(canary: number, stable: number): number {
  return canary + stable === 0 ? 0 : Math.round((100 * canary) / (canary + stable));
}
