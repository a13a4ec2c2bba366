// Read-only views over the informers, one per kind, whether msop watches all
// namespaces (one informer) or a list of them (one informer each).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Informer } from '../kube/informer';

export class KindCache<T extends KubernetesObject> {
  constructor(readonly informers: Informer<T>[]) {}

  get(namespace: string, name: string): T | undefined {
    for (const informer of this.informers) {
      const found = informer.get(namespace, name);
      if (found) return found;
    }
    return undefined;
  }

  list(namespace?: string): T[] {
    return this.informers.flatMap((informer) => informer.list(namespace));
  }

  /** The objects of a namespace whose index label (the owned kinds: msop.dev/microservice) has this value. */
  listByLabel(namespace: string, value: string): T[] {
    return this.informers.flatMap((informer) => informer.listByLabel(namespace, value));
  }

  /** See Informer.recordWrite: read-your-writes for the next reconcile. */
  recordWrite(object: T, readVersion: string | undefined): void {
    const namespace = object.metadata?.namespace;
    const informer = this.informers.find((i) => i.options.namespace === undefined || i.options.namespace === namespace);
    informer?.recordWrite(object, readVersion);
  }

  hasSynced(): boolean {
    return this.informers.every((informer) => informer.hasSynced());
  }
}
