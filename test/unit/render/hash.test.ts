import { revisionOf, stableStringify } from '../../../src/render';
import { noTracked } from './fixtures';

describe('stableStringify', () => {
  test.each([
    ['sorts keys', { b: 1, a: 2 }, '{"a":2,"b":1}'],
    ['sorts nested keys', { z: { y: 1, x: [{ d: 1, c: 2 }] } }, '{"z":{"x":[{"c":2,"d":1}],"y":1}}'],
    ['keeps list order', [3, 1, 2], '[3,1,2]'],
    ['drops undefined members', { a: undefined, b: null }, '{"b":null}'],
    ['writes undefined list items as null', [undefined, 1], '[null,1]'],
    ['escapes strings', { 'k"': 'v\n' }, '{"k\\"":"v\\n"}'],
    ['writes primitives as JSON', true, 'true'],
  ])('%s', (_name, value, expected) => {
    expect(stableStringify(value)).toBe(expected);
  });

  test('gives the same text whatever the key order', () => {
    expect(stableStringify({ a: 1, b: { c: 2, d: 3 } })).toBe(stableStringify({ b: { d: 3, c: 2 }, a: 1 }));
  });
});

describe('revisionOf', () => {
  const template = { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'app', image: 'x:1' }] } };

  test('is 8 lowercase hex characters', () => {
    expect(revisionOf(template, noTracked)).toMatch(/^[0-9a-f]{8}$/);
  });

  test('ignores key order', () => {
    const reordered = { spec: { containers: [{ image: 'x:1', name: 'app' }] }, metadata: { labels: { a: 'b' } } };
    expect(revisionOf(reordered, noTracked)).toBe(revisionOf(template, noTracked));
  });

  test.each([
    ['the template', { ...template, spec: { containers: [{ name: 'app', image: 'x:2' }] } }, noTracked],
    ['ConfigMap data', template, { configMaps: { cfg: { key: 'v' } }, secrets: {} }],
    ['Secret data', template, { configMaps: {}, secrets: { creds: { key: 'dg==' } } }],
  ])('changes with %s', (_name, changedTemplate, tracked) => {
    expect(revisionOf(changedTemplate, tracked)).not.toBe(revisionOf(template, noTracked));
  });

  test('tells a ConfigMap from a Secret with the same content', () => {
    const data = { shared: { key: 'v' } };
    expect(revisionOf(template, { configMaps: data, secrets: {} })).not.toBe(
      revisionOf(template, { configMaps: {}, secrets: data }),
    );
  });
});
