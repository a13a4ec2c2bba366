// The operator (dist/main.js, a child process) SIGKILLed at seeded random points spread over releases
// of every kind: a canary under each router, a canary judged by an analysis webhook (every second
// release, the first included, judged bad, so it must end rolled back), and blue-green. Each release
// must reach its end state with the release invariants held over every write (ReleaseRecorder), no
// weight regression, and no orphan.
import type { Microservice } from '../../src/api/types';
import {
  client,
  createNamespace,
  eventually,
  getMicroservice,
  type OperatorProcess,
  startOperatorProcess,
} from '../cluster/harness';
import { ReleaseRecorder } from '../cluster/release-recorder';
import {
  chaosRandom,
  converged,
  createScenario,
  deploymentImage,
  figures,
  footprint,
  orphans,
  type RunResult,
  type Scenario,
  scenarios,
  SHORT,
  sleep,
  violationsOf,
  WebhookReceiver,
} from './chaos';

const KILLS = Number(process.env.MSOP_CHAOS_KILLS ?? (SHORT ? 6 : 50));

let ns: Awaited<ReturnType<typeof createNamespace>>;
let operator: OperatorProcess | undefined;
const hook = new WebhookReceiver();

beforeAll(async () => {
  ns = await createNamespace('chaos-kill');
  await hook.start();
});

afterAll(async () => {
  await operator?.stop('SIGKILL');
  await hook.stop();
  await ns?.cleanup();
});

const start = () => startOperatorProcess({ args: [`--watch-namespaces=${ns.name}`, '--log-level=info'] });

const tail = (op: OperatorProcess) =>
  op.lines
    .slice(-15)
    .map((l) => l.text)
    .join('\n');

async function release(scenario: Scenario, index: number, delays: number[], atRest: string[]): Promise<RunResult> {
  const name = scenario.name;
  const image = `ghcr.io/example/app:${index + 2}.0.0`;
  const { bad, spec } = scenario.release(index, hook.url);
  const before = await getMicroservice(ns.name, name);
  const recorder = new ReleaseRecorder(ns.name, name, scenario.kinds, scenario.weight);
  await recorder.start();
  const problems: string[] = [];
  const started = Date.now();
  let restarted = started;
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, { spec: { ...spec, image } });

  let kills = 0;
  for (const delay of delays) {
    // The delay runs from the moment the operator works, so every kill lands on a reconciling operator.
    await operator!.waitForLog('Starting workers', 60_000);
    await sleep(delay);
    if (converged(await getMicroservice(ns.name, name), before, image, bad)) break;
    const code = await operator!.stop('SIGKILL');
    if (code !== null) problems.push(`the operator had exited by itself with ${code}:\n${tail(operator!)}`);
    operator = start();
    restarted = Date.now();
    kills += 1;
  }

  let end: Microservice | undefined;
  try {
    end = await eventually(
      async () => {
        const ms = await getMicroservice(ns.name, name);
        return converged(ms, before, image, bad) ? ms : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 100, message: `${name} to ${bad ? 'roll back' : 'be promoted'}` },
    );
  } catch (err) {
    const last = await getMicroservice(ns.name, name);
    problems.push(`${(err as Error).message}; phase ${last.status?.phase}: ${last.status?.message}`);
  }
  const done = Date.now();
  if (end) {
    problems.push(...(await orphans(ns.name, name, atRest)));
    const live = await deploymentImage(ns.name, name);
    const want = bad ? before.spec.image : image;
    if (live !== want) problems.push(`the stable Deployment runs ${live}, not ${want}`);
  }
  await recorder.stop();
  problems.push(...violationsOf(recorder, scenario.blueGreen));
  if (operator!.child.exitCode !== null) problems.push(`the operator exited with ${operator!.child.exitCode}`);
  return {
    scenario: scenario.label,
    release: index,
    bad,
    kills,
    converged: end !== undefined,
    convergeMs: done - started,
    afterLastKillMs: done - restarted,
    problems,
  };
}

test(`the operator SIGKILLed at ${KILLS} seeded random points over releases of every kind converges every time`, async () => {
  const { seed, random } = chaosRandom(
    'test/chaos/sigkill.test.ts',
    `MSOP_CHAOS_KILLS=${KILLS}${SHORT ? ' MSOP_CHAOS_SHORT=1' : ''}`,
  );
  operator = start();
  const all = scenarios();
  const atRest = new Map<string, string[]>();
  await Promise.all(all.map((scenario) => createScenario(ns.name, scenario, hook.url)));
  for (const scenario of all) atRest.set(scenario.name, await footprint(ns.name, scenario.name));

  const results: RunResult[] = [];
  let left = KILLS;
  for (let i = 0; left > 0; i++) {
    const scenario = all[i % all.length]!;
    // The short form kills once per release, so each kind of release is hit; the full run one to three times.
    const count = Math.min(left, SHORT ? 1 : 1 + Math.floor(random() * 3));
    const delays = Array.from({ length: count }, () => 200 + Math.floor(random() * 3_000));
    const result = await release(scenario, Math.floor(i / all.length), delays, atRest.get(scenario.name)!);
    console.log(
      `${result.converged && result.problems.length === 0 ? 'ok' : 'FAIL'} ${result.scenario} #${result.release}: ` +
        `${result.kills} kills at ${delays.slice(0, result.kills).join(', ')} ms, converged in ${result.convergeMs} ms` +
        (result.problems.length ? `\n${result.problems.join('\n')}` : ''),
    );
    results.push(result);
    left -= result.kills;
    if (i > KILLS * 3) throw new Error(`releases keep ending before a kill lands: ${results.length} releases`);
  }
  console.log(figures('operator SIGKILL', seed, results));
  expect(results.filter((r) => !r.converged || r.problems.length > 0)).toEqual([]);
});
