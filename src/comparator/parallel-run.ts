// One mirrored request's parallel run: the same request to primary, candidate and (if set)
// secondary at once, then the comparison, the counters and the examples.
import type { Logger } from '../observability/logger';
import type { Answer } from './answer';
import { compareAnswers, type CompareOptions } from './compare';
import { Examples } from './examples';
import type { ComparatorMetrics, FailedSide } from './metrics';
import { redactPath } from './redact';
import { type MirroredRequest, Upstream, UpstreamError } from './upstream';

export interface ParallelRunOptions extends CompareOptions {
  primary: URL;
  candidate: URL;
  secondary?: URL;
  route: string;
  timeoutMs: number;
  maxExamples: number;
}

type Outcome = { answer: Answer } | { error: UpstreamError };

export class ParallelRun {
  readonly examples: Examples;
  private readonly primary: Upstream;
  private readonly candidate: Upstream;
  private readonly secondary?: Upstream;
  private readonly seenMethods = new Set<string>();

  constructor(
    private readonly options: ParallelRunOptions,
    private readonly metrics: ComparatorMetrics,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    const upstream = (url: URL) => new Upstream(url, options.timeoutMs, options.maxBodyBytes);
    this.primary = upstream(options.primary);
    this.candidate = upstream(options.candidate);
    if (options.secondary) this.secondary = upstream(options.secondary);
    this.examples = new Examples(options.maxExamples);
  }

  /** Counts a mirrored request that could not be replayed (too large, aborted). */
  failedRequest(method: string): void {
    this.metrics.errors.inc({ route: this.options.route, method, upstream: 'request' });
  }

  async run(request: MirroredRequest): Promise<void> {
    const labels = { route: this.options.route, method: request.method };
    if (!this.seenMethods.has(request.method)) {
      this.seenMethods.add(request.method);
      this.metrics.initialise(request.method);
    }
    const stopTimer = this.metrics.duration.startTimer({ route: this.options.route });
    const [primary, candidate, secondary] = await Promise.all([
      this.call(this.primary, request),
      this.call(this.candidate, request),
      this.secondary ? this.call(this.secondary, request) : undefined,
    ]);
    const sides: [FailedSide, Outcome | undefined][] = [
      ['primary', primary],
      ['candidate', candidate],
      ['secondary', secondary],
    ];
    for (const [side, outcome] of sides) {
      if (outcome && 'error' in outcome) {
        this.metrics.errors.inc({ ...labels, upstream: side });
        this.log.debug(
          { upstream: side, method: request.method, path: redactPath(request.url), err: outcome.error.message },
          'Upstream failed',
        );
      }
    }
    let noise: string[] | undefined;
    if ('answer' in primary && secondary && 'answer' in secondary) {
      noise = compareAnswers(primary.answer, secondary.answer, this.options);
      this.metrics.noiseCompared?.inc(labels);
      if (noise.length > 0) this.metrics.noiseDiffering?.inc(labels);
    }
    if ('answer' in primary && 'answer' in candidate) {
      const differences = compareAnswers(primary.answer, candidate.answer, this.options);
      this.metrics.compared.inc(labels);
      if (differences.length === 0) this.metrics.matching.inc(labels);
      else {
        this.metrics.differing.inc(labels);
        this.examples.add({
          time: this.now().toISOString(),
          method: request.method,
          path: redactPath(request.url),
          differences,
          ...(noise ? { noise } : {}),
        });
        this.metrics.setExamples(this.examples.list());
      }
    }
    stopTimer();
  }

  private async call(upstream: Upstream, request: MirroredRequest): Promise<Outcome> {
    try {
      return { answer: await upstream.send(request) };
    } catch (err) {
      if (err instanceof UpstreamError) return { error: err };
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.candidate.close(), this.secondary?.close()]);
  }
}
