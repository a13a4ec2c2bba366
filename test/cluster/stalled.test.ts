// A semantically bad Microservice (it references a ConfigMap that does not
// exist) shows Stalled=True with an actionable message and a Warning event,
// and recovers by itself once the ConfigMap exists.
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

const ns = operatorNamespace('stalled');

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
