// Where the API server is and who msop is to it: a kubeconfig context, or the pod's ServiceAccount.
// controller-runtime's order: $KUBECONFIG, then in-cluster, then ~/.kube/config. This replaces
// client-node's KubeConfig, whose model classes cost 83 MiB of resident memory before any object.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { load } from 'js-yaml';

export interface ExecConfig {
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  apiVersion: string;
  /** The kubeconfig's directory: a relative command is run from there, as kubectl does. */
  dir: string;
}

/** One resolved context: file paths are absolute, `*Data` fields are base64 as in the kubeconfig. */
export interface KubeContext {
  name: string;
  namespace?: string;
  cluster: {
    server: string;
    caFile?: string;
    caData?: string;
    insecureSkipTLSVerify: boolean;
    tlsServerName?: string;
  };
  user: {
    token?: string;
    tokenFile?: string;
    certFile?: string;
    certData?: string;
    keyFile?: string;
    keyData?: string;
    username?: string;
    password?: string;
    exec?: ExecConfig;
    impersonate?: { user?: string; groups?: string[]; uid?: string };
  };
}

export class KubeConfigError extends Error {}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Raw = Record<string, unknown>;

function record(value: unknown): Raw {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Raw) : {};
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The entries of one named list (clusters, users, contexts), first file first, as kubectl merges them. */
function entries(files: { path: string; config: Raw }[], list: string, field: string): Map<string, Raw> {
  const found = new Map<string, Raw>();
  for (const file of files) {
    const items = file.config[list];
    for (const item of Array.isArray(items) ? items : []) {
      const name = str(record(item).name);
      if (name !== undefined && !found.has(name))
        found.set(name, { ...record(record(item)[field]), $dir: path.dirname(file.path) });
    }
  }
  return found;
}

function absolute(dir: unknown, file: unknown): string | undefined {
  const value = str(file);
  return value === undefined ? undefined : path.resolve(String(dir), value);
}

/**
 * Resolves one context from kubeconfig files (their text, first file first): `context`, or the
 * current-context of the first file that sets one. Throws a KubeConfigError that names what is missing.
 */
export function resolveKubeConfig(files: { path: string; text: string }[], context?: string): KubeContext {
  const parsed = files.map((file) => {
    try {
      return { path: file.path, config: record(load(file.text)) };
    } catch (err) {
      throw new KubeConfigError(`${file.path} is not a kubeconfig: ${(err as Error).message}`);
    }
  });
  const where = files.map((f) => f.path).join(', ');
  const name = context ?? parsed.map((f) => str(f.config['current-context'])).find((c) => c !== undefined);
  if (name === undefined)
    throw new KubeConfigError(`${where} sets no current-context; choose one with \`kubectl config use-context\``);
  const ctx = entries(parsed, 'contexts', 'context').get(name);
  if (!ctx) throw new KubeConfigError(`${where} has no context named "${name}"`);
  const clusterName = str(ctx.cluster);
  const cluster = clusterName === undefined ? undefined : entries(parsed, 'clusters', 'cluster').get(clusterName);
  if (!cluster) throw new KubeConfigError(`context "${name}" names cluster "${clusterName}", which ${where} lacks`);
  const server = str(cluster.server);
  if (!server) throw new KubeConfigError(`cluster "${clusterName}" has no server`);
  if (str(cluster['proxy-url']))
    throw new KubeConfigError(`cluster "${clusterName}" sets proxy-url, which msop does not support`);
  const userName = str(ctx.user);
  const user = userName === undefined ? {} : entries(parsed, 'users', 'user').get(userName);
  if (!user) throw new KubeConfigError(`context "${name}" names user "${userName}", which ${where} lacks`);
  const authProvider = str(record(user['auth-provider']).name);
  if (authProvider)
    throw new KubeConfigError(
      `user "${userName}" uses the auth-provider "${authProvider}", which Kubernetes removed; use its exec plugin`,
    );
  const exec = record(user.exec);
  const groups = user['as-groups'];
  return {
    name,
    namespace: str(ctx.namespace),
    cluster: {
      server: server.replace(/\/$/, ''),
      caFile: absolute(cluster.$dir, cluster['certificate-authority']),
      caData: str(cluster['certificate-authority-data']),
      insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
      tlsServerName: str(cluster['tls-server-name']),
    },
    user: {
      token: str(user.token),
      tokenFile: absolute(user.$dir, user.tokenFile),
      certFile: absolute(user.$dir, user['client-certificate']),
      certData: str(user['client-certificate-data']),
      keyFile: absolute(user.$dir, user['client-key']),
      keyData: str(user['client-key-data']),
      username: str(user.username),
      password: str(user.password),
      exec: str(exec.command)
        ? {
            command: str(exec.command)!,
            args: (Array.isArray(exec.args) ? exec.args : []).map(String),
            env: (Array.isArray(exec.env) ? exec.env : []).map((e) => ({
              name: str(record(e).name) ?? '',
              value: str(record(e).value) ?? '',
            })),
            apiVersion: str(exec.apiVersion) ?? 'client.authentication.k8s.io/v1',
            dir: String(user.$dir),
          }
        : undefined,
      impersonate:
        str(user.as) || Array.isArray(groups) || str(user['as-uid'])
          ? {
              user: str(user.as),
              groups: Array.isArray(groups) ? groups.map(String) : undefined,
              uid: str(user['as-uid']),
            }
          : undefined,
    },
  };
}

/** The pod's own ServiceAccount, as client-go's InClusterConfig reads it, or undefined outside a pod. */
export function inClusterContext(env: NodeJS.ProcessEnv, dir = SERVICE_ACCOUNT_DIR): KubeContext | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port || !existsSync(path.join(dir, 'token'))) return undefined;
  const namespaceFile = path.join(dir, 'namespace');
  return {
    name: 'in-cluster',
    namespace: existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined,
    cluster: {
      server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
      caFile: path.join(dir, 'ca.crt'),
      insecureSkipTLSVerify: false,
    },
    // The kubelet rotates a projected token; it is read again from the file (see auth.ts).
    user: { tokenFile: path.join(dir, 'token') },
  };
}

export interface LoadOptions {
  /** A kubeconfig file (`--kubeconfig`); otherwise $KUBECONFIG, in-cluster, then ~/.kube/config. */
  file?: string;
  context?: string;
  env?: NodeJS.ProcessEnv;
  home?: string;
  serviceAccountDir?: string;
}

export function loadKubeConfig(options: LoadOptions = {}): KubeContext {
  const env = options.env ?? process.env;
  const read = (files: string[]) =>
    resolveKubeConfig(
      files.map((file) => {
        try {
          return { path: file, text: readFileSync(file, 'utf8') };
        } catch (err) {
          throw new KubeConfigError(`cannot read the kubeconfig ${file}: ${(err as Error).message}`);
        }
      }),
      options.context,
    );
  if (options.file) return read([options.file]);
  const fromEnv = (env.KUBECONFIG ?? '').split(path.delimiter).filter((f) => f !== '' && existsSync(f));
  if (fromEnv.length > 0) return read(fromEnv);
  const inCluster = inClusterContext(env, options.serviceAccountDir);
  if (inCluster && !options.context) return inCluster;
  const home = path.join(options.home ?? homedir(), '.kube', 'config');
  if (existsSync(home)) return read([home]);
  throw new KubeConfigError(
    'no kubeconfig found: set KUBECONFIG, write ~/.kube/config, or run in a pod with a ServiceAccount token',
  );
}
