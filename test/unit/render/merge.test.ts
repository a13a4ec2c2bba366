import { deepMerge } from '../../../src/render/merge';

describe('deepMerge', () => {
  test.each([
    ['an absent override keeps the base', { a: 1 }, undefined, { a: 1 }],
    ['objects merge recursively', { a: { b: 1, c: 2 } }, { a: { c: 3, d: 4 } }, { a: { b: 1, c: 3, d: 4 } }],
    ['a null member removes the key', { a: 1, b: { c: 2 } }, { b: null }, { a: 1 }],
    ['a null member is left out of a new object', {}, { a: { b: null, c: 1 } }, { a: { c: 1 } }],
    ['scalars are replaced', { a: 1 }, { a: 'x' }, { a: 'x' }],
    ['an object replaces a scalar', { a: 1 }, { a: { b: 2 } }, { a: { b: 2 } }],
    [
      'named lists merge by name, keeping base order and appending new names',
      {
        list: [
          { name: 'a', v: 1 },
          { name: 'b', v: 2 },
        ],
      },
      {
        list: [
          { name: 'c', v: 3 },
          { name: 'a', w: 9 },
        ],
      },
      {
        list: [
          { name: 'a', v: 1, w: 9 },
          { name: 'b', v: 2 },
          { name: 'c', v: 3 },
        ],
      },
    ],
    ['other lists are replaced', { list: [1, 2, 3] }, { list: [4] }, { list: [4] }],
    [
      'lists of unnamed objects are replaced',
      { list: [{ key: 'a' }] },
      { list: [{ key: 'b' }] },
      { list: [{ key: 'b' }] },
    ],
    [
      'a list is replaced when one base item has no name',
      { list: [{ name: 'a' }, { key: 'x' }] },
      { list: [{ name: 'b' }] },
      { list: [{ name: 'b' }] },
    ],
    ['an empty list clears a named list', { list: [{ name: 'a' }] }, { list: [] }, { list: [] }],
    [
      'a named list is added where the base had none',
      { a: 1 },
      { list: [{ name: 'x' }] },
      { a: 1, list: [{ name: 'x' }] },
    ],
  ])('%s', (_name, base, override, expected) => {
    expect(deepMerge(base, override)).toEqual(expected);
  });

  test('changes neither input and shares no objects with them', () => {
    const base = { spec: { containers: [{ name: 'app', env: [{ name: 'A', value: '1' }] }] } };
    const override = { spec: { containers: [{ name: 'sidecar' }] } };
    const before = JSON.stringify([base, override]);
    const merged = deepMerge(base, override) as typeof base;
    merged.spec.containers[0]!.env[0]!.value = 'changed';
    expect(JSON.stringify([base, override])).toBe(before);
  });

  test('never lets a __proto__ key reach a prototype', () => {
    const merged = deepMerge({}, JSON.parse('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(merged.polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
