import zlib from 'node:zlib';
import { type Answer, sha256 } from '../../../src/comparator/answer';
import { compareAnswers, type CompareOptions, MAX_DIFFERENCES } from '../../../src/comparator/compare';
import { parseJsonPath } from '../../../src/comparator/json-path';

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };
const TEXT_TYPE = { 'content-type': 'text/plain' };

const answer = (body: string | Buffer, headers: Answer['headers'] = JSON_TYPE, status = 200): Answer => ({
  status,
  headers,
  body: Buffer.isBuffer(body) ? body : Buffer.from(body),
});
const json = (value: unknown, headers: Answer['headers'] = JSON_TYPE) => answer(JSON.stringify(value), headers);

const options = (over: Partial<CompareOptions> = {}): CompareOptions => ({
  ignoreHeaders: [],
  ignoreJsonPaths: [],
  maxBodyBytes: 1024,
  ...over,
});
const ignoring = (...paths: string[]) => options({ ignoreJsonPaths: paths.map(parseJsonPath) });

describe('compareAnswers', () => {
  test.each<[string, Answer, Answer, CompareOptions, string[]]>([
    ['identical JSON', json({ a: 1 }), json({ a: 1 }), options(), []],
    ['key order does not matter', answer('{"a":1,"b":2}'), answer('{"b":2,"a":1}'), options(), []],
    ['numbers compare by value', answer('{"price":10.0,"n":1e2}'), answer('{"price":10,"n":100}'), options(), []],
    ['whitespace does not matter', answer('{ "a" : [1, 2] }'), answer('{"a":[1,2]}'), options(), []],
    ['status', answer('{}', JSON_TYPE, 200), answer('{}', JSON_TYPE, 500), options(), ['status 200 != 500']],
    [
      'a changed field, named by its path',
      json({ items: [{ price: 1 }, { price: 1 }, { price: 1 }, { price: 10 }] }),
      json({ items: [{ price: 1 }, { price: 1 }, { price: 1 }, { price: 11 }] }),
      options(),
      ['body $.items[3].price: 10 != 11'],
    ],
    [
      'a missing and an added field',
      json({ a: 1, b: 'x' }),
      json({ a: 1, c: true }),
      options(),
      ['body $.b: "x" != (absent)', 'body $.c: (absent) != true'],
    ],
    ['array lengths', json({ l: [1, 2] }), json({ l: [1, 2, 3] }), options(), ['body $.l: 2 items != 3 items']],
    ['a type change', json({ a: { b: 1 } }), json({ a: [1] }), options(), ['body $.a: {"b":1} != [1]']],
    ['null is a value', json({ a: null }), json({ a: 0 }), options(), ['body $.a: null != 0']],
    [
      'keys named like Object.prototype members',
      answer('{"constructor":1,"toString":"x"}'),
      answer('{}'),
      options(),
      ['body $.constructor: 1 != (absent)', 'body $.toString: "x" != (absent)'],
    ],
    ['an ignored field', json({ at: 1, v: 2 }), json({ at: 9, v: 2 }), ignoring('$.at'), []],
    ['an ignored subtree', json({ meta: { a: 1 } }), json({ meta: { a: 2, b: 3 } }), ignoring('$.meta'), []],
    ['an ignored field absent on one side', json({ at: 1 }), json({}), ignoring('$.at'), []],
    [
      'an ignored index only',
      json({ items: [{ id: 1 }, { id: 2 }] }),
      json({ items: [{ id: 9 }, { id: 8 }] }),
      ignoring('$.items[0].id'),
      ['body $.items[1].id: 2 != 8'],
    ],
    [
      'an ignored wildcard',
      json({
        items: [
          { id: 1, p: 1 },
          { id: 2, p: 1 },
        ],
      }),
      json({
        items: [
          { id: 9, p: 1 },
          { id: 8, p: 2 },
        ],
      }),
      ignoring('$.items[*].id'),
      ['body $.items[1].p: 1 != 2'],
    ],
    [
      '+json is JSON',
      json({ a: 1 }, { 'content-type': 'application/problem+json' }),
      answer('{ "a": 1 }', { 'content-type': 'application/problem+json' }),
      options(),
      [],
    ],
    ['a body that is not valid JSON', answer('{"a":1}'), answer('{"a":'), options(), ['body: JSON != not valid JSON']],
    [
      'text byte for byte, with a short snippet',
      answer(`${'a'.repeat(50)}X${'b'.repeat(50)}`, TEXT_TYPE),
      answer(`${'a'.repeat(50)}Y${'b'.repeat(50)}`, TEXT_TYPE),
      options(),
      [
        `body: 101 bytes != 101 bytes, first difference at byte 50: ` +
          `"${'a'.repeat(10)}X${'b'.repeat(19)}" != "${'a'.repeat(10)}Y${'b'.repeat(19)}"`,
      ],
    ],
    [
      'binary without a snippet',
      answer(Buffer.from([1, 2, 3]), { 'content-type': 'application/octet-stream' }),
      answer(Buffer.from([1, 2, 4, 5]), { 'content-type': 'application/octet-stream' }),
      options(),
      ['body: 3 bytes != 4 bytes, first difference at byte 2'],
    ],
    ['equal text', answer('same', TEXT_TYPE), answer('same', TEXT_TYPE), options(), []],
    [
      'JSON text compared as bytes when only one side says JSON',
      answer('{"a":1}'),
      answer('{"a":1}', TEXT_TYPE),
      options(),
      ['header content-type: "application/json; charset=utf-8" != "text/plain"'],
    ],
  ])('%s', (_name, a, b, opts, differences) => {
    expect(compareAnswers(a, b, opts)).toEqual(differences);
  });

  test('lists at most MAX_DIFFERENCES and counts the rest', () => {
    const a = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${String(i).padStart(2, '0')}`, i]));
    const b = Object.fromEntries(Object.keys(a).map((k) => [k, -1]));
    const out = compareAnswers(json(a), json(b), options());
    expect(out).toHaveLength(MAX_DIFFERENCES + 1);
    expect(out[0]).toBe('body $.k00: 0 != -1');
    // The walk stops one past the limit, so the count is a lower bound the text does not pretend to exceed.
    expect(out.at(-1)).toBe('and 1 more');
  });

  test('cuts a long value', () => {
    const out = compareAnswers(json({ a: 'x'.repeat(500) }), json({ a: 'y' }), options());
    expect(out).toEqual([`body $.a: "${'x'.repeat(58)}… != "y"`]);
  });
});

describe('headers', () => {
  const withHeaders = (headers: Answer['headers']) => answer('{}', { ...JSON_TYPE, ...headers });
  test.each<[string, Answer['headers'], Answer['headers'], string[], string[]]>([
    ['a changed header', { 'x-version': '1' }, { 'x-version': '2' }, [], ['header x-version: "1" != "2"']],
    ['an absent header', { 'x-a': '1' }, {}, [], ['header x-a: "1" != (absent)']],
    ['an ignored header', { 'x-request-id': 'a' }, { 'x-request-id': 'b' }, ['x-request-id'], []],
    [
      'per-response headers never compared',
      { date: 'Mon', 'content-length': '2', age: '1', 'x-envoy-upstream-service-time': '3', connection: 'close' },
      { date: 'Tue', 'content-length': '3', age: '9', 'x-envoy-upstream-service-time': '7' },
      [],
      [],
    ],
    ['repeated headers in order', { vary: ['a', 'b'] }, { vary: ['a', 'c'] }, [], ['header vary: "a, b" != "a, c"']],
    [
      'a secret header shows no value',
      { 'set-cookie': 's=1' },
      { 'set-cookie': 's=2' },
      [],
      ['header set-cookie: differs (values (redacted))'],
    ],
    ['x-api-key is secret', { 'x-api-key': 'k1' }, {}, [], ['header x-api-key: differs (values (redacted))']],
  ])('%s', (_name, a, b, ignoreHeaders, differences) => {
    expect(compareAnswers(withHeaders(a), withHeaders(b), options({ ignoreHeaders }))).toEqual(differences);
  });
});

describe('encodings', () => {
  const body = JSON.stringify({ items: [1, 2, 3], text: 'x'.repeat(100) });
  const encoded = (coding: string, bytes: Buffer) => answer(bytes, { ...JSON_TYPE, 'content-encoding': coding });
  test.each<[string, Answer]>([
    ['gzip', encoded('gzip', zlib.gzipSync(body))],
    ['x-gzip', encoded('x-gzip', zlib.gzipSync(body))],
    ['deflate (zlib)', encoded('deflate', zlib.deflateSync(body))],
    ['deflate (raw)', encoded('deflate', zlib.deflateRawSync(body))],
    ['br', encoded('br', zlib.brotliCompressSync(body))],
    ['zstd', encoded('zstd', zlib.zstdCompressSync(body))],
    ['gzip then br', encoded('gzip, br', zlib.brotliCompressSync(zlib.gzipSync(body)))],
    ['identity', encoded('identity', Buffer.from(body))],
  ])('a %s body equals the plain one', (_name, other) => {
    expect(compareAnswers(answer(body), other, options())).toEqual([]);
    expect(compareAnswers(other, answer(body), options())).toEqual([]);
  });

  test('a differing field inside gzip is found', () => {
    const other = encoded('gzip', zlib.gzipSync(JSON.stringify({ items: [1, 2, 4], text: 'x'.repeat(100) })));
    expect(compareAnswers(answer(body), other, options())).toEqual(['body $.items[2]: 3 != 4']);
  });

  test.each<[string, Answer, string]>([
    [
      'an unknown coding',
      encoded('compress', Buffer.from('zz')),
      `body: ${Buffer.byteLength(body)} bytes != unsupported content-encoding "compress"`,
    ],
    [
      'a broken gzip',
      encoded('gzip', Buffer.from('not gzip')),
      `body: ${Buffer.byteLength(body)} bytes != invalid gzip body: incorrect header check`,
    ],
  ])('%s is a difference that says why', (_name, other, difference) => {
    expect(compareAnswers(answer(body), other, options())).toEqual([difference]);
  });

  test('a body that decodes past the cap is compared as received, by length and hash', () => {
    const big = zlib.gzipSync('a'.repeat(5000));
    const a = encoded('gzip', big);
    expect(compareAnswers(a, encoded('gzip', big), options({ maxBodyBytes: 1000 }))).toEqual([]);
    const other = encoded('gzip', zlib.gzipSync('b'.repeat(5000)));
    expect(compareAnswers(a, other, options({ maxBodyBytes: 1000 }))).toEqual([
      `body (decodes to over 1000 bytes; compared as received, compared by length and sha256): ` +
        `${big.length} bytes sha256 ${sha256(big).slice(0, 12)} != ${other.body.length as number} bytes sha256 ` +
        `${sha256(other.body as Buffer).slice(0, 12)}`,
    ]);
  });
});

describe('bodies over the cap', () => {
  const over = (length: number, hash: string): Answer => ({
    status: 200,
    headers: JSON_TYPE,
    body: { length, sha256: hash },
  });
  test.each<[string, Answer, Answer, string[]]>([
    ['same length and hash', over(2000, 'ab'.repeat(32)), over(2000, 'ab'.repeat(32)), []],
    [
      'another hash',
      over(2000, 'ab'.repeat(32)),
      over(2000, 'cd'.repeat(32)),
      [
        'body (over 1024 bytes, compared by length and sha256): 2000 bytes sha256 abababababab != 2000 bytes sha256 cdcdcdcdcdcd',
      ],
    ],
    [
      'one side small',
      over(2000, 'ab'.repeat(32)),
      answer('{}'),
      ['body (over 1024 bytes, compared by length and sha256): 2000 bytes sha256 abababababab != 2 bytes'],
    ],
  ])('%s', (_name, a, b, differences) => {
    expect(compareAnswers(a, b, options())).toEqual(differences);
  });
});

describe('redaction in differences', () => {
  test.each<[string, unknown, unknown, string[]]>([
    ['a secret field', { password: 'a' }, { password: 'b' }, ['body $.password: (redacted) != (redacted)']],
    [
      'under a secret key',
      { auth: { token: { v: 1 } } },
      { auth: { token: { v: 2 } } },
      ['body $.auth.token.v: (redacted) != (redacted)'],
    ],
    [
      'secrets inside a shown object',
      { user: 1 },
      { user: { name: 'ann', apiKey: 'k' } },
      ['body $.user: 1 != {"name":"ann","apiKey":"(redacted)"}'],
    ],
    ['an absent secret', { sessionId: 's' }, {}, ['body $.sessionId: (redacted) != (absent)']],
  ])('%s', (_name, a, b, differences) => {
    expect(compareAnswers(json(a), json(b), options())).toEqual(differences);
  });
});
