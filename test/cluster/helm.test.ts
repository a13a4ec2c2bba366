// The Helm chart against the real control plane: lint, template with a server-side dry
// run, install, the operator run as the chart's ServiceAccount (RBAC is enough), the
// ServiceAccount's permissions listed (RBAC is no more than the code calls), upgrade
// and uninstall.
import type { V1Deployment } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { resourceTypes } from '../../src/kube/resources';
import { DASHBOARD } from '../unit/helm/dashboard';
import { OPERATOR_ACCESS, chartRules, flatten, groupOf, type PolicyRule } from '../unit/helm/rbac-table';
import {
  client,
  createNamespace,
  eventually,
  getOrUndefined,
  helm,
  helmResult,
  impersonatingKubeconfig,
  kubectl,
  kubectlResult,
  microservice,
  type OperatorProcess,
  startOperatorProcess,
  waitReady,
} from './harness';

const CHART = 'helm/msop';
const NAMESPACED_VALUES = 'helm/msop/ci/namespaced-values.yaml';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: PolicyRule[];
  spec?: Record<string, unknown>;
}

const namespaces: Awaited<ReturnType<typeof createNamespace>>[] = [];
const operators: OperatorProcess[] = [];
const releases: { name: string; namespace: string }[] = [];
const stubs: (() => Promise<void>)[] = [];

async function namespace(prefix: string): Promise<string> {
  const ns = await createNamespace(prefix);
  namespaces.push(ns);
  return ns.name;
}

afterAll(async () => {
  await Promise.all(operators.map((op) => op.stop('SIGKILL')));
  await Promise.all(stubs.map((close) => close()));
  for (const r of releases) await helmResult('uninstall', r.name, '-n', r.namespace, '--wait', '--timeout=60s');
  await Promise.all(namespaces.map((ns) => ns.cleanup()));
});

function render(output: string): Manifest[] {
  return (yaml.loadAll(output) as (Manifest | null)[]).filter((doc): doc is Manifest => doc !== null);
}

const find = (docs: Manifest[], kind: string, name?: string, ns?: string) =>
  docs.filter(
    (d) =>
      d.kind === kind &&
      (name === undefined || d.metadata.name === name) &&
      (ns === undefined || d.metadata.namespace === ns),
  );

/** A server-side dry run of rendered manifests: the API server validates them as if created. */
async function dryRun(output: string): Promise<string> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'msop-helm-')), 'rendered.yaml');
  writeFileSync(file, output);
  return kubectl('apply', '--server-side', '--dry-run=server', '--field-manager=msop-helm-test', '-f', file);
}

const suffix = () => randomBytes(3).toString('hex');

describe('helm lint', () => {
  test.each([
    ['the default values', []],
    ['the namespaced values file', ['-f', NAMESPACED_VALUES]],
    [
      'a ServiceMonitor and a pinned digest',
      ['--set', 'metrics.serviceMonitor.enabled=true', '--set', `image.digest=sha256:${'a'.repeat(64)}`],
    ],
  ])('--strict passes with %s', async (_name, args) => {
    const output = await helm('lint', '--strict', CHART, ...args);
    expect(output).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  test.each([
    [
      'logging.level=loud',
      "at '/logging/level': value must be one of 'trace', 'debug', 'info', 'warn', 'error', 'fatal'",
    ],
    ['replicas=0', "at '/replicas': minimum: got 0, want 1"],
    [
      'defaults.router=linkerd',
      "at '/defaults/router': value must be one of 'replicas', 'gatewayAPI', 'istio', 'nginx'",
    ],
    ['prometheus.address=prometheus:9090', "at '/prometheus/address'"],
    ['watchNamespaces[0]=Shop', "at '/watchNamespaces/0'"],
    ['image.pullPolicy=Sometimes', "at '/image/pullPolicy'"],
    ['resources.limits.memory=lots', "at '/resources/limits/memory'"],
    ['replicaCount=2', "additional properties 'replicaCount' not allowed"],
    ['health.port=8080', 'health.port and metrics.port must differ, both are 8080'],
    ['leaderElection.enabled=false', 'leaderElection.enabled must be true when replicas > 1'],
    ['leaderElection.id=Msop_Leader', "at '/leaderElection/id'"],
    [
      'metrics.service.enabled=false,metrics.serviceMonitor.enabled=true',
      'metrics.serviceMonitor.enabled needs metrics.service.enabled',
    ],
  ])('refuses --set %s with a message naming the value', async (set, message) => {
    const result = await helmResult('template', 'msop', CHART, '--set', set);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(message);
  });
});

describe('helm template', () => {
  test('the default values render a cluster-wide install that the API server accepts', async () => {
    const ns = await namespace('helm-tpl');
    const output = await helm('template', 'msop', CHART, '-n', ns, '--include-crds');
    const docs = render(output);
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual([
      'ClusterRole/msop',
      'ClusterRole/msop-edit',
      'ClusterRole/msop-view',
      'ClusterRoleBinding/msop',
      'CustomResourceDefinition/environments.msop.dev',
      'CustomResourceDefinition/microservices.msop.dev',
      'Deployment/msop',
      'PodDisruptionBudget/msop',
      'Role/msop-leader-election',
      'RoleBinding/msop-leader-election',
      'Service/msop-metrics',
      'ServiceAccount/msop',
    ]);
    expect(find(docs, 'ClusterRole', 'msop')[0]!.rules).toEqual([
      ...chartRules('msop.rules'),
      ...chartRules('msop.clusterRules'),
    ]);
    expect(find(docs, 'Role', 'msop-leader-election', ns)[0]!.rules).toEqual(chartRules('msop.leaderElectionRules'));

    const deployment = find(docs, 'Deployment')[0]! as unknown as V1Deployment;
    const pod = deployment.spec!.template.spec!;
    const container = pod.containers[0]!;
    expect(deployment.spec?.replicas).toBe(2);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'health' });
    expect(container.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'health' });
    expect(container.args).toEqual(
      expect.arrayContaining([
        '--leader-elect=true',
        '--watch-namespaces=',
        '--default-router=replicas',
        '--default-resources={"limits":{"memory":"256Mi"},"requests":{"cpu":"100m","memory":"128Mi"}}',
      ]),
    );
    expect(container.env).toContainEqual({
      name: 'POD_NAMESPACE',
      valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } },
    });

    const applied = await dryRun(output);
    expect(applied).toMatch(/clusterrole.rbac.authorization.k8s.io\/msop serverside-applied \(server dry run\)/);
    expect(applied).toMatch(/deployment.apps\/msop serverside-applied \(server dry run\)/);
  });

  test('grafanaDashboard.enabled adds the dashboard as a ConfigMap for the Grafana sidecar, which the API server accepts', async () => {
    const ns = await namespace('helm-dash');
    const output = await helm(
      'template',
      'msop',
      CHART,
      '-n',
      ns,
      '--set',
      'grafanaDashboard.enabled=true',
      '--set',
      'grafanaDashboard.annotations.grafana_folder=msop',
    );
    const [configMap] = find(render(output), 'ConfigMap', 'msop-dashboard', ns) as unknown as {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      data: Record<string, string>;
    }[];
    expect(configMap!.metadata.labels.grafana_dashboard).toBe('1');
    expect(configMap!.metadata.annotations).toEqual({ grafana_folder: 'msop' });
    expect(JSON.parse(configMap!.data['msop.json']!)).toEqual(JSON.parse(readFileSync(DASHBOARD, 'utf8')));
    expect(await dryRun(output)).toMatch(/configmap\/msop-dashboard serverside-applied \(server dry run\)/);
    expect(find(render(await helm('template', 'msop', CHART, '-n', ns)), 'ConfigMap')).toEqual([]);
  });

  test('two releases in one namespace elect on two Leases, each allowed only its own', async () => {
    const leases = await Promise.all(
      ['msop', 'canary-ops', 'pinned'].map(async (release) => {
        const docs = render(
          await helm(
            'template',
            release,
            CHART,
            '-n',
            'ops',
            ...(release === 'pinned' ? ['--set', 'leaderElection.id=my.lease'] : []),
          ),
        );
        const args = (find(docs, 'Deployment')[0]! as unknown as V1Deployment).spec!.template.spec!.containers[0]!
          .args!;
        const named = find(docs, 'Role').flatMap((role) => role.rules!.flatMap((rule) => rule.resourceNames ?? []));
        return { release, arg: args.find((a) => a.startsWith('--leader-election-id=')), named };
      }),
    );
    expect(leases).toEqual([
      { release: 'msop', arg: '--leader-election-id=msop-leader', named: ['msop-leader'] },
      { release: 'canary-ops', arg: '--leader-election-id=canary-ops-msop-leader', named: ['canary-ops-msop-leader'] },
      { release: 'pinned', arg: '--leader-election-id=my.lease', named: ['my.lease'] },
    ]);
  });

  test('the namespaced values file renders Roles in the watched namespaces only, which the API server accepts', async () => {
    const [shop, payments, monitoring, release] = [
      await namespace('helm-shop'),
      await namespace('helm-pay'),
      await namespace('helm-mon'),
      await namespace('helm-ns'),
    ];
    // The file's values, with the namespaces this test created.
    const output = await helm(
      'template',
      'msop',
      CHART,
      '-n',
      release,
      '-f',
      NAMESPACED_VALUES,
      '--set',
      `watchNamespaces={${shop},${payments}}`,
      '--set',
      `prometheus.authSecret=${monitoring}/prom-token`,
    );
    const docs = render(output);
    // Environments and namespaces are cluster-scoped: one ClusterRole reads them, and nothing else
    // (msop-view and msop-edit are for people: the built-in roles aggregate them).
    const byName = (a: Manifest, b: Manifest) => a.metadata.name.localeCompare(b.metadata.name);
    expect(
      find(docs, 'ClusterRole')
        .sort(byName)
        .map((r) => [r.metadata.name, r.rules]),
    ).toEqual([
      ['msop-edit', expect.anything()],
      ['msop-environments', chartRules('msop.clusterRules')],
      ['msop-view', expect.anything()],
    ]);
    expect(find(docs, 'ClusterRoleBinding').map((r) => r.metadata.name)).toEqual(['msop-environments']);
    for (const ns of [shop, payments]) {
      expect(find(docs, 'Role', 'msop', ns)[0]?.rules).toEqual(chartRules('msop.rules'));
      expect(find(docs, 'RoleBinding', 'msop', ns)).toHaveLength(1);
    }
    expect(find(docs, 'Role', 'msop-prometheus-auth', monitoring)[0]?.rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['prom-token'], verbs: ['get'] },
    ]);
    expect(
      find(docs, 'Role')
        .map((r) => r.metadata.namespace)
        .sort(),
    ).toEqual([monitoring, payments, release, shop].sort());
    const args = (find(docs, 'Deployment')[0] as unknown as V1Deployment).spec!.template.spec!.containers[0]!.args;
    expect(args).toEqual(
      expect.arrayContaining([
        `--watch-namespaces=${shop},${payments}`,
        '--default-router=gatewayAPI',
        '--prometheus-address=http://prometheus.monitoring:9090',
        `--prometheus-auth-secret=${monitoring}/prom-token`,
        '--default-analysis={"failureLimit":2,"interval":"1m","metrics":[{"name":"success-rate","template":"request-success-rate","thresholdRange":{"min":99}}]}',
        '--log-level=debug',
      ]),
    );
    await dryRun(output);
  });

  test('shards: 3 renders one Deployment and one Lease per shard, selectors that give each Microservice to one shard', async () => {
    const ns = await namespace('helm-shards');
    const output = await helm('template', 'msop', CHART, '-n', ns, '--set', 'shards=3');
    const docs = render(output);
    const args = (name: string) =>
      (find(docs, 'Deployment', name)[0] as unknown as V1Deployment).spec!.template.spec!.containers[0]!.args!;
    expect(find(docs, 'Deployment').map((d) => d.metadata.name)).toEqual(['msop', 'msop-shard-1', 'msop-shard-2']);
    expect(args('msop')).toContain('--shard-selector=msop.dev/shard notin (1,2)');
    // Shard 0 keeps the unsharded Lease, <fullname>-leader; shard i has <fullname>-leader-i.
    expect(args('msop').filter((a) => a.startsWith('--leader-election-id'))).toEqual([
      '--leader-election-id=msop-leader',
    ]);
    for (const shard of [1, 2]) {
      expect(args(`msop-shard-${shard}`)).toEqual(
        expect.arrayContaining([
          `--shard-selector=msop.dev/shard=${shard}`,
          `--leader-election-id=msop-leader-${shard}`,
        ]),
      );
      expect(args(`msop-shard-${shard}`).filter((a) => a.startsWith('--leader-election-id'))).toHaveLength(1);
    }
    expect(
      flatten(find(docs, 'Role', 'msop-leader-election', ns)[0]!.rules!).get('coordination.k8s.io/leases'),
    ).toEqual(['create', 'get', 'update']);
    expect(find(docs, 'Role', 'msop-leader-election', ns)[0]!.rules!.flatMap((r) => r.resourceNames ?? [])).toEqual([
      'msop-leader',
      'msop-leader-1',
      'msop-leader-2',
    ]);
    // Distinct selectors; shard 0 keeps the unsharded one, immutable across an upgrade to shards (controller
    // references keep each shard's pods its own Deployment's).
    const selectors = find(docs, 'Deployment').map((d) =>
      JSON.stringify((d as unknown as V1Deployment).spec!.selector),
    );
    expect(new Set(selectors).size).toBe(3);
    expect(await dryRun(output)).toMatch(/deployment.apps\/msop-shard-2 serverside-applied \(server dry run\)/);
  });

  test('the rendered rules grant exactly what src/kube/resources.ts and the access table say', async () => {
    const docs = render(await helm('template', 'msop', CHART));
    const expected = new Map<string, string[]>();
    for (const type of resourceTypes) {
      const access = OPERATOR_ACCESS[type.kind]!;
      if (access.scope !== 'watched' && access.scope !== 'cluster') continue;
      expected.set(`${groupOf(type.apiVersion)}/${type.plural}`, [...access.verbs].sort());
      if ('status' in access && access.status)
        expected.set(`${groupOf(type.apiVersion)}/${type.plural}/status`, [...access.status].sort());
      if ('scale' in access && access.scale)
        expected.set(`${groupOf(type.apiVersion)}/${type.plural}/scale`, [...access.scale].sort());
    }
    expect(Object.fromEntries(flatten(find(docs, 'ClusterRole', 'msop')[0]!.rules!))).toEqual(
      Object.fromEntries(expected),
    );
  });
});

/** `kubectl auth can-i --list` as rows of resource → verbs (with resource names when limited). */
async function canIList(user: string, ns: string): Promise<Map<string, string[]>> {
  const output = await kubectl('auth', 'can-i', '--list', `--as=${user}`, '-n', ns);
  const rows = new Map<string, string[]>();
  for (const line of output.split('\n').slice(1)) {
    const match = /^(\S*)\s+\[(.*?)\]\s+\[(.*?)\]\s+\[(.*?)\]\s*$/.exec(line);
    if (!match) continue;
    const [, resource, urls, names, verbs] = match;
    const key = resource ? `${resource}${names ? ` [${names}]` : ''}` : `url ${urls}`;
    rows.set(key, [...new Set([...(rows.get(key) ?? []), ...verbs!.split(' ')])].sort());
  }
  return rows;
}

/** What a ServiceAccount may do beyond what every ServiceAccount may (discovery, self reviews). */
async function grantedTo(sa: string, releaseNs: string, ns: string): Promise<Record<string, string[]>> {
  const granted = await canIList(`system:serviceaccount:${releaseNs}:${sa}`, ns);
  const baseline = await canIList(`system:serviceaccount:${releaseNs}:nobody-${suffix()}`, ns);
  return Object.fromEntries(
    [...granted].filter(([key, verbs]) => JSON.stringify(baseline.get(key)) !== JSON.stringify(verbs)),
  );
}

/** The rows `kubectl auth can-i --list` prints for the access table in a watched namespace. */
function expectedRows(): Record<string, string[]> {
  return { ...rowsOf('watched'), ...rowsOf('cluster') };
}

/** The rows of one scope of the access table; the cluster-scoped ones show in every namespace. */
function rowsOf(scope: 'watched' | 'cluster'): Record<string, string[]> {
  const rows: Record<string, string[]> = {};
  for (const type of resourceTypes) {
    const access = OPERATOR_ACCESS[type.kind]!;
    if (access.scope !== scope) continue;
    const group = groupOf(type.apiVersion);
    const resource = group ? `${type.plural}.${group}` : type.plural;
    rows[resource] = [...access.verbs].sort();
    if ('status' in access && access.status) rows[`${resource}/status`] = [...access.status].sort();
    if ('scale' in access && access.scale) rows[`${resource}/scale`] = [...access.scale].sort();
  }
  return rows;
}

/** The release's Lease is <fullname>-leader; these releases' names contain "msop", so fullname is the release. */
const leaseRows = (release: string) => ({
  'leases.coordination.k8s.io': ['create'],
  [`leases.coordination.k8s.io [${release}-leader]`]: ['get', 'update'],
});

/**
 * The operator as the installed chart runs it: the Deployment's args and POD_NAMESPACE, with a
 * kubeconfig that impersonates the chart's ServiceAccount; only the ports are made free ones.
 */
async function runAsChart(release: string, releaseNs: string): Promise<OperatorProcess> {
  const deployment = await client.get<V1Deployment>('apps/v1', 'Deployment', releaseNs, release);
  const container = deployment.spec!.template.spec!.containers[0]!;
  const kubeconfig = impersonatingKubeconfig(
    `system:serviceaccount:${releaseNs}:${deployment.spec!.template.spec!.serviceAccountName}`,
  );
  // The kubeconfig really is the ServiceAccount: what the chart does not grant is refused.
  const nodes = await kubectlResult('--kubeconfig', kubeconfig, 'get', 'nodes');
  expect(nodes.output).toMatch(/forbidden/i);
  const op = startOperatorProcess({
    kubeconfig,
    args: [...(container.args ?? []), '--health-port=0', '--metrics-port=0'],
    env: { POD_NAMESPACE: releaseNs, HOSTNAME: `${release}-test` },
  });
  operators.push(op);
  return op;
}

/** Runs examples/hello.yaml through the core scenario with the given operator running. */
async function coreScenario(op: OperatorProcess, ns: string): Promise<void> {
  await kubectl('apply', '-n', ns, '-f', 'examples/hello.yaml');
  const ready = await waitReady(ns, 'hello', 60_000);
  expect(ready.status?.ready).toBe('3/3');
  const before = await client.get<V1Deployment>('apps/v1', 'Deployment', ns, 'hello');
  await kubectl('delete', 'deployment', 'hello', '-n', ns, '--wait=false');
  await eventually(
    async () => {
      const d = await getOrUndefined<V1Deployment>('apps/v1', 'Deployment', ns, 'hello');
      return d !== undefined && d.metadata?.uid !== before.metadata?.uid;
    },
    { message: 'the deleted Deployment to be restored' },
  );
  expect((await waitReady(ns, 'hello', 60_000)).status?.ready).toBe('3/3');
  // Only this scenario's namespaces: a cluster-wide operator also sees other tests' leftovers.
  const denied = op.lines.filter((l) => /forbidden|\b403\b/i.test(l.text) && l.text.includes(`${ns}/`));
  expect(denied.map((l) => l.text)).toEqual([]);
}

describe('helm install, cluster-wide', () => {
  let release: string;
  let releaseNs: string;
  let appNs: string;

  beforeAll(async () => {
    release = `msop-${suffix()}`;
    releaseNs = await namespace('helm-sys');
    appNs = await namespace('helm-app');
    releases.push({ name: release, namespace: releaseNs });
    await helm('install', release, CHART, '-n', releaseNs, '--wait', '--timeout=120s');
  });

  test('installs the operator Deployment, which becomes available (kwok runs its pods)', async () => {
    const deployment = await client.get<V1Deployment>('apps/v1', 'Deployment', releaseNs, release);
    expect(deployment.status?.availableReplicas).toBe(2);
    expect(await helm('status', release, '-n', releaseNs)).toMatch(/STATUS: deployed/);
  });

  test("the operator, run as the chart's ServiceAccount, runs the core scenario (the RBAC is enough)", async () => {
    const op = await runAsChart(release, releaseNs);
    await op.waitForLog('Became leader');
    await coreScenario(op, appNs);
    expect(await op.stop('SIGTERM')).toBe(0);
  });

  test('kubectl auth can-i --list shows exactly the table, and no more (the RBAC is not too much)', async () => {
    const sa = release;
    const inApp = await grantedTo(sa, releaseNs, appNs);
    expect(inApp).toEqual(expectedRows());
    const inRelease = await grantedTo(sa, releaseNs, releaseNs);
    expect(inRelease).toEqual({ ...expectedRows(), ...leaseRows(release) });
    for (const [resource, verbs] of Object.entries(inRelease)) {
      expect(resource).not.toContain('*');
      expect(verbs).not.toContain('*');
      // Pods are listed and relabelled at promotion, never read one by one, deleted, or entered.
      if (resource.startsWith('pods')) expect([resource, verbs]).toEqual(['pods', ['list', 'patch']]);
    }
    expect(inRelease.secrets).toEqual(['get', 'list', 'watch']);
    const exec = await kubectlResult(
      'auth',
      'can-i',
      'create',
      'pods/exec',
      `--as=system:serviceaccount:${releaseNs}:${sa}`,
      '-n',
      appNs,
    );
    expect(exec.output.trim()).toBe('no');
  });

  test('the built-in view, edit and admin roles let people use Microservices (aggregated ClusterRoles)', async () => {
    const people = { viewer: 'view', editor: 'edit', owner: 'admin' } as const;
    for (const [user, role] of Object.entries(people))
      await kubectl('create', 'rolebinding', `${user}-${role}`, `--clusterrole=${role}`, `--user=${user}`, '-n', appNs);
    const can = async (user: string, verb: string, subresource = '') =>
      (
        await kubectlResult(
          'auth',
          'can-i',
          verb,
          'microservices.msop.dev',
          ...(subresource ? [`--subresource=${subresource}`] : []),
          `--as=${user}`,
          '-n',
          appNs,
        )
      ).output.trim();
    // kube-controller-manager's aggregation controller folds the chart's rules into the built-in roles.
    await eventually(async () => (await can('editor', 'create')) === 'yes', {
      message: 'the edit role to aggregate msop-edit',
    });
    const actions: [verb: string, subresource?: string][] = [
      ['get'],
      ['watch'],
      ['create'],
      ['patch'],
      ['delete'],
      ['get', 'scale'],
      ['update', 'scale'],
      ['patch', 'status'],
    ];
    const rows: string[] = [];
    for (const user of Object.keys(people))
      for (const [verb, sub] of actions) rows.push(`${user} ${verb} ${sub ?? ''}: ${await can(user, verb, sub)}`);
    const expected = (user: string, verb: string, sub?: string) =>
      verb === 'get' || verb === 'watch' ? 'yes' : sub === 'status' || user === 'viewer' ? 'no' : 'yes';
    expect(rows).toEqual(
      Object.keys(people).flatMap((user) =>
        actions.map(([verb, sub]) => `${user} ${verb} ${sub ?? ''}: ${expected(user, verb, sub)}`),
      ),
    );
    // Environments are the platform team's: read, never written, through the built-in roles (bound cluster-wide).
    await kubectl(
      'create',
      'clusterrolebinding',
      `${release}-editor-edit`,
      '--clusterrole=edit',
      '--user=cluster-editor',
    );
    try {
      const canCluster = async (verb: string) =>
        // The answer, without kubectl's warning that environments are not namespaced.
        (await kubectlResult('auth', 'can-i', verb, 'environments.msop.dev', '--as=cluster-editor')).output.split(
          '\n',
        )[0];
      expect([await canCluster('list'), await canCluster('create'), await canCluster('delete')]).toEqual([
        'yes',
        'no',
        'no',
      ]);
    } finally {
      await kubectl('delete', 'clusterrolebinding', `${release}-editor-edit`);
    }
  });

  test('helm upgrade changes the settings in place', async () => {
    await helm(
      'upgrade',
      release,
      CHART,
      '-n',
      releaseNs,
      '--set',
      'logging.level=debug',
      '--set',
      'replicas=3',
      '--wait',
      '--timeout=120s',
    );
    const deployment = await client.get<V1Deployment>('apps/v1', 'Deployment', releaseNs, release);
    expect(deployment.spec?.replicas).toBe(3);
    expect(deployment.spec?.template.spec?.containers[0]?.args).toContain('--log-level=debug');
    expect(deployment.status?.availableReplicas).toBe(3);
    expect(await helm('history', release, '-n', releaseNs)).toMatch(/\n2\s+.*deployed\s+msop-0\.1\.0/);
    // The values schema guards upgrades too.
    const bad = await helmResult('upgrade', release, CHART, '-n', releaseNs, '--set', 'logging.format=xml');
    expect(bad.code).not.toBe(0);
    expect(bad.output).toContain("at '/logging/format'");
  });

  test('helm uninstall removes everything it installed but the CRD and the Microservices', async () => {
    await helm('uninstall', release, '-n', releaseNs, '--wait', '--timeout=60s');
    releases.splice(
      releases.findIndex((r) => r.name === release),
      1,
    );
    expect(await getOrUndefined('apps/v1', 'Deployment', releaseNs, release)).toBeUndefined();
    expect(await getOrUndefined('v1', 'ServiceAccount', releaseNs, release)).toBeUndefined();
    expect((await kubectlResult('get', 'clusterrole', release)).code).not.toBe(0);
    expect((await kubectlResult('get', 'role', `${release}-leader-election`, '-n', releaseNs)).code).not.toBe(0);
    expect(await kubectl('get', 'crd', 'microservices.msop.dev', '-o', 'name')).toContain('microservices.msop.dev');
    expect(await kubectl('get', 'msvc', 'hello', '-n', appNs, '-o', 'name')).toContain('hello');
  });
});

/** A Prometheus stand-in on loopback that answers 1 to every query and records the Authorization headers. */
async function prometheusStub(): Promise<{ url: string; authorizations: string[]; close: () => Promise<void> }> {
  const authorizations: string[] = [];
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/api/v1/query')) authorizations.push(req.headers.authorization ?? '');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '1'] }] } }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    authorizations,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('helm install, namespaced', () => {
  test('the operator, as the ServiceAccount with Roles in the watched namespace only, runs the core scenario and reads prometheus.authSecret', async () => {
    const release = `msop-${suffix()}`;
    const releaseNs = await namespace('helm-nsys');
    const watched = await namespace('helm-watched');
    const other = await namespace('helm-other');
    releases.push({ name: release, namespace: releaseNs });
    const prometheus = await prometheusStub();
    stubs.push(prometheus.close);
    await helm(
      'install',
      release,
      CHART,
      '-n',
      releaseNs,
      '-f',
      NAMESPACED_VALUES,
      '--set',
      `watchNamespaces={${watched}}`,
      '--set',
      'prometheus.authSecret=prom-token',
      '--set',
      `prometheus.address=${prometheus.url}`,
      '--set-json',
      'defaults.analysis={"interval":"1s","metrics":[{"name":"up","query":"vector(1)","thresholdRange":{"min":0}}]}',
      '--wait',
      '--timeout=120s',
    );
    const sa = release;
    expect(await grantedTo(sa, releaseNs, other)).toEqual(rowsOf('cluster'));
    expect(await grantedTo(sa, releaseNs, watched)).toEqual(expectedRows());
    expect(await grantedTo(sa, releaseNs, releaseNs)).toEqual({
      ...rowsOf('cluster'),
      ...leaseRows(release),
      'secrets [prom-token]': ['get'],
    });

    await client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'prom-token', namespace: releaseNs },
      stringData: { token: 'chart-token' },
    } as unknown as Manifest);

    const op = await runAsChart(release, releaseNs);
    await op.waitForLog('Became leader');
    await coreScenario(op, watched);

    // A canary judged by the chart's default analysis: the operator's Prometheus gets the chart's Secret,
    // read with exactly the get the Role grants. (The values' default router is gatewayAPI; this one says replicas.)
    await client.create(
      microservice(watched, 'judged', {
        image: 'ghcr.io/example/judged:1.0.0',
        replicas: 2,
        release: {
          strategy: 'Canary',
          canary: { stepWeight: 50, maxWeight: 50, stepInterval: '1s', traffic: { router: 'replicas' } },
        },
      }),
    );
    await waitReady(watched, 'judged', 60_000);
    await client.mergePatch('msop.dev/v1alpha1', 'Microservice', watched, 'judged', {
      spec: { image: 'ghcr.io/example/judged:1.1.0' },
    });
    await eventually(() => prometheus.authorizations.length > 0, {
      timeoutMs: 60_000,
      message: 'an analysis query to the chart-configured Prometheus',
    });
    expect(new Set(prometheus.authorizations)).toEqual(new Set(['Bearer chart-token']));
    const denied = op.lines.filter((l) => /forbidden|\b403\b/i.test(l.text));
    expect(denied.map((l) => l.text)).toEqual([]);
    expect(await op.stop('SIGTERM')).toBe(0);
  });
});
