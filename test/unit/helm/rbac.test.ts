// The chart's RBAC grants exactly what the operator calls: the rules in
// helm/msop/templates/_rbac.tpl against src/kube/resources.ts and OPERATOR_ACCESS.
import { resourceTypes } from '../../../src/kube/resources';
import { OPERATOR_ACCESS, chartRules, flatten, groupOf } from './rbac-table';

const rules = chartRules('msop.rules');
const leaderRules = chartRules('msop.leaderElectionRules');
const clusterRules = chartRules('msop.clusterRules');

test('every kind in src/kube/resources.ts says what the operator may do with it', () => {
  const unclassified = resourceTypes.map((t) => t.kind).filter((kind) => !(kind in OPERATOR_ACCESS));
  expect(unclassified).toEqual([]);
  const stale = Object.keys(OPERATOR_ACCESS).filter((kind) => !resourceTypes.some((t) => t.kind === kind));
  expect(stale).toEqual([]);
});

test('the watched-namespace rules grant exactly the table, verb for verb', () => {
  const expected = new Map<string, string[]>();
  for (const type of resourceTypes) {
    const access = OPERATOR_ACCESS[type.kind]!;
    if (access.scope !== 'watched') continue;
    const key = `${groupOf(type.apiVersion)}/${type.plural}`;
    expected.set(key, [...access.verbs].sort());
    if (access.status) expected.set(`${key}/status`, [...access.status].sort());
    if (access.scale) expected.set(`${key}/scale`, [...access.scale].sort());
  }
  expect(Object.fromEntries(flatten(rules))).toEqual(Object.fromEntries(expected));
});

test('the cluster rules grant the cluster-scoped reads of the table, and only list and watch', () => {
  const expected = new Map<string, string[]>();
  for (const type of resourceTypes) {
    const access = OPERATOR_ACCESS[type.kind]!;
    if (access.scope === 'cluster')
      expected.set(`${groupOf(type.apiVersion)}/${type.plural}`, [...access.verbs].sort());
  }
  expect(Object.fromEntries(flatten(clusterRules))).toEqual(Object.fromEntries(expected));
  expect(Object.fromEntries(flatten(clusterRules))).toEqual({
    'msop.dev/environments': ['list', 'watch'],
    '/namespaces': ['list', 'watch'],
  });
});

test('the leader-election rules grant the Lease verbs and nothing else', () => {
  const lease = resourceTypes.find((t) => t.kind === 'Lease')!;
  const access = OPERATOR_ACCESS.Lease!;
  expect(access.scope).toBe('leader-election');
  expect(Object.fromEntries(flatten(leaderRules))).toEqual({
    [`${groupOf(lease.apiVersion)}/${lease.plural}`]: [...(access as { verbs: string[] }).verbs].sort(),
  });
  // get and update only on the Lease msop uses; create cannot be limited by name.
  for (const rule of leaderRules) {
    if (rule.verbs.some((verb) => verb !== 'create')) expect(rule.resourceNames).toEqual(['msop-leader']);
  }
});

test('every resource in the rules is a kind in src/kube/resources.ts', () => {
  const known = new Set(resourceTypes.map((t) => `${groupOf(t.apiVersion)}/${t.plural}`));
  for (const key of [...flatten(rules).keys(), ...flatten(leaderRules).keys(), ...flatten(clusterRules).keys()]) {
    expect(known).toContain(key.replace(/\/(status|scale)$/, ''));
  }
});

test('no wildcard group, resource or verb', () => {
  for (const rule of [...rules, ...leaderRules, ...clusterRules]) {
    for (const value of [...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...rule.verbs])
      expect(value).not.toContain('*');
  }
});

test('Secrets are read-only, pods are only listed and relabelled, and there is no pods/exec, escalate, bind or impersonate', () => {
  const flat = flatten([...rules, ...leaderRules]);
  expect(flat.get('/secrets')).toEqual(['get', 'list', 'watch']);
  expect(flat.get('/pods')).toEqual(['list', 'patch']);
  for (const key of flat.keys()) expect(key).not.toMatch(/^\/pods\//);
  const verbs = [...flat.values()].flat();
  for (const verb of ['escalate', 'bind', 'impersonate', 'deletecollection']) expect(verbs).not.toContain(verb);
  // update (PUT) is for the Lease only; children are written with server-side apply (patch).
  expect([...flat].filter(([, v]) => v.includes('update')).map(([k]) => k)).toEqual(['coordination.k8s.io/leases']);
});
