// Records every write to the objects of one release (the Microservice, its
// Deployment, canary ReplicaSets and route objects) through watches, merges
// them into one stream ordered by resourceVersion, and replays it to check
// the release invariants after every single write. Ordering by
// resourceVersion relies on etcd's global revision, which is what the test
// cluster runs; it is a test-only assumption.
import type { KubernetesObject, V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import type { Microservice } from '../../src/api/types';
import { resourcePath, resourceType } from '../../src/kube/resources';
import { client } from './harness';

type Kind = 'Microservice' | 'Deployment' | 'ReplicaSet' | 'HTTPRoute' | 'VirtualService' | 'Ingress';

const API: Record<Kind, string> = {
  Microservice: 'msop.dev/v1alpha1',
  Deployment: 'apps/v1',
  ReplicaSet: 'apps/v1',
  HTTPRoute: 'gateway.networking.k8s.io/v1',
  VirtualService: 'networking.istio.io/v1',
  Ingress: 'networking.k8s.io/v1',
};

interface Recorded {
  rv: bigint;
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
      const path = resourcePath(resourceType(API[kind], kind), this.namespace);
      this.streams.push(
        client
          .watch<KubernetesObject>(
            path,
            { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: false },
            undefined,
            (event) => {
              if (event.type === 'ERROR' || event.type === 'BOOKMARK') return;
              const rv = BigInt(event.object.metadata?.resourceVersion ?? '0');
              this.events.push({ rv, kind, type: event.type, object: { ...event.object, kind } });
            },
            this.abort.signal,
          )
          .catch(() => undefined),
      );
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.streams);
  }

  /** Replays the writes in order and returns every invariant broken, with the write that broke it. */
  violations(): string[] {
    const state = new Map(this.initial);
    const problems: string[] = [];
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
          problems.push(`canary weight went down ${lastWeight.weight} → ${weight} ${at}`);
        lastWeight = { revision: releasing, weight };
      }
      if (ms?.status?.phase === 'RolledBack') lastWeight = undefined;
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

function revisionOf(deployment: KubernetesObject | undefined): string | undefined {
  return (deployment as V1Deployment | undefined)?.spec?.template.metadata?.labels?.['msop.dev/revision'];
}

/** True when `expected` appears in `list` in order, other values allowed in between. */
export function inOrder(list: number[], expected: number[]): boolean {
  let next = 0;
  for (const value of list) if (value === expected[next]) next += 1;
  return next === expected.length;
}
