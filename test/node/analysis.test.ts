// Analysis on real pods: Prometheus (built from its Go module) finds the pods through Kubernetes
// service discovery and scrapes their real addresses on the node's bridge; the
// operator (in its pods) queries it there. A canary that fails 5% of its requests
// is rolled back on those metrics.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MicroserviceSpec } from '../../src/api/types';
import {
  client,
  condition,
  createNamespace,
  eventually,
  getMicroservice,
  microservice,
  testKubeConfig,
  waitReady,
} from '../cluster/harness';
import { freePort } from '../e2e/prometheus';
import { SIM_IMAGE, clusterIP, loadDuring, waitRoutable } from './harness';

/** Built by hack/node/build.sh: Debian's Prometheus has no Kubernetes discovery. */
const PROMETHEUS = `${process.env.MSOP_NODE_BIN}/prometheus`;
let ns: Awaited<ReturnType<typeof createNamespace>>;
let prometheus: { address: string; child: ChildProcess; directory: string; log: string[] };

beforeAll(async () => {
  ns = await createNamespace('node-analysis');
  if (!existsSync(PROMETHEUS))
    throw new Error(
      `${PROMETHEUS} is missing: run hack/node/build.sh (or make node-up), which builds it from its Go module`,
    );
  const kc = testKubeConfig();
  const directory = await mkdtemp(path.join(tmpdir(), 'msop-node-prometheus-'));
  // Pod discovery in this test's namespace, relabelled as docs/analysis.md tells users to.
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: [
      {
        job_name: 'msop-pods',
        kubernetes_sd_configs: [
          {
            role: 'pod',
            api_server: kc.cluster.server,
            namespaces: { names: [ns.name] },
            tls_config: {
              ca_file: kc.cluster.caFile,
              cert_file: kc.user.certFile,
              key_file: kc.user.keyFile,
            },
          },
        ],
        relabel_configs: [
          { source_labels: ['__meta_kubernetes_pod_label_msop_dev_microservice'], regex: '.+', action: 'keep' },
          { source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: 'http', action: 'keep' },
          { regex: '__meta_kubernetes_pod_label_(msop_dev_.+)', action: 'labelmap' },
          { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
          { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
        ],
      },
    ],
  };
  await writeFile(path.join(directory, 'prometheus.yml'), JSON.stringify(config));
  // On the node's address, so the operator's pods can query it; nothing outside this machine can.
  const address = `http://${process.env.MSOP_NODE_IP}:${await freePort()}`;
  const log: string[] = [];
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${path.join(directory, 'prometheus.yml')}`,
      `--web.listen-address=${address.replace('http://', '')}`,
      `--storage.tsdb.path=${path.join(directory, 'data')}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
  process.on('exit', () => child.kill('SIGKILL'));
  prometheus = { address, child, directory, log };
  try {
    await eventually(async () => (await fetch(`${address}/-/ready`)).ok, {
      timeoutMs: 30_000,
      message: `Prometheus ready at ${address}`,
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}; its log:\n${log.join('').slice(-3000)}`, { cause: err });
  }
});

afterAll(async () => {
  if (prometheus) {
    const { child } = prometheus;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(prometheus.directory, { recursive: true, force: true });
  }
  await ns?.cleanup();
});

test('a canary with a 5% error rate is rolled back on metrics scraped from its real pods', async () => {
  const spec = {
    image: SIM_IMAGE,
    replicas: 3,
    ports: [{ name: 'http', containerPort: 8080, servicePort: 80 }],
    probes: { readiness: { httpGet: { path: '/healthz' }, periodSeconds: 1 } },
    resources: { requests: { cpu: '10m', memory: '48Mi' }, limits: { memory: '128Mi' } },
    release: {
      strategy: 'Canary',
      canary: { steps: [{ setWeight: 34 }, { pause: { duration: '5m' } }], traffic: { router: 'replicas' } },
      analysis: {
        interval: '5s',
        startDelay: '5s',
        failureLimit: 2,
        inconclusiveLimit: 5,
        prometheus: { address: prometheus.address },
        metrics: [{ name: 'success-rate', template: 'request-success-rate', thresholdRange: { min: 97 } }],
      },
    },
  } as MicroserviceSpec;
  await client.create(microservice(ns.name, 'shop', spec));
  await waitReady(ns.name, 'shop', 180_000);
  const ip = await clusterIP(ns.name, 'shop');
  await waitRoutable(ip, 80);

  const { value: rolledBack, load } = await loadDuring(
    ip,
    80,
    async () => {
      await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'shop', {
        spec: {
          env: [
            { name: 'SIM_TAG', value: 'errors' },
            { name: 'SIM_PROFILES', value: JSON.stringify({ errors: { errorRate: 0.05, latencyMs: 2 } }) },
          ],
        },
      });
      return eventually(
        async () => {
          const ms = await getMicroservice(ns.name, 'shop');
          return ms.status?.phase === 'RolledBack' ? ms : undefined;
        },
        { timeoutMs: 240_000, intervalMs: 500, message: 'the 5% canary to be rolled back' },
      );
    },
    { ratePerSecond: 150, maxDurationMs: 300_000 },
  );
  console.log(`[node] analysis: ${load.sent} requests, failures ${JSON.stringify(load.failures)}`);
  expect(rolledBack.status?.failedRevision).toBeTruthy();
  expect(condition(rolledBack, 'Released')?.status).toBe('False');
  expect(rolledBack.status?.message).toMatch(/success-rate/);
  // The evidence came from the real pods: discovered by Kubernetes SD at their bridge addresses.
  const targets = (await (await fetch(`${prometheus.address}/api/v1/targets?state=active`)).json()) as {
    data: { activeTargets: { scrapeUrl: string; labels: Record<string, string> }[] };
  };
  expect(targets.data.activeTargets.length).toBeGreaterThan(0);
  for (const t of targets.data.activeTargets) expect(t.scrapeUrl).toMatch(/^http:\/\/10\.244\.0\.\d+:8080\/metrics$/);
  const errors = await (
    await fetch(
      `${prometheus.address}/api/v1/query?query=${encodeURIComponent(`sum(http_requests_total{namespace="${ns.name}",code="500"})`)}`,
    )
  ).json();
  expect(
    Number((errors as { data: { result: { value: [number, string] }[] } }).data.result[0]?.value[1]),
  ).toBeGreaterThan(0);
});
