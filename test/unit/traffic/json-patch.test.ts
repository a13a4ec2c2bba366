import type { JsonPatchOperation } from '../../../src/kube/client';
import { applyPatch, PatchError } from './json-patch';

// The applier the traffic tests rely on, checked against RFC 6902's own examples.
describe('applyPatch (test helper)', () => {
  test.each<[string, unknown, JsonPatchOperation[], unknown]>([
    ['add a member', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }], { foo: 'bar', baz: 'qux' }],
    ['add replaces an existing member', { a: 1 }, [{ op: 'add', path: '/a', value: 2 }], { a: 2 }],
    [
      'add inserts into an array',
      { foo: ['bar', 'baz'] },
      [{ op: 'add', path: '/foo/1', value: 'qux' }],
      { foo: ['bar', 'qux', 'baz'] },
    ],
    ['add appends with -', { foo: [1] }, [{ op: 'add', path: '/foo/-', value: 2 }], { foo: [1, 2] }],
    ['replace', { a: { b: 1 } }, [{ op: 'replace', path: '/a/b', value: 3 }], { a: { b: 3 } }],
    ['remove from an array', { foo: [1, 2, 3] }, [{ op: 'remove', path: '/foo/1' }], { foo: [1, 3] }],
    [
      'escaped tokens',
      { 'a/b': { 'c~d': 1 } },
      [{ op: 'test', path: '/a~1b/c~0d', value: 1 }],
      { 'a/b': { 'c~d': 1 } },
    ],
    [
      'test passes on deep equality',
      { a: [{ b: 1 }] },
      [{ op: 'test', path: '/a/0', value: { b: 1 } }],
      { a: [{ b: 1 }] },
    ],
  ])('%s', (_name, document, operations, result) => {
    expect(applyPatch(document, operations)).toEqual(result);
  });

  test.each<[string, unknown, JsonPatchOperation[]]>([
    ['a failed test', { a: 'x' }, [{ op: 'test', path: '/a', value: 'y' }]],
    ['a missing parent', { a: {} }, [{ op: 'add', path: '/b/c', value: 1 }]],
    ['an index past the end', { a: [1] }, [{ op: 'add', path: '/a/5', value: 1 }]],
    ['replace of a missing member', { a: 1 }, [{ op: 'replace', path: '/b', value: 1 }]],
  ])('%s throws and changes nothing', (_name, document, operations) => {
    const before = structuredClone(document);
    expect(() => applyPatch(document, [{ op: 'add', path: '/z', value: 0 }, ...operations])).toThrow(PatchError);
    expect(document).toEqual(before);
  });
});
