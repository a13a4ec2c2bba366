import { formatLocation, JsonPathError, parseJsonPath, pathMatches } from '../../../src/comparator/json-path';

describe('parseJsonPath', () => {
  test.each<[string, unknown]>([
    ['$.generatedAt', [{ key: 'generatedAt' }]],
    ['$.a.b', [{ key: 'a' }, { key: 'b' }]],
    ['$.items[0].id', [{ key: 'items' }, { index: 0 }, { key: 'id' }]],
    ['$.items[*].id', [{ key: 'items' }, { any: true }, { key: 'id' }]],
    ['$[2]', [{ index: 2 }]],
    ['$.x-request_id$', [{ key: 'x-request_id$' }]],
  ])('parses %s', (path, segments) => {
    expect(parseJsonPath(path)).toEqual(segments);
  });

  test.each<[string, string]>([
    ['generatedAt', 'JSON path "generatedAt" must start with "$" (for example $.items[*].id)'],
    ['$', 'JSON path "$" names the whole body; name a field (for example $.generatedAt)'],
    ['$..price', 'JSON path "$..price": unsupported syntax at "..price"; use .field, [index] or [*]'],
    ['$.items[?(@.id)]', 'unsupported syntax at "[?(@.id)]"'],
    ["$['a']", `unsupported syntax at "['a']"`],
    ['$.a.*', 'unsupported syntax at ".*"'],
    ['$.items[-1]', 'unsupported syntax at "[-1]"'],
    ['$.a.', 'unsupported syntax at "."'],
  ])('refuses %s', (path, message) => {
    expect(() => parseJsonPath(path)).toThrow(JsonPathError);
    expect(() => parseJsonPath(path)).toThrow(message);
  });
});

describe('pathMatches', () => {
  test.each<[string, (string | number)[], boolean]>([
    ['$.a.b', ['a', 'b'], true],
    ['$.a.b', ['a'], false],
    ['$.a.b', ['a', 'b', 'c'], false],
    ['$.items[0].id', ['items', 0, 'id'], true],
    ['$.items[0].id', ['items', 1, 'id'], false],
    ['$.items[*].id', ['items', 7, 'id'], true],
    ['$.items[*].id', ['items', 'x', 'id'], false],
    ['$.items[0]', ['items', '0'], false],
  ])('%s against %j is %s', (path, location, expected) => {
    expect(pathMatches(parseJsonPath(path), location)).toBe(expected);
  });
});

test.each<[(string | number)[], string]>([
  [[], '$'],
  [['items', 3, 'price'], '$.items[3].price'],
  [['a b', 0], '$["a b"][0]'],
])('formatLocation(%j) is %s', (location, text) => {
  expect(formatLocation(location)).toBe(text);
});
