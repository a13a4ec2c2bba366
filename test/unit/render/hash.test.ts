import { revisionOf, stableStringify } from '../../../src/render';
import { seededRandom } from '../../seeded-random';
import { noTracked } from './fixtures';

describe('stableStringify', () => {
  test.each([
    ['sorts keys', { b: 1, a: 2 }, '{"a":2,"b":1}'],
    ['sorts nested keys', { z: { y: 1, x: [{ d: 1, c: 2 }] } }, '{"z":{"x":[{"c":2,"d":1}],"y":1}}'],
    ['keeps list order', [3, 1, 2], '[3,1,2]'],
    ['sorts integer-like keys as text', { 2: 'a', 10: 'b' }, '{"10":"b","2":"a"}'],
    ['drops undefined members', { a: undefined, b: null }, '{"b":null}'],
    ['writes undefined list items as null', [undefined, 1], '[null,1]'],
    ['escapes strings', { 'k"': 'v\n' }, '{"k\\"":"v\\n"}'],
    ['writes primitives as JSON', true, 'true'],
  ])('%s', (_name, value, expected) => {
    expect(stableStringify(value)).toBe(expected);
  });

  // Revisions and applied hashes are sha256s of this text: a change to it would roll every Microservice out.
  test('is JSON.stringify of the value with its keys sorted, for random nested values (seed 13)', () => {
    const random = seededRandom(13);
    const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
    const draw = (depth: number): unknown => {
      const kind =
        depth > 3 ? pick(['string', 'number', 'boolean', 'null']) : pick(['object', 'array', 'string', 'number']);
      if (kind === 'string') return pick(['', 'a', 'é"\\\n', '10Mi', '{x}']);
      if (kind === 'number') return pick([0, -1, 2.5, 1e21]);
      if (kind === 'boolean') return random() < 0.5;
      if (kind === 'null') return null;
      if (kind === 'array') return Array.from({ length: Math.floor(random() * 4) }, () => draw(depth + 1));
      const keys = Array.from({ length: Math.floor(random() * 5) }, () =>
        pick(['b', 'a', 'B', 'a-b', 'é', 'x10', 'x2']),
      );
      return Object.fromEntries(keys.map((k) => [k, draw(depth + 1)]));
    };
    // (Keys like "10" are left out: an object lists integer-like keys first, so the reference could not sort them.)
    const sorted = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(sorted)
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(
              Object.keys(value)
                .sort()
                .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
            )
          : value;
    for (let i = 0; i < 500; i += 1) {
      const value = draw(0);
      expect(stableStringify(value)).toBe(JSON.stringify(sorted(value)));
    }
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
