// reconcile(key): read the Microservice and what it owns, converge the
// children, and write status once at the end, whatever happened (Flux's
// finalizeStatus). Errors are rethrown for a rate-limited retry.
import type { KubernetesObject, V1Deployment, V1EndpointSlice, V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import {
  ACTIONS,
  ANNOTATION_ACTION,
  API_VERSION,
  FIELD_MANAGER,
  HANDOVER_FIELD_MANAGER,
  KIND,
  LABEL_MICROSERVICE,
  LABEL_REVISION,
  LABEL_TRACK,
  type ReleaseAction,
  STATUS_FIELD_MANAGER,
  TRACK_BASELINE,
  TRACK_CANARY,
  TRACK_COMPARATOR,
  TRACK_PREVIEW,
  COMPARATOR_PORT,
  DEFAULT_MIRRORED_METHODS,
} from '../api/constants';
import type { Microservice, MicroserviceStatus, ReleaseState } from '../api/types';
import type { KubeClient } from '../kube/client';
import { ApiError, errorMessage, isInvalid, isNotFound, TerminalError } from '../kube/errors';
import type { EventRecorder } from '../kube/events';
import { type Logger, reconcileLogger } from '../observability/logger';
import {
  type ConfigReference,
  isBlueGreen,
  isCanary,
  isControlledBy,
  isProgressive,
  newTrackOf,
  notOwnedMessage,
  ownedKinds,
  referencedConfig,
  type RenderDefaults,
  type RenderedChildren,
  renderChildren,
  renderTrackReplicaSet,
  routerOf,
  stableStringify,
  type TrackedContent,
} from '../render';
import { cloneJson } from '../render/clone';
import { comparatorServiceName, hasParallelRun, renderComparatorReplicaSet } from '../render/comparator';
import { desiredReplicas, trafficOf } from '../render/defaults';
import { renderApexService } from '../render/services';
import { type Action, type LiveState, releaseActions, routedRoute, sortActions } from '../rollout/actions';
import { withHandover } from '../rollout/handover';
import {
  planRelease,
  type ReleaseObservation,
  type ReleaseSettings,
  releaseStateOf,
  type Strategy,
} from '../rollout/release';
import { podsByRevision, type ReplicaSetCounts } from '../rollout/pod-counts';
import { stableTemplateOf, withStableTemplateKept } from '../rollout/state';
import { checkStepsRouter, releaseSteps, StepsError } from '../rollout/steps';
import { type TrafficRouter, weightedRouter } from '../traffic';
import type { Resolution } from '../environment/resolve';
import type { KindCache } from './caches';
import { AnalysisRunner, type OperatorCredentials } from './analysis';
import { RouteKeeper } from './routes';
import { adoptCanary, HANDOVER_REQUEUE_MS, type HandoverContext, observeHandover, relabelCanaryPods } from './handover';
import { ANNOTATION_APPLIED, needsApply, withAppliedHash } from './drift';
import { deploymentComplete, deriveStatus, type Observation, statusEvents } from './status';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export interface ReconcilerDeps {
  client: KubeClient;
  microservices: KindCache<Microservice>;
  /** Caches of the owned kinds, by kind (ReplicaSet included). */
  owned: Record<string, KindCache<KubernetesObject>>;
  events: EventRecorder;
  log: Logger;
  defaults: RenderDefaults;
  /** The operator's default Prometheus, for analyses that name none. */
  prometheusAddress?: string;
  /** The operator's Prometheus credentials (--prometheus-auth-secret). */
  prometheusCredentials?: OperatorCredentials;
  /** The effective Microservice: its Environment and the operator's defaults fill what it leaves unset. */
  resolve?: (microservice: Microservice) => Resolution;
  metrics?: { recordAnalysisVerdict(metric: string, verdict: string): void };
  now?: () => Date;
}

interface SyncResult {
  observation: Observation;
  requeueAfterMs?: number;
}

export class Reconciler {
  private readonly analysis: AnalysisRunner;
  private readonly routes: RouteKeeper;
  /**
   * Children the API server refused as Invalid, by Microservice key, then kind/name, with the applied hash of
   * what was sent and the error. The same content is not sent again: only a change to the Microservice or to
   * what it references (which changes the hash) retries it.
   */
  private readonly refused = new Map<string, Map<string, { hash: string; error: TerminalError }>>();

  constructor(private readonly deps: ReconcilerDeps) {
    this.analysis = new AnalysisRunner(deps.client, deps.log, deps.prometheusAddress, deps.prometheusCredentials);
    this.routes = new RouteKeeper(deps.client, deps.microservices, deps.events);
  }

  /** `reconcileLog` carries the reconcile's namespace, name and reconcileID (reconcileLogger). */
  async reconcile(key: string, reconcileLog: Logger = reconcileLogger(this.deps.log, key)): Promise<ReconcileResult> {
    const [namespace = '', name = ''] = key.split('/');
    const stored = this.deps.microservices.get(namespace, name);
    if (!stored) {
      this.refused.delete(key);
      return {};
    }
    // From here on, the effective Microservice; two Environments or an exceeded limit stop before any write.
    const resolution = this.deps.resolve?.(stored) ?? { ok: true, microservice: stored, defaulted: [] };
    const microservice = resolution.ok ? resolution.microservice : stored;
    const log = reconcileLog.child({ generation: microservice.metadata.generation });
    // Going: the garbage collector removes the children through their owner references; the user's routes are
    // msop's to put back first.
    if (stored.metadata.deletionTimestamp) {
      await this.routes.release(microservice, log);
      return {};
    }
    const requested = microservice.metadata.annotations?.[ANNOTATION_ACTION];
    const action = ACTIONS.find((a) => a === requested);

    let result: SyncResult;
    let failed = false;
    let failure: unknown;
    try {
      if (!resolution.ok)
        throw resolution.terminal
          ? new TerminalError(resolution.reason, resolution.message)
          : new Error(resolution.message);
      result = await this.sync(microservice, action, log);
    } catch (err) {
      failed = true;
      failure = err;
      result = { observation: this.failedObservation(microservice, err) };
    }
    if (resolution.ok)
      result.observation.environment = { name: resolution.environment, defaulted: resolution.defaulted };
    const current = await this.finalizeStatus(microservice, result.observation, log);
    // The action's effect is in status now, so consuming it loses nothing; a crash before this line repeats it harmlessly.
    if (requested !== undefined && !failed) await this.consumeAction(current, requested, action !== undefined, log);
    if (failed) throw failure;
    return { requeueAfterMs: result.requeueAfterMs };
  }

  private async sync(microservice: Microservice, action: ReleaseAction | undefined, log: Logger): Promise<SyncResult> {
    const tracked = await this.readTrackedConfig(microservice);
    const newSets = this.newRevisionReplicaSets(microservice);
    const progressive = isProgressive(microservice.spec) || newSets.length > 0;
    // In a release the live Service keeps the revision it selects until the plan moves it (selectLive).
    const liveRevision = progressive ? this.liveRevision(microservice) : undefined;
    const rendered = renderChildren({ microservice, tracked, defaults: this.deps.defaults, liveRevision });
    // The children are independent of each other: applied at once, a reconcile waits one round trip, not five.
    await settleAll(
      rendered.objects.filter((d) => d.kind !== 'Deployment').map((d) => this.applyChild(microservice, d, log)),
    );
    await this.pruneChildren(microservice, rendered.objects, log);
    if (progressive) return this.syncRelease(microservice, rendered, action, log);
    return { observation: await this.syncRolling(microservice, rendered, log) };
  }

  /** Rolling: the Deployment follows the spec, unless release.paused holds a new revision back. */
  private async syncRolling(microservice: Microservice, rendered: RenderedChildren, log: Logger): Promise<Observation> {
    let deployment = this.liveDeployment(microservice);
    const liveRevision = deployment?.spec?.template.metadata?.labels?.[LABEL_REVISION];
    const heldBack = microservice.spec.release?.paused === true && liveRevision !== rendered.revision;
    if (!heldBack)
      deployment =
        ((await this.applyChild(microservice, this.deploymentOf(rendered), log)) as V1Deployment | undefined) ??
        deployment;
    return this.observation(microservice, rendered.revision, deployment, { heldBack });
  }

  /**
   * Canary and BlueGreen: observe (the cluster read once, one clock reading), plan (the strategy's pure
   * planner), derive the actions (pure), and carry them out in the executor's fixed order.
   */
  private async syncRelease(
    microservice: Microservice,
    rendered: RenderedChildren,
    action: ReleaseAction | undefined,
    log: Logger,
  ): Promise<SyncResult> {
    const now = this.now();
    const strategy = strategyOf(microservice);
    const state = releaseStateOf(microservice.status);
    const analysis = this.analysis.settings(microservice);
    const settings = { ...this.releaseSettings(microservice), baseline: analysis?.baselineMode === 'Fresh' };
    const router = settings.router === 'replicas' ? undefined : weightedRouter(settings.router, this.deps.client);
    if (router) await this.routes.addFinalizer(microservice, log);
    await this.routes.leaveOldRoute(microservice, state, log);
    const observed = await this.observeRelease(microservice, rendered, router);
    const { deployment, current } = observed;
    const stableRevision = observed.release.stableRevision;
    const outcome = analysis
      ? await this.analysis.evaluate(microservice, analysis, {
          canaryRevision: rendered.revision,
          stableRevision,
          releasing:
            stableRevision !== undefined &&
            stableRevision !== rendered.revision &&
            // A retry starts a new release, with a fresh analysis.
            (state.failedRevision !== rendered.revision || action === 'retry'),
          canaryReadyReplicas: current?.status?.readyReplicas ?? 0,
          promoting:
            state.revision === rendered.revision &&
            (strategy === 'BlueGreen'
              ? state.previewReadyTime !== undefined && state.switchTime === undefined
              : (state.step ?? 0) >= settings.steps.length),
          canaryTrack: newTrackOf(microservice.spec),
          restartAfter: state.revision === rendered.revision ? state.switchTime : undefined,
          weight: microservice.status?.canaryWeight ?? 0,
          action,
          now,
        })
      : undefined;

    const planned = planRelease({
      settings,
      strategy,
      state,
      desiredRevision: rendered.revision,
      action,
      analysis: outcome?.gate,
      now,
      observed: observed.release,
    });
    const plan = { ...planned, state: withStableTemplate(planned.state, deployment, state, rendered.revision) };
    const live = observed.live;
    const handover = observeHandover(this.handoverContext(), microservice, {
      revision: rendered.revision,
      eligible: strategy === 'Canary' && settings.router === 'replicas' && !settings.autoscaled,
      promoting: plan.deploymentTemplate === 'desired',
      plannedReplicas: plan.stableReplicas,
      deployment,
      current,
    });
    const actions = withHandover(releaseActions(plan, live), handover);
    for (const event of outcome?.events ?? []) actions.unshift({ kind: 'event', event });
    // post-rollout and rollback hooks are told, and their answer changes nothing.
    const hookContext = {
      canaryRevision: rendered.revision,
      stableRevision,
      releasing: true,
      canaryReadyReplicas: 0,
      promoting: false,
      canaryTrack: newTrackOf(microservice.spec),
      weight: plan.canaryWeight,
      now,
    };
    const notify = (hook: 'post-rollout' | 'rollback') => this.analysis.notify(microservice, hook, hookContext);
    const written = await this.execute(microservice, rendered, sortActions(actions), {
      live,
      router,
      deployment,
      canary: current,
      notify,
      log,
    });
    for (const { metric, verdict } of outcome?.verdicts ?? [])
      this.deps.metrics?.recordAnalysisVerdict(metric, verdict);
    const observation = this.observation(microservice, rendered.revision, written ?? deployment, {
      release: {
        plan,
        analysis: outcome?.status,
        stepCount: strategy === 'Canary' ? settings.steps.length : undefined,
        canary: observed.release.canary,
        // Read again: the cache has this reconcile's own writes, so a canary set just made or resized counts now.
        pods: this.podsByRevision(microservice, rendered, written ?? deployment),
      },
    });
    const inRelease = plan.state.revision !== undefined;
    const handingOver = handover.step === 'none' ? undefined : HANDOVER_REQUEUE_MS;
    const requeues = [plan.requeueAfterMs, inRelease ? outcome?.requeueAfterMs : undefined, handingOver].filter(
      (ms): ms is number => ms !== undefined,
    );
    return { observation, requeueAfterMs: requeues.length > 0 ? Math.min(...requeues) : undefined };
  }

  /** Everything the planner and the action list read, from the caches and the router, once per reconcile. */
  private async observeRelease(
    microservice: Microservice,
    rendered: RenderedChildren,
    router: TrafficRouter | undefined,
  ) {
    const deployment = this.liveDeployment(microservice);
    // A Deployment deleted mid-release still has a stable revision: the one status.release kept the template of.
    const kept = deployment ? undefined : stableTemplateOf(releaseStateOf(microservice.status));
    const stableRevision = (deployment?.spec?.template ?? kept)?.metadata?.labels?.[LABEL_REVISION];
    const newTrack = newTrackOf(microservice.spec) as 'canary' | 'preview';
    const sets = [
      ...this.newRevisionReplicaSets(microservice),
      ...this.trackReplicaSets(microservice, TRACK_BASELINE),
      ...this.trackReplicaSets(microservice, TRACK_COMPARATOR),
    ];
    const live = (rs: V1ReplicaSet) => ({
      name: rs.metadata!.name!,
      uid: rs.metadata!.uid!,
      track: rs.metadata?.labels?.[LABEL_TRACK] ?? '',
      revision: rs.metadata?.labels?.[LABEL_REVISION] ?? '',
      replicas: rs.spec?.replicas ?? 0,
    });
    const find = (track: string, revision?: string) =>
      sets.find(
        (rs) => rs.metadata?.labels?.[LABEL_TRACK] === track && rs.metadata?.labels?.[LABEL_REVISION] === revision,
      );
    const current = find(newTrack, rendered.revision);
    const baseline = find(TRACK_BASELINE, stableRevision);
    // The comparator's revision matters only while a release runs (and needs the operator's image then).
    const releasing = stableRevision !== undefined && stableRevision !== rendered.revision;
    const comparatorRevision = releasing
      ? this.comparatorReplicaSet(microservice, 0)?.metadata?.labels?.[LABEL_REVISION]
      : undefined;
    const comparator = find(TRACK_COMPARATOR, comparatorRevision);
    const route = router ? await router.readRoute(microservice) : undefined;
    const routerWeight = route?.weight;
    const liveRevision = this.liveRevision(microservice);
    const counts = (rs: V1ReplicaSet | undefined) =>
      rs && { replicas: rs.spec?.replicas ?? 0, readyReplicas: rs.status?.readyReplicas ?? 0 };
    const pods = this.podsByRevision(microservice, rendered, deployment);
    const release: ReleaseObservation = {
      readyByRevision: { desired: pods.desired.readyReplicas, other: pods.other.readyReplicas },
      stableRevision,
      stableReplicas: deployment?.spec?.replicas ?? 0,
      stablePods: deployment?.status?.replicas ?? 0,
      stableReadyReplicas: deployment?.status?.readyReplicas ?? 0,
      stableComplete: deployment !== undefined && deploymentComplete(deployment),
      canary: counts(current),
      baseline: counts(baseline),
      staleCanaries: sets.filter(
        (rs) => rs !== current && [TRACK_CANARY, TRACK_PREVIEW].includes(rs.metadata?.labels?.[LABEL_TRACK] ?? ''),
      ).length,
      routerWeight,
      comparator: counts(comparator),
      routeMatches: route?.extras.includes('match-') ?? false,
      routeMirror: route?.extras.includes('mirror-') ?? false,
      liveRevision,
      previewEndpointsReady:
        newTrack === TRACK_PREVIEW && current
          ? await this.readyEndpoints(microservice, `${microservice.metadata.name}-${TRACK_PREVIEW}`)
          : undefined,
    };
    const liveState: LiveState = {
      desiredRevision: rendered.revision,
      newTrack,
      stableRevision,
      deploymentExists: deployment !== undefined,
      stableReplicas: deployment?.spec?.replicas,
      replicaSets: sets.map(live),
      weighted: router !== undefined,
      routerWeight,
      routeExtras: route?.extras,
      mirrorTarget: {
        methods: microservice.spec.release?.canary?.parallelRun?.methods ?? DEFAULT_MIRRORED_METHODS,
        service: comparatorServiceName(microservice.metadata.name!),
        port: COMPARATOR_PORT,
      },
      comparatorRevision,
      comparatorReadyReplicas: comparator?.status?.readyReplicas ?? 0,
      liveRevision,
      newReadyReplicas: current?.status?.readyReplicas ?? 0,
    };
    return { deployment, current, release, live: liveState };
  }

  /** The release's pods by revision, from the ReplicaSets in the cache (see rollout/pod-counts). */
  private podsByRevision(microservice: Microservice, rendered: RenderedChildren, deployment: V1Deployment | undefined) {
    const { namespace = '', name = '', uid = '' } = microservice.metadata;
    const deploymentUid = deployment?.metadata?.uid;
    const sets = (this.deps.owned.ReplicaSet?.listByLabel(namespace, name) ?? []) as V1ReplicaSet[];
    const counts = sets.map((rs): ReplicaSetCounts => {
      const controller = rs.metadata?.ownerReferences?.find((ref) => ref.controller === true);
      return {
        revision: rs.metadata?.labels?.[LABEL_REVISION],
        track: rs.metadata?.labels?.[LABEL_TRACK],
        controller: !controller
          ? 'none'
          : controller.uid === uid
            ? 'microservice'
            : controller.uid === deploymentUid
              ? 'deployment'
              : 'other',
        replicas: rs.spec?.replicas ?? 0,
        pods: rs.status?.replicas ?? 0,
        readyReplicas: rs.status?.readyReplicas ?? 0,
        availableReplicas: rs.status?.availableReplicas ?? 0,
      };
    });
    return podsByRevision(counts, rendered.revision, newTrackOf(microservice.spec));
  }

  /** The executor: carries out the actions in order, through the one apply path. Returns the Deployment written. */
  private async execute(
    microservice: Microservice,
    rendered: RenderedChildren,
    actions: Action[],
    ctx: {
      live: LiveState;
      router?: TrafficRouter;
      deployment?: V1Deployment;
      /** msop's ReplicaSet of the desired revision on the new track. */
      canary?: V1ReplicaSet;
      notify: (hook: 'post-rollout' | 'rollback') => Promise<void>;
      log: Logger;
    },
  ): Promise<V1Deployment | undefined> {
    const { namespace = '', name = '' } = microservice.metadata;
    const { live, router, log } = ctx;
    let written: V1Deployment | undefined;
    let routed = false;
    const route = async () => {
      // The router's own objects (a generated HTTPRoute, a canary Ingress) are applied on every reconcile.
      if (!router || routed) return;
      routed = true;
      for (const object of await router.reconcile(microservice, routedRoute(actions, live)))
        await this.applyChild(microservice, object, log);
    };
    for (const a of actions) {
      switch (a.kind) {
        case 'applyReplicaSet': {
          if (a.track === TRACK_COMPARATOR) {
            await this.applyChild(microservice, this.comparatorReplicaSet(microservice, a.replicas)!, log);
            break;
          }
          const template = a.track === TRACK_BASELINE ? cloneJson(ctx.deployment!.spec!.template) : rendered.template;
          const desired = renderTrackReplicaSet(microservice, template, a.track, a.revision, a.replicas);
          // A selector is immutable: a canary made while its selector held the track keeps it (and rolls at promotion).
          const liveSelector = (this.deps.owned.ReplicaSet?.get(namespace, desired.metadata!.name!) as V1ReplicaSet)
            ?.spec?.selector;
          if (liveSelector) desired.spec!.selector = liveSelector;
          await this.applyChild(microservice, desired, log);
          break;
        }
        case 'applyDeployment': {
          const desired = this.deploymentOf(rendered);
          if (a.replicas !== undefined) desired.spec!.replicas = a.replicas;
          const stableTemplate = stableTemplateOf(releaseStateOf(microservice.status));
          if (a.revision === 'stable' && stableTemplate) desired.spec!.template = cloneJson(stableTemplate);
          if (a.paused) {
            desired.spec!.paused = true;
            desired.spec!.replicas = a.paused.replicas;
            desired.spec!.strategy = {
              type: 'RollingUpdate',
              rollingUpdate: { maxUnavailable: 0, maxSurge: a.paused.maxSurge },
            };
          }
          written = (await this.applyChild(microservice, desired, log)) as V1Deployment | undefined;
          break;
        }
        case 'adoptCanary':
          await adoptCanary(this.handoverContext(), microservice, rendered, ctx.canary!, log);
          break;
        case 'relabelCanaryPods':
          await relabelCanaryPods(this.handoverContext(), microservice, rendered.revision);
          break;
        case 'resumeDeployment': {
          // The live template and size, unpaused: the replaced release's Deployment rolls on its own.
          const desired = this.deploymentOf(rendered);
          desired.spec!.template = cloneJson(ctx.deployment!.spec!.template);
          desired.spec!.replicas = ctx.deployment!.spec!.replicas;
          written = (await this.applyChild(microservice, desired, log)) as V1Deployment | undefined;
          break;
        }
        case 'scaleDeployment':
          await this.deps.client.scale('apps/v1', 'Deployment', namespace, name, a.replicas);
          log.info({ replicas: a.replicas }, 'Scaled Deployment');
          break;
        case 'selectLive':
          await this.applyChild(microservice, renderApexService(microservice, a.revision), log);
          log.info({ revision: a.revision ?? 'stable' }, 'Moved the live Service');
          break;
        case 'refuseRoute':
          log.warn({ weight: a.route.weight }, `Refused to change the route: ${a.why}`);
          break;
        case 'route':
          await route();
          if (await router!.setRoute(microservice, a.route))
            log.info(
              {
                router: routerOf(microservice.spec),
                weight: a.route.weight,
                matches: a.route.matches.length,
                mirror: a.route.mirror?.percent,
              },
              'Set route',
            );
          break;
        case 'deleteReplicaSet':
          await route();
          await this.deps.client.delete('apps/v1', 'ReplicaSet', namespace, a.name, a.uid);
          log.info({ replicaSet: a.name }, `Deleted ${a.track} ReplicaSet`);
          break;
        case 'event':
          await route();
          log.info({ reason: a.event.reason }, a.event.message);
          this.deps.events.record(microservice, a.event.type, a.event.reason, a.event.message);
          break;
        case 'notify':
          await ctx.notify(a.hook);
          break;
      }
    }
    await route();
    return written;
  }

  private handoverContext(): HandoverContext {
    return { client: this.deps.client, replicaSets: this.deps.owned.ReplicaSet };
  }

  /** The comparator ReplicaSet of a parallel run at `replicas`; undefined without one. */
  private comparatorReplicaSet(microservice: Microservice, replicas: number): V1ReplicaSet | undefined {
    if (!hasParallelRun(microservice)) return undefined;
    const image = this.deps.defaults.comparatorImage;
    if (!image)
      throw new TerminalError(
        'NoComparatorImage',
        'release.canary.steps has a mirror step, but the operator was started without --comparator-image (the Helm chart sets it to the operator image); a parallel run needs it',
      );
    return renderComparatorReplicaSet(microservice, image, replicas);
  }

  /** Ready endpoints of a Service, counted over its EndpointSlices: what kube-proxy will route to. */
  private async readyEndpoints(microservice: Microservice, service: string): Promise<number> {
    const slices = await this.deps.client.list<V1EndpointSlice>(
      'discovery.k8s.io/v1',
      'EndpointSlice',
      microservice.metadata.namespace,
      {
        labelSelector: `kubernetes.io/service-name=${service}`,
      },
    );
    const ready = new Set<string>();
    for (const slice of slices.items)
      for (const endpoint of slice.endpoints ?? [])
        if (endpoint.conditions?.ready !== false) for (const address of endpoint.addresses) ready.add(address);
    return ready.size;
  }

  /** The revision the live Service `<name>` selects, when it selects one (BlueGreen, switched). */
  private liveRevision(microservice: Microservice): string | undefined {
    const apex = this.deps.owned.Service?.get(
      microservice.metadata.namespace ?? '',
      microservice.metadata.name ?? '',
    ) as V1Service | undefined;
    return apex?.spec?.selector?.[LABEL_REVISION];
  }

  private releaseSettings(microservice: Microservice): ReleaseSettings {
    const release = microservice.spec.release;
    let steps;
    try {
      steps = releaseSteps(release?.canary);
      if (isCanary(microservice.spec)) checkStepsRouter(steps, routerOf(microservice.spec));
    } catch (err) {
      if (err instanceof StepsError) throw new TerminalError('InvalidSteps', err.message);
      throw err;
    }
    const blueGreen = release?.blueGreen;
    return {
      steps,
      router: routerOf(microservice.spec),
      replicas: desiredReplicas(microservice.spec),
      autoscaled: microservice.spec.autoscaling !== undefined,
      paused: release?.paused === true,
      progressDeadlineMs: (release?.progressDeadlineSeconds ?? 600) * 1_000,
      traffic: trafficOf(microservice.spec),
      blueGreen: isBlueGreen(microservice.spec)
        ? {
            autoPromotionMs:
              blueGreen?.autoPromotionSeconds === undefined ? undefined : blueGreen.autoPromotionSeconds * 1_000,
            scaleDownDelayMs: (blueGreen?.scaleDownDelaySeconds ?? 30) * 1_000,
            abortScaleDownDelayMs: (blueGreen?.abortScaleDownDelaySeconds ?? 30) * 1_000,
            previewReplicas: blueGreen?.previewReplicas,
          }
        : undefined,
    };
  }

  /** Applies one child when it is missing, changed or drifted; returns what the API server stored. */
  private async applyChild(
    owner: Microservice,
    desired: KubernetesObject,
    log: Logger,
  ): Promise<KubernetesObject | undefined> {
    const { namespace = '', name = '' } = desired.metadata ?? {};
    const kind = desired.kind ?? '';
    let live = this.deps.owned[kind]?.get(namespace, name);
    // The caches hold only objects labelled as msop's; look before writing over anything else.
    live ??= await this.getIfExists(desired.apiVersion!, kind, namespace, name);
    if (live && !isControlledBy(live, owner.metadata.uid!)) {
      throw new TerminalError('NotOwned', notOwnedMessage(kind, namespace, name, owner.metadata.name!));
    }
    const sent = withAppliedHash(desired);
    if (!needsApply(sent, live)) return undefined;
    const ownerKey = `${namespace}/${owner.metadata.name}`;
    const key = `${kind}/${name}`;
    const hash = sent.metadata?.annotations?.[ANNOTATION_APPLIED] ?? '';
    const refusal = this.refused.get(ownerKey)?.get(key);
    if (refusal && refusal.hash === hash) throw refusal.error;
    if (live) await this.handOverReplicas(sent, live, log);
    let written: KubernetesObject;
    try {
      written = await this.deps.client.apply(sent, FIELD_MANAGER);
    } catch (err) {
      if (!isInvalid(err)) throw err;
      // A spec error only a person can fix: retrying the same content would fail the same way forever.
      const error = new TerminalError(
        'Invalid',
        `The API server refused ${kind} ${name}: ${(err as ApiError).detail}; fix the Microservice spec`,
        { cause: err },
      );
      // Read and written with no await between: children are applied concurrently.
      this.refused.set(
        ownerKey,
        (this.refused.get(ownerKey) ?? new Map<string, { hash: string; error: TerminalError }>()).set(key, {
          hash,
          error,
        }),
      );
      throw error;
    }
    this.refused.get(ownerKey)?.delete(key);
    this.deps.owned[kind]?.recordWrite(written, live?.metadata?.resourceVersion);
    const verb = live ? 'Updated' : 'Created';
    const revision =
      kind === 'Deployment'
        ? ` to revision ${(desired as V1Deployment).spec?.template.metadata?.labels?.[LABEL_REVISION]}`
        : '';
    log.info({ kind, name }, `${verb} ${kind}`);
    this.deps.events.record(owner, 'Normal', verb, `${verb} ${kind} ${name}${revision}`);
    return written;
  }

  /**
   * Turning on autoscaling: msop stops applying spec.replicas, and server-side apply would reset a field
   * its only manager drops (to 1 pod). So another field manager takes the field over first, at its value.
   */
  private async handOverReplicas(desired: KubernetesObject, live: KubernetesObject, log: Logger): Promise<void> {
    if (desired.kind !== 'Deployment' || (desired as V1Deployment).spec?.replicas !== undefined) return;
    const owned = live.metadata?.managedFields?.some(
      (f) =>
        f.manager === FIELD_MANAGER &&
        (f.fieldsV1 as { 'f:spec'?: { 'f:replicas'?: unknown } } | undefined)?.['f:spec']?.['f:replicas'] !== undefined,
    );
    const replicas = (live as V1Deployment).spec?.replicas;
    if (!owned || replicas === undefined) return;
    const { name, namespace } = live.metadata!;
    await this.deps.client.apply(
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace }, spec: { replicas } } as V1Deployment,
      HANDOVER_FIELD_MANAGER,
    );
    log.info({ replicas }, 'Handed spec.replicas over to the HorizontalPodAutoscaler');
  }

  /** Deletes owned objects the spec no longer asks for (a PodDisruptionBudget, an HPA, the canary Service). */
  private async pruneChildren(owner: Microservice, rendered: KubernetesObject[], log: Logger): Promise<void> {
    const { namespace = '', uid = '' } = owner.metadata;
    const wanted = new Set(rendered.map((o) => `${o.kind}/${o.metadata?.name}`));
    for (const { apiVersion, kind } of ownedKinds) {
      // Every child carries msop.dev/microservice (childMetadata), so the index finds them all.
      for (const live of this.deps.owned[kind]?.listByLabel(namespace, owner.metadata.name ?? '') ?? []) {
        const name = live.metadata?.name ?? '';
        if (wanted.has(`${kind}/${name}`) || !isControlledBy(live, uid)) continue;
        await this.deps.client.delete(apiVersion, kind, namespace, name, live.metadata!.uid!);
        log.info({ kind, name }, `Deleted ${kind}`);
        this.deps.events.record(owner, 'Normal', 'Deleted', `Deleted ${kind} ${name}: the spec no longer asks for it`);
      }
    }
  }

  /** The ReplicaSets of new revisions, canary or preview, whatever the strategy now: a change of strategy drains them. */
  private newRevisionReplicaSets(microservice: Microservice): V1ReplicaSet[] {
    return [
      ...this.trackReplicaSets(microservice, TRACK_CANARY),
      ...this.trackReplicaSets(microservice, TRACK_PREVIEW),
    ];
  }

  /** The ReplicaSets msop made for a track (canary, baseline) of this Microservice. */
  private trackReplicaSets(microservice: Microservice, track: string): V1ReplicaSet[] {
    const { namespace = '', name = '', uid = '' } = microservice.metadata;
    return (this.deps.owned.ReplicaSet?.listByLabel(namespace, name) ?? []).filter(
      (rs) => rs.metadata?.labels?.[LABEL_TRACK] === track && isControlledBy(rs, uid),
    ) as V1ReplicaSet[];
  }

  private liveDeployment(microservice: Microservice): V1Deployment | undefined {
    return this.deps.owned.Deployment?.get(microservice.metadata.namespace ?? '', microservice.metadata.name ?? '') as
      V1Deployment | undefined;
  }

  private deploymentOf(rendered: RenderedChildren): V1Deployment {
    return cloneJson(rendered.objects.find((o) => o.kind === 'Deployment')) as V1Deployment;
  }

  private async getIfExists(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
  ): Promise<KubernetesObject | undefined> {
    try {
      return await this.deps.client.get(apiVersion, kind, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Reads the ConfigMaps and Secrets the pods reference: their content is part of the revision. */
  private async readTrackedConfig(microservice: Microservice): Promise<TrackedContent> {
    const namespace = microservice.metadata.namespace ?? '';
    const refs = referencedConfig(microservice.spec);
    const read = async (kind: 'ConfigMap' | 'Secret', list: ConfigReference[]) => {
      const content: Record<string, Record<string, string>> = {};
      for (const ref of list) {
        const found = (await this.getIfExists('v1', kind, namespace, ref.name)) as
          { data?: Record<string, string> } | undefined;
        if (found) content[ref.name] = found.data ?? {};
        else if (!ref.optional) {
          throw new TerminalError(
            `${kind}NotFound`,
            `${kind} ${namespace}/${ref.name} referenced in spec.env or spec.envFrom was not found; create it, or mark the reference optional`,
          );
        }
      }
      return content;
    };
    return { configMaps: await read('ConfigMap', refs.configMaps), secrets: await read('Secret', refs.secrets) };
  }

  private observation(
    microservice: Microservice,
    revision: string,
    deployment: V1Deployment | undefined,
    extra: Partial<Observation>,
  ): Observation {
    return {
      generation: microservice.metadata.generation ?? 0,
      desiredRevision: revision,
      desiredReplicas: replicasOf(microservice, deployment),
      deployment,
      heldBack: false,
      selector: `${LABEL_MICROSERVICE}=${microservice.metadata.name}`,
      ...extra,
    };
  }

  private failedObservation(microservice: Microservice, err: unknown): Observation {
    const deployment = this.liveDeployment(microservice);
    const terminal = err instanceof TerminalError;
    return {
      generation: microservice.metadata.generation ?? 0,
      desiredReplicas: replicasOf(microservice, deployment),
      deployment,
      heldBack: false,
      selector: `${LABEL_MICROSERVICE}=${microservice.metadata.name}`,
      failure: { reason: terminal ? err.reason : 'ReconcileError', message: errorMessage(err), terminal },
    };
  }

  /** The one status write of a reconcile, skipped when nothing changed. */
  /** Returns the Microservice as it stands after the write (or as it was, when nothing changed). */
  private async finalizeStatus(
    microservice: Microservice,
    observation: Observation,
    log: Logger,
  ): Promise<Microservice> {
    const previous = microservice.status;
    const next = deriveStatus(previous, observation, this.now().toISOString());
    if (stableStringify(previous ?? {}) === stableStringify(next)) return microservice;
    const { name, namespace } = microservice.metadata;
    const written = await this.deps.client.applyStatus(
      { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace }, status: next } as Microservice,
      STATUS_FIELD_MANAGER,
    );
    // The next reconcile may come at once (requeue 0) and must see this status, not the one before it.
    this.deps.microservices.recordWrite(written, microservice.metadata.resourceVersion);
    log.debug({ phase: next.phase }, 'Updated status');
    for (const event of statusEvents(previous as MicroserviceStatus | undefined, next)) {
      this.deps.events.record(microservice, event.type, event.reason, event.message);
    }
    return written;
  }

  /** Removes the msop.dev/action annotation once its effect is recorded. */
  private async consumeAction(
    microservice: Microservice,
    requested: string,
    known: boolean,
    log: Logger,
  ): Promise<void> {
    const { namespace = '', name = '' } = microservice.metadata;
    if (!known) {
      this.deps.events.record(
        microservice,
        'Warning',
        'UnknownAction',
        `Ignored msop.dev/action "${requested}": use ${ACTIONS.join(', ')}`,
      );
    }
    // Remove exactly the action handled: if someone set a new one meanwhile, the test fails and the next reconcile takes it.
    const path = `/metadata/annotations/${ANNOTATION_ACTION.replace('~', '~0').replace('/', '~1')}`;
    const written = await this.deps.client.jsonPatch<Microservice>(API_VERSION, KIND, namespace, name, [
      { op: 'test', path, value: requested },
      { op: 'remove', path },
    ]);
    this.deps.microservices.recordWrite(written, microservice.metadata.resourceVersion);
    log.info({ action: requested }, known ? 'Consumed action' : 'Ignored unknown action');
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}

/** The release strategy; Rolling for a spec that asks for none. */
function strategyOf(microservice: Microservice): Strategy {
  if (isBlueGreen(microservice.spec)) return 'BlueGreen';
  return isCanary(microservice.spec) ? 'Canary' : 'Rolling';
}

/** Replicas the Microservice wants now: the HPA's current choice under autoscaling. */
function replicasOf(microservice: Microservice, deployment: V1Deployment | undefined): number {
  if (microservice.spec.autoscaling)
    return deployment?.spec?.replicas ?? microservice.spec.autoscaling.minReplicas ?? 1;
  return desiredReplicas(microservice.spec);
}

/**
 * The release state with the stable revision's pod template while a release runs: taken from the Deployment
 * while it still runs the stable revision, kept from the previous state while it is gone, dropped otherwise.
 */
function withStableTemplate(
  next: ReleaseState,
  deployment: V1Deployment | undefined,
  previous: ReleaseState,
  desiredRevision: string,
): ReleaseState {
  if (next.revision === undefined) return withStableTemplateKept(next, undefined);
  const live = deployment?.spec?.template;
  if (!live) return withStableTemplateKept(next, stableTemplateOf(previous));
  if (live.metadata?.labels?.[LABEL_REVISION] === desiredRevision) return withStableTemplateKept(next, undefined);
  return withStableTemplateKept(next, live);
}

/** Waits for every promise, then rethrows the first failure: no write is left running past the reconcile. */
async function settleAll(promises: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}
