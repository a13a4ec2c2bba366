// The user's routes across a Microservice's life: msop's weights and rules come
// off a route the release no longer uses (the traffic settings changed
// mid-release), and off every route before the Microservice is deleted, which a
// finalizer holds back until then.
import { API_VERSION, FINALIZER_ROUTES, KIND } from '../api/constants';
import type { Microservice, ReleaseState, TrafficSettings } from '../api/types';
import type { KubeClient } from '../kube/client';
import { TerminalError } from '../kube/errors';
import type { EventRecorder } from '../kube/events';
import type { Logger } from '../observability/logger';
import { isBlueGreen, trafficOf } from '../render/defaults';
import { releaseStateOf } from '../rollout/state';
import { weightedRouter } from '../traffic';
import { routeIdentity, withTraffic } from '../traffic/identity';
import type { KindCache } from './caches';

export class RouteKeeper {
  constructor(
    private readonly client: KubeClient,
    private readonly microservices: KindCache<Microservice>,
    private readonly events: EventRecorder,
  ) {}

  /**
   * The traffic settings changed mid-release to another route object (or the release section was removed):
   * the route the release started on is put back to the stable Service, with the settings recorded in
   * status, before the release goes on with the new ones. No share of traffic is left on the old route.
   */
  async leaveOldRoute(microservice: Microservice, state: ReleaseState, log: Logger): Promise<void> {
    const recorded = state.traffic;
    const now = trafficOf(microservice.spec);
    if (state.revision === undefined || !recorded || routeIdentity(recorded) === routeIdentity(now)) return;
    if (!(await this.takeRouteBack(microservice, recorded, state.strategy, log))) return;
    this.events.record(
      microservice,
      'Normal',
      'RouteChanged',
      `Moved the release of ${state.revision} from ${routeIdentity(recorded)} to ${routeIdentity(now)}: all traffic on the old route went back to the stable Service`,
    );
  }

  /** Takes msop's weights and rules off the route of these settings; false when there was none to take. */
  private async takeRouteBack(
    microservice: Microservice,
    traffic: TrafficSettings,
    strategy: ReleaseState['strategy'],
    log: Logger,
  ): Promise<boolean> {
    if (traffic.router === undefined || traffic.router === 'replicas') return false;
    const router = weightedRouter(traffic.router, this.client);
    try {
      await router.finalize(withTraffic(microservice, traffic, strategy));
    } catch (err) {
      // A route that is gone, or no longer sends to the stable Service, holds nothing of msop's to take back.
      if (!(err instanceof TerminalError)) throw err;
      log.info({ route: routeIdentity(traffic), reason: err.reason }, 'Left a route msop can no longer use');
      return false;
    }
    log.info({ route: routeIdentity(traffic) }, 'Took msop weights and rules off the route');
    return true;
  }

  /** Deletion: the user's routes get back what msop changed, then the finalizer goes and the deletion goes on. */
  async release(microservice: Microservice, log: Logger): Promise<void> {
    const finalizers = microservice.metadata.finalizers ?? [];
    const index = finalizers.indexOf(FINALIZER_ROUTES);
    if (index === -1) return;
    const state = releaseStateOf(microservice.status);
    const settings = [trafficOf(microservice.spec), state.traffic].filter((t): t is TrafficSettings => t !== undefined);
    const seen = new Set<string>();
    for (const traffic of settings) {
      if (seen.has(routeIdentity(traffic))) continue;
      seen.add(routeIdentity(traffic));
      await this.takeRouteBack(
        microservice,
        traffic,
        state.strategy ?? (isBlueGreen(microservice.spec) ? 'BlueGreen' : 'Canary'),
        log,
      );
    }
    const { namespace = '', name = '' } = microservice.metadata;
    const path = `/metadata/finalizers/${index}`;
    await this.client.jsonPatch<Microservice>(API_VERSION, KIND, namespace, name, [
      { op: 'test', path, value: FINALIZER_ROUTES },
      { op: 'remove', path },
    ]);
    log.info({ finalizer: FINALIZER_ROUTES }, 'Removed finalizer');
  }

  /** A weighted router writes on routes the user owns: the finalizer makes deletion wait until msop took that back. */
  async addFinalizer(microservice: Microservice, log: Logger): Promise<void> {
    const finalizers = microservice.metadata.finalizers;
    if (finalizers?.includes(FINALIZER_ROUTES)) return;
    const { namespace = '', name = '' } = microservice.metadata;
    const written = await this.client.jsonPatch<Microservice>(
      API_VERSION,
      KIND,
      namespace,
      name,
      finalizers
        ? [
            { op: 'test', path: '/metadata/finalizers', value: finalizers },
            { op: 'add', path: '/metadata/finalizers/-', value: FINALIZER_ROUTES },
          ]
        : [{ op: 'add', path: '/metadata/finalizers', value: [FINALIZER_ROUTES] }],
    );
    this.microservices.recordWrite(written, microservice.metadata.resourceVersion);
    log.info({ finalizer: FINALIZER_ROUTES }, 'Added finalizer');
  }
}
