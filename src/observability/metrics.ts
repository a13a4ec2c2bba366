// The operator's own Prometheus metrics, served on /metrics. One registry per
// OperatorMetrics; the process-wide one is `metrics`, which main.ts serves and
// any code may record into (for example recordAnalysisVerdict from the analysis).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Phase } from '../api/constants';
import type { Microservice } from '../api/types';
import { WorkQueue } from '../controller/workqueue';

/** How one reconcile ended: as controller-runtime labels controller_runtime_reconcile_total. */
export type ReconcileResult = 'success' | 'requeue_after' | 'error';

/** An analysis verdict for one metric of one check. */
export type AnalysisVerdict = 'Pass' | 'Fail' | 'Inconclusive';

const PHASES: readonly (Phase | 'Unknown')[] = [
  'Initializing',
  'Ready',
  'Progressing',
  'Paused',
  'Promoting',
  'RolledBack',
  'Failed',
  'Unknown',
];

/** What the release gauges read at scrape time. */
export interface MetricSources {
  /** Keys waiting in the work queue. */
  queueDepth?: () => number;
  /** The Microservices in the informer cache. */
  microservices?: () => Microservice[];
}

export class OperatorMetrics {
  readonly registry = new Registry();
  private sources: MetricSources = {};
  private leading = true;
  private processMetrics = false;

  readonly reconcileTotal = new Counter({
    name: 'msop_reconcile_total',
    help: 'Reconciles of Microservices, by result: success, requeue_after (success with a timed requeue) or error.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly reconcileErrors = new Counter({
    name: 'msop_reconcile_errors_total',
    help: 'Reconciles that failed and were retried with backoff.',
    registers: [this.registry],
  });

  readonly reconcileDuration = new Histogram({
    name: 'msop_reconcile_duration_seconds',
    help: 'How long one reconcile of a Microservice took.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly workqueueLatency = new Histogram({
    name: 'msop_workqueue_latency_seconds',
    help: 'How long a Microservice key waited in the work queue before a worker took it.',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60],
    registers: [this.registry],
  });

  readonly analysisVerdicts = new Counter({
    name: 'msop_analysis_verdicts_total',
    help: 'Analysis verdicts, by metric name and verdict (Pass, Fail, Inconclusive).',
    labelNames: ['metric', 'verdict'] as const,
    registers: [this.registry],
  });

  constructor() {
    // Gauges read their sources at scrape time; `collect` runs just before each scrape.
    const depth: Gauge = new Gauge({
      name: 'msop_workqueue_depth',
      help: 'Microservice keys waiting in the work queue (not counting delayed requeues).',
      registers: [this.registry],
      collect: () => depth.set(this.sources.queueDepth?.() ?? 0),
    });
    const leader: Gauge = new Gauge({
      name: 'msop_leader',
      help: '1 while this replica holds the leader Lease (or runs without leader election), else 0.',
      registers: [this.registry],
      collect: () => leader.set(this.leading ? 1 : 0),
    });
    // The release gauges come from the leader only, so sum() over the replicas counts each Microservice once.
    const releases: Gauge<'phase'> = new Gauge({
      name: 'msop_releases',
      help: 'Microservices by status.phase (reported by the leader).',
      labelNames: ['phase'] as const,
      registers: [this.registry],
      collect: () => {
        releases.reset();
        const list = this.leaderMicroservices();
        if (!list) return;
        const counts = new Map<string, number>(PHASES.map((phase) => [phase, 0]));
        for (const ms of list) {
          const phase = ms.status?.phase ?? 'Unknown';
          counts.set(phase, (counts.get(phase) ?? 0) + 1);
        }
        for (const [phase, count] of counts) releases.set({ phase }, count);
      },
    });
    const weights: Gauge<'namespace' | 'name'> = new Gauge({
      name: 'msop_canary_weight',
      help: 'Percent of traffic the data plane sends to the canary (status.canaryWeight; reported by the leader).',
      labelNames: ['namespace', 'name'] as const,
      registers: [this.registry],
      collect: () => {
        weights.reset();
        for (const ms of this.leaderMicroservices() ?? []) {
          const weight = (ms.status as { canaryWeight?: unknown } | undefined)?.canaryWeight;
          if (typeof weight !== 'number') continue;
          weights.set({ namespace: ms.metadata.namespace ?? '', name: ms.metadata.name ?? '' }, weight);
        }
      },
    });
  }

  /** The cached Microservices when this replica leads; undefined on a standby. */
  private leaderMicroservices(): Microservice[] | undefined {
    return this.leading ? this.sources.microservices?.() : undefined;
  }

  /** Adds Node's process metrics (CPU, memory, event loop lag, GC); once per registry. */
  collectProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** Where the gauges read the queue and the Microservices from; replaces earlier sources. */
  setSources(sources: MetricSources): void {
    this.sources = sources;
  }

  setLeading(leading: boolean): void {
    this.leading = leading;
  }

  observeReconcile(result: ReconcileResult, seconds: number): void {
    this.reconcileTotal.inc({ result });
    if (result === 'error') this.reconcileErrors.inc();
    this.reconcileDuration.observe(seconds);
  }

  /** Counts one verdict of one analysis metric. */
  recordAnalysisVerdict(metric: string, verdict: AnalysisVerdict): void {
    this.analysisVerdicts.inc({ metric, verdict });
  }

  /** The text exposition format Prometheus scrapes. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * A WorkQueue that observes how long each key waits, from its first add (or the add
 * that made it dirty again while a worker held it) until a worker takes it.
 */
export class MeteredWorkQueue extends WorkQueue {
  private readonly addedAt = new Map<string, number>();

  constructor(
    private readonly metrics: OperatorMetrics,
    retryBaseMs?: number,
    retryMaxMs?: number,
  ) {
    super(retryBaseMs, retryMaxMs);
  }

  override add(key: string): void {
    if (!this.isShuttingDown && !this.addedAt.has(key)) this.addedAt.set(key, performance.now());
    super.add(key);
  }

  override async get(): Promise<string | undefined> {
    const key = await super.get();
    if (key !== undefined) {
      const at = this.addedAt.get(key);
      this.addedAt.delete(key);
      if (at !== undefined) this.metrics.workqueueLatency.observe((performance.now() - at) / 1000);
    }
    return key;
  }
}

/** The process-wide metrics that /metrics serves. */
export const metrics = new OperatorMetrics();
