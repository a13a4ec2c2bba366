// The kubeconfig loader: kubectl's merge rules, relative paths, the in-cluster fallback, and the errors
// a person can act on. Files are real, in a temporary directory.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClusterAuth, runExec } from '../../../src/kube/auth';
import { inClusterContext, KubeConfigError, loadKubeConfig, resolveKubeConfig } from '../../../src/kube/kubeconfig';

const dir = mkdtempSync(path.join(tmpdir(), 'msop-kubeconfig-test-'));

function config(fields: { current?: string; clusters?: object[]; users?: object[]; contexts?: object[] }): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': fields.current,
    clusters: fields.clusters ?? [],
    users: fields.users ?? [],
    contexts: fields.contexts ?? [],
  });
}

const basic = config({
  current: 'dev',
  clusters: [{ name: 'c', cluster: { server: 'https://10.0.0.1:6443/', 'certificate-authority': 'pki/ca.crt' } }],
  users: [{ name: 'u', user: { 'client-certificate': '/abs/admin.crt', 'client-key': 'admin.key' } }],
  contexts: [{ name: 'dev', context: { cluster: 'c', user: 'u', namespace: 'shop' } }],
});

describe('resolveKubeConfig', () => {
  test('the current context, with paths relative to the kubeconfig and the trailing slash dropped', () => {
    const ctx = resolveKubeConfig([{ path: '/home/me/.kube/config', text: basic }]);
    expect(ctx).toEqual({
      name: 'dev',
      namespace: 'shop',
      cluster: {
        server: 'https://10.0.0.1:6443',
        caFile: '/home/me/.kube/pki/ca.crt',
        caData: undefined,
        insecureSkipTLSVerify: false,
        tlsServerName: undefined,
      },
      user: expect.objectContaining({ certFile: '/abs/admin.crt', keyFile: '/home/me/.kube/admin.key' }) as object,
    });
  });

  test('YAML, several files: the first file that names an entry or a current-context wins, as in kubectl', () => {
    const first = `
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://first:6443", insecure-skip-tls-verify: true, tls-server-name: api.internal}
users:
- name: u
  user: {token: first-token, as: jane, as-groups: [dev, ops], as-uid: "7"}
contexts:
- name: other
  context: {cluster: c, user: u}
`;
    const ctx = resolveKubeConfig([
      { path: '/a/config', text: first },
      { path: '/b/config', text: basic },
    ]);
    // current-context from the second file (the first sets none), but cluster "c" and user "u" from the first.
    expect(ctx.name).toBe('dev');
    expect(ctx.cluster).toEqual({
      server: 'https://first:6443',
      caFile: undefined,
      caData: undefined,
      insecureSkipTLSVerify: true,
      tlsServerName: 'api.internal',
    });
    expect(ctx.user.token).toBe('first-token');
    expect(ctx.user.impersonate).toEqual({ user: 'jane', groups: ['dev', 'ops'], uid: '7' });
    expect(resolveKubeConfig([{ path: '/a/config', text: first }], 'other').namespace).toBeUndefined();
  });

  test('an exec plugin keeps its command, arguments, environment and directory', () => {
    const text = config({
      current: 'x',
      clusters: [{ name: 'c', cluster: { server: 'https://s' } }],
      users: [
        {
          name: 'u',
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1beta1',
              command: './cred',
              args: ['get'],
              env: [{ name: 'A', value: 'b' }],
            },
          },
        },
      ],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    });
    expect(resolveKubeConfig([{ path: '/k/config', text }]).user.exec).toEqual({
      command: './cred',
      args: ['get'],
      env: [{ name: 'A', value: 'b' }],
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      dir: '/k',
    });
  });

  test.each([
    [config({}), /sets no current-context; choose one with `kubectl config use-context`/],
    [config({ current: 'gone' }), /has no context named "gone"/],
    [
      config({ current: 'x', contexts: [{ name: 'x', context: { cluster: 'c' } }] }),
      /names cluster "c", which .* lacks/,
    ],
    [
      config({
        current: 'x',
        clusters: [{ name: 'c', cluster: {} }],
        contexts: [{ name: 'x', context: { cluster: 'c' } }],
      }),
      /cluster "c" has no server/,
    ],
    [
      config({
        current: 'x',
        clusters: [{ name: 'c', cluster: { server: 'https://s' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'who' } }],
      }),
      /names user "who", which .* lacks/,
    ],
    [
      config({
        current: 'x',
        clusters: [{ name: 'c', cluster: { server: 'https://s' } }],
        users: [{ name: 'u', user: { 'auth-provider': { name: 'gcp' } } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      }),
      /auth-provider "gcp", which Kubernetes removed; use its exec plugin/,
    ],
    [
      config({
        current: 'x',
        clusters: [{ name: 'c', cluster: { server: 'https://s', 'proxy-url': 'http://proxy:3128' } }],
        contexts: [{ name: 'x', context: { cluster: 'c' } }],
      }),
      /sets proxy-url, which msop does not support/,
    ],
    ['clusters: [unclosed', /\/k\/config is not a kubeconfig/],
  ])('refuses kubeconfig %#', (text, message) => {
    expect(() => resolveKubeConfig([{ path: '/k/config', text }])).toThrow(KubeConfigError);
    expect(() => resolveKubeConfig([{ path: '/k/config', text }])).toThrow(message);
  });
});

describe('loadKubeConfig', () => {
  const serviceAccount = path.join(dir, 'sa');
  mkdirSync(serviceAccount);
  writeFileSync(path.join(serviceAccount, 'token'), 'sa-token\n');
  writeFileSync(path.join(serviceAccount, 'namespace'), 'msop-system');
  const inPod = { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' };
  const home = path.join(dir, 'home');
  mkdirSync(path.join(home, '.kube'), { recursive: true });
  writeFileSync(path.join(home, '.kube', 'config'), basic);
  const fromEnv = path.join(dir, 'env-config');
  writeFileSync(fromEnv, basic.replace('https://10.0.0.1:6443/', 'https://from-env'));

  test('controller-runtime order: $KUBECONFIG, then in-cluster, then ~/.kube/config', () => {
    const options = { home, serviceAccountDir: serviceAccount };
    expect(loadKubeConfig({ ...options, env: { ...inPod, KUBECONFIG: `/missing:${fromEnv}` } }).cluster.server).toBe(
      'https://from-env',
    );
    const pod = loadKubeConfig({ ...options, env: inPod });
    expect(pod).toEqual({
      name: 'in-cluster',
      namespace: 'msop-system',
      cluster: {
        server: 'https://[fd00::1]:443',
        caFile: path.join(serviceAccount, 'ca.crt'),
        insecureSkipTLSVerify: false,
      },
      user: { tokenFile: path.join(serviceAccount, 'token') },
    });
    expect(loadKubeConfig({ ...options, env: {} }).cluster.server).toBe('https://10.0.0.1:6443');
    // --context names a kubeconfig context, so it never means the pod's own.
    expect(loadKubeConfig({ ...options, env: inPod, context: 'dev' }).namespace).toBe('shop');
  });

  test('--kubeconfig wins, and no source at all is an error that says what to set', () => {
    expect(loadKubeConfig({ file: fromEnv, env: inPod, home }).cluster.server).toBe('https://from-env');
    expect(() => loadKubeConfig({ file: path.join(dir, 'nope') })).toThrow(/cannot read the kubeconfig .*nope/);
    expect(() =>
      loadKubeConfig({ env: {}, home: path.join(dir, 'nobody'), serviceAccountDir: serviceAccount }),
    ).toThrow('no kubeconfig found: set KUBECONFIG, write ~/.kube/config, or run in a pod with a ServiceAccount token');
    expect(inClusterContext(inPod, path.join(dir, 'no-sa'))).toBeUndefined();
  });
});

describe('ClusterAuth', () => {
  const ctx = (user: object, cluster: object = {}) => ({
    name: 'x',
    cluster: { server: 'https://s', insecureSkipTLSVerify: false, ...cluster },
    user,
  });

  test('inline data is base64; files are read, and read again once a minute (a rotated token)', async () => {
    const token = path.join(dir, 'token');
    writeFileSync(token, 'one\n');
    let now = 0;
    const auth = new ClusterAuth(
      ctx(
        {
          tokenFile: token,
          certData: Buffer.from('CERT').toString('base64'),
          keyData: Buffer.from('KEY').toString('base64'),
        },
        { caData: Buffer.from('CA').toString('base64'), tlsServerName: 'api' },
      ),
      undefined,
      () => now,
    );
    expect(await auth.credentials()).toEqual({
      headers: { authorization: 'Bearer one' },
      tls: { ca: 'CA', cert: 'CERT', key: 'KEY', rejectUnauthorized: true, servername: 'api' },
    });
    writeFileSync(token, 'two\n');
    now = 59_000;
    expect((await auth.credentials()).headers.authorization).toBe('Bearer one');
    now = 60_000;
    expect((await auth.credentials()).headers.authorization).toBe('Bearer two');
  });

  test('basic auth, impersonation, and a missing file named in the error', async () => {
    expect(
      (
        await new ClusterAuth(
          ctx({ username: 'a', password: 'b', impersonate: { user: 'j', groups: ['g1', 'g2'], uid: '1' } }),
        ).credentials()
      ).headers,
    ).toEqual({
      authorization: `Basic ${Buffer.from('a:b').toString('base64')}`,
      'impersonate-user': 'j',
      'impersonate-group': ['g1', 'g2'],
      'impersonate-uid': '1',
    });
    await expect(new ClusterAuth(ctx({ certFile: '/nonexistent/admin.crt' })).credentials()).rejects.toThrow(
      /cannot read \/nonexistent\/admin\.crt \(named by the kubeconfig\)/,
    );
  });

  test('an exec credential is kept until 10 s before it expires, and fetched again after a 401', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const issued: string[] = [];
    const runner = async () => {
      issued.push(`t${issued.length}`);
      return { token: issued.at(-1), expiresAt: now + 60_000 };
    };
    const exec = { command: 'x', args: [], env: [], apiVersion: 'client.authentication.k8s.io/v1', dir };
    const auth = new ClusterAuth(ctx({ exec }), runner, () => now);
    expect((await auth.credentials()).headers.authorization).toBe('Bearer t0');
    now += 49_000;
    expect((await auth.credentials()).headers.authorization).toBe('Bearer t0');
    now += 1_000;
    expect((await auth.credentials()).headers.authorization).toBe('Bearer t1');
    auth.rejected();
    expect((await auth.credentials()).headers.authorization).toBe('Bearer t2');
  });

  test('runExec runs a real plugin with KUBERNETES_EXEC_INFO, relative to the kubeconfig, and reports a bad one', async () => {
    const plugin = path.join(dir, 'cred.sh');
    writeFileSync(
      plugin,
      `#!/bin/sh\necho "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"$1-$GREETING\\",\\"expirationTimestamp\\":\\"2030-01-01T00:00:00Z\\"}}"\necho "$KUBERNETES_EXEC_INFO" > "${dir}/info.json"\n`,
    );
    chmodSync(plugin, 0o755);
    const exec = {
      command: './cred.sh',
      args: ['tok'],
      env: [{ name: 'GREETING', value: 'hi' }],
      apiVersion: 'client.authentication.k8s.io/v1',
      dir,
    };
    expect(await runExec(exec)).toEqual({
      token: 'tok-hi',
      cert: undefined,
      key: undefined,
      expiresAt: Date.parse('2030-01-01T00:00:00Z'),
    });
    expect(JSON.parse(readFileSync(path.join(dir, 'info.json'), 'utf8'))).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: { interactive: false },
    });
    const bad = path.join(dir, 'bad.sh');
    writeFileSync(bad, '#!/bin/sh\necho not-json\n');
    chmodSync(bad, 0o755);
    await expect(runExec({ ...exec, command: bad })).rejects.toThrow(
      `the credential plugin ${bad} printed no ExecCredential JSON`,
    );
    await expect(runExec({ ...exec, command: '/nonexistent/plugin' })).rejects.toThrow(
      /the credential plugin \/nonexistent\/plugin failed/,
    );
  });
});
