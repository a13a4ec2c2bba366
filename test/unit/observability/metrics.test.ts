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

/** The value of the one sample of `family` with these labels. */
async function value(metrics: OperatorMetrics, family: string, labels: string): Promise<number> {
  const line = (await samples(metrics, family)).find((l) => l.startsWith(`${family}{${labels}}`));
  if (!line) throw new Error(`no ${family}{${labels}}`);
  return Number(line.split(' ').at(-1));
}

const Q = 'name="microservice",controller="microservice"';

describe('OperatorMetrics: controller-runtime names, labels and types', () => {
  // Types and label sets as controller-runtime and client-go register them, so their dashboards work as they are.
  test.each([
    ['controller_runtime_reconcile_total', 'counter', ['controller', 'result']],
    ['controller_runtime_reconcile_errors_total', 'counter', ['controller']],
    ['controller_runtime_terminal_reconcile_errors_total', 'counter', ['controller']],
    ['controller_runtime_reconcile_time_seconds', 'histogram', ['controller']],
    ['controller_runtime_max_concurrent_reconciles', 'gauge', ['controller']],
    ['controller_runtime_active_workers', 'gauge', ['controller']],
    ['workqueue_depth', 'gauge', ['name', 'controller']],
    ['workqueue_adds_total', 'counter', ['name', 'controller']],
    ['workqueue_retries_total', 'counter', ['name', 'controller']],
    ['workqueue_queue_duration_seconds', 'histogram', ['name', 'controller']],
    ['workqueue_work_duration_seconds', 'histogram', ['name', 'controller']],
    ['workqueue_unfinished_work_seconds', 'gauge', ['name', 'controller']],
    ['workqueue_longest_running_processor_seconds', 'gauge', ['name', 'controller']],
    ['rest_client_requests_total', 'counter', ['code', 'method', 'host']],
    ['leader_election_master_status', 'gauge', ['name']],
    ['msop_build_info', 'gauge', ['version', 'node_version']],
  ])('%s is a %s labelled %j', async (name, type, labels) => {
    const metrics = new OperatorMetrics();
    metrics.setConcurrency(4);
    metrics.countRequest(200, 'GET', '127.0.0.1:6443');
    const { body } = await metrics.render();
    expect(body).toContain(`# TYPE ${name} ${type}`);
    const sample = body.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name}_count{`));
    expect(sample).toBeDefined();
    const names = [...sample!.matchAll(/([a-z_]+)="/g)].map((m) => m[1]);
    expect(names).toEqual(labels);
  });

  test('every series exists with zero before the first reconcile, so rate() and dashboards see it from the start', async () => {
    const metrics = new OperatorMetrics();
    for (const result of ['success', 'requeue_after', 'error'])
      expect(
        await value(metrics, 'controller_runtime_reconcile_total', `controller="microservice",result="${result}"`),
      ).toBe(0);
    expect(await value(metrics, 'workqueue_adds_total', Q)).toBe(0);
    expect(await value(metrics, 'workqueue_depth', Q)).toBe(0);
    expect(await value(metrics, 'controller_runtime_reconcile_time_seconds_count', 'controller="microservice"')).toBe(
      0,
    );
  });

  test("counts reconciles by result and errors, with controller-runtime's buckets", async () => {
    const metrics = new OperatorMetrics();
    metrics.observeReconcile('success', 0.02);
    metrics.observeReconcile('success', 0.03);
    metrics.observeReconcile('requeue_after', 0.5);
    metrics.observeReconcile('error', 2);
    metrics.observeReconcile('error', 0.1, { terminal: true });
    const c = 'controller="microservice"';
    expect(await value(metrics, 'controller_runtime_reconcile_total', `${c},result="success"`)).toBe(2);
    expect(await value(metrics, 'controller_runtime_reconcile_total', `${c},result="requeue_after"`)).toBe(1);
    expect(await value(metrics, 'controller_runtime_reconcile_total', `${c},result="error"`)).toBe(2);
    expect(await value(metrics, 'controller_runtime_reconcile_errors_total', c)).toBe(2);
    expect(await value(metrics, 'controller_runtime_terminal_reconcile_errors_total', c)).toBe(1);
    expect(await value(metrics, 'controller_runtime_reconcile_time_seconds_count', c)).toBe(5);
    expect(await value(metrics, 'controller_runtime_reconcile_time_seconds_bucket', `le="0.05",${c}`)).toBe(2);
    const buckets = (await samples(metrics, 'controller_runtime_reconcile_time_seconds_bucket')).map(
      (l) => /le="([^"]+)"/.exec(l)![1],
    );
    expect(buckets).toHaveLength(41); // controller-runtime's 40 bounds and +Inf
    expect(buckets).toEqual(expect.arrayContaining(['0.005', '0.15', '1.25', '60', '+Inf']));
  });

  test('startReconcile counts an active worker until the reconcile ends', async () => {
    const metrics = new OperatorMetrics();
    metrics.setConcurrency(3);
    const c = 'controller="microservice"';
    expect(await value(metrics, 'controller_runtime_max_concurrent_reconciles', c)).toBe(3);
    const first = metrics.startReconcile();
    const second = metrics.startReconcile();
    expect(await value(metrics, 'controller_runtime_active_workers', c)).toBe(2);
    first('success');
    second('error');
    expect(await value(metrics, 'controller_runtime_active_workers', c)).toBe(0);
    expect(await value(metrics, 'controller_runtime_reconcile_total', `${c},result="error"`)).toBe(1);
  });

  test('counts API requests by code, method and host', async () => {
    const metrics = new OperatorMetrics();
    metrics.countRequest(200, 'GET', '10.0.0.1:443');
    metrics.countRequest(200, 'GET', '10.0.0.1:443');
    metrics.countRequest(409, 'PATCH', '10.0.0.1:443');
    metrics.countRequest('<error>', 'GET', '10.0.0.1:443');
    expect(await samples(metrics, 'rest_client_requests_total')).toEqual([
      'rest_client_requests_total{code="200",method="GET",host="10.0.0.1:443"} 2',
      'rest_client_requests_total{code="409",method="PATCH",host="10.0.0.1:443"} 1',
      'rest_client_requests_total{code="<error>",method="GET",host="10.0.0.1:443"} 1',
    ]);
  });

  test('msop_build_info names the version and Node.js', async () => {
    const [line] = await samples(new OperatorMetrics(), 'msop_build_info');
    expect(line).toMatch(/^msop_build_info\{version="\d+\.\d+\.\d+",node_version="v24\.\d+\.\d+"\} 1$/);
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
    expect(await value(metrics, 'workqueue_depth', Q)).toBe(3);
    depth = 0;
    expect(await value(metrics, 'workqueue_depth', Q)).toBe(0);

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
    metrics.setLease('shop-msop-leader');
    metrics.setSources({ microservices: () => [ms('shop', 'cart', { phase: 'Ready', canaryWeight: 10 })] });
    metrics.setLeading(false);
    expect(await samples(metrics, 'leader_election_master_status')).toEqual([
      'leader_election_master_status{name="shop-msop-leader"} 0',
    ]);
    expect(await samples(metrics, 'msop_releases')).toEqual([]);
    expect(await samples(metrics, 'msop_canary_weight')).toEqual([]);
    metrics.setLeading(true);
    expect(await samples(metrics, 'leader_election_master_status')).toEqual([
      'leader_election_master_status{name="shop-msop-leader"} 1',
    ]);
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
    expect(await value(b, 'controller_runtime_reconcile_total', 'controller="microservice",result="success"')).toBe(0);
  });
});

describe('MeteredWorkQueue', () => {
  const count = (metrics: OperatorMetrics, family: string) => value(metrics, family, Q);

  test('observes how long each key waited, once per hand-out, and counts each add that queued a key', async () => {
    const metrics = new OperatorMetrics();
    const queue = new MeteredWorkQueue(metrics);
    queue.add('shop/a');
    queue.add('shop/a'); // de-duplicated: still one wait, one add
    queue.add('shop/b');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await queue.get()).toBe('shop/a');
    expect(await queue.get()).toBe('shop/b');
    expect(await count(metrics, 'workqueue_queue_duration_seconds_count')).toBe(2);
    expect(await count(metrics, 'workqueue_adds_total')).toBe(2);
    // Both waited at least 30 ms: none fell into the buckets up to 0.01 s (client-go's powers of ten).
    expect(await value(metrics, 'workqueue_queue_duration_seconds_bucket', `le="0.01",${Q}`)).toBe(0);
    expect(await value(metrics, 'workqueue_queue_duration_seconds_bucket', `le="0.1",${Q}`)).toBe(2);
    queue.done('shop/a');
    queue.done('shop/b');
    expect(await count(metrics, 'workqueue_work_duration_seconds_count')).toBe(2);
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
    expect(await count(metrics, 'workqueue_queue_duration_seconds_count')).toBe(2);
    expect(await count(metrics, 'workqueue_adds_total')).toBe(2);
    expect(await count(metrics, 'workqueue_work_duration_seconds_count')).toBe(2);
    queue.shutDown();
  });

  test('reports the work in progress: unfinished seconds summed over keys, and the longest', async () => {
    const metrics = new OperatorMetrics();
    const queue = new MeteredWorkQueue(metrics);
    queue.add('shop/a');
    expect(await queue.get()).toBe('shop/a');
    await new Promise((resolve) => setTimeout(resolve, 40));
    queue.add('shop/b');
    expect(await queue.get()).toBe('shop/b');
    await new Promise((resolve) => setTimeout(resolve, 40));
    const longest = await count(metrics, 'workqueue_longest_running_processor_seconds');
    const unfinished = await count(metrics, 'workqueue_unfinished_work_seconds');
    expect(longest).toBeGreaterThanOrEqual(0.08);
    expect(unfinished).toBeGreaterThanOrEqual(longest + 0.04);
    queue.done('shop/a');
    queue.done('shop/b');
    expect(await count(metrics, 'workqueue_longest_running_processor_seconds')).toBe(0);
    expect(await count(metrics, 'workqueue_unfinished_work_seconds')).toBe(0);
  });

  test('counts rate-limited retries', async () => {
    const metrics = new OperatorMetrics();
    const queue = new MeteredWorkQueue(metrics, 1, 10);
    queue.addRateLimited('shop/a');
    queue.addRateLimited('shop/a');
    expect(await count(metrics, 'workqueue_retries_total')).toBe(2);
    queue.shutDown();
  });

  test('keys added after shutdown are not tracked', async () => {
    const metrics = new OperatorMetrics();
    const queue = new MeteredWorkQueue(metrics);
    queue.shutDown();
    queue.add('shop/a');
    expect(await queue.get()).toBeUndefined();
    expect(await count(metrics, 'workqueue_queue_duration_seconds_count')).toBe(0);
    expect(await count(metrics, 'workqueue_adds_total')).toBe(0);
  });
});
