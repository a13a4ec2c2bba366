// Runs the analysis of a Canary release when a check is due: the Prometheus
// metrics and the rollout webhooks, judged together, plus the pre-rollout and
// confirm-promotion gates. Returns the next status.analysis and the gate the
// release state machine reads. Prometheus and webhooks are the only I/O.
import type { Microservice } from '../api/types';
import {
  AnalysisConfigError,
  callWebhook,
  judge,
  type MetricResult,
  PrometheusProvider,
  prometheusCredentials,
  type ResolvedAnalysis,
  resolveAnalysis,
  runAnalysis,
  type Webhook,
  type WebhookOutcome,
  type WebhookType,
} from '../analysis';
import type { AnalysisStatus } from '../api/types';
import type { KubeClient } from '../kube/client';
import { isBlueGreen, routerOf } from '../render/defaults';
import { hasParallelRun } from '../render/comparator';
import { differenceInfoQuery, parallelRunExamples } from '../analysis/parallel-run-examples';
import { isNotFound, TerminalError } from '../kube/errors';
import type { Logger } from '../observability/logger';
import type { AnalysisGate, ReleaseAction, ReleaseEvent } from '../rollout/release';

export interface AnalysisContext {
  canaryRevision: string;
  stableRevision?: string;
  /** The release of canaryRevision is under way (status names it). */
  releasing: boolean;
  canaryReadyReplicas: number;
  /** All steps are done (or the preview is ready): promotion waits for confirm-promotion. */
  promoting: boolean;
  /** The track of the new revision's pods: canary, or preview. Default canary. */
  canaryTrack?: string;
  /** An analysis that started before this time is over: a new one starts (BlueGreen, after the switch). */
  restartAfter?: string;
  weight: number;
  action?: ReleaseAction;
  now: Date;
}

export interface AnalysisOutcome {
  status?: AnalysisStatus;
  gate?: AnalysisGate;
  events: ReleaseEvent[];
  /** When the next check is due. */
  requeueAfterMs?: number;
  verdicts: { metric: string; verdict: string }[];
}

/** --prometheus-auth-secret: a Secret in the operator's namespace, and the addresses (the operator's Prometheus) it is for. */
export interface OperatorCredentials {
  secret: { namespace?: string; name: string };
  addresses: string[];
}

export class AnalysisRunner {
  private readonly providers = new Map<string, PrometheusProvider>();

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    private readonly defaultPrometheusAddress?: string,
    /** The operator's Prometheus credentials, for the operator's own Prometheus addresses only. */
    private readonly operatorCredentials?: OperatorCredentials,
  ) {}

  /** Resolves the spec's analysis, or throws a TerminalError a person can act on. */
  settings(microservice: Microservice): ResolvedAnalysis | undefined {
    const spec = microservice.spec.release?.analysis;
    if (!spec) return undefined;
    // A Fresh baseline needs its own share of traffic, which only a Canary under the replicas router gives it.
    const stableByDefault = routerOf(microservice.spec) !== 'replicas' || isBlueGreen(microservice.spec);
    const withBaseline =
      stableByDefault && !spec.baseline?.mode ? { ...spec, baseline: { mode: 'Stable' as const } } : spec;
    try {
      return resolveAnalysis(withBaseline, this.defaultPrometheusAddress);
    } catch (err) {
      if (err instanceof AnalysisConfigError) throw new TerminalError('InvalidAnalysis', err.message);
      throw err;
    }
  }

  async evaluate(
    microservice: Microservice,
    analysis: ResolvedAnalysis,
    ctx: AnalysisContext,
  ): Promise<AnalysisOutcome> {
    const previous = microservice.status?.analysis;
    if (!ctx.releasing) return { status: previous, events: [], verdicts: [] };
    const sameRevision =
      microservice.status?.canaryRevision === ctx.canaryRevision && previous?.startTime !== undefined;
    const restarted =
      sameRevision && ctx.restartAfter !== undefined && Date.parse(previous.startTime!) < Date.parse(ctx.restartAfter);
    // After a BlueGreen switch the analysis starts again on live traffic; the gates it passed stay passed.
    const status: AnalysisStatus =
      sameRevision && !restarted
        ? { ...previous, webhooks: [...(previous?.webhooks ?? [])] }
        : {
            startTime: ctx.now.toISOString(),
            failures: 0,
            inconclusive: 0,
            webhooks: restarted ? [...(previous?.webhooks ?? [])] : [],
          };
    const events: ReleaseEvent[] = [];
    const hooks = (microservice.spec.release?.analysis?.webhooks ?? []) as Webhook[];
    const passed = new Set(status.webhooks);
    const pending = (type: WebhookType) => hooks.filter((h) => h.type === type && !passed.has(h.name));
    const payload = this.payload(microservice, ctx);

    if (ctx.action === 'skip-analysis') {
      for (const hook of hooks)
        if (hook.type === 'pre-rollout' || hook.type === 'confirm-promotion') passed.add(hook.name);
      Object.assign(status, {
        passedTime: ctx.now.toISOString(),
        lastCheckTime: ctx.now.toISOString(),
        inconclusive: 0,
        decision: { action: 'Continue', reason: 'skipped on request (msop.dev/action: skip-analysis)' },
      });
      events.push({
        type: 'Normal',
        reason: 'AnalysisSkipped',
        message: `Skipped the analysis of ${ctx.canaryRevision} as asked`,
      });
    }

    const due = (last: string | undefined) =>
      last === undefined || ctx.now.getTime() - Date.parse(last) >= analysis.intervalMs;
    const started = ctx.now.getTime() - Date.parse(status.startTime!) >= analysis.startDelayMs;
    const verdicts: { metric: string; verdict: string }[] = [];

    if (ctx.action !== 'skip-analysis' && started && due(status.lastCheckTime)) {
      const preRollout = pending('pre-rollout');
      let results: MetricResult[] = [];
      if (preRollout.length > 0) {
        results = (await Promise.all(preRollout.map((h) => callWebhook(h, payload)))).map((o) => this.webhookResult(o));
        for (const r of results) if (r.verdict === 'Pass') passed.add(r.name.replace(/^webhook\//, ''));
      } else if (ctx.canaryReadyReplicas > 0) {
        const provider = analysis.metrics.length > 0 ? await this.provider(microservice, analysis) : undefined;
        const metricResults = provider
          ? await runAnalysis(analysis, provider, {
              namespace: microservice.metadata.namespace!,
              name: microservice.metadata.name!,
              canaryRevision: ctx.canaryRevision,
              baselineRevision: ctx.stableRevision ?? '',
              canaryTrack: ctx.canaryTrack,
              windowStart: new Date(status.startTime!),
              now: ctx.now,
            })
          : [];
        if (provider && hasParallelRun(microservice))
          status.differences = await this.differences(microservice, provider);
        const rollout = await Promise.all(
          hooks.filter((h) => h.type === 'rollout').map((h) => callWebhook(h, payload)),
        );
        results = [...metricResults, ...rollout.map((o) => this.webhookResult(o))];
      }
      if (results.length > 0) {
        const judgement = judge(
          { failures: status.failures ?? 0, inconclusive: status.inconclusive ?? 0 },
          results,
          analysis,
        );
        events.push(...verdictEvents(status.metrics as MetricResult[] | undefined, results));
        Object.assign(status, {
          lastCheckTime: ctx.now.toISOString(),
          failures: judgement.failures,
          inconclusive: judgement.inconclusive,
          decision: judgement.decision,
          metrics: results.map(jsonSafe),
          ...(judgement.decision.action === 'Continue' && preRollout.length === 0
            ? { passedTime: ctx.now.toISOString() }
            : {}),
        });
        verdicts.push(...results.map((r) => ({ metric: r.name, verdict: r.verdict })));
      }
    }

    if (ctx.promoting && pending('confirm-promotion').length > 0) {
      for (const outcome of await Promise.all(pending('confirm-promotion').map((h) => callWebhook(h, payload)))) {
        if (outcome.passed) passed.add(outcome.name);
        else this.log.info({ webhook: outcome.name }, `Promotion waits: ${outcome.reason}`);
      }
    }

    status.webhooks = [...passed].sort();
    const nextCheck = status.lastCheckTime
      ? Math.max(0, Date.parse(status.lastCheckTime) + analysis.intervalMs - ctx.now.getTime())
      : analysis.intervalMs;
    return {
      status,
      gate: {
        action: status.decision?.action,
        reason: status.decision?.reason,
        passedTime: status.passedTime,
        preRolloutPassed: pending('pre-rollout').length === 0,
        promotionConfirmed: pending('confirm-promotion').length === 0,
      },
      events,
      requeueAfterMs: Math.max(nextCheck, 250),
      verdicts,
    };
  }

  /** post-rollout and rollback hooks: told once, their answer changes nothing. */
  async notify(microservice: Microservice, type: 'post-rollout' | 'rollback', ctx: AnalysisContext): Promise<void> {
    for (const hook of ((microservice.spec.release?.analysis?.webhooks ?? []) as Webhook[]).filter(
      (h) => h.type === type,
    )) {
      const outcome = await callWebhook(hook, this.payload(microservice, ctx));
      this.log.info({ webhook: hook.name, passed: outcome.passed }, outcome.reason);
    }
  }

  private payload(microservice: Microservice, ctx: AnalysisContext) {
    return {
      name: microservice.metadata.name!,
      namespace: microservice.metadata.namespace!,
      phase: microservice.status?.phase ?? 'Progressing',
      stableRevision: ctx.stableRevision,
      canaryRevision: ctx.canaryRevision,
      weight: ctx.weight,
    };
  }

  /** A webhook that gave no answer is like a Prometheus that gave none: an Error, so inconclusive. */
  private webhookResult(outcome: WebhookOutcome): MetricResult {
    return {
      name: `webhook/${outcome.name}`,
      kind: 'Threshold',
      critical: false,
      verdict: outcome.passed ? 'Pass' : outcome.answered ? 'Fail' : 'Error',
      reason: outcome.reason,
    };
  }

  /** One provider per address and credentials, so connections are reused between checks. */
  /** The comparator's latest differing examples, for a person; a failed query keeps the ones shown before. */
  private async differences(microservice: Microservice, provider: PrometheusProvider): Promise<string[] | undefined> {
    const { namespace = '', name = '' } = microservice.metadata;
    try {
      const examples = parallelRunExamples(
        (await provider.queryLabels(differenceInfoQuery(namespace, name))).map((metric) => ({ metric })),
      );
      return examples.length > 0 ? examples : undefined;
    } catch (err) {
      this.log.info({ err }, 'Could not read the parallel run’s examples');
      return microservice.status?.analysis?.differences;
    }
  }

  private async provider(microservice: Microservice, analysis: ResolvedAnalysis): Promise<PrometheusProvider> {
    const prometheus = analysis.prometheus;
    if (!prometheus) {
      throw new TerminalError(
        'NoPrometheus',
        'release.analysis has metrics but no Prometheus address: set release.analysis.prometheus.address, or the operator flag --prometheus-address',
      );
    }
    let credentials = {};
    // The Microservice's own Secret, else the operator's one when the address is the operator's Prometheus.
    const operator = this.operatorCredentials;
    const source = prometheus.authSecretRef
      ? {
          namespace: microservice.metadata.namespace ?? '',
          name: prometheus.authSecretRef.name,
          named: 'release.analysis.prometheus.authSecretRef',
        }
      : operator && operator.addresses.includes(prometheus.address.replace(/\/+$/, ''))
        ? {
            namespace: operator.secret.namespace ?? '',
            name: operator.secret.name,
            named: "the operator's --prometheus-auth-secret (Helm value prometheus.authSecret)",
          }
        : undefined;
    if (source) {
      const { namespace, name } = source;
      if (namespace === '')
        throw new TerminalError(
          'SecretNotFound',
          `${source.named} names the Secret ${name} without a namespace, and the operator has no POD_NAMESPACE; use namespace/name`,
        );
      let secret: { data?: Record<string, string> };
      try {
        secret = (await this.client.get('v1', 'Secret', namespace, name)) as { data?: Record<string, string> };
      } catch (err) {
        if (isNotFound(err))
          throw new TerminalError(
            'SecretNotFound',
            `Secret ${namespace}/${name} named in ${source.named} was not found`,
          );
        throw err;
      }
      const decoded = Object.fromEntries(
        Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
      );
      credentials = prometheusCredentials(decoded);
    }
    const key = JSON.stringify([prometheus.address, prometheus.timeoutMs, prometheus.headers, credentials]);
    let provider = this.providers.get(key);
    if (!provider) {
      provider = new PrometheusProvider({
        address: prometheus.address,
        timeoutMs: prometheus.timeoutMs,
        headers: prometheus.headers,
        ...credentials,
      });
      this.providers.set(key, provider);
    }
    return provider;
  }
}

/** An Event when a metric's verdict changes, never one per check. */
function verdictEvents(before: MetricResult[] | undefined, after: MetricResult[]): ReleaseEvent[] {
  const previous = new Map((before ?? []).map((m) => [m.name, m.verdict]));
  return after
    .filter((m) => previous.get(m.name) !== m.verdict)
    .map((m) => ({
      type: m.verdict === 'Pass' ? ('Normal' as const) : ('Warning' as const),
      reason: `Analysis${m.verdict}`,
      message: `${m.name}: ${m.verdict}: ${m.reason}`,
    }));
}

/** Infinity and NaN do not survive JSON; status shows them as null. */
function jsonSafe(result: MetricResult): MetricResult {
  return JSON.parse(
    JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)),
  ) as MetricResult;
}
