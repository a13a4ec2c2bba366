// The image's install, without a container runtime: the Dockerfile's production
// install (package.json and the lock, `npm install --omit=dev --ignore-scripts`) plus
// dist/, started against the test cluster. It must sync, reconcile, and exit 0 on SIGTERM;
// its pretty log format must work too (the chart offers logging.format: pretty).
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { dashboardQueries, metricNames, missingFrom } from '../unit/helm/dashboard';
import { createNamespace, eventually, kubectl, startOperatorProcess, waitReady } from './harness';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');
/** The Dockerfile's deps stage runs exactly this. */
const PRODUCTION_INSTALL = ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'];
/** The image's ENV NODE_OPTIONS: the operator below runs with it, as in the image. */
const IMAGE_NODE_OPTIONS = /^ENV NODE_OPTIONS=(.+)$/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1];

let ns: Awaited<ReturnType<typeof createNamespace>>;
let dir: string;

beforeAll(async () => {
  ns = await createNamespace('prod-install');
  dir = mkdtempSync(path.join(tmpdir(), 'msop-prod-'));
});

afterAll(async () => {
  await ns?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the Dockerfile uses the same production install as this test', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  expect(dockerfile).toContain(`npm ${PRODUCTION_INSTALL.join(' ')}`);
  expect(dockerfile).toMatch(/^USER 65532:65532$/m);
  expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "dist\/main\.js"\]$/m);
  expect(IMAGE_NODE_OPTIONS).toBe('--max-semi-space-size=2');
});

test('a production install of the lock runs the operator: synced, reconciling, exit 0 on SIGTERM', async () => {
  for (const file of ['package.json', 'package-lock.json']) copyFileSync(path.join(ROOT, file), path.join(dir, file));
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // jest's flags are not for npm
  await run('npm', PRODUCTION_INSTALL, { cwd: dir, env, timeout: 280_000, maxBuffer: 16 * 1024 * 1024 });
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  for (const name of Object.keys(pkg.dependencies)) expect(existsSync(path.join(dir, 'node_modules', name))).toBe(true);
  // The build and test tools stay out (some @types packages may come in as dependencies' dependencies).
  // client-node is a devDependency for its types only: the operator below runs without it.
  for (const name of [
    'typescript',
    'jest',
    'eslint',
    'prettier',
    'node',
    'dockerfile-utils',
    '@kubernetes/client-node',
  ])
    expect([name, existsSync(path.join(dir, 'node_modules', name, 'package.json'))]).toEqual([name, false]);

  cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  const op = startOperatorProcess({
    cwd: dir,
    args: [`--watch-namespaces=${ns.name}`],
    env: { NODE_OPTIONS: IMAGE_NODE_OPTIONS },
  });
  try {
    await op.waitForLog('Caches synced');
    const { healthPort, metricsPort } = await op.ports();
    expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(200);
    await kubectl('apply', '-n', ns.name, '-f', path.join(ROOT, 'examples', 'hello.yaml'));
    await waitReady(ns.name, 'hello');
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^controller_runtime_reconcile_total\{controller="microservice",result="success"\} [1-9]/m);
    expect(metrics).toMatch(/^process_resident_memory_bytes /m);
    // The chart's Grafana dashboard queries only what this operator really exports.
    expect(missingFrom(metrics, [...new Set(dashboardQueries().flatMap(metricNames))])).toEqual([]);
  } finally {
    expect(await op.stop('SIGTERM')).toBe(0);
  }
  expect(op.lines.some((l) => l.json?.msg === 'Stopped')).toBe(true);
}, 300_000);

test('the production install logs readable lines with --log-format=pretty', async () => {
  // Needs the install of the test above (jest runs a file's tests in order).
  const op = startOperatorProcess({ cwd: dir, args: [`--watch-namespaces=${ns.name}`, '--log-format=pretty'] });
  try {
    // pino-pretty's shape: "[HH:MM:SS.mmm] INFO (pid): Caches synced", in a worker thread of its own.
    const line = await eventually(() => op.lines.find((l) => /\bINFO\b.*: Caches synced/.test(l.text)), {
      timeoutMs: 30_000,
      message: 'a pretty "Caches synced" line (INFO, not JSON)',
    });
    expect(line.json).toBeUndefined();
  } finally {
    expect(await op.stop('SIGTERM')).toBe(0);
  }
}, 60_000);
