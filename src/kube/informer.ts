// A list-and-watch cache for one kind, wrapped once so every informer restarts
// with backoff, relists on 410 Gone, and is restarted by a watchdog when the
// stream goes silent for longer than the server-side watch timeout allows.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Backoff } from './backoff';
import type { KubeClient, ObjectList, WatchEvent } from './client';
import { ApiError, isGone, isNotFound } from './errors';
import { resourcePath, resourceType } from './resources';

export type InformerEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export type InformerHandler<T> = (type: InformerEventType, object: T, previous?: T) => void;

export interface InformerOptions {
  apiVersion: string;
  kind: string;
  /** Omit to watch all namespaces. */
  namespace?: string;
  labelSelector?: string;
  /** Cache only metadata (PartialObjectMetadata): for kinds whose content is read on demand. */
  metadataOnly?: boolean;
  /**
   * The kind's CRD may be missing (an upgrade that did not apply it): a 404 then counts as an empty, synced
   * cache, so the other kinds still work, and the list is retried with backoff until the CRD appears.
   */
  optional?: boolean;
  /** The server closes each watch after this long; a clean close just resumes. */
  watchTimeoutSeconds?: number;
  /** A label to look objects up by (within a namespace) without scanning the whole cache. */
  indexLabel?: string;
  /**
   * Keep metadata.managedFields in the cache. By default they are dropped, as client-go's
   * TransformStripManagedFields does: they are often a third of an object, and only a few readers need them.
   */
  keepManagedFields?: boolean;
  /** Trims what the cache keeps of each object (its readers' fields only). Returns a new object, never mutates. */
  trim?: (object: KubernetesObject) => KubernetesObject;
}

const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const METADATA_OBJECT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
const PAGE_SIZE = 500;

export const objectKey = (o: KubernetesObject): string =>
  o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : (o.metadata?.name ?? '');

export class Informer<T extends KubernetesObject> {
  private readonly cache = new Map<string, T>();
  /** `namespace/value of indexLabel` → cache keys: a reconcile finds its children without an O(N) scan. */
  private readonly index = new Map<string, Set<string>>();
  private readonly handlers: InformerHandler<T>[] = [];
  // Jittered: when the API server comes back, every informer of every replica would otherwise relist at once.
  private readonly backoff = new Backoff(1_000, 30_000, Math.random);
  private readonly path: string;
  private readonly watchTimeoutSeconds: number;
  private resourceVersion = '';
  private synced = false;
  private stopped = false;
  private abort = new AbortController();
  private loop?: Promise<void>;

  constructor(
    private readonly client: KubeClient,
    readonly options: InformerOptions,
    private readonly log: Logger,
  ) {
    this.path = resourcePath(resourceType(options.apiVersion, options.kind), options.namespace);
    this.watchTimeoutSeconds = options.watchTimeoutSeconds ?? 300;
  }

  on(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  /** A cluster-scoped object has the namespace ''. */
  get(namespace: string, name: string): T | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  /** The objects of a namespace whose indexLabel has this value (none without an indexLabel). */
  listByLabel(namespace: string, value: string): T[] {
    const keys = this.index.get(`${namespace}/${value}`) ?? [];
    return [...keys].map((key) => this.cache.get(key)!);
  }

  private indexKey(object: T | undefined): string | undefined {
    const value = this.options.indexLabel && object?.metadata?.labels?.[this.options.indexLabel];
    return value === undefined || value === '' ? undefined : `${object?.metadata?.namespace ?? ''}/${value}`;
  }

  /** Every cache write goes through here and remove(), so the index always matches the cache. */
  private put(key: string, object: T): void {
    const before = this.indexKey(this.cache.get(key));
    const after = this.indexKey(object);
    this.cache.set(key, object);
    if (before === after) return;
    if (before !== undefined) this.unindex(before, key);
    if (after !== undefined) {
      let keys = this.index.get(after);
      if (!keys) this.index.set(after, (keys = new Set()));
      keys.add(key);
    }
  }

  private remove(key: string): void {
    const before = this.indexKey(this.cache.get(key));
    this.cache.delete(key);
    if (before !== undefined) this.unindex(before, key);
  }

  private unindex(indexKey: string, key: string): void {
    const keys = this.index.get(indexKey);
    keys?.delete(key);
    if (keys?.size === 0) this.index.delete(indexKey);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /**
   * Records an object msop has just written, so that the next reconcile reads its own write instead of
   * the version before it. Only replaces the version the writer had read: a newer one from the watch wins.
   * No handler runs; the watch event for this version arrives later as usual.
   */
  recordWrite(object: T, readVersion: string | undefined): void {
    const key = objectKey(object);
    const cached = this.cache.get(key);
    if (cached && cached.metadata?.resourceVersion !== readVersion) return;
    this.put(key, this.withTypeMeta(object));
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) await this.relist();
        needList = false;
        await this.watchOnce();
        this.backoff.reset();
      } catch (err) {
        if (this.stopped) break;
        needList = true;
        if (isGone(err)) {
          this.log.info({ kind: this.options.kind }, 'Watch expired (410 Gone), relisting');
          continue;
        }
        const delay = this.backoff.next();
        if (this.options.optional && isNotFound(err)) {
          if (!this.synced)
            this.log.warn(
              { kind: this.options.kind, retryInMs: delay },
              `The ${this.options.kind} API is not installed; apply its CRD to use it`,
            );
          this.synced = true;
          await this.pause(delay);
          continue;
        }
        this.log.warn({ kind: this.options.kind, err, retryInMs: delay }, 'Informer failed, restarting');
        await this.pause(delay);
      }
    }
  }

  /** The wait before a retry; stop() ends it at once, so a shutdown never waits out a backoff (up to 30 s). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.abort.signal.addEventListener('abort', done);
    });
  }

  private async relist(): Promise<void> {
    const fresh = new Map<string, T>();
    let continueToken: string | undefined;
    let resourceVersion: string;
    do {
      const page = await this.client.request<ObjectList<T>>('GET', this.path, {
        query: { labelSelector: this.options.labelSelector, limit: PAGE_SIZE, continue: continueToken },
        accept: this.options.metadataOnly ? METADATA_LIST : undefined,
        signal: this.abort.signal,
      });
      // An empty PartialObjectMetadataList has no items field at all.
      for (const item of page.items ?? []) fresh.set(objectKey(item), this.withTypeMeta(item));
      continueToken = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion ?? '';
    } while (continueToken);

    for (const [key, previous] of this.cache) {
      if (!fresh.has(key)) {
        this.remove(key);
        this.emit('DELETED', previous);
      }
    }
    for (const [key, object] of fresh) {
      const previous = this.cache.get(key);
      this.put(key, object);
      if (!previous) this.emit('ADDED', object);
      else if (previous.metadata?.resourceVersion !== object.metadata?.resourceVersion)
        this.emit('MODIFIED', object, previous);
    }
    this.resourceVersion = resourceVersion;
    this.synced = true;
  }

  private async watchOnce(): Promise<void> {
    const stream = new AbortController();
    const onStop = () => stream.abort();
    this.abort.signal.addEventListener('abort', onStop);
    // The server ends the watch after watchTimeoutSeconds; silence well past that means a dead connection.
    const stallMs = (this.watchTimeoutSeconds + 30) * 1_000;
    let watchdog = setTimeout(() => stream.abort(new Error(`watch silent for ${stallMs / 1000}s`)), stallMs);
    try {
      await this.client.watch<T>(
        this.path,
        {
          labelSelector: this.options.labelSelector,
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: this.watchTimeoutSeconds,
        },
        this.options.metadataOnly ? METADATA_OBJECT : undefined,
        (event) => {
          clearTimeout(watchdog);
          watchdog = setTimeout(() => stream.abort(new Error(`watch silent for ${stallMs / 1000}s`)), stallMs);
          this.handle(event);
        },
        stream.signal,
      );
    } catch (err) {
      throw stream.signal.aborted && stream.signal.reason instanceof Error ? stream.signal.reason : err;
    } finally {
      clearTimeout(watchdog);
      this.abort.signal.removeEventListener('abort', onStop);
    }
  }

  private handle(event: WatchEvent<T>): void {
    if (event.type === 'ERROR') {
      const status = event.object as { code?: number; reason?: string; message?: string };
      throw new ApiError(
        status.code ?? 500,
        status.reason ?? '',
        `watch ${this.path}: ${status.message ?? 'error event'}`,
      );
    }
    const object = this.withTypeMeta(event.object);
    this.resourceVersion = object.metadata?.resourceVersion ?? this.resourceVersion;
    if (event.type === 'BOOKMARK') return;
    const key = objectKey(object);
    const previous = this.cache.get(key);
    if (event.type === 'DELETED') {
      this.remove(key);
      this.emit('DELETED', object);
      return;
    }
    this.put(key, object);
    this.emit(previous ? 'MODIFIED' : 'ADDED', object, previous);
  }

  /** List items come without apiVersion and kind; set them so cached objects are self-describing. Trims, and drops managedFields unless kept. */
  private withTypeMeta(object: T): T {
    const typed = { ...object, apiVersion: this.options.apiVersion, kind: this.options.kind };
    const trimmed = this.options.trim ? (this.options.trim(typed) as T) : typed;
    if (this.options.keepManagedFields || !trimmed.metadata?.managedFields) return trimmed;
    const metadata = { ...trimmed.metadata };
    delete metadata.managedFields;
    return { ...trimmed, metadata };
  }

  private emit(type: InformerEventType, object: T, previous?: T): void {
    for (const handler of this.handlers) {
      try {
        handler(type, object, previous);
      } catch (err) {
        this.log.error({ kind: this.options.kind, err }, 'Informer handler failed');
      }
    }
  }
}
