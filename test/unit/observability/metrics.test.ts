import type { Microservice } from '../../../src/api/types';
import { MeteredWorkQueue, OperatorMetrics } from '../../../src/observability/metrics';

function ms(namespace: string, name: string, status?: Record<string, unknown>): Microservice {
  return {
    apiVersion: 'msop.dev/v1alpha1',
    kind: 'Microservice',
    metadata: { namespace, name },
    spec: { image: 'example/app:1' },
    ...(status ? { status } : {}),
  } as Microservice;
}

/** The samples of one metric family, as name{labels} value lines. */
async function samples(metrics: OperatorMetrics, family: string): Promise<string[]> {
  const { body } = await metrics.render();
  return body
    .split('\n')
    .filter((line) => line.startsWith(`${family}{`) || line.startsWith(`${family} `))
    .sort();
}

describe('OperatorMetrics', () => {
  test('counts reconciles by result, errors, and observes their duration', async () => {
    const metrics = new OperatorMetrics();
    metrics.observeReconcile('success', 0.02);
    metrics.observeReconcile('success', 0.03);
    metrics.observeReconcile('requeue_after', 0.5);
    metrics.observeReconcile('error', 2);
    expect(await samples(metrics, 'msop_reconcile_total')).toEqual([
      'msop_reconcile_total{result="error"} 1',
      'msop_reconcile_total{result="requeue_after"} 1',
      'msop_reconcile_total{result="success"} 2',
    ]);
    expect(await samples(metrics, 'msop_reconcile_errors_total')).toEqual(['msop_reconcile_errors_total 1']);
    expect(await samples(metrics, 'msop_reconcile_duration_seconds_count')).toEqual([
      'msop_reconcile_duration_seconds_count 4',
    ]);
    expect(await samples(metrics, 'msop_reconcile_duration_seconds_bucket')).toContain(
      'msop_reconcile_duration_seconds_bucket{le="0.05"} 2',
    );
  });

  test('counts analysis verdicts by metric and verdict', async () => {
    const metrics = new OperatorMetrics();
    metrics.recordAnalysisVerdict('success-rate', 'Pass');
    metrics.recordAnalysisVerdict('success-rate', 'Pass');
    metrics.recordAnalysisVerdict('latency-p99', 'Fail');
    expect(await samples(metrics, 'msop_analysis_verdicts_total')).toEqual([
      'msop_analysis_verdicts_total{metric="latency-p99",verdict="Fail"} 1',
      'msop_analysis_verdicts_total{metric="success-rate",verdict="Pass"} 2',
    ]);
  });

  test('reads the queue depth and the Microservices at scrape time', async () => {
    const metrics = new OperatorMetrics();
    let depth = 3;
    const list = [
      ms('shop', 'orders', { phase: 'Ready' }),
      ms('shop', 'cart', { phase: 'Progressing', canaryWeight: 25 }),
      ms('shop', 'pay', { phase: 'Ready', canaryWeight: 0 }),
      ms('shop', 'new'),
    ];
    metrics.setSources({ queueDepth: () => depth, microservices: () => list });
    expect(await samples(metrics, 'msop_workqueue_depth')).toEqual(['msop_workqueue_depth 3']);
    depth = 0;
    expect(await samples(metrics, 'msop_workqueue_depth')).toEqual(['msop_workqueue_depth 0']);

    const releases = await samples(metrics, 'msop_releases');
    expect(releases).toEqual(
      expect.arrayContaining([
        'msop_releases{phase="Ready"} 2',
        'msop_releases{phase="Progressing"} 1',
        'msop_releases{phase="Unknown"} 1',
        'msop_releases{phase="Failed"} 0',
      ]),
    );
    expect(await samples(metrics, 'msop_canary_weight')).toEqual([
      'msop_canary_weight{namespace="shop",name="cart"} 25',
      'msop_canary_weight{namespace="shop",name="pay"} 0',
    ]);

    // A deleted Microservice disappears from the gauges at the next scrape.
    list.splice(1, 1);
    expect(await samples(metrics, 'msop_canary_weight')).toEqual(['msop_canary_weight{namespace="shop",name="pay"} 0']);
  });

  test('a standby reports no release gauges, so sums over replicas count each Microservice once', async () => {
    const metrics = new OperatorMetrics();
    metrics.setSources({ microservices: () => [ms('shop', 'cart', { phase: 'Ready', canaryWeight: 10 })] });
    metrics.setLeading(false);
    expect(await samples(metrics, 'msop_leader')).toEqual(['msop_leader 0']);
    expect(await samples(metrics, 'msop_releases')).toEqual([]);
    expect(await samples(metrics, 'msop_canary_weight')).toEqual([]);
    metrics.setLeading(true);
    expect(await samples(metrics, 'msop_leader')).toEqual(['msop_leader 1']);
    expect(await samples(metrics, 'msop_releases')).toContain('msop_releases{phase="Ready"} 1');
  });

  test('adds the Node process metrics once', async () => {
    const metrics = new OperatorMetrics();
    metrics.collectProcessMetrics();
    metrics.collectProcessMetrics();
    const { body, contentType } = await metrics.render();
    expect(contentType).toMatch(/^text\/plain/);
    expect(body).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(body).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  test('two registries do not share series', async () => {
    const a = new OperatorMetrics();
    const b = new OperatorMetrics();
    a.observeReconcile('success', 0.1);
    expect(await samples(b, 'msop_reconcile_total')).toEqual([]);
  });
});

describe('MeteredWorkQueue', () => {
  const latencyCount = async (metrics: OperatorMetrics) =>
    Number((await samples(metrics, 'msop_workqueue_latency_seconds_count'))[0]?.split(' ')[1]);

  test('observes how long each key waited, once per hand-out', async () => {
    const metrics = new OperatorMetrics();
    const queue = new MeteredWorkQueue(metrics);
    queue.add('shop/a');
    queue.add('shop/a'); // de-duplicated: still one wait
    queue.add('shop/b');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await queue.get()).toBe('shop/a');
    expect(await queue.get()).toBe('shop/b');
    expect(await latencyCount(metrics)).toBe(2);
    const { body } = await metrics.render();
    // Both waited at least 30 ms: none fell into the buckets below 0.01 s.
    expect(body).toContain('msop_workqueue_latency_seconds_bucket{le="0.01"} 0');
    queue.done('shop/a');
    queue.done('shop/b');
  });

  test('counts a key handed straight to a waiting worker, and one re-added while it was being handled', async () => {
    const metrics = new OperatorMetrics();
    const queue = new MeteredWorkQueue(metrics);
    const waiting = queue.get();
    queue.add('shop/a');
    expect(await waiting).toBe('shop/a');
    queue.add('shop/a'); // while being handled: handled again after done
    queue.done('shop/a');
    expect(await queue.get()).toBe('shop/a');
    queue.done('shop/a');
    expect(await latencyCount(metrics)).toBe(2);
    queue.shutDown();
  });

  test('keys added after shutdown are not tracked', async () => {
    const metrics = new OperatorMetrics();
    const queue = new MeteredWorkQueue(metrics);
    queue.shutDown();
    queue.add('shop/a');
    expect(await queue.get()).toBeUndefined();
    expect(await latencyCount(metrics)).toBe(0);
  });
});
