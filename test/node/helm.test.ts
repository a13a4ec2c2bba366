// The operator as a platform team runs it: the chart installed with the image built
// from the project's Dockerfile, two pods on a real node, one leader, a failover when
// the leader's pod goes.
import type { V1Pod } from '@kubernetes/client-node';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { eventually, kubectlResult } from '../cluster/harness';
import {
  LEASE,
  OPERATOR_IMAGE,
  OPERATOR_NAMESPACE,
  RELEASE,
  containerPid,
  installOperator,
  isReady,
  kubectlIn,
  leaseHolder,
  operatorPods,
  waitForLeader,
} from './harness';

/** The operator container's log lines, read where the kubelet writes them (CRI format: time stream tag text). */
function containerLog(pod: V1Pod): string[] {
  const dir = path.join(
    process.env.MSOP_NODE_POD_LOGS!,
    `${pod.metadata!.namespace}_${pod.metadata!.name}_${pod.metadata!.uid}`,
    'operator',
  );
  return readdirSync(dir)
    .sort()
    .flatMap((file) => readFileSync(path.join(dir, file), 'utf8').split('\n'))
    .filter(Boolean)
    .map((line) => line.split(' ').slice(3).join(' '));
}

test('two operator pods from the local image become Ready on the real node and one holds the Lease', async () => {
  const leader = await waitForLeader();
  const pods = await operatorPods();
  expect(pods.filter(isReady)).toHaveLength(2);
  for (const pod of pods) {
    expect(pod.spec?.nodeName).toBe(process.env.MSOP_NODE_NAME);
    expect(pod.spec?.containers[0]?.image).toBe(OPERATOR_IMAGE);
    // Other files SIGKILL the operator on purpose, so restarts may be there; a crash loop may not.
    expect(pod.status?.containerStatuses?.[0]?.state?.running).toBeDefined();
  }
  expect(await leaseHolder()).toMatch(new RegExp(`^${leader}_`));
});

test("the chart's ServiceAccount runs the operator, and its RBAC lets it lead and reconcile", async () => {
  for (const pod of await operatorPods()) {
    expect(pod.spec?.serviceAccountName).toBe(RELEASE);
    // The token the kubelet projected is the only credential in the pod.
    expect(pod.spec?.volumes?.some((v) => v.projected?.sources?.some((s) => s.serviceAccountToken))).toBe(true);
  }
  const as = `--as=system:serviceaccount:${OPERATOR_NAMESPACE}:${RELEASE}`;
  // The Lease in its own namespace (a Role); what it reconciles in every namespace (a ClusterRole).
  const allowed: [string, string, string][] = [
    ['update', `leases.coordination.k8s.io/${LEASE}`, `--namespace=${OPERATOR_NAMESPACE}`],
    ['patch', 'deployments.apps', '--all-namespaces'],
    ['patch', 'microservices.msop.dev/status', '--all-namespaces'],
  ];
  for (const [verb, resource, where] of allowed) {
    const answer = (await kubectlResult('auth', 'can-i', verb, resource, where, as)).output.trim();
    expect([verb, resource, answer]).toEqual([verb, resource, 'yes']);
  }
  // ... and no more: it cannot grant itself anything, nor remove namespaces.
  for (const [verb, resource] of [
    ['create', 'clusterrolebindings.rbac.authorization.k8s.io'],
    ['delete', 'namespaces'],
  ] as const) {
    expect((await kubectlResult('auth', 'can-i', verb, resource, as)).output).toMatch(/^no$/m);
  }
});

test('logging.format json: every line the operator writes is JSON', async () => {
  const leader = await waitForLeader();
  const pod = (await operatorPods()).find((p) => p.metadata?.name === leader)!;
  const lines = await eventually(
    () => {
      const all = containerLog(pod);
      return all.some((l) => l.includes('"Became leader"')) ? all : undefined;
    },
    { message: `the leader ${leader} to log "Became leader"` },
  );
  for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
});

test('deleting the leader pod hands the Lease on within seconds', async () => {
  const leader = await waitForLeader();
  const started = Date.now();
  await kubectlIn(OPERATOR_NAMESPACE, 'delete', 'pod', leader, '--wait=false');
  const holder = await eventually(
    async () => {
      const now = await leaseHolder();
      return now && !now.startsWith(`${leader}_`) ? now : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100, message: `the Lease to leave the deleted ${leader}` },
  );
  const failoverMs = Date.now() - started;
  console.log(`[node] leader failover after deleting its pod: ${failoverMs} ms, to ${holder}`);
  // Either the standby or the Deployment's replacement may win: a released Lease goes to whichever asks
  // first, and a replacement can start within a standby's 2 s retry. It must be a live operator pod.
  const live = (await operatorPods()).map((p) => p.metadata!.name!);
  expect(live).toContain(holder.slice(0, holder.lastIndexOf('_')));
  // A graceful shutdown hands the Lease back; without that the other waits out the lease duration (15 s).
  expect(failoverMs).toBeLessThan(10_000);
  // The Deployment replaces the pod: two Ready again for the next tests.
  await waitForLeader();
  await installOperator();
});

test('a SIGKILLed leader loses the Lease within the lease duration', async () => {
  const leader = await waitForLeader();
  const killed = (await leaseHolder())!;
  const pid = await containerPid(
    (await operatorPods()).find((p) => p.metadata?.name === leader)!,
    'operator',
  );
  const started = Date.now();
  process.kill(pid, 'SIGKILL');
  // The standby or the restarted container (a new identity in the same pod) may win once the Lease expires.
  const holder = await eventually(
    async () => {
      const now = await leaseHolder();
      return now && now !== killed ? now : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100, message: `the Lease to leave the killed ${killed}` },
  );
  const failoverMs = Date.now() - started;
  console.log(`[node] leader failover after SIGKILL: ${failoverMs} ms, to ${holder}`);
  // Nobody may take an unexpired Lease: the killed process never renewed, so it waited out about 15 s.
  expect(failoverMs).toBeGreaterThan(10_000);
  expect(failoverMs).toBeLessThan(30_000);
  // The kubelet restarts the killed container; both Ready again.
  await eventually(async () => (await operatorPods()).filter(isReady).length === 2, {
    timeoutMs: 120_000,
    message: 'both operator pods Ready again',
  });
});
