import type { KubeClient } from '../kube/client';
import type { RouterKind } from '../rollout/release';
import { GatewayAPIRouter } from './gateway-api';
import { IstioRouter } from './istio';
import { NginxRouter } from './nginx';
import type { TrafficRouter } from './router';

export type { TrafficRouter } from './router';

/** The router for a weighted kind; the replicas router needs none (the weight is the ready-pod ratio). */
export function weightedRouter(kind: Exclude<RouterKind, 'replicas'>, client: KubeClient): TrafficRouter {
  switch (kind) {
    case 'gatewayAPI':
      return new GatewayAPIRouter(client);
    case 'istio':
      return new IstioRouter(client);
    case 'nginx':
      return new NginxRouter(client);
  }
}
