// Which route object a release's traffic settings point at, pure: a release that
// started on one object and is now asked to use another must first take its
// weights and rules off the old one.
import type { Microservice, ReleaseState, TrafficSettings } from '../api/types';

/** "gatewayAPI/HTTPRoute/orders", "istio/VirtualService/orders", "replicas": the object msop writes routes on. */
export function routeIdentity(traffic: TrafficSettings | undefined): string {
  switch (traffic?.router ?? 'replicas') {
    case 'gatewayAPI':
      return `gatewayAPI/HTTPRoute/${traffic?.gatewayAPI?.httpRoute ?? '(generated)'}`;
    case 'istio':
      return `istio/VirtualService/${traffic?.istio?.virtualService ?? ''}`;
    case 'nginx':
      return `nginx/Ingress/${traffic?.nginx?.ingress ?? ''}`;
    default:
      return 'replicas';
  }
}

/** The Microservice as it was when its release started on `traffic`: what the router of those settings reads. */
export function withTraffic(
  microservice: Microservice,
  traffic: TrafficSettings,
  strategy: ReleaseState['strategy'],
): Microservice {
  const release = microservice.spec.release ?? {};
  const part = strategy === 'BlueGreen' ? 'blueGreen' : 'canary';
  return {
    ...microservice,
    spec: {
      ...microservice.spec,
      release: { ...release, strategy: strategy ?? 'Canary', [part]: { ...release[part], traffic } },
    },
  };
}
