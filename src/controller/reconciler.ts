// reconcile(key): read the Microservice and what it owns, converge the
// children, and write status once at the end, whatever happened (Flux's
// finalizeStatus). Errors are rethrown for a rate-limited retry.
import type { KubernetesObject, V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import {
  ANNOTATION_ACTION,
  API_VERSION,
  FIELD_MANAGER,
  HANDOVER_FIELD_MANAGER,
  KIND,
  LABEL_MICROSERVICE,
  LABEL_REVISION,
  LABEL_TRACK,
  STATUS_FIELD_MANAGER,
  TRACK_BASELINE,
  TRACK_CANARY,
} from '../api/constants';
import type { Microservice, MicroserviceStatus } from '../api/types';
import type { KubeClient } from '../kube/client';
import { errorMessage, isNotFound, TerminalError } from '../kube/errors';
import type { EventRecorder } from '../kube/events';
import type { Logger } from '../observability/logger';
import {
  type ConfigReference,
  isCanary,
  isControlledBy,
  notOwnedMessage,
  ownedKinds,
  referencedConfig,
  type RenderDefaults,
  type RenderedChildren,
  renderBaselineReplicaSet,
  renderCanaryReplicaSet,
  renderChildren,
  routerOf,
  stableStringify,
  type TrackedContent,
} from '../render';
import { desiredReplicas } from '../render/defaults';
import { planRelease, type ReleaseAction, type ReleaseSettings } from '../rollout/release';
import { releaseSteps, StepsError } from '../rollout/steps';
import { weightedRouter } from '../traffic';
import { isGeneratedRoute, renderHTTPRoute } from '../traffic/gateway-api';
import type { Resolution } from '../environment/resolve';
import type { KindCache } from './caches';
import { AnalysisRunner, type OperatorCredentials } from './analysis';
import { needsApply, withAppliedHash } from './drift';
import { deploymentComplete, deriveStatus, type Observation, releaseStateOf, statusEvents } from './status';

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

const ACTIONS: readonly ReleaseAction[] = ['promote', 'abort', 'retry', 'skip-analysis'];

interface SyncResult {
  observation: Observation;
  requeueAfterMs?: number;
}

export class Reconciler {
  private readonly analysis: AnalysisRunner;

  constructor(private readonly deps: ReconcilerDeps) {
    this.analysis = new AnalysisRunner(deps.client, deps.log, deps.prometheusAddress, deps.prometheusCredentials);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace = '', name = ''] = key.split('/');
    const stored = this.deps.microservices.get(namespace, name);
    // Gone or going: the garbage collector removes the children through their owner references.
    if (!stored || stored.metadata.deletionTimestamp) return {};
    // From here on, the effective Microservice; two Environments or an exceeded limit stop before any write.
    const resolution = this.deps.resolve?.(stored) ?? { ok: true, microservice: stored, defaulted: [] };
    const microservice = resolution.ok ? resolution.microservice : stored;
    const log = this.deps.log.child({ microservice: key, generation: microservice.metadata.generation });
    const requested = microservice.metadata.annotations?.[ANNOTATION_ACTION];
    const action = ACTIONS.find((a) => a === requested);

    let result: SyncResult;
    let failure: unknown;
    try {
      if (!resolution.ok)
        throw resolution.terminal
          ? new TerminalError(resolution.reason, resolution.message)
          : new Error(resolution.message);
      result = await this.sync(microservice, action, log);
    } catch (err) {
      failure = err;
      result = { observation: this.failedObservation(microservice, err) };
    }
    if (resolution.ok)
      result.observation.environment = { name: resolution.environment, defaulted: resolution.defaulted };
    const current = await this.finalizeStatus(microservice, result.observation, log);
    // The action's effect is in status now, so consuming it loses nothing; a crash before this line repeats it harmlessly.
    if (requested !== undefined && !failure) await this.consumeAction(current, requested, action !== undefined, log);
    if (failure) throw failure;
    return { requeueAfterMs: result.requeueAfterMs };
  }

  private async sync(microservice: Microservice, action: ReleaseAction | undefined, log: Logger): Promise<SyncResult> {
    const tracked = await this.readTrackedConfig(microservice);
    const rendered = renderChildren({ microservice, tracked, defaults: this.deps.defaults });
    for (const desired of rendered.objects) {
      if (desired.kind !== 'Deployment') await this.applyChild(microservice, desired, log);
    }
    await this.pruneChildren(microservice, rendered.objects, log);

    const canaries = this.canaryReplicaSets(microservice);
    if (isCanary(microservice.spec) || canaries.length > 0)
      return this.syncCanary(microservice, rendered, canaries, action, log);
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

  /** Canary: the release state machine decides; this carries out its plan. */
  private async syncCanary(
    microservice: Microservice,
    rendered: RenderedChildren,
    canaries: V1ReplicaSet[],
    action: ReleaseAction | undefined,
    log: Logger,
  ): Promise<SyncResult> {
    const { namespace = '', name = '' } = microservice.metadata;
    const analysis = this.analysis.settings(microservice);
    const settings = { ...this.releaseSettings(microservice), baseline: analysis?.baselineMode === 'Fresh' };
    const router = settings.router === 'replicas' ? undefined : weightedRouter(settings.router, this.deps.client);
    const routerWeight = router ? await router.readWeight(microservice) : undefined;
    let deployment = this.liveDeployment(microservice);
    const current = canaries.find((rs) => rs.metadata?.labels?.[LABEL_REVISION] === rendered.revision);
    const stableRevision = deployment?.spec?.template.metadata?.labels?.[LABEL_REVISION];
    const baselines = this.trackReplicaSets(microservice, TRACK_BASELINE);
    const baseline = baselines.find((rs) => rs.metadata?.labels?.[LABEL_REVISION] === stableRevision);
    const status = microservice.status;
    const outcome = analysis
      ? await this.analysis.evaluate(microservice, analysis, {
          canaryRevision: rendered.revision,
          stableRevision,
          releasing:
            stableRevision !== undefined &&
            stableRevision !== rendered.revision &&
            // A retry starts a new release, with a fresh analysis.
            (status?.failedRevision !== rendered.revision || action === 'retry'),
          canaryReadyReplicas: current?.status?.readyReplicas ?? 0,
          promoting: status?.canaryRevision === rendered.revision && (status.currentStep ?? 0) >= settings.steps.length,
          weight: status?.canaryWeight ?? 0,
          action,
          now: this.now(),
        })
      : undefined;

    const plan = planRelease({
      settings,
      strategy: isCanary(microservice.spec) ? 'Canary' : 'Rolling',
      state: releaseStateOf(microservice.status),
      desiredRevision: rendered.revision,
      action,
      analysis: outcome?.gate,
      now: this.now(),
      observed: {
        stableRevision: deployment?.spec?.template.metadata?.labels?.[LABEL_REVISION],
        stableReplicas: deployment?.spec?.replicas ?? 0,
        stablePods: deployment?.status?.replicas ?? 0,
        stableReadyReplicas: deployment?.status?.readyReplicas ?? 0,
        stableComplete: deployment !== undefined && deploymentComplete(deployment),
        canary: current && { replicas: current.spec?.replicas ?? 0, readyReplicas: current.status?.readyReplicas ?? 0 },
        baseline: baseline && {
          replicas: baseline.spec?.replicas ?? 0,
          readyReplicas: baseline.status?.readyReplicas ?? 0,
        },
        staleCanaries: canaries.length - (current ? 1 : 0),
        routerWeight,
      },
    });

    if (plan.deploymentTemplate === 'desired' || !deployment) {
      const desired = this.deploymentOf(rendered);
      if (plan.stableReplicas !== undefined) desired.spec!.replicas = plan.stableReplicas;
      deployment = ((await this.applyChild(microservice, desired, log)) as V1Deployment | undefined) ?? deployment;
    } else if (plan.stableReplicas !== undefined && deployment.spec?.replicas !== plan.stableReplicas) {
      await this.deps.client.scale('apps/v1', 'Deployment', namespace, name, plan.stableReplicas);
      log.info({ replicas: plan.stableReplicas }, 'Scaled Deployment');
    }
    if (plan.canaryReplicas !== undefined) {
      await this.applyChild(
        microservice,
        renderCanaryReplicaSet(microservice, rendered.template, rendered.revision, plan.canaryReplicas),
        log,
      );
    }
    if (plan.baselineReplicas !== undefined && deployment && stableRevision) {
      const template = structuredClone(deployment.spec!.template);
      await this.applyChild(
        microservice,
        renderBaselineReplicaSet(microservice, template, stableRevision, plan.baselineReplicas),
        log,
      );
    }
    for (const rs of baselines) {
      if (plan.baselineReplicas !== undefined && rs === baseline) continue;
      await this.deps.client.delete('apps/v1', 'ReplicaSet', namespace, rs.metadata!.name!, rs.metadata!.uid!);
      log.info({ replicaSet: rs.metadata?.name }, 'Deleted baseline ReplicaSet');
    }
    // The state machine only raises the weight once canary pods are ready; refuse anything else here too.
    const refused =
      plan.routerWeight !== undefined && plan.routerWeight > 0 && (current?.status?.readyReplicas ?? 0) === 0;
    if (refused) log.warn({ weight: plan.routerWeight }, 'Refused to route traffic to a canary with no ready pods');
    if (router && isGeneratedRoute(microservice)) {
      // msop owns the whole generated HTTPRoute: applied on every reconcile, so spec changes and drift are put right.
      const weight = refused ? (routerWeight ?? 0) : (plan.routerWeight ?? routerWeight ?? 0);
      await this.applyChild(microservice, renderHTTPRoute(microservice, weight), log);
    } else if (router && plan.routerWeight !== undefined && plan.routerWeight !== routerWeight && !refused) {
      await router.setWeight(microservice, plan.routerWeight);
      log.info({ router: settings.router, weight: plan.routerWeight }, 'Set canary weight');
    }
    if (plan.deleteCanaries) {
      for (const rs of canaries) {
        if (plan.canaryReplicas !== undefined && rs === current) continue;
        await this.deps.client.delete('apps/v1', 'ReplicaSet', namespace, rs.metadata!.name!, rs.metadata!.uid!);
        log.info({ replicaSet: rs.metadata?.name }, 'Deleted canary ReplicaSet');
      }
    }
    for (const event of [...(outcome?.events ?? []), ...plan.events]) {
      log.info({ reason: event.reason }, event.message);
      await this.deps.events.record(microservice, event.type, event.reason, event.message);
    }
    for (const { metric, verdict } of outcome?.verdicts ?? [])
      this.deps.metrics?.recordAnalysisVerdict(metric, verdict);
    if (analysis) {
      const ctx = {
        canaryRevision: rendered.revision,
        stableRevision,
        releasing: true,
        canaryReadyReplicas: 0,
        promoting: false,
        weight: plan.canaryWeight,
        now: this.now(),
      };
      if (plan.events.some((e) => e.reason === 'Promoted'))
        await this.analysis.notify(microservice, 'post-rollout', ctx);
      if (plan.events.some((e) => e.reason === 'RolledBack')) await this.analysis.notify(microservice, 'rollback', ctx);
    }
    const observation = this.observation(microservice, rendered.revision, deployment, {
      release: {
        plan,
        analysis: outcome?.status,
        stepCount: settings.steps.length,
        canary: current && { replicas: current.spec?.replicas ?? 0, readyReplicas: current.status?.readyReplicas ?? 0 },
      },
    });
    const inRelease = plan.state.canaryRevision !== undefined;
    const requeues = [plan.requeueAfterMs, inRelease ? outcome?.requeueAfterMs : undefined].filter(
      (ms): ms is number => ms !== undefined,
    );
    return { observation, requeueAfterMs: requeues.length > 0 ? Math.min(...requeues) : undefined };
  }

  private releaseSettings(microservice: Microservice): ReleaseSettings {
    const release = microservice.spec.release;
    let steps;
    try {
      steps = releaseSteps(release?.canary);
    } catch (err) {
      if (err instanceof StepsError) throw new TerminalError('InvalidSteps', err.message);
      throw err;
    }
    return {
      steps,
      router: routerOf(microservice.spec),
      replicas: desiredReplicas(microservice.spec),
      autoscaled: microservice.spec.autoscaling !== undefined,
      paused: release?.paused === true,
      progressDeadlineMs: (release?.progressDeadlineSeconds ?? 600) * 1_000,
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
    if (live) await this.handOverReplicas(sent, live, log);
    const written = await this.deps.client.apply(sent, FIELD_MANAGER);
    this.deps.owned[kind]?.recordWrite(written, live?.metadata?.resourceVersion);
    const verb = live ? 'Updated' : 'Created';
    const revision =
      kind === 'Deployment'
        ? ` to revision ${(desired as V1Deployment).spec?.template.metadata?.labels?.[LABEL_REVISION]}`
        : '';
    log.info({ kind, name }, `${verb} ${kind}`);
    await this.deps.events.record(owner, 'Normal', verb, `${verb} ${kind} ${name}${revision}`);
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
      for (const live of this.deps.owned[kind]?.list(namespace) ?? []) {
        const name = live.metadata?.name ?? '';
        if (wanted.has(`${kind}/${name}`) || !isControlledBy(live, uid)) continue;
        await this.deps.client.delete(apiVersion, kind, namespace, name, live.metadata!.uid!);
        log.info({ kind, name }, `Deleted ${kind}`);
        await this.deps.events.record(
          owner,
          'Normal',
          'Deleted',
          `Deleted ${kind} ${name}: the spec no longer asks for it`,
        );
      }
    }
  }

  private canaryReplicaSets(microservice: Microservice): V1ReplicaSet[] {
    return this.trackReplicaSets(microservice, TRACK_CANARY);
  }

  /** The ReplicaSets msop made for a track (canary, baseline) of this Microservice. */
  private trackReplicaSets(microservice: Microservice, track: string): V1ReplicaSet[] {
    const { namespace = '', name = '', uid = '' } = microservice.metadata;
    return (this.deps.owned.ReplicaSet?.list(namespace) ?? []).filter(
      (rs) =>
        rs.metadata?.labels?.[LABEL_TRACK] === track &&
        rs.metadata?.labels?.[LABEL_MICROSERVICE] === name &&
        isControlledBy(rs, uid),
    ) as V1ReplicaSet[];
  }

  private liveDeployment(microservice: Microservice): V1Deployment | undefined {
    return this.deps.owned.Deployment?.get(microservice.metadata.namespace ?? '', microservice.metadata.name ?? '') as
      V1Deployment | undefined;
  }

  private deploymentOf(rendered: RenderedChildren): V1Deployment {
    return structuredClone(rendered.objects.find((o) => o.kind === 'Deployment')) as V1Deployment;
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
      await this.deps.events.record(microservice, event.type, event.reason, event.message);
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
      await this.deps.events.record(
        microservice,
        'Warning',
        'UnknownAction',
        `Ignored msop.dev/action "${requested}": use promote, abort, retry or skip-analysis`,
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

/** Replicas the Microservice wants now: the HPA's current choice under autoscaling. */
function replicasOf(microservice: Microservice, deployment: V1Deployment | undefined): number {
  if (microservice.spec.autoscaling)
    return deployment?.spec?.replicas ?? microservice.spec.autoscaling.minReplicas ?? 1;
  return desiredReplicas(microservice.spec);
}
