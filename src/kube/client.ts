// The only place that talks HTTP to the Kubernetes API, over node:http(s) with one keep-alive pool.
// Authentication and TLS come from the resolved kubeconfig context (auth.ts); the verbs are the few
// msop needs.
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ClusterAuth, type TlsMaterial } from './auth';
import { ApiError, isNotFound, UnreachableError } from './errors';
import type { KubeContext } from './kubeconfig';
import { resourcePath, resourceType } from './resources';

export interface ObjectList<T> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

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
/**
 * Applies skip the API server's strict decode, which looks for unknown and duplicate fields only to warn of
 * them: msop builds its objects from the schemas' own types and reads no warnings, and the decode is about
 * 5% of kube-apiserver's CPU for a Microservice status write (npm run bench -- --status-writes).
 */
const UNCHECKED = 'Ignore';
const DEFAULT_TIMEOUT_MS = 30_000;

/** Told of every request: its status code ("<error>" when no answer came), method and host. */
export type RequestObserver = (code: number | '<error>', method: string, host: string) => void;

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString()));
    response.on('error', reject);
  });
}

export class KubeClient {
  private readonly auth: ClusterAuth;
  /** One pool per TLS material: a rotated certificate gets a new pool, the old one drains and closes. */
  private agent?: { tls: TlsMaterial; value: http.Agent };

  constructor(
    private readonly context: KubeContext,
    private readonly observe: RequestObserver = () => undefined,
  ) {
    this.auth = new ClusterAuth(context);
  }

  private pool(secure: boolean, tls: TlsMaterial): http.Agent {
    const same = (Object.keys(tls) as (keyof TlsMaterial)[]).every((key) => this.agent?.tls[key] === tls[key]);
    if (!this.agent || !same) {
      const old = this.agent?.value;
      const options = { keepAlive: true, ...tls };
      this.agent = { tls, value: secure ? new https.Agent(options) : new http.Agent(options) };
      // Requests in flight (watches too) finish on the old pool; its idle sockets close now, the rest
      // as they come free.
      if (old) {
        for (const sockets of Object.values(old.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
        old.on('free', (socket: { destroy(): void }) => socket.destroy());
      }
    }
    return this.agent.value;
  }

  private async send(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    const url = new URL(this.context.cluster.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const { headers, tls } = await this.auth.credentials();
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const secure = url.protocol === 'https:';
    const signals = [
      options.signal,
      options.timeoutMs === 0 ? undefined : AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    ].filter((s): s is AbortSignal => s !== undefined);
    let response: IncomingMessage;
    try {
      response = await new Promise<IncomingMessage>((resolve, reject) => {
        const request = (secure ? https : http).request(url, {
          method,
          agent: this.pool(secure, tls),
          headers: {
            ...headers,
            accept: options.accept ?? JSON_TYPE,
            ...(body === undefined
              ? {}
              : { 'content-type': options.contentType ?? JSON_TYPE, 'content-length': Buffer.byteLength(body) }),
          },
          signal: AbortSignal.any(signals),
        });
        request.on('response', resolve);
        request.on('error', reject);
        request.end(body);
      });
    } catch (err) {
      this.observe('<error>', method, url.host);
      if (options.signal?.aborted) throw err;
      const reason =
        (err as Error).name === 'AbortError'
          ? `no answer in ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`
          : (err as Error).message;
      throw new UnreachableError(`cannot reach the API server at ${url.host}: ${reason}`, { cause: err });
    }
    const status = response.statusCode ?? 0;
    this.observe(status, method, url.host);
    if (status < 200 || status > 299) {
      if (status === 401) this.auth.rejected();
      throw ApiError.fromResponse(method, url.pathname, status, await readBody(response));
    }
    return response;
  }

  async request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    return JSON.parse(await readBody(await this.send(method, path, options))) as T;
  }

  get<T extends KubernetesObject>(apiVersion: string, kind: string, namespace: string, name: string): Promise<T> {
    return this.request<T>('GET', resourcePath(resourceType(apiVersion, kind), namespace, name));
  }

  list<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace?: string,
    query?: Query,
  ): Promise<ObjectList<T>> {
    return this.request<ObjectList<T>>('GET', resourcePath(resourceType(apiVersion, kind), namespace), {
      query,
    });
  }

  create<T extends KubernetesObject>(object: T): Promise<T> {
    const type = resourceType(object.apiVersion!, object.kind!);
    return this.request<T>('POST', resourcePath(type, object.metadata?.namespace), { body: object });
  }

  /** Server-side apply: the field manager owns exactly the fields sent. */
  apply<T extends KubernetesObject>(object: T, fieldManager: string): Promise<T> {
    const type = resourceType(object.apiVersion!, object.kind!);
    const path = resourcePath(type, object.metadata?.namespace, object.metadata?.name);
    return this.request<T>('PATCH', path, {
      query: { fieldManager, force: true, fieldValidation: UNCHECKED },
      body: object,
      contentType: APPLY_TYPE,
    });
  }

  /** Server-side apply to the status subresource. */
  applyStatus<T extends KubernetesObject>(object: T, fieldManager: string): Promise<T> {
    const type = resourceType(object.apiVersion!, object.kind!);
    const path = `${resourcePath(type, object.metadata?.namespace, object.metadata?.name)}/status`;
    return this.request<T>('PATCH', path, {
      query: { fieldManager, force: true, fieldValidation: UNCHECKED },
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
    return this.request<T>('PATCH', path, { body: patch, contentType: MERGE_TYPE });
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
    return this.request<T>('PATCH', path, { body: operations, contentType: JSON_PATCH_TYPE });
  }

  /** Sets replicas through the scale subresource, leaving every other field and its owner alone. */
  async scale(apiVersion: string, kind: string, namespace: string, name: string, replicas: number): Promise<void> {
    const path = `${resourcePath(resourceType(apiVersion, kind), namespace, name)}/scale`;
    await this.request('PATCH', path, { body: { spec: { replicas } }, contentType: MERGE_TYPE });
  }

  /** Deletes only the object with this uid, so a same-named replacement is never hit. */
  async delete(apiVersion: string, kind: string, namespace: string, name: string, uid: string): Promise<void> {
    const path = resourcePath(resourceType(apiVersion, kind), namespace, name);
    try {
      const response = await this.send('DELETE', path, {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid }, propagationPolicy: 'Background' },
      });
      response.resume();
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
    const response = await this.send('GET', path, {
      query: { ...query, watch: true },
      accept,
      signal,
      timeoutMs: 0,
    });
    const lines = createInterface({ input: response, crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      onEvent(JSON.parse(line) as WatchEvent<T>);
    }
  }
}
