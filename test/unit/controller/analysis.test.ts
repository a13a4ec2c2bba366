// AnalysisRunner (src/controller/analysis.ts) against a local stub Prometheus and stub webhooks on
// 127.0.0.1: when a check runs, what it sends, and the status, gate and events it hands back.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { AnalysisSpec } from '../../../src/analysis';
import type { AnalysisStatus, Microservice, MicroserviceStatus } from '../../../src/api/types';
import { type AnalysisContext, type AnalysisOutcome, AnalysisRunner } from '../../../src/controller/analysis';
import type { KubeClient } from '../../../src/kube/client';
import { ApiError, TerminalError } from '../../../src/kube/errors';
import type { Webhook } from '../../../src/analysis/webhooks';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const ago = (ms: number): string => new Date(NOW.getTime() - ms).toISOString();
const later = (ms: number): Date => new Date(NOW.getTime() + ms);

/** A Prometheus answer: a value for a one-sample vector, 'empty' for no series, or a status and body. */
type PromAnswer = string | { status: number; body: string };
type HookReply = { status: number; body?: string };

/** Prometheus and webhook receivers in one server: /api/v1/query answers PromQL, any other path is a hook. */
class Stub {
  /** The PromQL of every instant query, in order. */
  readonly queries: string[] = [];
  readonly forms: Record<string, string>[] = [];
  readonly hookCalls: { path: string; body: Record<string, unknown> }[] = [];
  readonly hooks = new Map<string, HookReply>();
  answer: (promql: string) => PromAnswer = () => '99.5';
  url = '';
  private server!: Server;

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        if (req.url === '/api/v1/query') {
          const form = Object.fromEntries(new URLSearchParams(raw));
          this.forms.push(form);
          this.queries.push(form.query!);
          const answer = this.answer(form.query!);
          const reply =
            typeof answer === 'object'
              ? answer
              : { status: 200, body: vector(answer === 'empty' ? [] : [answer], form.time!) };
          res.writeHead(reply.status, { 'content-type': 'application/json' });
          res.end(reply.body);
          return;
        }
        this.hookCalls.push({ path: req.url!, body: JSON.parse(raw) as Record<string, unknown> });
        const reply = this.hooks.get(req.url!) ?? { status: 200 };
        res.writeHead(reply.status, { 'content-type': 'text/plain' });
        res.end(reply.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.queries.length = 0;
    this.forms.length = 0;
    this.hookCalls.length = 0;
    this.hooks.clear();
    this.answer = () => '99.5';
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function vector(values: string[], time: string): string {
  return JSON.stringify({
    status: 'success',
    data: { resultType: 'vector', result: values.map((value) => ({ metric: {}, value: [Number(time), value] })) },
  });
}

/** A Kubernetes client for cases that must not touch the API: any call fails the test. */
const noClient = new Proxy(
  {},
  {
    get: (_target, method) => () => {
      throw new Error(`the client must not be called (${String(method)})`);
    },
  },
) as KubeClient;

const silent = pino({ level: 'silent' });

/** The built-in request-success-rate template for prod/shop, track canary, interval 1m. */
const SUCCESS_RATE_PROMQL =
  '100 * (1 - (sum(rate(http_requests_total{namespace="prod",msop_dev_microservice="shop",msop_dev_track="canary",code=~"5.."}[1m])) or vector(0))' +
  ' / sum(rate(http_requests_total{namespace="prod",msop_dev_microservice="shop",msop_dev_track="canary"}[1m])))';

const stub = new Stub();
beforeAll(() => stub.start());
afterAll(() => stub.stop());
beforeEach(() => stub.reset());

/** One Threshold metric on the built-in success rate, at least 99%; 1m interval, 2 failures allowed. */
const spec = (
  over: Partial<AnalysisSpec> & { webhooks?: Webhook[] } = {},
): AnalysisSpec & { webhooks?: Webhook[] } => ({
  interval: '1m',
  failureLimit: 2,
  prometheus: { address: stub.url },
  metrics: [{ name: 'success-rate', template: 'request-success-rate', thresholdRange: { min: 99 } }],
  ...over,
});

const hook = (name: string, type: Webhook['type']): Webhook => ({ name, type, url: `${stub.url}/${name}` });

function microservice(analysis: object, status?: MicroserviceStatus): Microservice {
  return {
    apiVersion: 'msop.dev/v1alpha1',
    kind: 'Microservice',
    metadata: { name: 'shop', namespace: 'prod' },
    spec: { image: 'shop:2', release: { analysis } } as Microservice['spec'],
    status,
  };
}

/** The status of a release of bbb under way, its analysis started 5m ago and last checked a full interval ago. */
const underway = (analysis: Partial<AnalysisStatus> = {}): MicroserviceStatus => ({
  phase: 'Progressing',
  canaryRevision: 'bbb',
  analysis: {
    startTime: ago(300_000),
    lastCheckTime: ago(60_000),
    failures: 0,
    inconclusive: 0,
    webhooks: [],
    ...analysis,
  },
});

const context = (over: Partial<AnalysisContext> = {}): AnalysisContext => ({
  canaryRevision: 'bbb',
  stableRevision: 'aaa',
  releasing: true,
  canaryReadyReplicas: 1,
  promoting: false,
  weight: 20,
  now: NOW,
  ...over,
});

async function evaluate(
  analysis: object,
  status: MicroserviceStatus | undefined,
  ctx: Partial<AnalysisContext> = {},
  client: KubeClient = noClient,
): Promise<AnalysisOutcome> {
  const runner = new AnalysisRunner(client, silent);
  const ms = microservice(analysis, status);
  return runner.evaluate(ms, runner.settings(ms)!, context(ctx));
}

const events = (outcome: AnalysisOutcome) => outcome.events.map((event) => `${event.type}/${event.reason}`);

describe('AnalysisRunner.settings', () => {
  const runner = new AnalysisRunner(noClient, silent, 'http://prometheus.monitoring:9090');

  test('no analysis in the spec: undefined', () => {
    const ms = microservice({});
    delete ms.spec.release;
    expect(runner.settings(ms)).toBeUndefined();
  });

  test('defaults apply, and the operator’s Prometheus when the spec names none', () => {
    const resolved = runner.settings(microservice({ metrics: spec().metrics }))!;
    expect(resolved).toMatchObject({
      intervalMs: 60_000,
      startDelayMs: 0,
      failureLimit: 2,
      inconclusiveLimit: 3,
      onInconclusive: 'Pause',
      baselineMode: 'None',
      prometheus: { address: 'http://prometheus.monitoring:9090', timeoutMs: 10_000, headers: {} },
    });
    expect(resolved.metrics.map((metric) => metric.query)).toEqual([
      '100 * (1 - (sum(rate(http_requests_total{namespace="{{namespace}}",msop_dev_microservice="{{name}}",msop_dev_track="{{track}}",code=~"5.."}[{{interval}}])) or vector(0))' +
        ' / sum(rate(http_requests_total{namespace="{{namespace}}",msop_dev_microservice="{{name}}",msop_dev_track="{{track}}"}[{{interval}}])))',
    ]);
  });

  test.each<[string, string, string]>([
    ['the replicas router defaults to a Fresh baseline', 'replicas', 'Fresh'],
    ['a weighted router defaults to a Stable baseline (a Fresh one would get no traffic)', 'gatewayAPI', 'Stable'],
  ])('%s', (_name, router, mode) => {
    const ms = microservice({
      metrics: [{ name: 'http-5xx', kind: 'CountComparison', events: 'sum(e)', total: 'sum(t)' }],
    });
    ms.spec.release!.canary = { traffic: { router: router as 'replicas' } };
    expect(runner.settings(ms)?.baselineMode).toBe(mode);
  });

  test('an invalid analysis is a TerminalError InvalidAnalysis that says what is wrong', () => {
    let thrown: unknown;
    try {
      runner.settings(microservice({ interval: 'soon', failureLimit: 0 }));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TerminalError);
    expect(thrown).toMatchObject({ reason: 'InvalidAnalysis' });
    expect((thrown as TerminalError).message).toMatch(/^release\.analysis is invalid: /);
    expect((thrown as TerminalError).message).toContain('failureLimit must be a whole number of at least 1, got 0');
  });
});

describe('AnalysisRunner.evaluate', () => {
  test('not releasing: the previous status comes back untouched, no gate, nothing sent', async () => {
    const status = underway({ failures: 1, passedTime: ago(90_000) });
    const before = structuredClone(status.analysis);
    const outcome = await evaluate(spec(), status, { releasing: false });
    expect(outcome).toEqual({ status: status.analysis, events: [], verdicts: [] });
    expect(outcome.status).toBe(status.analysis);
    expect(outcome.gate).toBeUndefined();
    expect(status.analysis).toEqual(before);
    expect(stub.queries).toEqual([]);
    expect(stub.hookCalls).toEqual([]);
  });

  test.each<[string, MicroserviceStatus | undefined]>([
    ['no status yet', undefined],
    [
      'the status of an earlier release',
      {
        canaryRevision: 'old',
        analysis: {
          startTime: ago(600_000),
          lastCheckTime: ago(10_000),
          passedTime: ago(10_000),
          failures: 1,
          inconclusive: 2,
          webhooks: ['smoke'],
          decision: { action: 'Wait', reason: 'failed check 1 of 2' },
        },
      },
    ],
    ['this release, but no analysis start recorded', { canaryRevision: 'bbb', analysis: { failures: 1 } }],
  ])('a new release starts a fresh status (%s)', async (_name, status) => {
    // No ready canary pod yet, so no check runs: the status is exactly the fresh one.
    const outcome = await evaluate(spec(), status, { canaryReadyReplicas: 0 });
    expect(outcome.status).toEqual({ startTime: NOW.toISOString(), failures: 0, inconclusive: 0, webhooks: [] });
    expect(outcome.gate).toEqual({
      action: undefined,
      reason: undefined,
      passedTime: undefined,
      preRolloutPassed: true,
      promotionConfirmed: true,
    });
    expect(outcome.events).toEqual([]);
    expect(outcome.requeueAfterMs).toBe(60_000);
    expect(stub.queries).toEqual([]);
  });

  test('a new release with a ready canary checks at once', async () => {
    const outcome = await evaluate(spec(), undefined);
    expect(stub.queries).toEqual([SUCCESS_RATE_PROMQL]);
    expect(outcome.status).toMatchObject({
      startTime: NOW.toISOString(),
      lastCheckTime: NOW.toISOString(),
      passedTime: NOW.toISOString(),
    });
  });

  test.each<[string, Partial<AnalysisSpec>, Partial<AnalysisStatus>, Partial<AnalysisContext>]>([
    ['last check 30s ago, interval 1m', {}, { lastCheckTime: ago(30_000) }, {}],
    ['last check 59.999s ago', {}, { lastCheckTime: ago(59_999) }, {}],
    ['startDelay 2m, started 1m ago', { startDelay: '2m' }, { startTime: ago(60_000), lastCheckTime: undefined }, {}],
    ['no ready canary pod', {}, { lastCheckTime: ago(120_000) }, { canaryReadyReplicas: 0 }],
  ])('no check is due (%s): nothing is sent and the status stays', async (_name, settings, analysis, ctx) => {
    const status = underway({ ...analysis, passedTime: ago(200_000) });
    const outcome = await evaluate(spec(settings), status, ctx);
    expect(stub.queries).toEqual([]);
    expect(stub.hookCalls).toEqual([]);
    expect(outcome.status).toEqual(status.analysis);
    expect(outcome.status).not.toBe(status.analysis);
    expect(outcome.gate?.passedTime).toBe(ago(200_000));
    expect(outcome.events).toEqual([]);
    expect(outcome.verdicts).toEqual([]);
  });

  test('a due check that passes: Continue, passedTime now, the exact PromQL sent', async () => {
    stub.answer = () => '99.5';
    const outcome = await evaluate(spec(), underway({ passedTime: ago(120_000) }));

    expect(stub.queries).toEqual([SUCCESS_RATE_PROMQL]);
    expect(stub.forms[0]).toEqual({ query: SUCCESS_RATE_PROMQL, time: '1748779200.000', timeout: '10' });
    expect(outcome.status).toEqual({
      startTime: ago(300_000),
      lastCheckTime: NOW.toISOString(),
      passedTime: NOW.toISOString(),
      failures: 0,
      inconclusive: 0,
      webhooks: [],
      decision: { action: 'Continue', reason: 'all 1 metrics passed' },
      metrics: [
        {
          name: 'success-rate',
          kind: 'Threshold',
          critical: false,
          verdict: 'Pass',
          reason: 'success-rate 99.5 >= min 99',
          canary: { value: 99.5 },
          threshold: { min: 99 },
          query: SUCCESS_RATE_PROMQL,
        },
      ],
    });
    expect(outcome.gate).toEqual({
      action: 'Continue',
      reason: 'all 1 metrics passed',
      passedTime: NOW.toISOString(),
      preRolloutPassed: true,
      promotionConfirmed: true,
    });
    expect(outcome.verdicts).toEqual([{ metric: 'success-rate', verdict: 'Pass' }]);
    expect(outcome.requeueAfterMs).toBe(60_000);
  });

  test('failing checks: Wait, then Rollback at failureLimit; passedTime never moves', async () => {
    stub.answer = () => '90';
    const first = await evaluate(spec(), underway({ passedTime: ago(120_000) }));
    expect(first.status).toMatchObject({
      lastCheckTime: NOW.toISOString(),
      passedTime: ago(120_000),
      failures: 1,
      inconclusive: 0,
      decision: { action: 'Wait', reason: 'failed check 1 of 2 before rollback: success-rate 90 < min 99' },
    });
    expect(first.gate).toMatchObject({ action: 'Wait', passedTime: ago(120_000) });
    expect(first.events).toEqual([
      { type: 'Warning', reason: 'AnalysisFail', message: 'success-rate: Fail: success-rate 90 < min 99' },
    ]);

    // The next reconcile reads back what this one wrote, one interval later.
    const second = await evaluate(spec(), { ...underway(), analysis: first.status }, { now: later(60_000) });
    expect(second.status).toMatchObject({
      lastCheckTime: later(60_000).toISOString(),
      passedTime: ago(120_000),
      failures: 2,
      decision: { action: 'Rollback', reason: '2 of 2 failed checks: success-rate 90 < min 99' },
    });
    expect(second.gate).toMatchObject({ action: 'Rollback', reason: '2 of 2 failed checks: success-rate 90 < min 99' });
    expect(second.events).toEqual([]);
    expect(stub.queries).toEqual([SUCCESS_RATE_PROMQL, SUCCESS_RATE_PROMQL]);
  });

  test('a failure does not reset: failures count over the whole release, a pass in between included', async () => {
    stub.answer = () => '99.5';
    const outcome = await evaluate(spec(), underway({ failures: 1 }));
    expect(outcome.status).toMatchObject({ failures: 1, decision: { action: 'Continue' } });
  });

  const stubAddress = () => Promise.resolve(stub.url);
  const unavailable: PromAnswer = { status: 503, body: 'unavailable' };
  test.each<[string, () => Promise<string>, PromAnswer, Partial<AnalysisStatus>, string, string, number]>([
    ['Prometheus down (connection refused)', closedAddress, 'empty', {}, 'Error', 'Wait', 1],
    ['Prometheus answers 503', stubAddress, unavailable, {}, 'Error', 'Wait', 1],
    ['no series', stubAddress, 'empty', {}, 'NoData', 'Wait', 1],
    ['no series at the inconclusive limit', stubAddress, 'empty', { inconclusive: 2 }, 'NoData', 'Pause', 3],
  ])(
    '%s: an inconclusive check, never a pass',
    async (_name, address, answer, previous, verdict, action, inconclusive) => {
      stub.answer = () => answer;
      const outcome = await evaluate(
        spec({ prometheus: { address: await address() } }),
        underway({ passedTime: ago(120_000), ...previous }),
      );
      expect(outcome.status?.metrics?.map((m) => m.verdict)).toEqual([verdict]);
      expect(outcome.status).toMatchObject({
        lastCheckTime: NOW.toISOString(),
        passedTime: ago(120_000),
        failures: 0,
        inconclusive,
        decision: { action },
      });
      expect(outcome.gate?.passedTime).toBe(ago(120_000));
      expect(outcome.events.map((event) => `${event.type}/${event.reason}`)).toEqual([`Warning/Analysis${verdict}`]);
    },
  );

  test('Prometheus down: the reason names the address', async () => {
    const address = await closedAddress();
    const outcome = await evaluate(spec({ prometheus: { address } }), underway());
    expect(outcome.status?.metrics?.[0]?.reason).toContain(`success-rate: Prometheus at ${address} is unreachable`);
    expect(outcome.status?.decision?.reason).toMatch(
      /^inconclusive check 1 of 3 before Pause: success-rate: Prometheus/,
    );
  });

  test('onInconclusive Rollback: the limit of inconclusive checks rolls back', async () => {
    stub.answer = () => 'empty';
    const outcome = await evaluate(spec({ onInconclusive: 'Rollback' }), underway({ inconclusive: 2 }));
    expect(outcome.gate?.action).toBe('Rollback');
  });

  test('a pass after inconclusive checks resets the count', async () => {
    const outcome = await evaluate(spec(), underway({ inconclusive: 2 }));
    expect(outcome.status).toMatchObject({ inconclusive: 0, passedTime: NOW.toISOString() });
  });

  describe('pre-rollout webhooks', () => {
    const withSmoke = () => spec({ webhooks: [hook('smoke', 'pre-rollout')] });

    test.each<[string, number]>([
      ['no canary pod ready', 0],
      ['a canary pod ready', 1],
    ])('failing (%s): a failed check, no metric queried, the gate closed', async (_name, ready) => {
      stub.hooks.set('/smoke', { status: 500, body: 'checkout is down' });
      const outcome = await evaluate(withSmoke(), underway(), { canaryReadyReplicas: ready });
      expect(stub.queries).toEqual([]);
      expect(stub.hookCalls.map((call) => call.path)).toEqual(['/smoke']);
      expect(outcome.status).toEqual({
        startTime: ago(300_000),
        lastCheckTime: NOW.toISOString(),
        failures: 1,
        inconclusive: 0,
        webhooks: [],
        decision: {
          action: 'Wait',
          reason: 'failed check 1 of 2 before rollback: webhook smoke answered 500: checkout is down',
        },
        metrics: [
          {
            name: 'webhook/smoke',
            kind: 'Threshold',
            critical: false,
            verdict: 'Fail',
            reason: 'webhook smoke answered 500: checkout is down',
          },
        ],
      });
      expect(outcome.gate).toMatchObject({ action: 'Wait', passedTime: undefined, preRolloutPassed: false });
      expect(outcome.verdicts).toEqual([{ metric: 'webhook/smoke', verdict: 'Fail' }]);
    });

    test('failing until failureLimit rolls back', async () => {
      stub.hooks.set('/smoke', { status: 500 });
      const outcome = await evaluate(withSmoke(), underway({ failures: 1 }));
      expect(outcome.gate).toMatchObject({ action: 'Rollback', preRolloutPassed: false });
    });

    test('passing: recorded in status.webhooks, the gate open, but not a metric pass', async () => {
      const outcome = await evaluate(withSmoke(), underway());
      expect(stub.queries).toEqual([]);
      expect(stub.hookCalls).toEqual([
        {
          path: '/smoke',
          body: {
            name: 'shop',
            namespace: 'prod',
            phase: 'Progressing',
            type: 'pre-rollout',
            stableRevision: 'aaa',
            canaryRevision: 'bbb',
            weight: 20,
            metadata: {},
          },
        },
      ]);
      expect(outcome.status).toMatchObject({
        lastCheckTime: NOW.toISOString(),
        failures: 0,
        webhooks: ['smoke'],
        decision: { action: 'Continue', reason: 'all 1 metrics passed' },
      });
      expect(outcome.status?.passedTime).toBeUndefined();
      expect(outcome.gate).toEqual({
        action: 'Continue',
        reason: 'all 1 metrics passed',
        passedTime: undefined,
        preRolloutPassed: true,
        promotionConfirmed: true,
      });

      // The next check queries the metrics and does not call the hook again.
      stub.hookCalls.length = 0;
      const next = await evaluate(withSmoke(), { ...underway(), analysis: outcome.status }, { now: later(60_000) });
      expect(stub.hookCalls).toEqual([]);
      expect(stub.queries).toEqual([SUCCESS_RATE_PROMQL]);
      expect(next.status).toMatchObject({ webhooks: ['smoke'], passedTime: later(60_000).toISOString() });
      expect(next.gate?.preRolloutPassed).toBe(true);
    });
  });

  test('a failing rollout webhook fails the check beside passing metrics', async () => {
    stub.hooks.set('/load', { status: 422, body: 'p99 too high' });
    const outcome = await evaluate(spec({ webhooks: [hook('load', 'rollout')] }), underway());
    expect(stub.queries).toEqual([SUCCESS_RATE_PROMQL]);
    expect(stub.hookCalls.map((call) => [call.path, call.body.type])).toEqual([['/load', 'rollout']]);
    expect(outcome.verdicts).toEqual([
      { metric: 'success-rate', verdict: 'Pass' },
      { metric: 'webhook/load', verdict: 'Fail' },
    ]);
    expect(outcome.status).toMatchObject({
      failures: 1,
      decision: {
        action: 'Wait',
        reason: 'failed check 1 of 2 before rollback: webhook load answered 422: p99 too high',
      },
    });
    expect(outcome.status?.passedTime).toBeUndefined();
  });

  test.each([
    ['Pause', 'Pause'],
    ['Rollback', 'Rollback'],
  ] as const)(
    'a rollout webhook that gives no answer is an inconclusive check, not a failed one; at the limit onInconclusive %s applies',
    async (onInconclusive, action) => {
      // Port 1 on loopback refuses the connection: no HTTP answer at all.
      const silent: Webhook = { name: 'load', type: 'rollout', url: 'http://127.0.0.1:1/load' };
      const first = await evaluate(spec({ onInconclusive, webhooks: [silent] }), underway());
      expect(first.verdicts).toEqual([
        { metric: 'success-rate', verdict: 'Pass' },
        { metric: 'webhook/load', verdict: 'Error' },
      ]);
      expect(first.status).toMatchObject({ failures: 0, inconclusive: 1, decision: { action: 'Wait' } });
      const last = await evaluate(spec({ onInconclusive, webhooks: [silent] }), underway({ inconclusive: 2 }));
      expect(last.status).toMatchObject({ failures: 0, inconclusive: 3 });
      expect(last.gate?.action).toBe(action);
    },
  );

  describe('confirm-promotion webhooks', () => {
    // No metrics: only the gate is under test.
    const confirming = () => ({ interval: '1m', webhooks: [hook('confirm', 'confirm-promotion')] });

    test.each<[string, Partial<AnalysisContext>, HookReply, string[], number, boolean, string[]]>([
      ['not promoting: not called', { promoting: false }, { status: 200 }, [], 0, false, []],
      ['promoting, answers 200', { promoting: true }, { status: 200 }, [], 1, true, ['confirm']],
      ['promoting, answers 409', { promoting: true }, { status: 409 }, [], 1, false, []],
      [
        'promoting, already confirmed: not called again',
        { promoting: true },
        { status: 500 },
        ['confirm'],
        0,
        true,
        ['confirm'],
      ],
    ])('%s', async (_name, ctx, reply, passedBefore, calls, confirmed, passedAfter) => {
      stub.hooks.set('/confirm', reply);
      // The last check was 10s ago: the gate does not wait for the next check.
      const status = underway({ lastCheckTime: ago(10_000), webhooks: passedBefore });
      const outcome = await evaluate(confirming(), status, ctx);
      expect(stub.hookCalls).toHaveLength(calls);
      expect(outcome.gate?.promotionConfirmed).toBe(confirmed);
      expect(outcome.status?.webhooks).toEqual(passedAfter);
      if (calls > 0)
        expect(stub.hookCalls[0]!.body).toMatchObject({ type: 'confirm-promotion', canaryRevision: 'bbb' });
    });
  });

  test('skip-analysis: a pass now, the gates open, nothing sent', async () => {
    const skipping = spec({ webhooks: [hook('smoke', 'pre-rollout'), hook('confirm', 'confirm-promotion')] });
    const outcome = await evaluate(
      skipping,
      underway({ lastCheckTime: ago(120_000), inconclusive: 2, failures: 1, passedTime: ago(200_000) }),
      { action: 'skip-analysis', promoting: true },
    );
    expect(stub.queries).toEqual([]);
    expect(stub.hookCalls).toEqual([]);
    expect(outcome.status).toEqual({
      startTime: ago(300_000),
      lastCheckTime: NOW.toISOString(),
      passedTime: NOW.toISOString(),
      failures: 1,
      inconclusive: 0,
      webhooks: ['confirm', 'smoke'],
      decision: { action: 'Continue', reason: 'skipped on request (msop.dev/action: skip-analysis)' },
    });
    expect(outcome.gate).toEqual({
      action: 'Continue',
      reason: 'skipped on request (msop.dev/action: skip-analysis)',
      passedTime: NOW.toISOString(),
      preRolloutPassed: true,
      promotionConfirmed: true,
    });
    expect(outcome.gate?.reason).toContain('skip');
    expect(outcome.events).toEqual([
      { type: 'Normal', reason: 'AnalysisSkipped', message: 'Skipped the analysis of bbb as asked' },
    ]);
    expect(outcome.requeueAfterMs).toBe(60_000);
  });

  test.each<[string, string | undefined, PromAnswer, string[]]>([
    ['first check, a Fail: Warning', undefined, '90', ['Warning/AnalysisFail']],
    ['first check, a Pass: Normal', undefined, '99.5', ['Normal/AnalysisPass']],
    ['Pass → Fail: Warning', 'Pass', '90', ['Warning/AnalysisFail']],
    ['Fail → Pass: Normal', 'Fail', '99.5', ['Normal/AnalysisPass']],
    ['Pass → NoData: Warning', 'Pass', 'empty', ['Warning/AnalysisNoData']],
    ['Pass → Pass: none', 'Pass', '99.5', []],
    ['Fail → Fail: none', 'Fail', '90', []],
    ['NoData → NoData: none', 'NoData', 'empty', []],
  ])('verdict events only on a change: %s', async (_name, before, answer, expected) => {
    stub.answer = () => answer;
    const metrics = before === undefined ? undefined : [{ name: 'success-rate', verdict: before, reason: '' }];
    const outcome = await evaluate(spec({ failureLimit: 5 }), underway({ metrics }));
    expect(events(outcome)).toEqual(expected);
  });

  test('the event message carries the metric, verdict and reason', async () => {
    const outcome = await evaluate(spec(), underway({ metrics: [{ name: 'success-rate', verdict: 'Fail' }] }));
    expect(outcome.events).toEqual([
      { type: 'Normal', reason: 'AnalysisPass', message: 'success-rate: Pass: success-rate 99.5 >= min 99' },
    ]);
  });

  test('Infinity in a metric result is written as null, so status survives JSON', async () => {
    // A CountComparison where the baseline had no errors: the canary's rate is infinitely worse, and the
    // upper end of the interval is unbounded.
    stub.answer = (promql) => {
      const canary = promql.includes('track="canary"');
      if (promql.startsWith('errors')) return canary ? '50' : '0';
      return '2000';
    };
    const outcome = await evaluate(
      spec({
        metrics: [
          {
            name: 'errors',
            kind: 'CountComparison',
            events: 'errors{track="{{track}}"}',
            total: 'requests{track="{{track}}"}',
          },
        ],
      }),
      underway(),
    );
    expect([...stub.queries].sort()).toEqual([
      'errors{track="baseline"}',
      'errors{track="canary"}',
      'requests{track="baseline"}',
      'requests{track="canary"}',
    ]);
    const [metric] = outcome.status!.metrics! as { verdict: string; effect: { ratio: unknown; interval: unknown[] } }[];
    expect(metric!.verdict).toBe('Fail');
    expect(metric!.effect.ratio).toBeNull();
    expect(metric!.effect.interval[1]).toBeNull();
    expect(typeof metric!.effect.interval[0]).toBe('number');
    expect(JSON.parse(JSON.stringify(outcome.status))).toEqual(outcome.status);
  });

  test.each<[string, Partial<AnalysisStatus>, Partial<AnalysisContext>, Partial<AnalysisSpec>, number]>([
    ['a check ran now: a full interval', {}, {}, {}, 60_000],
    ['last check 45s ago', { lastCheckTime: ago(45_000) }, {}, {}, 15_000],
    ['last check 10s ago, interval 30s', { lastCheckTime: ago(10_000) }, {}, { interval: '30s' }, 20_000],
    ['due in 1ms: at least 250ms', { lastCheckTime: ago(59_999) }, {}, {}, 250],
    [
      'no check yet (no ready canary): an interval',
      { lastCheckTime: undefined },
      { canaryReadyReplicas: 0 },
      {},
      60_000,
    ],
  ])('requeueAfterMs is the time until the next check: %s', async (_name, analysis, ctx, settings, expected) => {
    const outcome = await evaluate(spec(settings), underway(analysis), ctx);
    expect(outcome.requeueAfterMs).toBe(expected);
  });

  describe('Prometheus credentials from a Secret', () => {
    const withSecret = () => spec({ prometheus: { address: stub.url, authSecretRef: { name: 'prom-auth' } } });

    test('a bearer token is read from the Secret in the Microservice’s namespace', async () => {
      const calls: unknown[][] = [];
      const client = {
        get: (...args: unknown[]) => {
          calls.push(args);
          return Promise.resolve({ data: { token: Buffer.from('s3cret\n').toString('base64') } });
        },
      } as unknown as KubeClient;
      const seen: string[] = [];
      const server = createServer((req, res) => {
        seen.push(req.headers.authorization ?? '');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(vector(['99.5'], '0'));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const outcome = await evaluate(
          spec({ prometheus: { address, authSecretRef: { name: 'prom-auth' } } }),
          underway(),
          {},
          client,
        );
        expect(calls).toEqual([['v1', 'Secret', 'prod', 'prom-auth']]);
        expect(seen).toEqual(['Bearer s3cret']);
        expect(outcome.gate?.action).toBe('Continue');
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    test.each<[string, (address: string) => object, string[], unknown[][]]>([
      [
        'the operator address',
        (address) => ({ prometheus: { address } }),
        ['Bearer op-token'],
        [['v1', 'Secret', 'msop-system', 'prom-op']],
      ],
      ['an address a team chose', () => ({ prometheus: { address: 'http://127.0.0.1:1' } }), [], []],
      [
        "the Microservice's own Secret first",
        (address) => ({ prometheus: { address, authSecretRef: { name: 'prom-auth' } } }),
        ['Bearer team-token'],
        [['v1', 'Secret', 'prod', 'prom-auth']],
      ],
    ])(
      "the operator's credentials (--prometheus-auth-secret) go to its own Prometheus only: %s",
      async (_name, analysis, headers, reads) => {
        const calls: unknown[][] = [];
        const client = {
          get: (...args: unknown[]) => {
            calls.push(args);
            const token = args[3] === 'prom-op' ? 'op-token' : 'team-token';
            return Promise.resolve({ data: { token: Buffer.from(token).toString('base64') } });
          },
        } as unknown as KubeClient;
        const seen: string[] = [];
        const server = createServer((req, res) => {
          seen.push(req.headers.authorization ?? '');
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(vector(['99.5'], '0'));
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        try {
          const address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
          const runner = new AnalysisRunner(client, silent, address, {
            secret: { namespace: 'msop-system', name: 'prom-op' },
            addresses: [address],
          });
          const ms = microservice(spec(analysis(address)), underway());
          await runner.evaluate(ms, runner.settings(ms)!, context());
          expect(seen).toEqual(headers);
          expect(calls).toEqual(reads);
        } finally {
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
        }
      },
    );

    test('a missing Secret is a TerminalError SecretNotFound', async () => {
      const client = {
        get: () => Promise.reject(new ApiError(404, 'NotFound', 'secrets "prom-auth" not found')),
      } as unknown as KubeClient;
      await expect(evaluate(withSecret(), underway(), {}, client)).rejects.toMatchObject({
        name: 'TerminalError',
        reason: 'SecretNotFound',
        message: 'Secret prod/prom-auth named in release.analysis.prometheus.authSecretRef was not found',
      });
    });
  });
});

describe('AnalysisRunner.notify', () => {
  test('calls only the hooks of the type, with that type in the body; a failure does not throw', async () => {
    stub.hooks.set('/undo', { status: 500 });
    const runner = new AnalysisRunner(noClient, silent);
    const ms = microservice(
      spec({ webhooks: [hook('smoke', 'pre-rollout'), hook('undo', 'rollback'), hook('tell', 'post-rollout')] }),
      { phase: 'RolledBack' },
    );
    await runner.notify(ms, 'rollback', context({ weight: 0 }));
    expect(stub.hookCalls).toEqual([
      {
        path: '/undo',
        body: {
          name: 'shop',
          namespace: 'prod',
          phase: 'RolledBack',
          type: 'rollback',
          stableRevision: 'aaa',
          canaryRevision: 'bbb',
          weight: 0,
          metadata: {},
        },
      },
    ]);
    stub.hookCalls.length = 0;
    await runner.notify(ms, 'post-rollout', context());
    expect(stub.hookCalls.map((call) => [call.path, call.body.type])).toEqual([['/tell', 'post-rollout']]);
    expect(stub.queries).toEqual([]);
  });
});

/** The address of a Prometheus that is not there: a port bound once, then closed. */
async function closedAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
