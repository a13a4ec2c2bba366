// The operator's Prometheus metrics, served on /metrics. Those of its machinery carry
// controller-runtime's and client-go's names, labels and buckets, so the dashboards and
// alerts written for Go operators work unchanged; msop's own release metrics are msop_*.
// One registry per OperatorMetrics; the process-wide one is `metrics`, which main.ts serves
// and any code may record into (for example recordAnalysisVerdict from the analysis).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Phase } from '../api/constants';
import type { Microservice } from '../api/types';
import { WorkQueue } from '../controller/workqueue';

/** How one reconcile ended: as controller-runtime labels controller_runtime_reconcile_total. */
export type ReconcileResult = 'success' | 'requeue_after' | 'error';

/** An analysis verdict for one metric of one check. */
export type AnalysisVerdict = 'Pass' | 'Fail' | 'Inconclusive';

/** The `controller` label, and the work queue's `name`: controller-runtime names a controller after its kind. */
export const CONTROLLER = 'microservice';

/** controller-runtime's buckets for controller_runtime_reconcile_time_seconds. */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75,
  2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** client-go's work queue buckets: 10 ns to 1000 s by powers of ten (ExponentialBuckets(10e-9, 10, 12)). */
const WORKQUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => Number((1e-8 * 10 ** i).toPrecision(1)));

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

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

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
  private lease = 'msop-leader';
  private processMetrics = false;
  /** When each key being handled was taken, for the unfinished-work gauges. */
  readonly processingSince = new Map<string, number>();

  readonly reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller (result: success, requeue_after or error).',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });

  readonly reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller.',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });

  readonly terminalReconcileErrors = new Counter({
    name: 'controller_runtime_terminal_reconcile_errors_total',
    help: 'Total number of terminal reconciliation errors per controller (Stalled: a person must act).',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });

  readonly reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller.',
    labelNames: ['controller'] as const,
    buckets: RECONCILE_BUCKETS,
    registers: [this.registry],
  });

  readonly maxConcurrentReconciles = new Gauge({
    name: 'controller_runtime_max_concurrent_reconciles',
    help: 'Maximum number of concurrent reconciles per controller (--concurrency).',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });

  readonly activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller.',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });

  readonly workqueueAdds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue.',
    labelNames: ['name', 'controller'] as const,
    registers: [this.registry],
  });

  readonly workqueueRetries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue.',
    labelNames: ['name', 'controller'] as const,
    registers: [this.registry],
  });

  readonly workqueueQueueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested.',
    labelNames: ['name', 'controller'] as const,
    buckets: WORKQUEUE_BUCKETS,
    registers: [this.registry],
  });

  readonly workqueueWorkDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes.',
    labelNames: ['name', 'controller'] as const,
    buckets: WORKQUEUE_BUCKETS,
    registers: [this.registry],
  });

  readonly restClientRequests = new Counter({
    name: 'rest_client_requests_total',
    help: 'Number of HTTP requests, partitioned by status code, method, and host.',
    labelNames: ['code', 'method', 'host'] as const,
    registers: [this.registry],
  });

  readonly analysisVerdicts = new Counter({
    name: 'msop_analysis_verdicts_total',
    help: 'Analysis verdicts, by metric name and verdict (Pass, Fail, Inconclusive).',
    labelNames: ['metric', 'verdict'] as const,
    registers: [this.registry],
  });

  constructor() {
    const queue = { name: CONTROLLER, controller: CONTROLLER };
    new Gauge({
      name: 'msop_build_info',
      help: 'Always 1: the msop version, the source revision (when the image was built with one) and the Node.js version.',
      labelNames: ['version', 'revision', 'node_version'] as const,
      registers: [this.registry],
    }).set(
      {
        version: packageVersion(),
        ...(process.env.MSOP_REVISION ? { revision: process.env.MSOP_REVISION } : {}),
        node_version: process.version,
      },
      1,
    );
    // Gauges read their sources at scrape time; `collect` runs just before each scrape.
    const depth: Gauge<'name' | 'controller'> = new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of workqueue (keys waiting for a worker; delayed requeues not counted).',
      labelNames: ['name', 'controller'] as const,
      registers: [this.registry],
      collect: () => depth.set(queue, this.sources.queueDepth?.() ?? 0),
    });
    const unfinished: Gauge<'name' | 'controller'> = new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help:
        "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. " +
        'Large values indicate stuck workers.',
      labelNames: ['name', 'controller'] as const,
      registers: [this.registry],
      collect: () =>
        unfinished.set(
          queue,
          this.runningSeconds().reduce((sum, s) => sum + s, 0),
        ),
    });
    const longest: Gauge<'name' | 'controller'> = new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running.',
      labelNames: ['name', 'controller'] as const,
      registers: [this.registry],
      collect: () => longest.set(queue, Math.max(0, ...this.runningSeconds())),
    });
    const leader: Gauge<'name'> = new Gauge({
      name: 'leader_election_master_status',
      help:
        'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master ' +
        "(1 without leader election). 'name' is the Lease's name.",
      labelNames: ['name'] as const,
      registers: [this.registry],
      collect: () => {
        leader.reset();
        leader.set({ name: this.lease }, this.leading ? 1 : 0);
      },
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
    // Zero before the first reconcile, so dashboards and rate() see the series from the start.
    for (const result of ['success', 'requeue_after', 'error'] as const)
      this.reconcileTotal.inc({ controller: CONTROLLER, result }, 0);
    this.reconcileErrors.inc({ controller: CONTROLLER }, 0);
    this.terminalReconcileErrors.inc({ controller: CONTROLLER }, 0);
    this.activeWorkers.set({ controller: CONTROLLER }, 0);
    this.workqueueAdds.inc(queue, 0);
    this.workqueueRetries.inc(queue, 0);
    this.workqueueQueueDuration.zero(queue);
    this.workqueueWorkDuration.zero(queue);
    this.reconcileTime.zero({ controller: CONTROLLER });
  }

  private runningSeconds(): number[] {
    const now = performance.now();
    return [...this.processingSince.values()].map((since) => (now - since) / 1000);
  }

  /** The cached Microservices when this replica leads; undefined on a standby. */
  private leaderMicroservices(): Microservice[] | undefined {
    return this.leading ? this.sources.microservices?.() : undefined;
  }

  /** Adds Node's process metrics (CPU, memory, event loop lag, GC); once per registry. */
  collectProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    // The event-loop lag monitor samples on a timer: prom-client's 10 ms default costs an idle operator 0.3% of
    // a core (68 ms of CPU in 20 s, against 9 ms at 100 ms), and a stalled loop still shows at 100 ms.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
  }

  /** Where the gauges read the queue and the Microservices from; replaces earlier sources. */
  setSources(sources: MetricSources): void {
    this.sources = sources;
  }

  setLeading(leading: boolean): void {
    this.leading = leading;
  }

  /** The Lease that leader_election_master_status names (--leader-election-id). */
  setLease(name: string): void {
    this.lease = name;
  }

  /** controller_runtime_max_concurrent_reconciles: the workers the manager starts. */
  setConcurrency(workers: number): void {
    this.maxConcurrentReconciles.set({ controller: CONTROLLER }, workers);
  }

  /** Around one reconcile: an active worker until the returned function records how it ended. */
  startReconcile(): (result: ReconcileResult, options?: { terminal?: boolean }) => void {
    const started = performance.now();
    this.activeWorkers.inc({ controller: CONTROLLER });
    return (result, options = {}) => {
      this.activeWorkers.dec({ controller: CONTROLLER });
      this.observeReconcile(result, (performance.now() - started) / 1000, options);
    };
  }

  observeReconcile(result: ReconcileResult, seconds: number, options: { terminal?: boolean } = {}): void {
    this.reconcileTotal.inc({ controller: CONTROLLER, result });
    if (result === 'error') this.reconcileErrors.inc({ controller: CONTROLLER });
    if (options.terminal) this.terminalReconcileErrors.inc({ controller: CONTROLLER });
    this.reconcileTime.observe({ controller: CONTROLLER }, seconds);
  }

  /** rest_client_requests_total: one API request, by status code ("<error>" when no answer came), method and host. */
  countRequest(code: number | '<error>', method: string, host: string): void {
    this.restClientRequests.inc({ code: String(code), method, host });
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
 * A WorkQueue with client-go's work queue metrics: adds (a key not already waiting), retries,
 * how long a key waited from its first add until a worker took it, and how long the worker held it.
 */
export class MeteredWorkQueue extends WorkQueue {
  private readonly addedAt = new Map<string, number>();
  private readonly labels = { name: CONTROLLER, controller: CONTROLLER };

  constructor(
    private readonly metrics: OperatorMetrics,
    retryBaseMs?: number,
    retryMaxMs?: number,
  ) {
    super(retryBaseMs, retryMaxMs);
  }

  override add(key: string): void {
    if (!this.isShuttingDown && !this.addedAt.has(key)) {
      this.addedAt.set(key, performance.now());
      this.metrics.workqueueAdds.inc(this.labels);
    }
    super.add(key);
  }

  override addRateLimited(key: string): number {
    this.metrics.workqueueRetries.inc(this.labels);
    return super.addRateLimited(key);
  }

  override async get(): Promise<string | undefined> {
    const key = await super.get();
    if (key !== undefined) {
      const now = performance.now();
      const at = this.addedAt.get(key);
      this.addedAt.delete(key);
      if (at !== undefined) this.metrics.workqueueQueueDuration.observe(this.labels, (now - at) / 1000);
      this.metrics.processingSince.set(key, now);
    }
    return key;
  }

  override done(key: string): void {
    const since = this.metrics.processingSince.get(key);
    this.metrics.processingSince.delete(key);
    if (since !== undefined)
      this.metrics.workqueueWorkDuration.observe(this.labels, (performance.now() - since) / 1000);
    super.done(key);
  }
}

/** The process-wide metrics that /metrics serves. */
export const metrics = new OperatorMetrics();
