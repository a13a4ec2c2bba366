import { FlagError, parseComparatorFlags } from '../../../src/comparator/flags';

const REQUIRED = ['--primary=http://orders-baseline.shop.svc:80', '--candidate=http://orders-canary.shop.svc:80'];

describe('parseComparatorFlags', () => {
  test('defaults', () => {
    const options = parseComparatorFlags(REQUIRED)!;
    expect({ ...options, primary: options.primary.href, candidate: options.candidate.href }).toEqual({
      primary: 'http://orders-baseline.shop.svc/',
      candidate: 'http://orders-canary.shop.svc/',
      port: 8080,
      metricsPort: 9102,
      ignoreHeaders: [],
      ignoreJsonPathsText: [],
      ignoreJsonPaths: [],
      route: 'default',
      maxExamples: 5,
      timeoutMs: 5000,
      maxBodyBytes: 1048576,
      methods: ['GET', 'HEAD', 'OPTIONS'],
      maxInFlight: 1000,
      respond: 'immediately',
      logLevel: 'info',
    });
  });

  test('every flag', () => {
    const options = parseComparatorFlags([
      ...REQUIRED,
      '--secondary=http://orders.shop.svc:80',
      '--port=0',
      '--metrics-port=9999',
      '--ignore-header=Date',
      '--ignore-header=X-Request-Id',
      '--ignore-json-path=$.generatedAt',
      '--ignore-json-path=$.items[*].id',
      '--route=orders-api',
      '--max-examples=2',
      '--timeout=1500ms',
      '--max-body-bytes=100',
      '--methods=get, head',
      '--max-in-flight=10',
      '--respond=after-comparison',
      '--log-level=debug',
    ])!;
    expect(options.secondary?.href).toBe('http://orders.shop.svc/');
    expect(options).toMatchObject({
      port: 0,
      metricsPort: 9999,
      ignoreHeaders: ['date', 'x-request-id'],
      ignoreJsonPathsText: ['$.generatedAt', '$.items[*].id'],
      ignoreJsonPaths: [[{ key: 'generatedAt' }], [{ key: 'items' }, { any: true }, { key: 'id' }]],
      route: 'orders-api',
      maxExamples: 2,
      timeoutMs: 1500,
      maxBodyBytes: 100,
      methods: ['GET', 'HEAD'],
      maxInFlight: 10,
      respond: 'after-comparison',
      logLevel: 'debug',
    });
  });

  test('--help', () => {
    expect(parseComparatorFlags(['--help'])).toBeUndefined();
  });

  test.each<[string, string[], string]>([
    ['no primary', ['--candidate=http://c'], '--primary=URL is required: the old version to trust'],
    ['no candidate', ['--primary=http://p'], '--candidate=URL is required: the new version'],
    ['an unknown flag', [...REQUIRED, '--mirror=x'], "Unknown option '--mirror'"],
    ['a positional', [...REQUIRED, 'extra'], "Unexpected argument 'extra'"],
    [
      'a bad URL',
      ['--primary=orders', '--candidate=http://c'],
      '--primary must be a URL such as http://orders-canary.shop.svc:80, got "orders"',
    ],
    [
      'another scheme',
      ['--primary=ftp://p', '--candidate=http://c'],
      '--primary must be an http or https URL, got "ftp://p"',
    ],
    [
      'a query',
      ['--primary=http://p', '--candidate=http://c/?x=1'],
      '--candidate takes no query, fragment or credentials',
    ],
    ['a bad port', [...REQUIRED, '--port=http'], '--port must be a whole number from 0 to 65535, got "http"'],
    [
      'a port too large',
      [...REQUIRED, '--metrics-port=70000'],
      '--metrics-port must be a whole number from 0 to 65535',
    ],
    ['a bad timeout', [...REQUIRED, '--timeout=5'], '--timeout: "5" is not a duration (missing unit after "5")'],
    ['a zero timeout', [...REQUIRED, '--timeout=0'], '--timeout must be more than 0, got "0"'],
    [
      'a bad JSON path',
      [...REQUIRED, '--ignore-json-path=$..price'],
      '--ignore-json-path: JSON path "$..price": unsupported syntax at "..price"',
    ],
    [
      'a bad header name',
      [...REQUIRED, '--ignore-header=x y'],
      '--ignore-header must be a header name such as x-request-id, got "x y"',
    ],
    ['an empty route', [...REQUIRED, '--route='], '--route must not be empty'],
    ['a bad method', [...REQUIRED, '--methods=GET,P0ST'], '--methods must list HTTP methods like GET,HEAD, got "P0ST"'],
    [
      'a bad respond',
      [...REQUIRED, '--respond=later'],
      '--respond must be immediately or after-comparison, got "later"',
    ],
    [
      'a bad log level',
      [...REQUIRED, '--log-level=loud'],
      '--log-level must be one of fatal, error, warn, info, debug, trace, silent',
    ],
    ['too many examples', [...REQUIRED, '--max-examples=1000'], '--max-examples must be a whole number from 0 to 100'],
    ['a zero body cap', [...REQUIRED, '--max-body-bytes=0'], '--max-body-bytes must be a whole number from 1 to'],
  ])('refuses %s', (_name, argv, message) => {
    expect(() => parseComparatorFlags(argv)).toThrow(FlagError);
    expect(() => parseComparatorFlags(argv)).toThrow(message);
  });
});
