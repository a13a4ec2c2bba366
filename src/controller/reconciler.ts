// reconcile(key): read the Microservice and what it owns, converge the
// children, and write status once at the end, whatever happened (Flux's
// finalizeStatus). Errors are rethrown for a rate-limited retry.
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import {
  API_VERSION,
  FIELD_MANAGER,
  KIND,
  LABEL_MICROSERVICE,
  LABEL_REVISION,
  STATUS_FIELD_MANAGER,
} from '../api/constants';
import type { Microservice, MicroserviceStatus } from '../api/types';
import type { KubeClient } from '../kube/client';
import { errorMessage, isNotFound, TerminalError } from '../kube/errors';
import type { EventRecorder } from '../kube/events';
import type { Logger } from '../observability/logger';
import {
  type ConfigReference,
  ownedKinds,
  referencedConfig,
  type RenderDefaults,
  renderChildren,
  stableStringify,
  type TrackedContent,
} from '../render';
import { desiredReplicas } from '../render/defaults';
import type { KindCache } from './caches';
import { isControlledBy, needsApply, withAppliedHash } from './drift';
import { deriveStatus, type Observation, statusEvents } from './status';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export interface ReconcilerDeps {
  client: KubeClient;
  microservices: KindCache<Microservice>;
  /** Caches of the owned kinds, by kind. */
  owned: Record<string, KindCache<KubernetesObject>>;
  events: EventRecorder;
  log: Logger;
  defaults: RenderDefaults;
  now?: () => Date;
}

export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace = '', name = ''] = key.split('/');
    const microservice = this.deps.microservices.get(namespace, name);
    // Gone or going: the garbage collector removes the children through their owner references.
    if (!microservice || microservice.metadata.deletionTimestamp) return {};
    const log = this.deps.log.child({ microservice: key, generation: microservice.metadata.generation });

    let observation: Observation;
    let failure: unknown;
    try {
      observation = await this.sync(microservice, log);
    } catch (err) {
      failure = err;
      observation = this.failedObservation(microservice, err);
    }
    await this.finalizeStatus(microservice, observation, log);
    if (failure) throw failure;
    return {};
  }

  private async sync(microservice: Microservice, log: Logger): Promise<Observation> {
    const { namespace = '', name = '' } = microservice.metadata;
    const tracked = await this.readTrackedConfig(microservice);
    const rendered = renderChildren({ microservice, tracked, defaults: this.deps.defaults });

    let deployment = this.deps.owned.Deployment?.get(namespace, name) as V1Deployment | undefined;
    const liveRevision = deployment?.spec?.template.metadata?.labels?.[LABEL_REVISION];
    // A paused release keeps the Deployment exactly as it is, scale included.
    const heldBack = microservice.spec.release?.paused === true && liveRevision !== rendered.revision;

    for (const desired of rendered.objects) {
      if (heldBack && desired.kind === 'Deployment') continue;
      const written = await this.applyChild(microservice, desired, log);
      if (written && desired.kind === 'Deployment') deployment = written as V1Deployment;
    }
    await this.pruneChildren(microservice, rendered.objects, log);

    return {
      generation: microservice.metadata.generation ?? 0,
      desiredRevision: rendered.revision,
      desiredReplicas: replicasOf(microservice, deployment),
      deployment,
      heldBack,
      selector: `${LABEL_MICROSERVICE}=${name}`,
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
      throw new TerminalError(
        'NotOwned',
        `${kind} ${namespace}/${name} already exists and is not managed by Microservice ${owner.metadata.name}; delete or rename it so msop can manage it`,
      );
    }
    const sent = withAppliedHash(desired);
    if (!needsApply(sent, live)) return undefined;
    const written = await this.deps.client.apply(sent, FIELD_MANAGER);
    const verb = live ? 'Updated' : 'Created';
    const revision =
      kind === 'Deployment'
        ? ` to revision ${(desired as V1Deployment).spec?.template.metadata?.labels?.[LABEL_REVISION]}`
        : '';
    log.info({ kind, name }, `${verb} ${kind}`);
    await this.deps.events.record(owner, 'Normal', verb, `${verb} ${kind} ${name}${revision}`);
    return written;
  }

  /** Deletes owned objects the spec no longer asks for (a PodDisruptionBudget or an HPA). */
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

  private failedObservation(microservice: Microservice, err: unknown): Observation {
    const { namespace = '', name = '' } = microservice.metadata;
    const deployment = this.deps.owned.Deployment?.get(namespace, name) as V1Deployment | undefined;
    const terminal = err instanceof TerminalError;
    return {
      generation: microservice.metadata.generation ?? 0,
      desiredReplicas: replicasOf(microservice, deployment),
      deployment,
      heldBack: false,
      selector: `${LABEL_MICROSERVICE}=${name}`,
      failure: {
        reason: terminal ? err.reason : 'ReconcileError',
        message: errorMessage(err),
        terminal,
      },
    };
  }

  /** The one status write of a reconcile, skipped when nothing changed. */
  private async finalizeStatus(microservice: Microservice, observation: Observation, log: Logger): Promise<void> {
    const previous = microservice.status;
    const next = deriveStatus(previous, observation, (this.deps.now?.() ?? new Date()).toISOString());
    if (stableStringify(previous ?? {}) === stableStringify(next)) return;
    const { name, namespace } = microservice.metadata;
    await this.deps.client.applyStatus(
      { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace }, status: next } as Microservice,
      STATUS_FIELD_MANAGER,
    );
    log.debug({ phase: next.phase }, 'Updated status');
    for (const event of statusEvents(previous as MicroserviceStatus | undefined, next)) {
      await this.deps.events.record(microservice, event.type, event.reason, event.message);
    }
  }
}

/** Replicas the Microservice wants now: the HPA's current choice under autoscaling. */
function replicasOf(microservice: Microservice, deployment: V1Deployment | undefined): number {
  if (microservice.spec.autoscaling)
    return deployment?.spec?.replicas ?? microservice.spec.autoscaling.minReplicas ?? 1;
  return desiredReplicas(microservice.spec);
}
