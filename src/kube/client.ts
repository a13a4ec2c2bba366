// The only place that talks HTTP to the Kubernetes API. Authentication and TLS
// come from client-node's KubeConfig; the verbs are the few msop needs.
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { fetch } from 'undici';
import type { Dispatcher } from 'undici';
import { ApiError, isNotFound } from './errors';
import { resourcePath, resourceType } from './resources';

export interface ObjectList<T> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

type Query = Record<string, string | number | boolean | undefined>;

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'test';
  path: string;
  value?: unknown;
}

interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

const JSON_TYPE = 'application/json';
const APPLY_TYPE = 'application/apply-patch+yaml';
const MERGE_TYPE = 'application/merge-patch+json';
const JSON_PATCH_TYPE = 'application/json-patch+json';
const DEFAULT_TIMEOUT_MS = 30_000;

/** How long one connection pool serves before a new one picks up rotated client certificates. */
const DISPATCHER_MAX_AGE_MS = 10 * 60_000;

/** Told of every request: its status code ("<error>" when no answer came), method and host. */
export type RequestObserver = (code: number | '<error>', method: string, host: string) => void;

export class KubeClient {
  private dispatcher?: { value: Dispatcher | undefined; createdAt: number };

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly observe: RequestObserver = () => undefined,
  ) {}

  /**
   * client-node builds a new undici Agent for every request, so every call would open a fresh TLS
   * connection. Keep the first one as a shared pool; headers (tokens) are still taken per request.
   */
  private pooled(fresh: Dispatcher | undefined): Dispatcher | undefined {
    const now = Date.now();
    if (!this.dispatcher || now - this.dispatcher.createdAt > DISPATCHER_MAX_AGE_MS) {
      const old = this.dispatcher?.value;
      this.dispatcher = { value: fresh, createdAt: now };
      // Let requests in flight on the old pool finish before closing it.
      if (old && old !== fresh) void old.close().catch(() => undefined);
      return fresh;
    }
    if (fresh && fresh !== this.dispatcher.value) void fresh.close().catch(() => undefined);
    return this.dispatcher.value;
  }

  private async send(method: HttpMethod, path: string, options: RequestOptions = {}) {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster)
      throw new Error('The kubeconfig has no current cluster; set a context with `kubectl config use-context`');
    const url = new URL(cluster.server.replace(/\/$/, '') + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const ctx = new RequestContext(url.toString(), method);
    await this.kubeConfig.applySecurityAuthentication(ctx);
    const headers: Record<string, string> = { ...ctx.getHeaders(), accept: options.accept ?? JSON_TYPE };
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? JSON_TYPE;
    const signals = [
      options.signal,
      options.timeoutMs === 0 ? undefined : AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    ];
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        dispatcher: this.pooled(ctx.getDispatcher() as Dispatcher | undefined),
        signal: AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined)),
      });
    } catch (err) {
      this.observe('<error>', method, url.host);
      throw err;
    }
    this.observe(response.status, method, url.host);
    if (!response.ok) {
      throw ApiError.fromResponse(method, url.pathname, response.status, await response.text());
    }
    return response;
  }

  async request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    return (await response.json()) as T;
  }

  get<T extends KubernetesObject>(apiVersion: string, kind: string, namespace: string, name: string): Promise<T> {
    return this.request<T>(HttpMethod.GET, resourcePath(resourceType(apiVersion, kind), namespace, name));
  }

  list<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace?: string,
    query?: Query,
  ): Promise<ObjectList<T>> {
    return this.request<ObjectList<T>>(HttpMethod.GET, resourcePath(resourceType(apiVersion, kind), namespace), {
      query,
    });
  }

  create<T extends KubernetesObject>(object: T): Promise<T> {
    const type = resourceType(object.apiVersion!, object.kind!);
    return this.request<T>(HttpMethod.POST, resourcePath(type, object.metadata?.namespace), { body: object });
  }

  /** Server-side apply: the field manager owns exactly the fields sent. */
  apply<T extends KubernetesObject>(object: T, fieldManager: string): Promise<T> {
    const type = resourceType(object.apiVersion!, object.kind!);
    const path = resourcePath(type, object.metadata?.namespace, object.metadata?.name);
    return this.request<T>(HttpMethod.PATCH, path, {
      query: { fieldManager, force: true },
      body: object,
      contentType: APPLY_TYPE,
    });
  }

  /** Server-side apply to the status subresource. */
  applyStatus<T extends KubernetesObject>(object: T, fieldManager: string): Promise<T> {
    const type = resourceType(object.apiVersion!, object.kind!);
    const path = `${resourcePath(type, object.metadata?.namespace, object.metadata?.name)}/status`;
    return this.request<T>(HttpMethod.PATCH, path, {
      query: { fieldManager, force: true },
      body: object,
      contentType: APPLY_TYPE,
    });
  }

  mergePatch<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
    patch: unknown,
  ): Promise<T> {
    const path = resourcePath(resourceType(apiVersion, kind), namespace, name);
    return this.request<T>(HttpMethod.PATCH, path, { body: patch, contentType: MERGE_TYPE });
  }

  /** A JSON patch; `test` operations make it fail rather than change an object that moved on. */
  jsonPatch<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
    operations: JsonPatchOperation[],
  ): Promise<T> {
    const path = resourcePath(resourceType(apiVersion, kind), namespace, name);
    return this.request<T>(HttpMethod.PATCH, path, { body: operations, contentType: JSON_PATCH_TYPE });
  }

  /** Sets replicas through the scale subresource, leaving every other field and its owner alone. */
  async scale(apiVersion: string, kind: string, namespace: string, name: string, replicas: number): Promise<void> {
    const path = `${resourcePath(resourceType(apiVersion, kind), namespace, name)}/scale`;
    await this.request(HttpMethod.PATCH, path, { body: { spec: { replicas } }, contentType: MERGE_TYPE });
  }

  /** Deletes only the object with this uid, so a same-named replacement is never hit. */
  async delete(apiVersion: string, kind: string, namespace: string, name: string, uid: string): Promise<void> {
    const path = resourcePath(resourceType(apiVersion, kind), namespace, name);
    try {
      await this.send(HttpMethod.DELETE, path, {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid }, propagationPolicy: 'Background' },
      });
    } catch (err) {
      // Already gone is what a delete wants; failing the reconcile for it would throw its other work away.
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * Streams watch events until the server closes the stream, the signal aborts,
   * or the stream fails. Resolves on a clean close and rejects on failure.
   */
  async watch<T>(
    path: string,
    query: Query,
    accept: string | undefined,
    onEvent: (event: WatchEvent<T>) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const response = await this.send(HttpMethod.GET, path, {
      query: { ...query, watch: true },
      accept,
      signal,
      timeoutMs: 0,
    });
    const lines = createInterface({ input: Readable.fromWeb(response.body as never), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      onEvent(JSON.parse(line) as WatchEvent<T>);
    }
  }
}
