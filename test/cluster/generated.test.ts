// Generated Microservices against the real API server (test/generated/microservice-specs.ts), valid ones and
// ones a step past an edge: each is refused at admission with a message, or ends Ready, or Stalled with a
// message that names the field (or Paused, when release.paused holds its first deployment). The operator never
// crashes, never loops: once an outcome is reached it makes no more writes for that Microservice. Seeded: a
// failure prints the seed and the spec. MSOP_GENERATED_SPECS sets how many (default 100), MSOP_GENERATED_SEED
// replays a run.
import type { KubernetesObject } from '@kubernetes/client-node';
import fc from 'fast-check';
import type { Microservice } from '../../src/api/types';
import { ApiError } from '../../src/kube/errors';
import {
  acceptedMicroservice,
  type GeneratedMicroservice,
  nearInvalidMicroservice,
} from '../generated/microservice-specs';
import { client, condition, eventually, getOrUndefined, kubectl, microservice, operatorNamespace } from './harness';

const COUNT = Number(process.env.MSOP_GENERATED_SPECS ?? 100);
const SEED = Number(process.env.MSOP_GENERATED_SEED ?? Date.now() % 2 ** 31);
const BATCH = 10;
/** A window without a write of msop's that ends the watch of a Microservice that reached its outcome. */
const QUIET_MS = 1_000;
/** How long a Microservice that reached its outcome may keep writing before it counts as looping. */
const SETTLE_MS = 15_000;

const ns = operatorNamespace('generated');

type Outcome = 'refused' | 'Ready' | 'Stalled' | 'Paused';

/** The Microservice's outcome once it has one for its generation, with the message that goes with it. */
function outcomeOf(ms: Microservice): { outcome: Outcome; message: string; reason?: string } | undefined {
  if (ms.status?.observedGeneration !== ms.metadata.generation) return undefined;
  const stalled = condition(ms, 'Stalled');
  if (stalled?.status === 'True') return { outcome: 'Stalled', message: stalled.message, reason: stalled.reason };
  if (condition(ms, 'Ready')?.status === 'True') return { outcome: 'Ready', message: ms.status?.message ?? '' };
  if (ms.status?.phase === 'Paused' && condition(ms, 'Reconciling') === undefined)
    return { outcome: 'Paused', message: ms.status.message ?? '' };
  return undefined;
}

/** The routes the generated traffic settings name, so that a router finds what it was told to use. */
async function routesFor({ name }: GeneratedMicroservice): Promise<void> {
  const create = (object: KubernetesObject) => client.create(object).catch(() => undefined);
  await create({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: `${name}-route`, namespace: ns.name },
    spec: { parentRefs: [{ name: 'gateway' }], rules: [{ backendRefs: [{ name: `${name}-stable`, port: 80 }] }] },
  } as KubernetesObject);
  await create({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: `${name}-vs`, namespace: ns.name },
    spec: { hosts: [name], http: [{ route: [{ destination: { host: `${name}-stable` } }] }] },
  } as KubernetesObject);
}

interface Tried {
  index: number;
  generated: GeneratedMicroservice;
  outcome?: Outcome;
  message?: string;
  reason?: string;
  failure?: string;
}

async function attempt(tried: Tried): Promise<void> {
  const { name, spec } = tried.generated;
  await routesFor(tried.generated);
  try {
    await client.create(microservice(ns.name, name, spec));
  } catch (err) {
    if (err instanceof ApiError && err.statusCode === 422) {
      tried.outcome = 'refused';
      tried.message = err.detail;
      if (!err.detail.trim()) tried.failure = 'refused without a message';
      return;
    }
    tried.failure = `create failed: ${(err as Error).message}`;
    return;
  }
  try {
    const settled = await eventually(
      async () => {
        const ms = await getOrUndefined<Microservice>('msop.dev/v1alpha1', 'Microservice', ns.name, name);
        return ms && outcomeOf(ms);
      },
      { message: `${name} to be Ready, Stalled or Paused`, timeoutMs: 45_000, intervalMs: 250 },
    );
    tried.outcome = settled.outcome;
    tried.message = settled.message;
    tried.reason = settled.reason;
    // A Stalled message names what to fix: a spec field, the object and field the API server refused, or the
    // object (Kind namespace/name) the spec refers to.
    if (
      settled.outcome === 'Stalled' &&
      !/\b(spec|release|metadata)\.\w|\w+\[\d+\]\.\w|\b[A-Z]\w+ [\w.-]+\/[\w.-]+/.test(settled.message)
    )
      tried.failure = `Stalled with a message that names no field: ${settled.message}`;
  } catch (err) {
    const ms = await getOrUndefined<Microservice>('msop.dev/v1alpha1', 'Microservice', ns.name, name);
    tried.failure = `${(err as Error).message}; status: ${JSON.stringify(ms?.status)}`;
  }
}

/** msop's writes to a Microservice and its children (`<name>`, `<name>-canary-…`, Events `<name>.…`). */
const writesFor = (name: string) =>
  ns.operator.client.writes.filter((w) => {
    const target = w.split(' ')[1]?.split('/')[1] ?? '';
    return target === name || target.startsWith(`${name}-`) || target.startsWith(`${name}.`);
  });

test(
  `${COUNT} generated Microservices are each refused, Ready, Stalled with a field named, or Paused; none loops`,
  async () => {
    const started = Date.now();
    // Names are unique in the namespace: the route fixtures and the traffic settings are named after them.
    const [specs = []] = fc.sample(
      fc.uniqueArray(
        fc.oneof(
          { weight: 3, arbitrary: acceptedMicroservice({ schedulable: true }) },
          { weight: 2, arbitrary: nearInvalidMicroservice({ schedulable: true }) },
        ),
        { selector: (g) => g.name, minLength: COUNT, maxLength: COUNT },
      ),
      { numRuns: 1, seed: SEED },
    );
    const tried: Tried[] = specs.map((generated, index) => ({ index, generated }));
    const loops: string[] = [];
    /** Writes after an outcome, per window, of those that were still settling. */
    const settling: number[] = [];
    for (let at = 0; at < tried.length; at += BATCH) {
      const batch = tried.slice(at, at + BATCH);
      await Promise.all(batch.map(attempt));
      // Settling writes may follow an outcome (an HPA resizing the Deployment); a loop never stops writing.
      // Each Microservice must have a quiet window with no write of msop's within SETTLE_MS.
      const quiet = async (t: Tried) => {
        if (t.outcome === undefined || t.outcome === 'refused') return;
        const settleFrom = writesFor(t.generated.name).length;
        let windowFrom = settleFrom;
        const deadline = Date.now() + SETTLE_MS;
        for (;;) {
          await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
          const now = writesFor(t.generated.name);
          if (now.length === windowFrom) break;
          if (Date.now() > deadline) {
            loops.push(
              `#${t.index} (${t.outcome}): ${now.length - settleFrom} writes in ${SETTLE_MS} ms, ${now.slice(settleFrom, settleFrom + 8).join(', ')}\n  ${JSON.stringify(t.generated)}`,
            );
            break;
          }
          settling.push(now.length - windowFrom);
          windowFrom = now.length;
        }
      };
      await Promise.all(batch.map(quiet));
      const created = batch.filter((t) => t.outcome !== 'refused').map((t) => t.generated.name);
      if (created.length > 0)
        await kubectl('delete', 'microservices', ...created, '-n', ns.name, '--wait=false', '--ignore-not-found');
    }
    const tally = (list: Tried[]) => {
      const by = new Map<string, number>();
      for (const t of list) {
        const key = t.failure ? 'failed' : t.outcome === 'Stalled' ? `Stalled (${t.reason})` : t.outcome!;
        by.set(key, (by.get(key) ?? 0) + 1);
      }
      return [...by].map(([key, n]) => `${n} ${key}`).join(', ');
    };
    const accepted = tried.filter((t) => !t.generated.breaks);
    console.log(
      `generated Microservices (seed ${SEED}): ${COUNT} tried in ${Math.round((Date.now() - started) / 1000)} s\n` +
        `  ${accepted.length} the schema accepts: ${tally(accepted)}\n` +
        `  ${COUNT - accepted.length} near-invalid: ${tally(tried.filter((t) => t.generated.breaks))}\n` +
        `  writes after the outcome, in windows still settling: ${settling.length ? settling.join(' ') : 'none'}\n` +
        tried
          .filter((t) => t.reason === 'Invalid' || (t.generated.breaks && t.outcome === 'Ready'))
          .map((t) => `  #${t.index} ${t.generated.breaks ?? 'accepted'}: ${t.outcome} ${t.message?.slice(0, 240)}`)
          .join('\n'),
    );
    const failures = tried
      .filter((t) => t.failure)
      .map((t) => `#${t.index} (seed ${SEED}): ${t.failure}\n  ${JSON.stringify(t.generated)}`);
    expect(failures).toEqual([]);
    expect(loops).toEqual([]);
    // The operator still works after all of it.
    expect(ns.operator.manager.hasSynced()).toBe(true);
  },
  60 * 60_000,
);
