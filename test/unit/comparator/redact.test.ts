import { isSecretHeader, isSecretKey, redactJson, redactPath, truncate } from '../../../src/comparator/redact';

test.each<[string, boolean]>([
  ['Authorization', true],
  ['proxy-authorization', true],
  ['Cookie', true],
  ['set-cookie', true],
  ['X-Api-Key', true],
  ['x-auth-token', true],
  ['X-Client-Secret', true],
  ['x-session-id', true],
  ['x-db-password', true],
  ['content-type', false],
  ['x-version', false],
  ['keep-alive', false],
])('isSecretHeader(%s) is %s', (name, secret) => {
  expect(isSecretHeader(name)).toBe(secret);
});

test.each<[string, boolean]>([
  ['password', true],
  ['newPassword', true],
  ['passwd', true],
  ['token', true],
  ['accessToken', true],
  ['client_secret', true],
  ['apiKey', true],
  ['api_key', true],
  ['sessionId', true],
  ['credentials', true],
  ['price', false],
  ['id', false],
  ['author', false],
])('isSecretKey(%s) is %s', (key, secret) => {
  expect(isSecretKey(key)).toBe(secret);
});

test.each<[string, string]>([
  ['/orders', '/orders'],
  ['/orders?id=42&token=abc', '/orders?id=*&token=*'],
  ['/orders?flag&x=', '/orders?flag&x=*'],
  ['/search?q=a%20b&&page=2', '/search?q=*&page=*'],
  ['/?', '/?'],
])('redactPath(%s) is %s', (path, redacted) => {
  expect(redactPath(path)).toBe(redacted);
});

test('redactJson replaces values under secret keys at any depth and keeps the rest', () => {
  const value = {
    id: 1,
    password: 'hunter2',
    user: { name: 'ann', apiKey: { v: 'k' } },
    items: [{ token: 't', price: 3 }],
  };
  expect(redactJson(value)).toEqual({
    id: 1,
    password: '(redacted)',
    user: { name: 'ann', apiKey: '(redacted)' },
    items: [{ token: '(redacted)', price: 3 }],
  });
  expect(value.password).toBe('hunter2');
});

test.each<[string, number, string]>([
  ['short', 10, 'short'],
  ['0123456789', 10, '0123456789'],
  ['0123456789a', 10, '012345678…'],
])('truncate(%j, %d) is %j', (text, max, out) => {
  expect(truncate(text, max)).toBe(out);
});
