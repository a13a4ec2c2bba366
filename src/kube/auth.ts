// The headers and TLS material for one request to the API server, from a resolved context. Files are
// read again after a minute, so a rotated ServiceAccount token or certificate is picked up as client-go
// does; an exec plugin's credential is kept until it expires, or until the server answers 401.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ExecConfig, KubeContext } from './kubeconfig';
import { KubeConfigError } from './kubeconfig';

export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
  servername?: string;
}

export interface Credentials {
  headers: Record<string, string | string[]>;
  tls: TlsMaterial;
}

export interface ExecCredential {
  token?: string;
  cert?: string;
  key?: string;
  /** When it must be fetched again (ms since the epoch); undefined keeps it until a 401. */
  expiresAt?: number;
}

export type ExecRunner = (exec: ExecConfig) => Promise<ExecCredential>;

/** How long file contents are trusted before they are read again. */
const FILE_TTL_MS = 60_000;
/** An exec credential is renewed this long before it expires, so no request carries a stale one. */
const EXEC_MARGIN_MS = 10_000;

const run = promisify(execFile);

/** Runs a client-go credential plugin (client.authentication.k8s.io ExecCredential) non-interactively. */
export const runExec: ExecRunner = async (exec) => {
  const command = exec.command.includes('/') ? path.resolve(exec.dir, exec.command) : exec.command;
  const info = { apiVersion: exec.apiVersion, kind: 'ExecCredential', spec: { interactive: false } };
  let stdout: string;
  try {
    ({ stdout } = await run(command, exec.args, {
      env: {
        ...process.env,
        ...Object.fromEntries(exec.env.map((e) => [e.name, e.value])),
        KUBERNETES_EXEC_INFO: JSON.stringify(info),
      },
      timeout: 60_000,
    }));
  } catch (err) {
    throw new KubeConfigError(`the credential plugin ${exec.command} failed: ${(err as Error).message}`);
  }
  let status: Record<string, unknown>;
  try {
    status = (JSON.parse(stdout) as { status?: Record<string, unknown> }).status ?? {};
  } catch {
    throw new KubeConfigError(`the credential plugin ${exec.command} printed no ExecCredential JSON`);
  }
  const expiry = typeof status.expirationTimestamp === 'string' ? Date.parse(status.expirationTimestamp) : NaN;
  const credential: ExecCredential = {
    token: typeof status.token === 'string' ? status.token : undefined,
    cert: typeof status.clientCertificateData === 'string' ? status.clientCertificateData : undefined,
    key: typeof status.clientKeyData === 'string' ? status.clientKeyData : undefined,
    expiresAt: Number.isNaN(expiry) ? undefined : expiry,
  };
  if (!credential.token && !(credential.cert && credential.key))
    throw new KubeConfigError(
      `the credential plugin ${exec.command} returned neither a token nor a client certificate`,
    );
  return credential;
};

const decode = (data: string | undefined) => (data === undefined ? undefined : Buffer.from(data, 'base64').toString());

export class ClusterAuth {
  private files = new Map<string, { text: string; readAt: number }>();
  private exec?: ExecCredential;

  constructor(
    readonly context: KubeContext,
    private readonly runner: ExecRunner = runExec,
    private readonly now: () => number = Date.now,
  ) {}

  private async file(name: string | undefined): Promise<string | undefined> {
    if (name === undefined) return undefined;
    const cached = this.files.get(name);
    if (cached && this.now() - cached.readAt < FILE_TTL_MS) return cached.text;
    let text: string;
    try {
      text = await readFile(name, 'utf8');
    } catch (err) {
      throw new KubeConfigError(`cannot read ${name} (named by the kubeconfig): ${(err as Error).message}`);
    }
    this.files.set(name, { text, readAt: this.now() });
    return text;
  }

  private async execCredential(): Promise<ExecCredential | undefined> {
    const exec = this.context.user.exec;
    if (!exec) return undefined;
    const cached = this.exec;
    if (cached && (cached.expiresAt === undefined || cached.expiresAt - EXEC_MARGIN_MS > this.now())) return cached;
    const credential = await this.runner(exec);
    this.exec = credential;
    return credential;
  }

  /** The server refused the credential: fetch the exec plugin's again, and read the files again. */
  rejected(): void {
    this.exec = undefined;
    this.files.clear();
  }

  async credentials(): Promise<Credentials> {
    const { cluster, user } = this.context;
    const exec = await this.execCredential();
    const headers: Record<string, string | string[]> = {};
    const token = exec?.token ?? user.token ?? (await this.file(user.tokenFile))?.trim();
    if (token) headers.authorization = `Bearer ${token}`;
    else if (user.username !== undefined)
      headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
    if (user.impersonate?.user) headers['impersonate-user'] = user.impersonate.user;
    if (user.impersonate?.groups?.length) headers['impersonate-group'] = user.impersonate.groups;
    if (user.impersonate?.uid) headers['impersonate-uid'] = user.impersonate.uid;
    return {
      headers,
      tls: {
        ca: decode(cluster.caData) ?? (await this.file(cluster.caFile)),
        cert: exec?.cert ?? decode(user.certData) ?? (await this.file(user.certFile)),
        key: exec?.key ?? decode(user.keyData) ?? (await this.file(user.keyFile)),
        rejectUnauthorized: !cluster.insecureSkipTLSVerify,
        servername: cluster.tlsServerName,
      },
    };
  }
}
