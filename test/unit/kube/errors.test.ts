import {
  ApiError,
  errorMessage,
  isConflict,
  isForbidden,
  isGone,
  isInvalid,
  isNotFound,
  TerminalError,
} from '../../../src/kube/errors';

const PATH = '/apis/apps/v1/namespaces/shop/deployments/orders';

describe('ApiError.fromResponse', () => {
  test('reads message, reason and code from a Kubernetes Status body', () => {
    const body = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      message: 'deployments.apps "orders" not found',
      reason: 'NotFound',
      details: { name: 'orders', group: 'apps', kind: 'deployments' },
      code: 404,
    });
    const err = ApiError.fromResponse('GET', PATH, 404, body);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ApiError');
    expect(err.statusCode).toBe(404);
    expect(err.reason).toBe('NotFound');
    expect(err.message).toBe(`GET ${PATH}: deployments.apps "orders" not found`);
    expect(err.detail).toBe('deployments.apps "orders" not found');
  });

  test.each<[string, number, string, string, string]>([
    [
      'a Status body without a reason',
      500,
      '{"kind":"Status","message":"etcdserver: request timed out"}',
      '',
      'etcdserver: request timed out',
    ],
    ['a JSON body that is not a Status', 502, '{"error":"bad gateway"}', '', '{"error":"bad gateway"}'],
    ['a plain text body, trimmed', 503, ' upstream connect error\n', '', 'upstream connect error'],
    ['an HTML error page', 502, '<html><body>Bad Gateway</body></html>', '', '<html><body>Bad Gateway</body></html>'],
    ['an empty body', 503, '', '', 'HTTP 503'],
    ['a body of whitespace', 504, '  \n', '', 'HTTP 504'],
    ['a Status body with a reason but no message', 409, '{"reason":"Conflict"}', 'Conflict', '{"reason":"Conflict"}'],
  ])('handles %s', (_name, code, body, reason, detail) => {
    const err = ApiError.fromResponse('PATCH', PATH, code, body);
    expect(err.statusCode).toBe(code);
    expect(err.reason).toBe(reason);
    expect(err.message).toBe(`PATCH ${PATH}: ${detail}`);
  });

  test('takes the status code from the response, not the body', () => {
    const err = ApiError.fromResponse('GET', PATH, 404, '{"kind":"Status","code":500,"message":"gone"}');
    expect(err.statusCode).toBe(404);
    expect(isNotFound(err)).toBe(true);
  });
});

describe('status code checks', () => {
  const apiError = (code: number) => new ApiError(code, '', `HTTP ${code}`);

  test.each<
    [string, unknown, [notFound: boolean, conflict: boolean, gone: boolean, invalid: boolean, forbidden: boolean]]
  >([
    ['a 404 ApiError', apiError(404), [true, false, false, false, false]],
    ['a 409 ApiError', apiError(409), [false, true, false, false, false]],
    ['a 410 ApiError', apiError(410), [false, false, true, false, false]],
    ['a 422 ApiError', apiError(422), [false, false, false, true, false]],
    ['a 403 ApiError', apiError(403), [false, false, false, false, true]],
    ['a 400 ApiError', apiError(400), [false, false, false, false, false]],
    ['a 500 ApiError', apiError(500), [false, false, false, false, false]],
    ['a plain Error', new Error('not found'), [false, false, false, false, false]],
    ['a TerminalError', new TerminalError('NotFound', 'not found'), [false, false, false, false, false]],
    ['an object with statusCode 404', { statusCode: 404 }, [false, false, false, false, false]],
    ['a number', 404, [false, false, false, false, false]],
    ['undefined', undefined, [false, false, false, false, false]],
    ['null', null, [false, false, false, false, false]],
  ])('%s', (_name, err, [notFound, conflict, gone, invalid, forbidden]) => {
    expect(isNotFound(err)).toBe(notFound);
    expect(isConflict(err)).toBe(conflict);
    expect(isGone(err)).toBe(gone);
    expect(isInvalid(err)).toBe(invalid);
    expect(isForbidden(err)).toBe(forbidden);
  });
});

describe('TerminalError', () => {
  test('carries a reason, a message and a cause', () => {
    const cause = new Error('underlying');
    const err = new TerminalError('ConfigMapNotFound', 'ConfigMap shop/settings was not found', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('TerminalError');
    expect(err.reason).toBe('ConfigMapNotFound');
    expect(err.message).toBe('ConfigMap shop/settings was not found');
    expect(err.cause).toBe(cause);
  });
});

describe('errorMessage', () => {
  test.each<[string, unknown, string]>([
    ['an Error', new Error('boom'), 'boom'],
    ['an ApiError', new ApiError(404, 'NotFound', 'GET /api/v1/pods/x: not found'), 'GET /api/v1/pods/x: not found'],
    ['a TypeError', new TypeError('x is not a function'), 'x is not a function'],
    ['a string', 'plain text', 'plain text'],
    ['a number', 42, '42'],
    ['undefined', undefined, 'undefined'],
    ['null', null, 'null'],
    ['an object', { code: 1 }, '[object Object]'],
  ])('gives the message of %s', (_name, err, expected) => {
    expect(errorMessage(err)).toBe(expected);
  });
});
