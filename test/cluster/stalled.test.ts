// A semantically bad Microservice (it references a ConfigMap that does not
// exist, or renders an object the API server refuses) shows Stalled=True with
// an actionable message and a Warning event, makes no writes while nothing
// changes, and recovers by itself once the cause is gone.
import type { MicroserviceSpec } from '../../src/api/types';
import {
  client,
  condition,
  eventually,
  getMicroservice,
  kubectl,
  microservice,
  operatorNamespace,
  waitReady,
} from './harness';

// A resync every second: a stalled Microservice must still make no writes.
const ns = operatorNamespace('stalled', { resyncSeconds: 1 });

test('a missing envFrom ConfigMap stalls with a Warning event, and the release recovers once it exists', async () => {
  await client.create(
    microservice(ns.name, 'orders', {
      image: 'ghcr.io/example/orders:1.0.0',
      envFrom: [{ configMapRef: { name: 'orders-config' } }],
    }),
  );
  const stalled = await eventually(
    async () => {
      const ms = await getMicroservice(ns.name, 'orders');
      return condition(ms, 'Stalled')?.status === 'True' ? ms : undefined;
    },
    { message: 'Stalled=True' },
  );
  expect(stalled.status?.phase).toBe('Failed');
  expect(condition(stalled, 'Stalled')).toMatchObject({
    reason: 'ConfigMapNotFound',
    message: `ConfigMap ${ns.name}/orders-config referenced in spec.env or spec.envFrom was not found; create it, or mark the reference optional`,
  });
  expect(condition(stalled, 'Ready')).toMatchObject({ status: 'False', reason: 'ConfigMapNotFound' });
  expect(stalled.status?.observedGeneration).toBe(stalled.metadata.generation);

  const warnings = await eventually(
    async () => {
      const out = await kubectl(
        'get',
        'events',
        '-n',
        ns.name,
        '--field-selector',
        'type=Warning,involvedObject.name=orders',
        '-o',
        'jsonpath={range .items[*]}{.reason}|{.message}{"\\n"}{end}',
      );
      return out.includes('ConfigMapNotFound') ? out : undefined;
    },
    { message: 'a Warning event' },
  );
  expect(warnings).toContain('orders-config');
  const described = await kubectl('describe', 'msvc', 'orders', '-n', ns.name);
  expect(described).toMatch(/Warning\s+ConfigMapNotFound/);

  await client.create({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'orders-config', namespace: ns.name },
    data: { MODE: 'live' },
  });
  const recovered = await waitReady(ns.name, 'orders');
  expect(condition(recovered, 'Stalled')).toBeUndefined();
  expect(recovered.status?.phase).toBe('Ready');
});

const warningsOf = (name: string) =>
  kubectl(
    'get',
    'events',
    '-n',
    ns.name,
    '--field-selector',
    `type=Warning,involvedObject.name=${name}`,
    '-o',
    'jsonpath={range .items[*]}{.reason}|{.message}{"\\n"}{end}',
  );

test.each<[string, string, MicroserviceSpec, MicroserviceSpec, RegExp]>([
  [
    'a toleration with an unknown operator',
    'bad-toleration',
    { image: 'ghcr.io/example/orders:1.0.0', placement: { tolerations: [{ key: 'gpu', operator: 'Sometimes' }] } },
    { image: 'ghcr.io/example/orders:1.0.0', placement: { tolerations: [{ key: 'gpu', operator: 'Exists' }] } },
    /The API server refused Deployment bad-toleration: .*spec\.template\.spec\.tolerations\[0\]\.operator: Unsupported value: "Sometimes"/,
  ],
  [
    'requests above limits',
    'over-limit',
    { image: 'ghcr.io/example/orders:1.0.0', resources: { requests: { memory: '1Gi' }, limits: { memory: '512Mi' } } },
    {
      image: 'ghcr.io/example/orders:1.0.0',
      resources: { requests: { memory: '256Mi' }, limits: { memory: '512Mi' } },
    },
    /The API server refused Deployment over-limit: .*spec\.template\.spec\.containers\[0\]\.resources\.requests: Invalid value: "1Gi": must be less than or equal to memory limit/,
  ],
])(
  'a spec with %s that the API server refuses stalls with its message, writes nothing more, and recovers at once when fixed',
  async (_case, name, bad, good, expected) => {
    await client.create(microservice(ns.name, name, bad));
    const stalled = await eventually(
      async () => {
        const ms = await getMicroservice(ns.name, name);
        return condition(ms, 'Stalled')?.status === 'True' ? ms : undefined;
      },
      { message: 'Stalled=True' },
    );
    expect(stalled.status?.phase).toBe('Failed');
    expect(condition(stalled, 'Stalled')).toMatchObject({
      reason: 'Invalid',
      message: expect.stringMatching(expected) as string,
    });
    expect(condition(stalled, 'Reconciling')).toBeUndefined();
    expect(stalled.status?.observedGeneration).toBe(stalled.metadata.generation);
    await eventually(async () => (await warningsOf(name)).includes('Invalid|The API server refused Deployment'), {
      message: 'a Warning event',
    });

    // Resyncs and backoff retries come and go; none of them sends the refused object again.
    const ours = () => ns.operator.client.writes.filter((w) => w.includes(`/${name}`));
    const writesBefore = ours().length;
    const reconcilesBefore = ns.operator.manager.reconciles;
    await eventually(() => ns.operator.manager.reconciles >= reconcilesBefore + 4, {
      timeoutMs: 15_000,
      message: 'four more reconciles',
    });
    expect(ours().slice(writesBefore)).toEqual([]);

    const fixedAt = Date.now();
    await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, name, { spec: good });
    const recovered = await waitReady(ns.name, name, 10_000);
    expect(Date.now() - fixedAt).toBeLessThan(10_000);
    expect(condition(recovered, 'Stalled')).toBeUndefined();
  },
);
