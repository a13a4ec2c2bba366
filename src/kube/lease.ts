// The coordination.k8s.io/v1 Lease that leader election holds: read, create, and
// replace with the resourceVersion it was read at, so two replicas that race for
// it cannot both win (the loser gets 409 Conflict).
import type { KubeClient } from './client';
import { isNotFound } from './errors';
import { resourcePath, resourceType } from './resources';

/** spec of a Lease as JSON: times are MicroTime strings. */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string> };
  spec?: LeaseSpec;
}

/** Where the leader elector keeps its Lease; an in-memory one stands in for unit tests. */
export interface LeaseStore {
  readonly description: string;
  /** The Lease, or undefined when there is none. */
  get(): Promise<Lease | undefined>;
  /** Creates the Lease; fails with 409 when another replica created it first. */
  create(spec: LeaseSpec): Promise<Lease>;
  /** Replaces the Lease read earlier; fails with 409 when it changed since. */
  update(lease: Lease, spec: LeaseSpec): Promise<Lease>;
}

/** MicroTime as the API server parses it: RFC 3339 with exactly six fractional digits. */
export function microTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const LEASE = resourceType('coordination.k8s.io/v1', 'Lease');

export class KubeLeaseStore implements LeaseStore {
  readonly description: string;

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly name: string,
    /** Each call gives up after this long, so a hung connection cannot stall renewals. */
    private readonly timeoutMs = 5_000,
  ) {
    this.description = `${namespace}/${name}`;
  }

  async get(): Promise<Lease | undefined> {
    try {
      return await this.client.request<Lease>('GET', resourcePath(LEASE, this.namespace, this.name), {
        timeoutMs: this.timeoutMs,
      });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  create(spec: LeaseSpec): Promise<Lease> {
    const lease: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, labels: { 'app.kubernetes.io/managed-by': 'msop' } },
      spec,
    };
    return this.client.request<Lease>('POST', resourcePath(LEASE, this.namespace), {
      body: lease,
      timeoutMs: this.timeoutMs,
    });
  }

  update(lease: Lease, spec: LeaseSpec): Promise<Lease> {
    // PUT with the resourceVersion we read: a compare-and-swap on the whole record.
    const body: Lease = { ...lease, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', spec };
    return this.client.request<Lease>('PUT', resourcePath(LEASE, this.namespace, this.name), {
      body,
      timeoutMs: this.timeoutMs,
    });
  }
}
