import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { TRACK_BASELINE, TRACK_STABLE } from '../api/constants';
import type { Microservice, MicroserviceSpec } from '../api/types';
import { DEFAULT_PROTOCOL, isBlueGreen, isCanary, isProgressive, newTrackOf, portsOf, routerOf } from './defaults';
import { microserviceSelector, trackSelector, withRevision } from './labels';
import { hasParallelRun, renderComparatorService } from './comparator';
import { childMetadata, identityOf } from './ownership';

/**
 * The apex Service `<name>`. Under a Canary with the replicas router it selects every track, so the canary's
 * share of traffic is its share of ready pods. Under a weighted router it selects stable pods only, and the
 * router splits traffic between `<name>-stable` and `<name>-canary` (or `<name>-preview`). Under a BlueGreen
 * with the replicas router it selects the stable pods, or, once switched, every pod of `liveRevision`.
 */
export function renderApexService(microservice: Microservice, liveRevision?: string): V1Service {
  const { name } = identityOf(microservice);
  const settings = microservice.spec.service ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(microservice, name, { labels: settings.labels, annotations: settings.annotations }),
    spec: {
      type: settings.type ?? 'ClusterIP',
      selector: liveRevision
        ? withRevision(microserviceSelector(name), liveRevision)
        : isCanary(microservice.spec) && routerOf(microservice.spec) === 'replicas'
          ? microserviceSelector(name)
          : isProgressive(microservice.spec)
            ? trackSelector(name, TRACK_STABLE)
            : microserviceSelector(name),
      ports: servicePorts(microservice.spec),
    },
  };
}

/** The per-track Service `<name>-<track>`: a ClusterIP target for weighted routers, a preview, or a comparator. */
export function renderTrackService(microservice: Microservice, track: string): V1Service {
  const { name } = identityOf(microservice);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(microservice, `${name}-${track}`),
    spec: { type: 'ClusterIP', selector: trackSelector(name, track), ports: servicePorts(microservice.spec) },
  };
}

/**
 * The apex Service, and the per-track ones where something sends to them: `-stable` and `-canary` (or
 * `-preview`) for a weighted router, in the spec or recorded by the running release; `-preview` for a
 * BlueGreen release (how a person reaches it before the switch); and for a parallel run `-canary`,
 * `-baseline` and `-compare` (the comparator's two upstreams are the baseline and the canary).
 * `service.trackServices` asks for `-stable` and the new track's Service always. Under the replicas router
 * the apex alone carries the traffic, and every Service more costs each pod change an Endpoints and an
 * EndpointSlice update, so none is made unasked.
 */
export function renderServices(microservice: Microservice, liveRevision?: string): V1Service[] {
  const { spec } = microservice;
  const parallelRun = isCanary(spec) && hasParallelRun(microservice);
  // A weighted router's routes send to `-stable` whatever the strategy (a Rolling Microservice keeps its
  // traffic section), and a release that began on one drains its old route to `-stable` after a router change.
  const recorded = microservice.status?.release?.traffic?.router;
  const weighted = routerOf(spec) !== 'replicas' || (recorded !== undefined && recorded !== 'replicas');
  const perTrack = spec.service?.trackServices === true || weighted;
  const services = [renderApexService(microservice, liveRevision)];
  if (perTrack) services.push(renderTrackService(microservice, TRACK_STABLE));
  if (isProgressive(spec) && (perTrack || isBlueGreen(spec) || parallelRun))
    services.push(renderTrackService(microservice, newTrackOf(spec)));
  if (parallelRun)
    services.push(renderTrackService(microservice, TRACK_BASELINE), renderComparatorService(microservice));
  return services;
}

/** One Service port per declared port, targeting the container port by name so a port renumbering needs no Service change. */
function servicePorts(spec: MicroserviceSpec): V1ServicePort[] {
  return portsOf(spec).map((port) => ({
    name: port.name,
    port: port.servicePort ?? port.containerPort,
    targetPort: port.name,
    protocol: port.protocol ?? DEFAULT_PROTOCOL,
  }));
}
