// The comparator's Prometheus metrics, on a registry of its own. The counters carry route and
// method; Prometheus adds namespace and the pod's msop_dev_* labels when it scrapes (docs/analysis.md).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Example } from './examples';
import { truncate } from './redact';

/** Which side of a comparison failed: an upstream, or the mirrored request itself (too large, aborted). */
export type FailedSide = 'primary' | 'candidate' | 'secondary' | 'request';

const LABEL_CHARS = 200;

export class ComparatorMetrics {
  readonly registry = new Registry();

  readonly compared = new Counter({
    name: 'msop_parallel_run_compared_total',
    help: 'Mirrored requests whose primary and candidate answers were both received and compared.',
    labelNames: ['route', 'method'] as const,
    registers: [this.registry],
  });

  readonly matching = new Counter({
    name: 'msop_parallel_run_matching_total',
    help: 'Compared requests whose candidate answer matched the primary answer.',
    labelNames: ['route', 'method'] as const,
    registers: [this.registry],
  });

  readonly differing = new Counter({
    name: 'msop_parallel_run_differing_total',
    help: 'Compared requests whose candidate answer differed from the primary answer.',
    labelNames: ['route', 'method'] as const,
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'msop_parallel_run_errors_total',
    help: 'Mirrored requests not compared because an upstream failed (refused, reset, timed out) or the request could not be replayed (upstream="request").',
    labelNames: ['route', 'method', 'upstream'] as const,
    registers: [this.registry],
  });

  readonly dropped = new Counter({
    name: 'msop_parallel_run_dropped_total',
    help: 'Mirrored requests not compared because --max-in-flight comparisons were already running.',
    labelNames: ['route', 'method'] as const,
    registers: [this.registry],
  });

  readonly duration = new Histogram({
    name: 'msop_parallel_run_duration_seconds',
    help: 'Time from a mirrored request being read to its answers being compared: both upstream calls and the comparison.',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly differenceInfo = new Gauge({
    name: 'msop_parallel_run_difference_info',
    help: 'The current differing examples, 1 each; old examples disappear when replaced.',
    labelNames: ['route', 'method', 'path', 'difference'] as const,
    registers: [this.registry],
  });

  readonly noiseCompared?: Counter<'route' | 'method'>;
  readonly noiseDiffering?: Counter<'route' | 'method'>;

  private exported = new Map<string, Record<'route' | 'method' | 'path' | 'difference', string>>();

  constructor(
    private readonly route: string,
    methods: readonly string[],
    withSecondary: boolean,
  ) {
    if (withSecondary) {
      this.noiseCompared = new Counter({
        name: 'msop_parallel_run_noise_compared_total',
        help: 'Mirrored requests whose primary and secondary answers (two copies of the old version) were compared.',
        labelNames: ['route', 'method'] as const,
        registers: [this.registry],
      });
      this.noiseDiffering = new Counter({
        name: 'msop_parallel_run_noise_differing_total',
        help: 'Requests whose primary and secondary answers differed: non-determinism of the old version itself.',
        labelNames: ['route', 'method'] as const,
        registers: [this.registry],
      });
    }
    // Series that exist at 0 before the first request: increase() over a window only counts what it saw grow.
    for (const method of methods) this.initialise(method);
  }

  /** Creates the method's series at 0 the first time it is seen. */
  initialise(method: string): void {
    const labels = { route: this.route, method };
    for (const counter of [this.compared, this.matching, this.differing, this.noiseCompared, this.noiseDiffering])
      counter?.inc(labels, 0);
  }

  /** Exports exactly these examples as difference_info series, removing the ones no longer kept. */
  setExamples(examples: readonly Example[]): void {
    const next = new Map<string, Record<'route' | 'method' | 'path' | 'difference', string>>();
    for (const example of examples) {
      const labels = {
        route: this.route,
        method: example.method,
        path: truncate(example.path, LABEL_CHARS),
        difference: truncate(example.differences.join('; '), LABEL_CHARS),
      };
      next.set(JSON.stringify(labels), labels);
    }
    for (const [key, labels] of this.exported) if (!next.has(key)) this.differenceInfo.remove(labels);
    for (const labels of next.values()) this.differenceInfo.set(labels, 1);
    this.exported = next;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
