// npm run bench -- --status-writes: kube-apiserver's CPU per status write of a Microservice, the request
// a release makes most of. On a fresh local control plane (CLUSTER_NAME, default msop-bench; removed
// afterwards unless --keep), N Microservices get R status writes each, shape by shape, in alternating
// order over several runs; prints the median milliseconds of kube-apiserver CPU per write.
//
// Shapes, from bench/fixtures/microservice-in-release.json (a status msop wrote mid-release):
//   in-release         the status as msop writes it, server-side apply (what msop sends)
//   in-release-merge   the same change as a JSON merge patch of the message alone
//   settled            the status once the release is over (no release state, no canary counters)
// With --crd=FILE the CRD comes from FILE (an older one, say), and --template-as-object writes the stable
// pod template as the object status.release.stableTemplate that msop wrote before it became a string:
//   git show REF:crds/microservice.yaml > /tmp/crd.yaml
//   npm run bench -- --status-writes --crd=/tmp/crd.yaml --template-as-object
//
//   npm run bench -- --status-writes [--microservices=300 --rounds=4 --runs=3 --keep]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { flag, median } from './stats.mts';

const ROOT = path.join(import.meta.dirname, '..');
const N = flag('microservices', 300);
const ROUNDS = flag('rounds', 4);
const RUNS = flag('runs', 3);
const KEEP = process.argv.includes('--keep');
const CRD = process.argv.find((a) => a.startsWith('--crd='))?.slice('--crd='.length) ?? path.join(ROOT, 'crds');
const TEMPLATE_AS_OBJECT = process.argv.includes('--template-as-object');
const CLUSTER = process.env.CLUSTER_NAME ?? 'msop-bench';
const NAMESPACE = 'default';
/** Writes in flight at once, as msop's workers would send them. */
const CONCURRENCY = 8;

const log = (message: string) => console.error(`[status-writes] ${message}`);

function sh(script: string): string {
  return execFileSync('bash', ['-c', script], {
    cwd: ROOT,
    env: { ...process.env, CLUSTER_NAME: CLUSTER },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

sh('npm run -s build >&2');
// The operator's own HTTP client, as built: its requests are the ones msop sends.
const { KubeClient } = (await import(
  path.join(ROOT, 'dist', 'kube', 'client.js')
)) as typeof import('../src/kube/client.ts');
const { loadKubeConfig } = (await import(
  path.join(ROOT, 'dist', 'kube', 'kubeconfig.js')
)) as typeof import('../src/kube/kubeconfig.ts');

sh('hack/cluster/down.sh >/dev/null 2>&1 || true');
const [kubeconfig, bin, dir] = sh(
  '. hack/cluster/env.sh && hack/cluster/up.sh >&2 && echo "$KUBECONFIG" && echo "$CLUSTER_BIN" && echo "$KWOK_WORKDIR/clusters/$CLUSTER_NAME"',
)
  .trim()
  .split('\n') as [string, string, string];
const kubectl = (...args: string[]) =>
  execFileSync(path.join(bin, 'kubectl'), args, { env: { ...process.env, KUBECONFIG: kubeconfig }, encoding: 'utf8' });
const apiserver = readFileSync(path.join(dir, 'pids', 'kube-apiserver.pid'), 'utf8').trim();
const apiserverCpu = () => {
  const fields = readFileSync(`/proc/${apiserver}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

kubectl('apply', '--server-side', '-f', CRD);
kubectl('wait', '--for=condition=Established', 'crd/microservices.msop.dev', '--timeout=60s');
const client = new KubeClient(loadKubeConfig({ file: kubeconfig }));

type Status = Record<string, unknown> & { release: Record<string, unknown> };
const fixture = JSON.parse(
  readFileSync(path.join(ROOT, 'bench', 'fixtures', 'microservice-in-release.json'), 'utf8'),
) as { spec: Record<string, unknown>; status: Status };
const inRelease = structuredClone(fixture.status);
if (TEMPLATE_AS_OBJECT) {
  inRelease.release.stableTemplate = JSON.parse(inRelease.release.stablePodTemplate as string) as unknown;
  delete inRelease.release.stablePodTemplate;
}
const settled: Record<string, unknown> = structuredClone(fixture.status);
for (const key of [
  'release',
  'canaryRevision',
  'canaryWeight',
  'currentStep',
  'desiredWeight',
  'stepCount',
  'canaryReplicas',
  'canaryReadyReplicas',
])
  delete settled[key];

const names = Array.from({ length: N }, (_, i) => `status-${i}`);
async function eachName(write: (name: string) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < names.length) await write(names[next++]!);
    }),
  );
}
const meta = (name: string) => ({
  apiVersion: 'msop.dev/v1alpha1',
  kind: 'Microservice',
  metadata: { name, namespace: NAMESPACE },
});
const applyStatus = (status: Record<string, unknown>, message: string) => (name: string) =>
  client.applyStatus({ ...meta(name), status: { ...status, message } }, 'msop-status');
const shapes: Record<
  string,
  { prepare: (name: string) => Promise<unknown>; write: (round: number) => (name: string) => Promise<unknown> }
> = {
  'in-release': { prepare: applyStatus(inRelease, 'prepared'), write: (r) => applyStatus(inRelease, `round ${r}`) },
  'in-release-ignore': {
    prepare: applyStatus(inRelease, 'prepared'),
    write: (r) => (name) =>
      client.request('PATCH', `/apis/msop.dev/v1alpha1/namespaces/${NAMESPACE}/microservices/${name}/status`, {
        query: { fieldManager: 'msop-status', force: true, fieldValidation: 'Ignore' },
        body: { ...meta(name), status: { ...inRelease, message: `round ${r}` } },
        contentType: 'application/apply-patch+yaml',
      }),
  },
  'in-release-merge': {
    prepare: applyStatus(inRelease, 'prepared'),
    write: (r) => (name) =>
      client.request('PATCH', `/apis/msop.dev/v1alpha1/namespaces/${NAMESPACE}/microservices/${name}/status`, {
        query: { fieldManager: 'msop-status' },
        body: { status: { message: `round ${r}` } },
        contentType: 'application/merge-patch+json',
      }),
  },
  settled: { prepare: applyStatus(settled, 'prepared'), write: (r) => applyStatus(settled, `round ${r}`) },
};

try {
  log(`${N} Microservices, ${ROUNDS} status writes each per shape, ${RUNS} runs; CRD from ${CRD}`);
  await eachName((name) => client.apply({ ...meta(name), spec: fixture.spec }, 'bench'));
  const perWrite = new Map<string, number[]>();
  for (let run = 0; run < RUNS; run += 1) {
    const order = run % 2 === 0 ? Object.keys(shapes) : Object.keys(shapes).reverse();
    for (const shape of order) {
      await eachName(shapes[shape]!.prepare);
      const before = apiserverCpu();
      for (let round = 0; round < ROUNDS; round += 1) await eachName(shapes[shape]!.write(round));
      const ms = (1000 * (apiserverCpu() - before)) / (N * ROUNDS);
      perWrite.set(shape, [...(perWrite.get(shape) ?? []), ms]);
      log(`run ${run + 1}: ${shape} ${ms.toFixed(2)} ms per write`);
    }
  }
  const template = TEMPLATE_AS_OBJECT ? 'an object (status.release.stableTemplate)' : 'a JSON string';
  console.log(
    `kube-apiserver CPU per Microservice status write (ms), median of ${RUNS} runs of ${N * ROUNDS} writes; the stable pod template as ${template}`,
  );
  console.log('| shape | median | runs |\n|---|---|---|');
  for (const [shape, xs] of perWrite)
    console.log(`| ${shape} | ${median(xs).toFixed(2)} | ${xs.map((x) => x.toFixed(2)).join(', ')} |`);
} finally {
  if (!KEEP) sh('hack/cluster/down.sh >/dev/null 2>&1 || true');
}
