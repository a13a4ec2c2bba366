// Sharding: three operators, each with its own --shard-selector, share one
// namespace. Every Microservice is written by exactly one of them (unlabelled
// ones by the default shard), and a Microservice relabelled to another shard
// mid-release finishes its release there, from what status holds.
import type { Microservice, MicroserviceSpec } from '../../src/api/types';
import {
  client,
  createNamespace,
  microservice,
  releaseHelpers,
  type RunningOperator,
  startOperator,
  waitReady,
} from './harness';

const SHARDS = {
  default: 'msop.dev/shard notin (b,c)',
  b: 'msop.dev/shard=b',
  c: 'msop.dev/shard=c',
} as const;
type Shard = keyof typeof SHARDS;

let namespace = '';
let cleanup: (() => Promise<void>) | undefined;
const operators = {} as Record<Shard, RunningOperator>;
const { setImage, untilStatus } = releaseHelpers(() => namespace);

beforeAll(async () => {
  ({ name: namespace, cleanup } = await createNamespace('shards'));
  for (const shard of Object.keys(SHARDS) as Shard[])
    operators[shard] = await startOperator(namespace, { shardSelector: SHARDS[shard] });
});
afterAll(async () => {
  for (const operator of Object.values(operators)) await operator.stop();
  await cleanup?.();
});

const create = (name: string, shard: string | undefined, spec: Partial<MicroserviceSpec> = {}) => {
  const ms: Microservice = microservice(namespace, name, { image: 'ghcr.io/example/app:1.0.0', replicas: 1, ...spec });
  if (shard) ms.metadata.labels = { 'msop.dev/shard': shard };
  return client.create(ms);
};

/** The shards whose operator wrote the Microservice or one of its children (all named after it), from index `from` on. */
const writersOf = (name: string, from: Partial<Record<Shard, number>> = {}) =>
  (Object.keys(SHARDS) as Shard[]).filter((shard) =>
    operators[shard].client.writes
      .slice(from[shard] ?? 0)
      .some((w) => w.split(' ')[1]?.split('/')[1]?.startsWith(name)),
  );

test('every Microservice is written by exactly one shard; an unlabelled or unknown one by the default shard', async () => {
  const cases: [string, string | undefined, Shard][] = [
    ['alpha', undefined, 'default'],
    ['bravo', 'b', 'b'],
    ['charlie', 'c', 'c'],
    ['echo', 'zzz', 'default'],
  ];
  for (const [name, label] of cases) await create(name, label);
  for (const [name] of cases) await waitReady(namespace, name);
  for (const [name, , shard] of cases) expect({ name, writers: writersOf(name) }).toEqual({ name, writers: [shard] });
});

test('a Microservice moved to another shard mid-release finishes its release there', async () => {
  const name = 'delta';
  await create(name, 'b', { release: { strategy: 'Canary', canary: { steps: [{ setWeight: 50 }, { pause: {} }] } } });
  const before = await waitReady(namespace, name);
  await setImage(name, 'ghcr.io/example/app:2.0.0');
  const paused = await untilStatus(name, 'paused at the gate on shard b', (ms) => ms.status?.phase === 'Paused');
  expect(writersOf(name)).toEqual(['b']);

  const mark = { b: operators.b.client.writes.length, c: operators.c.client.writes.length };
  await client.mergePatch('msop.dev/v1alpha1', 'Microservice', namespace, name, {
    metadata: { labels: { 'msop.dev/shard': 'c' }, annotations: { 'msop.dev/action': 'promote' } },
  });
  const released = await untilStatus(
    name,
    'promoted on shard c',
    (ms) => ms.status?.phase === 'Ready' && ms.status.stableRevision === paused.status?.canaryRevision,
    60_000,
  );
  expect(released.status?.stableRevision).not.toBe(before.status?.stableRevision);
  expect(released.metadata.annotations?.['msop.dev/action']).toBeUndefined();
  // Shard c consumed the promote and wrote the promotion; shard b wrote nothing for it after the move.
  expect(writersOf(name, mark)).toEqual(['c']);
  expect(operators.c.client.writes.slice(mark.c)).toEqual(
    expect.arrayContaining([`json-patch Microservice/${name}`, `apply Deployment/${name}`]),
  );
});
