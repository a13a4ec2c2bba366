import { Writable } from 'node:stream';
import { createLogger, reconcileLogger } from '../../../src/observability/logger';

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as never);
      done();
    },
  });
  return { lines, stream };
}

describe('JSON logs', () => {
  test.each([
    ['debug', 'debug'],
    ['info', 'info'],
    ['warn', 'warn'],
    ['error', 'error'],
  ] as const)('a %s line has the level as a word and an ISO 8601 time', (method, level) => {
    const { lines, stream } = capture();
    createLogger('debug', 'json', stream)[method]({ deployment: 'orders' }, 'Created Deployment');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level, msg: 'Created Deployment', deployment: 'orders', component: 'msop' });
    const time = lines[0]!.time as string;
    expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(new Date(time).toISOString()).toBe(time);
  });

  test('lines below the level are left out', () => {
    const { lines, stream } = capture();
    const log = createLogger('warn', 'json', stream);
    log.info('Quiet');
    log.warn('Loud');
    expect(lines.map((l) => l.msg)).toEqual(['Loud']);
  });

  test('an error under err is an object with its type, message, stack and cause', () => {
    const { lines, stream } = capture();
    const err = new Error('PATCH /apis/apps/v1/deployments/orders: conflict', { cause: new Error('etcd') });
    createLogger('info', 'json', stream).error({ err }, 'Reconcile failed');
    expect(lines[0]!.err).toMatchObject({ type: 'Error', message: expect.stringContaining('conflict') as string });
    expect((lines[0]!.err as { stack: string }).stack).toContain('logger.test.ts');
    expect((lines[0]!.err as { stack: string }).stack).toContain('caused by: Error: etcd');
  });
});

describe('reconcileLogger', () => {
  test('every line of one reconcile carries the namespace, the name and one reconcileID', () => {
    const { lines, stream } = capture();
    const base = createLogger('info', 'json', stream);
    const first = reconcileLogger(base, 'shop/orders');
    first.info('Created Deployment');
    first.child({ generation: 2 }).info('Created Service');
    reconcileLogger(base, 'shop/orders').info('Created Deployment');
    expect(lines.map(({ controller, namespace, name }) => ({ controller, namespace, name }))).toEqual(
      Array(3).fill({ controller: 'microservice', namespace: 'shop', name: 'orders' }),
    );
    const ids = lines.map((l) => l.reconcileID as string);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
  });
});
