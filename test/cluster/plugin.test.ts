// kubectl msop against the real API server: the compiled plugin run as a child
// process, as kubectl runs it. No operator: the plugin only writes the
// annotation and spec.release.paused, and draws whatever status is there.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Microservice } from '../../src/api/types';
import { client, createNamespace, eventually, getMicroservice, microservice } from './harness';

const run = promisify(execFile);
const root = path.join(__dirname, '..', '..');
const plugin = path.join(root, 'bin', 'kubectl-msop');

let ns: Awaited<ReturnType<typeof createNamespace>>;
let tmp: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment a user's shell would give the plugin: KUBECONFIG set, no jest NODE_OPTIONS. */
function pluginEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: process.env.MSOP_TEST_KUBECONFIG, ...extra };
  delete env.NODE_OPTIONS;
  delete env.NO_COLOR;
  return env;
}

async function exec(file: string, args: string[], env = pluginEnv()): Promise<Result> {
  try {
    const { stdout, stderr } = await run(file, args, { env, cwd: tmpdir() });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** `node bin/kubectl-msop ARGS`. */
const msop = (...args: string[]) => exec(process.execPath, [plugin, ...args]);

const canarySpec = {
  image: 'registry.example.com/shop/orders:1.4.3',
  replicas: 4,
  release: {
    strategy: 'Canary' as const,
    canary: { steps: [{ setWeight: 25 }, { pause: { duration: '2m' } }, { setWeight: 50 }, { pause: {} }] },
  },
};

/** A status as msop would write it mid-release, written with field manager "test". */
async function writeStatus(name: string, status: NonNullable<Microservice['status']>): Promise<void> {
  await client.applyStatus(
    { apiVersion: 'msop.dev/v1alpha1', kind: 'Microservice', metadata: { name, namespace: ns.name }, status },
    'test',
  );
}

const releaseStatus = (): NonNullable<Microservice['status']> => ({
  observedGeneration: 1,
  phase: 'Progressing',
  stableRevision: '2adba111',
  canaryRevision: '3fd15463',
  currentStep: 1,
  stepCount: 4,
  release: {
    strategy: 'Canary',
    revision: '3fd15463',
    step: 1,
    stepStartTime: new Date().toISOString(),
    desiredWeight: 25,
  },
  desiredWeight: 25,
  canaryWeight: 25,
  canaryReplicas: 1,
  canaryReadyReplicas: 1,
  replicas: 4,
  readyReplicas: 4,
  ready: '4/4',
  message: 'Step 2/4 (pause 2m): pausing, 2m left',
  conditions: [
    {
      type: 'Ready',
      status: 'False',
      reason: 'Progressing',
      message: 'Step 2/4 (pause 2m): pausing, 2m left',
      lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    },
  ],
});

beforeAll(async () => {
  // The plugin runs from dist/; `make test-cluster` does not build, so build here.
  try {
    execFileSync(
      process.execPath,
      [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm run build failed:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.message}`, { cause: err });
  }
  ns = await createNamespace('plugin');
  tmp = mkdtempSync(path.join(tmpdir(), 'msop-plugin-'));
  await client.create(microservice(ns.name, 'orders', canarySpec));
});

afterAll(async () => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  await ns?.cleanup();
});

test.each(['promote', 'abort', 'retry', 'skip-analysis'])('%s sets msop.dev/action', async (action) => {
  const result = await msop(action, 'orders', '-n', ns.name);
  expect(result).toMatchObject({ code: 0, stdout: `microservice/orders: ${action} requested\n` });
  const ms = await getMicroservice(ns.name, 'orders');
  expect(ms.metadata.annotations?.['msop.dev/action']).toBe(action);
});

test('pause and resume toggle spec.release.paused', async () => {
  expect(await msop('pause', 'orders', '--namespace', ns.name)).toMatchObject({
    code: 0,
    stdout: 'microservice/orders: paused\n',
  });
  expect((await getMicroservice(ns.name, 'orders')).spec.release?.paused).toBe(true);
  expect(await msop('resume', 'orders', `--namespace=${ns.name}`)).toMatchObject({
    code: 0,
    stdout: 'microservice/orders: resumed\n',
  });
  const ms = await getMicroservice(ns.name, 'orders');
  expect(ms.spec.release?.paused).toBe(false);
  // The merge patch leaves the rest of the release alone.
  expect(ms.spec.release?.canary?.steps).toHaveLength(4);
});

test('status draws the phase, revisions, steps, weights and replicas (no colour on a pipe)', async () => {
  await writeStatus('orders', releaseStatus());
  const result = await msop('status', 'orders', '-n', ns.name);
  expect(result.code).toBe(0);
  const lines = result.stdout.split('\n');
  expect(lines).toEqual(
    expect.arrayContaining([
      `Name     ${ns.name}/orders`,
      'Phase    Progressing',
      'Stable   2adba111',
      'Canary   3fd15463',
      'Weight   desired [###-------] 25%',
      '         actual  [###-------] 25%',
      'Replicas stable 3/3 ready, canary 1/1 ready',
      'Steps (step 2 of 4)',
      '      1  setWeight 25          done',
      '      4  pause until promoted',
    ]),
  );
  expect(lines.some((l) => l.startsWith('  >   2  pause 2m              now ('))).toBe(true);
  expect(result.stdout).not.toContain('\x1b');
});

test('status --watch redraws on a change and exits 0 on SIGINT', async () => {
  await writeStatus('orders', releaseStatus());
  const child = spawn(process.execPath, [plugin, 'status', 'orders', '-n', ns.name, '--watch'], { env: pluginEnv() });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await eventually(() => stdout.includes('Phase    Progressing'), { message: `the first frame; stderr: ${stderr}` });
    // The watch is open once the first frame is out; a change to the object must show up without polling.
    await eventually(
      async () => {
        await writeStatus('orders', { ...releaseStatus(), phase: 'Paused', currentStep: 3, desiredWeight: 50 });
        return stdout.includes('Phase    Paused');
      },
      { message: `a redraw with phase Paused; stdout: ${stdout}; stderr: ${stderr}`, intervalMs: 1_000 },
    );
    expect(stdout).toMatch(/^--- \d{4}-\d\d-\d\dT/m);
    expect(stdout).toContain('Weight   desired [#####-----] 50%');
    expect(stdout).toContain('  >   4  pause until promoted  now (waiting for kubectl msop promote orders)');
  } finally {
    child.kill('SIGINT');
  }
  expect(await exited).toBe(0);
  expect(stderr).toBe('');
});

test('a missing Microservice: exit 1 with a clear message', async () => {
  for (const args of [
    ['status', 'nope'],
    ['promote', 'nope'],
    ['pause', 'nope'],
  ]) {
    expect(await msop(...args, '-n', ns.name)).toEqual({
      code: 1,
      stdout: '',
      stderr: `Error: microservice "nope" not found in namespace "${ns.name}"\n`,
    });
  }
});

test('usage errors: exit 2 with the usage on stderr', async () => {
  const result = await msop('frob', 'orders');
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('Error: unknown command "frob"');
  expect(result.stderr).toContain('Usage:');
});

test('the namespace comes from the kubeconfig context, and --context picks a context', async () => {
  // A copy of the test kubeconfig with a second context whose namespace is the test namespace.
  const kubeconfig = path.join(tmp, 'kubeconfig.yaml');
  writeFileSync(kubeconfig, readFileSync(process.env.MSOP_TEST_KUBECONFIG!));
  const kubectl = path.join(process.env.MSOP_TEST_BIN!, 'kubectl');
  const env = pluginEnv({ KUBECONFIG: kubeconfig });
  const current = (await exec(kubectl, ['config', 'current-context'], env)).stdout.trim();
  const cluster = (await exec(kubectl, ['config', 'view', '-o', 'jsonpath={.contexts[0].context.cluster}'], env))
    .stdout;
  const user = (await exec(kubectl, ['config', 'view', '-o', 'jsonpath={.contexts[0].context.user}'], env)).stdout;
  await exec(
    kubectl,
    ['config', 'set-context', 'plugin-test', `--cluster=${cluster}`, `--user=${user}`, `--namespace=${ns.name}`],
    env,
  );

  // The current context has no namespace: "default", where there is no orders.
  expect(await exec(process.execPath, [plugin, 'status', 'orders'], env)).toMatchObject({
    code: 1,
    stderr: 'Error: microservice "orders" not found in namespace "default"\n',
  });
  // --context plugin-test: its namespace.
  const viaContext = await exec(process.execPath, [plugin, 'status', 'orders', '--context', 'plugin-test'], env);
  expect(viaContext).toMatchObject({ code: 0 });
  expect(viaContext.stdout).toContain(`Name     ${ns.name}/orders`);
  // The context's namespace once it is the current one.
  await exec(kubectl, ['config', 'use-context', 'plugin-test'], env);
  expect(await exec(process.execPath, [plugin, 'promote', 'orders'], env)).toMatchObject({ code: 0 });
  // An unknown context.
  const unknown = await exec(process.execPath, [plugin, 'status', 'orders', '--context', 'nope'], env);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toMatch(
    /^Error: cannot load the kubeconfig: \S+kubeconfig\.yaml has no context named "nope"\n$/,
  );
  expect(current).not.toBe('plugin-test');
});

test('kubectl msop works through the kubectl plugin mechanism', async () => {
  // kubectl finds kubectl-msop on PATH; the shim's `#!/usr/bin/env node` finds this Node first.
  const env = pluginEnv({
    PATH: [path.join(root, 'bin'), process.env.MSOP_TEST_BIN!, path.dirname(process.execPath), process.env.PATH].join(
      path.delimiter,
    ),
  });
  const kubectl = path.join(process.env.MSOP_TEST_BIN!, 'kubectl');
  const list = await exec(kubectl, ['plugin', 'list'], env);
  expect(list.stdout).toContain(plugin);

  expect(await exec(kubectl, ['msop', 'promote', 'orders', '-n', ns.name], env)).toMatchObject({
    code: 0,
    stdout: 'microservice/orders: promote requested\n',
  });
  expect((await getMicroservice(ns.name, 'orders')).metadata.annotations?.['msop.dev/action']).toBe('promote');

  await writeStatus('orders', releaseStatus());
  const status = await exec(kubectl, ['msop', 'status', 'orders', '-n', ns.name], env);
  expect(status.code).toBe(0);
  expect(status.stdout).toContain('Phase    Progressing');
  expect(status.stdout).toContain('Stable   2adba111');
  expect(status.stdout).toContain('Canary   3fd15463');

  expect(await exec(kubectl, ['msop', 'status', 'nope', '-n', ns.name], env)).toMatchObject({
    code: 1,
    stderr: `Error: microservice "nope" not found in namespace "${ns.name}"\n`,
  });
});
