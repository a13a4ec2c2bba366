// Records every write to the objects of one release (the Microservice, its
// Deployment, canary ReplicaSets and route objects) through watches, merges
// them into one stream ordered by resourceVersion, and replays it to check
// the release invariants after every single write. Ordering by
// resourceVersion relies on etcd's global revision, which is what the test
// cluster runs; it is a test-only assumption.
import type { KubernetesObject, V1Deployment, V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import type { Microservice } from '../../src/api/types';
import { resourcePath, resourceType } from '../../src/kube/resources';
import { client } from './harness';

type Kind =
  | 'Microservice'
  | 'Deployment'
  | 'ReplicaSet'
  | 'HTTPRoute'
  | 'VirtualService'
  | 'Ingress'
  | 'Service'
  | 'EndpointSlice';

const API: Record<Kind, string> = {
  Microservice: 'msop.dev/v1alpha1',
  Deployment: 'apps/v1',
  ReplicaSet: 'apps/v1',
  HTTPRoute: 'gateway.networking.k8s.io/v1',
  VirtualService: 'networking.istio.io/v1',
  Ingress: 'networking.k8s.io/v1',
  Service: 'v1',
  EndpointSlice: 'discovery.k8s.io/v1',
};

interface Recorded {
  rv: bigint;
  /** When the watch delivered it (Date.now()), to tell what happened during an outage. */
  seenAt: number;
  kind: Kind;
  type: string;
  object: KubernetesObject;
}

export type WeightReader = (objects: Map<string, KubernetesObject>) => number | undefined;

export class ReleaseRecorder {
  readonly events: Recorded[] = [];
  private readonly abort = new AbortController();
  private readonly streams: Promise<void>[] = [];
  private readonly initial = new Map<string, KubernetesObject>();
  private readonly gaps: string[] = [];

  constructor(
    private readonly namespace: string,
    private readonly name: string,
    private readonly kinds: Kind[],
    private readonly readWeight?: WeightReader,
  ) {}

  async start(): Promise<void> {
    for (const kind of ['Microservice', 'Deployment', 'ReplicaSet', ...this.kinds] as Kind[]) {
      const list = await client.list(API[kind], kind, this.namespace);
      for (const item of list.items) this.initial.set(`${kind}/${item.metadata?.name}`, { ...item, kind });
      this.streams.push(this.record(kind, list.metadata.resourceVersion ?? ''));
    }
  }

  /**
   * Watches one kind until stopped. A watch that ends (the server's timeout, or an API server that went
   * away, as in the chaos suite) resumes from the last version seen. A restarted API server's watch cache
   * may refuse that version (410 Expired): then a fresh list must show every object at the version last
   * recorded, which proves no write was missed; otherwise the record has a hole, reported as a violation.
   */
  private async record(kind: Kind, from: string): Promise<void> {
    const path = resourcePath(resourceType(API[kind], kind), this.namespace);
    let resourceVersion = from;
    while (!this.abort.signal.aborted) {
      let expired: unknown;
      await client
        .watch<KubernetesObject>(
          path,
          { resourceVersion, allowWatchBookmarks: true },
          undefined,
          (event) => {
            if (event.type === 'ERROR') {
              expired = event.object;
              return;
            }
            resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
            if (event.type === 'BOOKMARK') return;
            const rv = BigInt(event.object.metadata?.resourceVersion ?? '0');
            this.events.push({ rv, seenAt: Date.now(), kind, type: event.type, object: { ...event.object, kind } });
          },
          this.abort.signal,
        )
        .catch(() => undefined);
      if (this.abort.signal.aborted) break;
      if (expired) {
        const list = await client.list(API[kind], kind, this.namespace).catch(() => undefined);
        if (!list) continue;
        const missed = this.missedWrites(kind, list.items);
        if (missed.length > 0) {
          this.gaps.push(`the ${kind} watch expired (${JSON.stringify(expired)}) and missed ${missed.join(', ')}`);
          return;
        }
        resourceVersion = list.metadata.resourceVersion ?? resourceVersion;
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Objects of `kind` whose listed version is not the last one recorded. */
  private missedWrites(kind: Kind, listed: KubernetesObject[]): string[] {
    const recorded = new Map<string, string | undefined>();
    for (const [key, object] of this.initial)
      if (key.startsWith(`${kind}/`)) recorded.set(key, object.metadata?.resourceVersion);
    for (const event of [...this.events].sort((a, b) => (a.rv < b.rv ? -1 : a.rv > b.rv ? 1 : 0))) {
      if (event.kind !== kind) continue;
      const key = `${kind}/${event.object.metadata?.name}`;
      if (event.type === 'DELETED') recorded.delete(key);
      else recorded.set(key, event.object.metadata?.resourceVersion);
    }
    const missed: string[] = [];
    for (const item of listed) {
      const key = `${kind}/${item.metadata?.name}`;
      if (recorded.get(key) !== item.metadata?.resourceVersion) missed.push(`${key}@${item.metadata?.resourceVersion}`);
      recorded.delete(key);
    }
    return [...missed, ...[...recorded.keys()].map((key) => `the deletion of ${key}`)];
  }

  /**
   * True once a fresh list of every recorded kind shows each object at the version last recorded: nothing
   * is in flight. A test that stops the API server waits for this first, since a write the watch had not
   * delivered when the server died cannot be read back from a restarted server's watch cache.
   */
  async caughtUp(): Promise<boolean> {
    for (const kind of ['Microservice', 'Deployment', 'ReplicaSet', ...this.kinds] as Kind[]) {
      const list = await client.list(API[kind], kind, this.namespace);
      if (this.missedWrites(kind, list.items).length > 0) return false;
    }
    return true;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.streams);
  }

  /** Replays the writes in order and returns every invariant broken, with the write that broke it. */
  violations(): string[] {
    const state = new Map(this.initial);
    const problems: string[] = [...this.gaps];
    let lastWeight: { revision: string; weight: number } | undefined;
    let deploymentRevision = revisionOf(state.get(`Deployment/${this.name}`));
    const ordered = [...this.events].sort((a, b) => (a.rv < b.rv ? -1 : a.rv > b.rv ? 1 : 0));
    for (const event of ordered) {
      const key = `${event.kind}/${event.object.metadata?.name}`;
      if (event.type === 'DELETED') state.delete(key);
      else state.set(key, event.object);
      const at = `after ${event.type} ${key} (rv ${event.rv})`;

      const ms = state.get(`Microservice/${this.name}`) as Microservice | undefined;
      const deployment = state.get(`Deployment/${this.name}`) as V1Deployment | undefined;
      const canaries = [...state.values()].filter(
        (o) =>
          o.kind === 'ReplicaSet' &&
          o.metadata?.labels?.['msop.dev/track'] === 'canary' &&
          o.metadata?.labels?.['msop.dev/microservice'] === this.name,
      ) as V1ReplicaSet[];
      const canaryReady = canaries.reduce((sum, rs) => sum + (rs.status?.readyReplicas ?? 0), 0);
      const stableReady = deployment?.status?.readyReplicas ?? 0;
      const weight = this.readWeight ? this.readWeight(state) : ms?.status?.canaryWeight;

      // Traffic never goes to a track with zero ready pods.
      if (this.readWeight && weight !== undefined) {
        if (weight > 0 && canaryReady === 0) problems.push(`canary weight ${weight} with no ready canary pod ${at}`);
        if (weight < 100 && stableReady === 0 && revisionOf(deployment))
          problems.push(`stable weight ${100 - weight} with no ready stable pod ${at}`);
      }

      // The stable template changes only at promotion: after the last step of a release for that revision.
      const revision = revisionOf(deployment);
      if (event.kind === 'Deployment' && revision !== deploymentRevision) {
        const promoted =
          ms?.status?.canaryRevision === revision && (ms?.status?.currentStep ?? 0) >= (ms?.status?.stepCount ?? 0);
        if (deploymentRevision !== undefined && !promoted)
          problems.push(`stable template moved ${deploymentRevision} → ${revision} outside a promotion ${at}`);
        deploymentRevision = revision;
      }

      // Within one release the canary weight never goes down, until the Deployment has been promoted.
      const releasing = ms?.status?.canaryRevision;
      if (releasing && weight !== undefined && revision !== releasing && ms?.status?.phase !== 'RolledBack') {
        if (lastWeight?.revision === releasing && weight < lastWeight.weight)
          problems.push(
            `canary weight went down ${lastWeight.weight} → ${weight} (step ${ms?.status?.currentStep}, phase ${ms?.status?.phase}, ready canary ${canaryReady} stable ${stableReady}, "${ms?.status?.message}") ${at}`,
          );
        lastWeight = { revision: releasing, weight };
      }
      if (ms?.status?.phase === 'RolledBack') lastWeight = undefined;
    }
    return problems;
  }

  /**
   * The blue-green invariants, after every write (record Service and EndpointSlice too): the live Service
   * never selects zero ready pods nor two revisions; it moves to the preview only once every preview pod is
   * ready and listed in the preview's EndpointSlices; the stable template changes only after the switch.
   */
  blueGreenViolations(): string[] {
    const state = new Map(this.initial);
    const problems: string[] = [];
    let deploymentRevision = revisionOf(state.get(`Deployment/${this.name}`));
    let liveSelector = JSON.stringify(selectorOf(state.get(`Service/${this.name}`)));
    let switched = false;
    let lastWeight = this.readWeight?.(state) ?? 0;
    for (const event of [...this.events].sort((a, b) => (a.rv < b.rv ? -1 : a.rv > b.rv ? 1 : 0))) {
      const key = `${event.kind}/${event.object.metadata?.name}`;
      if (event.type === 'DELETED') state.delete(key);
      else state.set(key, event.object);
      const at = `after ${event.type} ${key} (rv ${event.rv})`;
      const selector = selectorOf(state.get(`Service/${this.name}`));
      if (!selector) continue;
      // What live traffic reaches: the Service <name>, or under a weighted router the backends with a share.
      const share = this.readWeight?.(state);
      const live =
        share === undefined
          ? [selector]
          : [
              share < 100 ? selectorOf(state.get(`Service/${this.name}-stable`)) : undefined,
              share > 0 ? selectorOf(state.get(`Service/${this.name}-preview`)) : undefined,
            ].filter((s): s is Record<string, string> => s !== undefined);
      const revisions = new Set<string | undefined>();
      for (const backend of live) {
        const sets = [...state.values()].filter(
          (o) => o.kind === 'ReplicaSet' && matches(backend, (o as V1ReplicaSet).spec?.template?.metadata?.labels),
        ) as V1ReplicaSet[];
        if (sets.reduce((sum, rs) => sum + (rs.status?.readyReplicas ?? 0), 0) === 0)
          problems.push(`live traffic reaches ${JSON.stringify(backend)} with no ready pod ${at}`);
        for (const rs of sets)
          if ((rs.status?.replicas ?? 0) > 0) revisions.add(rs.spec?.template?.metadata?.labels?.['msop.dev/revision']);
      }
      if (revisions.size > 1) problems.push(`live traffic reaches revisions ${[...revisions].join(' and ')} ${at}`);
      const now = JSON.stringify(selector);
      const weight = this.readWeight?.(state) ?? 0;
      const toRevision = selector['msop.dev/revision'] ?? (weight > 0 ? releasingOf(state, this.name) : undefined);
      const moved = (now !== liveSelector && event.kind === 'Service') || (weight > 0 && lastWeight === 0);
      if (moved && toRevision) {
        const preview = state.get(`ReplicaSet/${this.name}-preview-${toRevision}`) as V1ReplicaSet | undefined;
        const want = preview?.spec?.replicas ?? 0;
        if (!preview || (preview.status?.readyReplicas ?? 0) < want)
          problems.push(`switched to ${toRevision} before every preview pod was ready ${at}`);
        const endpoints = [...state.values()]
          .filter(
            (o) =>
              o.kind === 'EndpointSlice' &&
              o.metadata?.labels?.['kubernetes.io/service-name'] === `${this.name}-preview`,
          )
          .flatMap((o) => (o as { endpoints?: { conditions?: { ready?: boolean } }[] }).endpoints ?? [])
          .filter((e) => e.conditions?.ready !== false).length;
        if (endpoints < want)
          problems.push(`switched to ${toRevision} with ${endpoints}/${want} preview endpoints ready ${at}`);
        switched = true;
      }
      lastWeight = weight;
      liveSelector = now;
      const revision = revisionOf(state.get(`Deployment/${this.name}`));
      if (event.kind === 'Deployment' && revision !== deploymentRevision) {
        if (deploymentRevision !== undefined && !switched)
          problems.push(`stable template moved ${deploymentRevision} → ${revision} before the switch ${at}`);
        deploymentRevision = revision;
      }
    }
    return problems;
  }

  /** The weights the route carried, in order, without repeats. */
  weights(): number[] {
    const state = new Map(this.initial);
    const seen: number[] = [];
    for (const event of [...this.events].sort((a, b) => (a.rv < b.rv ? -1 : a.rv > b.rv ? 1 : 0))) {
      const key = `${event.kind}/${event.object.metadata?.name}`;
      if (event.type === 'DELETED') state.delete(key);
      else state.set(key, event.object);
      const ms = state.get(`Microservice/${this.name}`) as Microservice | undefined;
      const weight = this.readWeight ? this.readWeight(state) : ms?.status?.canaryWeight;
      if (weight !== undefined && seen[seen.length - 1] !== weight) seen.push(weight);
    }
    return seen;
  }
}

function releasingOf(state: Map<string, KubernetesObject>, name: string): string | undefined {
  return (state.get(`Microservice/${name}`) as Microservice | undefined)?.status?.canaryRevision;
}

function selectorOf(service: KubernetesObject | undefined): Record<string, string> | undefined {
  return (service as V1Service | undefined)?.spec?.selector;
}

function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function revisionOf(deployment: KubernetesObject | undefined): string | undefined {
  return (deployment as V1Deployment | undefined)?.spec?.template.metadata?.labels?.['msop.dev/revision'];
}

/** True when `expected` appears in `list` in order, other values allowed in between. */
export function inOrder(list: number[], expected: number[]): boolean {
  let next = 0;
  for (const value of list) if (value === expected[next]) next += 1;
  return next === expected.length;
}
