import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  MultipleSeriesError,
  NaNError,
  NoDataError,
  PrometheusQueryError,
  PrometheusResponseError,
  PrometheusTimeoutError,
  PrometheusUnreachableError,
} from '../../../src/analysis/errors';
import { PrometheusProvider, prometheusCredentials, type PrometheusOptions } from '../../../src/analysis/prometheus';

// A throwaway self-signed certificate for 127.0.0.1, valid until 2126, made for this test only.
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBpTCCAUygAwIBAgIUYn+MA8yOg94o9LY6+cu5OjXohGUwCgYIKoZIzj0EAwIw
HzEdMBsGA1UEAwwUbXNvcC10ZXN0LXByb21ldGhldXMwIBcNMjYxMTIzMTYwODIx
WhgPMjEyNjEwMzAxNjA4MjFaMB8xHTAbBgNVBAMMFG1zb3AtdGVzdC1wcm9tZXRo
ZXVzMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAET3z94zhSi6FsJ50LMrTy6C1A
1NKfDW+2/XQRFvB61KxTrPgsbhGo/5gIwniS65JlcDrQgRAQZvLIlhKpiIQCbqNk
MGIwHQYDVR0OBBYEFKcz4G4hmLMBWqH8eal76If/gIm7MB8GA1UdIwQYMBaAFKcz
4G4hmLMBWqH8eal76If/gIm7MA8GA1UdEwEB/wQFMAMBAf8wDwYDVR0RBAgwBocE
fwAAATAKBggqhkjOPQQDAgNHADBEAiBCat762Z19uNPc7vwFv8815bU8zPXTomkc
1y4UKMuKhwIgfzYkaCIr1K3VG96GDwLic91Wbtp0X+bD6J6rZW3USN0=
-----END CERTIFICATE-----
`;
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFaaee9pOF6AdOgD5
ZsgMb7i+rTJ79WMWeLdl9PRHteihRANCAARPfP3jOFKLoWwnnQsytPLoLUDU0p8N
b7b9dBEW8HrUrFOs+CxuEaj/mAjCeJLrkmVwOtCBEBBm8siWEqmIhAJu
-----END PRIVATE KEY-----
`;

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  form: Record<string, string>;
}

type Reply = { status?: number; body: string } | 'hang';

/** A Prometheus stand-in on 127.0.0.1 that records every request and answers from a script. */
class Stub {
  readonly seen: Seen[] = [];
  reply: Reply = { body: '{}' };
  private server!: Server;

  async start(tls = false): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        this.seen.push({
          method: req.method!,
          path: req.url!,
          headers: req.headers,
          form: Object.fromEntries(new URLSearchParams(raw)),
        });
        if (this.reply === 'hang') return;
        res.writeHead(this.reply.status ?? 200, { 'content-type': 'application/json' });
        res.end(this.reply.body);
      });
    };
    this.server = tls ? createHttpsServer({ cert: TEST_CERT, key: TEST_KEY }, handler) : createHttpServer(handler);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const vector = (...values: string[]) =>
  JSON.stringify({
    status: 'success',
    data: {
      resultType: 'vector',
      result: values.map((v, i) => ({ metric: { pod: `p${i}` }, value: [1700000000, v] })),
    },
  });

const matrix = (...series: string[][]) =>
  JSON.stringify({
    status: 'success',
    data: {
      resultType: 'matrix',
      result: series.map((values, i) => ({
        metric: { pod: `p${i}` },
        values: values.map((v, t) => [1700000000 + 60 * t, v]),
      })),
    },
  });

const QUERY = 'sum(rate(http_requests_total{namespace="shop",msop_dev_track="canary"}[1m]))';

type ErrorClass = abstract new (...args: never[]) => Error;

describe('PrometheusProvider', () => {
  const stub = new Stub();
  let address: string;
  const provider = (options: Partial<PrometheusOptions> = {}) => new PrometheusProvider({ address, ...options });

  beforeAll(async () => {
    address = await stub.start();
  });
  afterAll(() => stub.stop());
  beforeEach(() => {
    stub.seen.length = 0;
  });

  test('sends an instant query as a form-encoded POST with the exact PromQL, time and timeout', async () => {
    stub.reply = { body: vector('99.5') };
    const at = new Date('2024-05-01T12:00:00.250Z');
    await expect(provider({ timeoutMs: 5000 }).query(QUERY, at)).resolves.toBe(99.5);
    expect(stub.seen).toHaveLength(1);
    const [request] = stub.seen;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/api/v1/query');
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request!.form).toEqual({ query: QUERY, time: '1714564800.250', timeout: '5' });
  });

  test('sends a range query with start, end and step, and keeps NaN points', async () => {
    stub.reply = { body: matrix(['120', '130.5', 'NaN', '+Inf']) };
    const start = new Date('2024-05-01T12:00:00Z');
    const end = new Date('2024-05-01T12:03:00Z');
    await expect(provider().querySeries(QUERY, start, end, 60)).resolves.toEqual([120, 130.5, NaN, Infinity]);
    expect(stub.seen[0]!.path).toBe('/api/v1/query_range');
    expect(stub.seen[0]!.form).toEqual({
      query: QUERY,
      start: '1714564800.000',
      end: '1714564980.000',
      step: '60',
      timeout: '10',
    });
  });

  test('keeps a path prefix in the address', async () => {
    stub.reply = { body: vector('1') };
    await provider({ address: `${address}/prometheus/` }).query('vector(1)');
    expect(stub.seen[0]!.path).toBe('/prometheus/api/v1/query');
  });

  test.each<[string, Partial<PrometheusOptions>, Record<string, string>]>([
    ['a bearer token', { auth: { type: 'Bearer', token: 's3cr3t' } }, { authorization: 'Bearer s3cr3t' }],
    [
      'basic auth',
      { auth: { type: 'Basic', username: 'msop', password: 'pa:ss' } },
      { authorization: `Basic ${Buffer.from('msop:pa:ss').toString('base64')}` },
    ],
    ['a tenant header', { headers: { 'X-Scope-OrgID': 'shop' } }, { 'x-scope-orgid': 'shop' }],
    [
      'a tenant header and a bearer token',
      { headers: { 'X-Scope-OrgID': 'shop' }, auth: { type: 'Bearer', token: 't' } },
      { 'x-scope-orgid': 'shop', authorization: 'Bearer t' },
    ],
  ])('sends %s', async (_name, options, expected) => {
    stub.reply = { body: vector('1') };
    await provider(options).query('vector(1)');
    expect(stub.seen[0]!.headers).toMatchObject(expected);
  });

  test('sends no authorization header without credentials', async () => {
    stub.reply = { body: vector('1') };
    await provider().query('vector(1)');
    expect(stub.seen[0]!.headers.authorization).toBeUndefined();
  });

  test.each<[string, string, number]>([
    ['a one-sample vector', vector('0.25'), 0.25],
    ['a scalar', JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1, '42'] } }), 42],
    ['an integer count', vector('20113'), 20113],
  ])('reads %s', async (_name, body, expected) => {
    stub.reply = { body };
    await expect(provider().query(QUERY)).resolves.toBe(expected);
  });

  const badData = JSON.stringify({
    status: 'error',
    errorType: 'bad_data',
    error: 'invalid parameter "query": 1:14: parse error: unexpected "}"',
  });

  test.each<[string, Reply, ErrorClass, string]>([
    [
      'a parse error',
      { status: 400, body: badData },
      PrometheusQueryError,
      `Prometheus rejected the query (bad_data): invalid parameter "query": 1:14: parse error: unexpected "}"; query: ${QUERY}`,
    ],
    [
      "Prometheus's own timeout",
      {
        status: 503,
        body: JSON.stringify({ status: 'error', errorType: 'timeout', error: 'query timed out in query execution' }),
      },
      PrometheusQueryError,
      `Prometheus rejected the query (timeout): query timed out in query execution; query: ${QUERY}`,
    ],
    [
      'an empty vector',
      { body: vector() },
      NoDataError,
      `no data: the query returned no series; check its labels, or wait for traffic; query: ${QUERY}`,
    ],
    [
      'three series',
      { body: vector('1', '2', '3') },
      MultipleSeriesError,
      `the query returned 3 series where one is needed; aggregate it, e.g. sum(...); query: ${QUERY}`,
    ],
    [
      'NaN',
      { body: vector('NaN') },
      NaNError,
      `the query returned NaN, usually 0/0 because there was no traffic in the window; query: ${QUERY}`,
    ],
    [
      '+Inf',
      { body: vector('+Inf') },
      NaNError,
      `the query returned +Inf, usually 0/0 because there was no traffic in the window; query: ${QUERY}`,
    ],
    [
      "a proxy's 401",
      { status: 401, body: 'Unauthorized\n' },
      PrometheusResponseError,
      'answered HTTP 401 (check the credentials in prometheus.authSecretRef): Unauthorized',
    ],
    [
      'a 404 page',
      { status: 404, body: '404 page not found' },
      PrometheusResponseError,
      'answered HTTP 404 (check prometheus.address: the API is expected under <address>/api/v1/): 404 page not found',
    ],
    [
      'a range vector from an instant query',
      { body: matrix(['1', '2']) },
      PrometheusQueryError,
      'the query returns a range vector; wrap it in a function such as rate() or increase()',
    ],
  ])('reports %s', async (_name, reply, type, message) => {
    stub.reply = reply;
    const failure = provider().query(QUERY);
    await expect(failure).rejects.toBeInstanceOf(type);
    await expect(failure).rejects.toThrow(message);
  });

  test.each<[string, string, ErrorClass]>([
    ['no series', matrix(), NoDataError],
    ['two series', matrix(['1'], ['2']), MultipleSeriesError],
    ['a vector', vector('1'), PrometheusQueryError],
  ])('reports a range query with %s', async (_name, body, type) => {
    stub.reply = { body };
    await expect(provider().querySeries(QUERY, new Date(0), new Date(60_000), 15)).rejects.toBeInstanceOf(type);
  });

  test('gives up after the timeout when Prometheus never answers', async () => {
    stub.reply = 'hang';
    const started = Date.now();
    const failure = provider({ timeoutMs: 200 }).query(QUERY);
    await expect(failure).rejects.toBeInstanceOf(PrometheusTimeoutError);
    await expect(failure).rejects.toBeInstanceOf(PrometheusUnreachableError);
    await expect(failure).rejects.toThrow(
      `Prometheus at ${address} is unreachable: no answer within 0.2s; raise prometheus.timeout or make the query cheaper`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('reports a closed port as unreachable, naming the address', async () => {
    const closed = new Stub();
    const closedAddress = await closed.start();
    await closed.stop();
    const failure = new PrometheusProvider({ address: closedAddress }).query(QUERY);
    await expect(failure).rejects.toBeInstanceOf(PrometheusUnreachableError);
    await expect(failure).rejects.toThrow(`Prometheus at ${closedAddress} is unreachable:`);
    await expect(failure).rejects.toThrow('ECONNREFUSED');
    await expect(failure).rejects.toThrow('is Prometheus running and is the port right?');
  });

  test.each<[string, Reply, boolean]>([
    ['answers vector(1)', { body: vector('1') }, true],
    ['answers an error', { status: 503, body: 'unavailable' }, false],
  ])('isOnline when Prometheus %s', async (_name, reply, online) => {
    stub.reply = reply;
    await expect(provider().isOnline()).resolves.toBe(online);
    expect(stub.seen[0]!.form.query).toBe('vector(1)');
  });
});

describe('PrometheusProvider over https', () => {
  const stub = new Stub();
  let address: string;

  beforeAll(async () => {
    address = await stub.start(true);
    stub.reply = { body: vector('7') };
  });
  afterAll(() => stub.stop());

  test('trusts a custom CA', async () => {
    await expect(new PrometheusProvider({ address, ca: TEST_CERT }).query('vector(7)')).resolves.toBe(7);
  });

  test('refuses an unknown CA and says where to put one', async () => {
    const failure = new PrometheusProvider({ address }).query('vector(7)');
    await expect(failure).rejects.toBeInstanceOf(PrometheusUnreachableError);
    await expect(failure).rejects.toThrow('put the CA that signed its certificate in the auth Secret as ca.crt');
  });
});

describe('prometheusCredentials', () => {
  test.each<[string, Record<string, string>, ReturnType<typeof prometheusCredentials>]>([
    ['a token', { token: 'abc\n' }, { auth: { type: 'Bearer', token: 'abc' } }],
    [
      'a username and password',
      { username: 'u', password: 'p' },
      { auth: { type: 'Basic', username: 'u', password: 'p' } },
    ],
    ['only a CA', { 'ca.crt': TEST_CERT }, { ca: TEST_CERT }],
    ['nothing usable', { username: 'u' }, {}],
  ])('reads %s', (_name, data, expected) => {
    expect(prometheusCredentials(data)).toEqual(expected);
  });
});
