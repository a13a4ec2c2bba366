import { cloneJson } from '../../../src/render/clone';

describe('cloneJson', () => {
  test('copies at every depth: changing the copy leaves the original as it was', () => {
    const original = { spec: { containers: [{ name: 'app', env: [{ name: 'A', value: '1' }] }] }, n: 1 };
    const copy = cloneJson(original);
    expect(copy).toEqual(original);
    copy.spec.containers[0]!.env[0]!.value = '2';
    copy.spec.containers.push({ name: 'sidecar', env: [] });
    expect(original.spec.containers).toEqual([{ name: 'app', env: [{ name: 'A', value: '1' }] }]);
  });

  test('gives what structuredClone gives for JSON data, undefined members and a Date', () => {
    const value = { a: undefined, b: [null, undefined, 'x', 0, false], c: { d: new Date(5) }, e: '' };
    const copy = cloneJson(value);
    expect(copy).toStrictEqual(structuredClone(value));
    expect(copy.c.d).not.toBe(value.c.d);
  });

  test('returns primitives as they are', () => {
    expect([cloneJson(3), cloneJson('s'), cloneJson(null), cloneJson(undefined), cloneJson(true)]).toEqual([
      3,
      's',
      null,
      undefined,
      true,
    ]);
  });
});
