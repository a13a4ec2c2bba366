// Wires informers to the work queue and runs the workers. Informer callbacks
// only enqueue keys; everything else happens in reconcile.
import type { KubernetesObject, V1ReplicaSet } from '@kubernetes/client-node';
import { GROUP, KIND, LABEL_MANAGED_BY, LABEL_MICROSERVICE, MANAGED_BY } from '../api/constants';
import type { Environment } from '../api/environment.generated';
import type { Microservice } from '../api/types';
import type { OperatorConfig } from '../config';
import type { KubeClient } from '../kube/client';
import { isConflict, TerminalError } from '../kube/errors';
import { EventRecorder } from '../kube/events';
import { Informer, type InformerEventType, type InformerOptions, objectKey } from '../kube/informer';
import { type Logger, reconcileLogger } from '../observability/logger';
import { MeteredWorkQueue, type OperatorMetrics } from '../observability/metrics';
import { type Resolution, resolveMicroservice } from '../environment/resolve';
import { selects } from '../environment/selector';
import { ownedKinds, referencedConfig, trafficOf } from '../render';
import { canaryIngressName } from '../traffic/nginx';
import { KindCache } from './caches';
import { Reconciler } from './reconciler';
import { WorkQueue } from './workqueue';

const ROUTE_KINDS = [
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', optional: true },
  { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', optional: true },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', optional: false },
] as const;
type RouteKind = (typeof ROUTE_KINDS)[number]['kind'];

/** A ReplicaSet a Deployment controls, without its pod template: a few KiB less each in the cache. */
export function withoutDeploymentTemplate(object: KubernetesObject): KubernetesObject {
  const rs = object as V1ReplicaSet;
  if (!rs.metadata?.ownerReferences?.some((ref) => ref.controller === true && ref.kind === 'Deployment')) return rs;
  if (!rs.spec?.template) return rs;
  const spec = { ...rs.spec };
  delete spec.template;
  return { ...rs, spec } as KubernetesObject;
}

export type ManagerOptions = Pick<
  OperatorConfig,
  'watchNamespaces' | 'concurrency' | 'resyncSeconds' | 'defaultResources' | 'prometheusAddress'
> &
  Partial<
    Pick<
      OperatorConfig,
      'defaultRouter' | 'defaultAnalysis' | 'prometheusAuthSecret' | 'comparatorImage' | 'shardSelector'
    >
  >;

/** Optional wiring from main.ts: metrics, and a gate that holds the workers until this replica leads. */
export interface ManagerHooks {
  metrics?: OperatorMetrics;
  /** Resolves true once this replica may write (it holds the leader Lease), false to never start workers. */
  waitForLeadership?: (signal?: AbortSignal) => Promise<boolean>;
}

export class Manager {
  readonly queue: WorkQueue;
  /** Reconciles finished since start, successful or not. */
  reconciles = 0;
  private readonly informers: Informer<KubernetesObject>[] = [];
  private readonly microservices: KindCache<Microservice>;
  private readonly environments: Informer<Environment & KubernetesObject>;
  private readonly namespaceLabels: Informer<KubernetesObject>;
  private readonly reconciler: Reconciler;
  private readonly events: EventRecorder;
  private workers: Promise<void>[] = [];
  private resyncTimer?: NodeJS.Timeout;

  constructor(
    client: KubeClient,
    private readonly options: ManagerOptions,
    private readonly log: Logger,
    private readonly hooks: ManagerHooks = {},
  ) {
    this.queue = hooks.metrics ? new MeteredWorkQueue(hooks.metrics) : new WorkQueue();
    hooks.metrics?.setSources({ queueDepth: () => this.queue.length, microservices: () => this.microservices.list() });
    const namespaces = options.watchNamespaces.length > 0 ? options.watchNamespaces : [undefined];
    const informersFor = <T extends KubernetesObject>(
      apiVersion: string,
      kind: string,
      extra: Omit<InformerOptions, 'apiVersion' | 'kind' | 'namespace'> = {},
    ) => {
      const created = namespaces.map(
        (namespace) => new Informer<T>(client, { apiVersion, kind, namespace, ...extra }, log),
      );
      this.informers.push(...(created as unknown as Informer<KubernetesObject>[]));
      return created;
    };

    // A shard sees only its Microservices: one relabelled away leaves this cache (a watch DELETED), so its
    // reconciles find nothing and write nothing, while the shard it moved to picks it up from status.
    const microserviceInformers = informersFor<Microservice>(
      `${GROUP}/v1alpha1`,
      KIND,
      options.shardSelector ? { labelSelector: options.shardSelector } : {},
    );
    this.microservices = new KindCache(microserviceInformers);
    for (const informer of microserviceInformers)
      informer.on((type, ms, previous) => this.onMicroservice(type, ms, previous));

    const owned: Record<string, KindCache<KubernetesObject>> = {};
    for (const { apiVersion, kind } of [...ownedKinds, { apiVersion: 'apps/v1', kind: 'ReplicaSet' }]) {
      const replicaSets = kind === 'ReplicaSet';
      const kindInformers = informersFor<KubernetesObject>(apiVersion, kind, {
        // ReplicaSets: msop's (canary, baseline, comparator) and the stable Deployment's, which carry its pods'
        // labels but not managed-by. A release counts pods by revision across both (rollout/pod-counts.ts).
        labelSelector: replicaSets ? LABEL_MICROSERVICE : `${LABEL_MANAGED_BY}=${MANAGED_BY}`,
        indexLabel: LABEL_MICROSERVICE,
        // Turning on an HPA reads who manages the Deployment's spec.replicas (Reconciler.handOverReplicas).
        keepManagedFields: kind === 'Deployment',
        // Of the Deployment's ReplicaSets msop reads labels, owner, replica counts: not the pod template.
        trim: replicaSets ? withoutDeploymentTemplate : undefined,
      });
      for (const informer of kindInformers) informer.on((_type, object) => this.enqueueOwner(object));
      owned[kind] = new KindCache(kindInformers);
    }

    // Referenced ConfigMaps and Secrets are part of the revision; only their metadata is cached.
    for (const kind of ['ConfigMap', 'Secret'] as const) {
      for (const informer of informersFor<KubernetesObject>('v1', kind, { metadataOnly: true })) {
        informer.on((_type, object) => this.enqueueReferencing(kind, object));
      }
    }

    // The routes msop sets weights on, its own or the user's: an edit by hand is put right at once, not at the
    // next resync. Only names are needed to find the Microservice. A router's CRD may be installed after msop
    // starts: an optional informer lists it again with backoff (at most 30 s) until it is there.
    for (const { apiVersion, kind, optional } of ROUTE_KINDS) {
      for (const informer of informersFor<KubernetesObject>(apiVersion, kind, { metadataOnly: true, optional })) {
        informer.on((_type, object) => this.enqueueRouted(kind, object));
      }
    }

    // Environments and the namespaces' labels decide which Environment applies; both are cluster-scoped.
    this.environments = new Informer<Environment & KubernetesObject>(
      client,
      { apiVersion: `${GROUP}/v1alpha1`, kind: 'Environment', optional: true },
      log,
    );
    this.environments.on((_type, env, previous) => this.enqueueSelected(env, previous));
    this.namespaceLabels = new Informer<KubernetesObject>(
      client,
      { apiVersion: 'v1', kind: 'Namespace', metadataOnly: true },
      log,
    );
    this.namespaceLabels.on((type, ns, previous) => {
      if (type === 'DELETED') return;
      if (JSON.stringify(ns.metadata?.labels ?? {}) === JSON.stringify(previous?.metadata?.labels ?? {})) return;
      for (const ms of this.microservices.list(ns.metadata?.name)) this.queue.add(objectKey(ms));
    });
    this.informers.push(this.environments as unknown as Informer<KubernetesObject>, this.namespaceLabels);

    this.events = new EventRecorder(client, log);
    this.reconciler = new Reconciler({
      client,
      microservices: this.microservices,
      owned,
      events: this.events,
      log,
      defaults: { resources: options.defaultResources, comparatorImage: options.comparatorImage },
      prometheusAddress: options.prometheusAddress,
      prometheusCredentials: options.prometheusAuthSecret && {
        secret: options.prometheusAuthSecret,
        // The operator's credentials go with the operator's Prometheus, never to an address a team chose.
        addresses: [
          options.prometheusAddress,
          (options.defaultAnalysis?.prometheus as { address?: string } | undefined)?.address,
        ]
          .filter((a): a is string => typeof a === 'string' && a !== '')
          .map((a) => a.replace(/\/+$/, '')),
      },
      resolve: (ms) => this.resolve(ms),
      metrics: hooks.metrics,
    });
  }

  /** Starts the informers, waits until their caches are filled, then starts the workers. */
  async start(signal?: AbortSignal): Promise<void> {
    for (const informer of this.informers) informer.start();
    while (!this.hasSynced()) {
      if (signal?.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    this.log.info({ informers: this.informers.length, namespaces: this.options.watchNamespaces }, 'Caches synced');
    // Informers run on every replica, so a standby that becomes leader starts from a warm cache.
    if (this.hooks.waitForLeadership && !(await this.hooks.waitForLeadership(signal))) return;
    if (this.queue.isShuttingDown) return;
    this.log.info({ concurrency: this.options.concurrency }, 'Starting workers');
    this.hooks.metrics?.setConcurrency(this.options.concurrency);
    this.workers = Array.from({ length: this.options.concurrency }, () => this.work());
    this.resyncTimer = setInterval(() => this.enqueueAll(), this.options.resyncSeconds * 1_000);
    this.resyncTimer.unref();
  }

  hasSynced(): boolean {
    return this.informers.every((informer) => informer.hasSynced());
  }

  /** Stops taking work, lets running reconciles finish, then stops the informers. */
  async stop(): Promise<void> {
    clearInterval(this.resyncTimer);
    this.queue.shutDown();
    await Promise.all(this.workers);
    // The last reconciles' Events are queued, not yet written.
    await this.events.flush(2_000);
    await Promise.all(this.informers.map((informer) => informer.stop()));
    this.log.info('Stopped');
  }

  private async work(): Promise<void> {
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      const finished = this.hooks.metrics?.startReconcile();
      const log = reconcileLogger(this.log, key);
      try {
        const result = await this.reconciler.reconcile(key, log);
        finished?.(result.requeueAfterMs !== undefined ? 'requeue_after' : 'success');
        this.queue.forget(key);
        if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        finished?.('error', { terminal: err instanceof TerminalError });
        const retryInMs = this.queue.addRateLimited(key);
        // A conflict only means a newer version exists; the retry reads it.
        if (isConflict(err)) log.debug({ retryInMs }, 'Conflict, retrying');
        else log.error({ err, retryInMs }, 'Reconcile failed');
      } finally {
        this.reconciles += 1;
        this.queue.done(key);
      }
    }
  }

  private onMicroservice(type: InformerEventType, ms: Microservice, previous?: Microservice): void {
    if (type === 'DELETED') return;
    // Status writes bump resourceVersion but not generation: they need no reconcile.
    const changed =
      type === 'ADDED' ||
      ms.metadata.generation !== previous?.metadata.generation ||
      ms.metadata.deletionTimestamp !== previous?.metadata.deletionTimestamp ||
      JSON.stringify(ms.metadata.annotations ?? {}) !== JSON.stringify(previous?.metadata.annotations ?? {});
    if (changed) this.queue.add(objectKey(ms));
  }

  private enqueueOwner(object: KubernetesObject): void {
    const owner = object.metadata?.ownerReferences?.find(
      (ref) => ref.controller && ref.kind === KIND && ref.apiVersion.startsWith(`${GROUP}/`),
    );
    // A canary ReplicaSet handed over to the Deployment at promotion has no Microservice owner any more; its
    // label still names it, so the Deployment controller's claim and scaling wake the handover's next step.
    const name = owner?.name ?? object.metadata?.labels?.[LABEL_MICROSERVICE];
    if (name) this.queue.add(`${object.metadata?.namespace}/${name}`);
  }

  /** The effective Microservice, from the cached Environments and namespace labels. */
  resolve(ms: Microservice): Resolution {
    const namespace = this.namespaceLabels.get('', ms.metadata.namespace ?? '');
    return resolveMicroservice(ms, this.environments.list(), namespace && { ...namespace.metadata?.labels }, {
      resources: this.options.defaultResources,
      router: this.options.defaultRouter ?? 'replicas',
      analysis: this.options.defaultAnalysis,
      prometheusAddress: this.options.prometheusAddress,
    });
  }

  /** An Environment changed: the Microservices in the namespaces it selects, or selected before, are reconciled. */
  private enqueueSelected(env: Environment, previous?: Environment): void {
    for (const ns of this.namespaceLabels.list()) {
      const labels = ns.metadata?.labels ?? {};
      if (!selects(env.spec?.namespaceSelector, labels) && !selects(previous?.spec?.namespaceSelector, labels))
        continue;
      for (const ms of this.microservices.list(ns.metadata?.name)) this.queue.add(objectKey(ms));
    }
  }

  private enqueueReferencing(kind: 'ConfigMap' | 'Secret', object: KubernetesObject): void {
    const name = object.metadata?.name;
    for (const ms of this.microservices.list(object.metadata?.namespace)) {
      // The Environment's env and envFrom reference ConfigMaps and Secrets too.
      const resolved = this.resolve(ms);
      const refs = referencedConfig(resolved.ok ? resolved.microservice.spec : ms.spec);
      const list = kind === 'ConfigMap' ? refs.configMaps : refs.secrets;
      if (list.some((ref) => ref.name === name)) this.queue.add(objectKey(ms));
    }
  }

  /** A route changed: the Microservices whose traffic settings name it (or whose canary Ingress it is). */
  private enqueueRouted(kind: RouteKind, object: KubernetesObject): void {
    const name = object.metadata?.name;
    for (const ms of this.microservices.list(object.metadata?.namespace)) {
      const resolved = this.resolve(ms);
      const traffic = trafficOf(resolved.ok ? resolved.microservice.spec : ms.spec);
      const routed =
        kind === 'HTTPRoute'
          ? traffic?.router === 'gatewayAPI' && (traffic.gatewayAPI?.httpRoute ?? ms.metadata.name) === name
          : kind === 'VirtualService'
            ? traffic?.router === 'istio' && traffic.istio?.virtualService === name
            : traffic?.router === 'nginx' &&
              traffic.nginx !== undefined &&
              [traffic.nginx.ingress, canaryIngressName(traffic.nginx.ingress, ms.metadata.name!)].includes(name!);
      if (routed) this.queue.add(objectKey(ms));
    }
  }

  private enqueueAll(): void {
    for (const ms of this.microservices.list()) this.queue.add(objectKey(ms));
  }
}
