// What the operator calls, kind by kind, next to src/kube/resources.ts (the table
// of kinds the code has REST mappings for). The chart's rules (helm/msop/templates/
// _rbac.tpl) must grant exactly this; rbac.test.ts and test/cluster/helm.test.ts check it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';

export type Access =
  /** Granted in every watched namespace (ClusterRole, or a Role per namespace). */
  | { scope: 'watched'; verbs: string[]; status?: string[]; scale?: string[] }
  /** Cluster-scoped reads, granted by a ClusterRole in both install modes (msop.clusterRules). */
  | { scope: 'cluster'; verbs: string[] }
  /** Granted in the release namespace by the leader-election Role. */
  | { scope: 'leader-election'; verbs: string[] }
  /** In the table for the tests' own use; the operator never calls it. */
  | { scope: 'none'; why: string };

const CHILD = ['get', 'list', 'watch', 'create', 'patch', 'delete'];

/** Keyed by kind; every row of src/kube/resources.ts must be here. */
export const OPERATOR_ACCESS: Record<string, Access> = {
  Microservice: { scope: 'watched', verbs: ['get', 'list', 'watch', 'patch'], status: ['patch'] },
  Environment: { scope: 'cluster', verbs: ['list', 'watch'] },
  Namespace: { scope: 'cluster', verbs: ['list', 'watch'] },
  // The canary release scales the stable Deployment through its scale subresource.
  Deployment: { scope: 'watched', verbs: CHILD, scale: ['patch'] },
  ReplicaSet: { scope: 'watched', verbs: CHILD },
  Service: { scope: 'watched', verbs: CHILD },
  PodDisruptionBudget: { scope: 'watched', verbs: CHILD },
  HorizontalPodAutoscaler: { scope: 'watched', verbs: CHILD },
  HTTPRoute: { scope: 'watched', verbs: CHILD },
  VirtualService: { scope: 'watched', verbs: CHILD },
  Ingress: { scope: 'watched', verbs: CHILD },
  ConfigMap: { scope: 'watched', verbs: ['get', 'list', 'watch'] },
  Secret: { scope: 'watched', verbs: ['get', 'list', 'watch'] },
  Event: { scope: 'watched', verbs: ['create', 'patch'] },
  // BlueGreen switches only once the preview's endpoints list every pod.
  EndpointSlice: { scope: 'watched', verbs: ['list'] },
  Lease: { scope: 'leader-election', verbs: ['get', 'create', 'update'] },
  // At promotion the canary's pods are relabelled stable, so the Deployment adopts them instead of new ones.
  Pod: { scope: 'watched', verbs: ['list', 'patch'] },
  ServiceAccount: { scope: 'none', why: 'the cluster tests wait for default ServiceAccounts' },
};

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** "group/resource" → sorted verbs, merging rules (resourceNames are ignored here). */
export function flatten(rules: PolicyRule[]): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const rule of rules) {
    for (const group of rule.apiGroups ?? ['']) {
      for (const resource of rule.resources ?? []) {
        const key = `${group}/${resource}`;
        const verbs = out.get(key) ?? new Set<string>();
        for (const verb of rule.verbs) verbs.add(verb);
        out.set(key, verbs);
      }
    }
  }
  return new Map([...out].map(([key, verbs]) => [key, [...verbs].sort()]));
}

export const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');

const TEMPLATE = path.join(__dirname, '..', '..', '..', 'helm', 'msop', 'templates', '_rbac.tpl');

/** The body of a `define` in _rbac.tpl, parsed: it holds plain YAML, so parsing it is rendering it. */
export function chartRules(name: 'msop.rules' | 'msop.leaderElectionRules' | 'msop.clusterRules'): PolicyRule[] {
  const source = readFileSync(TEMPLATE, 'utf8');
  const match = new RegExp(
    `\\{\\{-? define "${name.replace('.', '\\.')}" -?\\}\\}([\\s\\S]*?)\\{\\{-? end -?\\}\\}`,
  ).exec(source);
  if (!match) throw new Error(`${TEMPLATE} has no define "${name}"`);
  const body = match[1]!;
  if (body.includes('{{')) throw new Error(`define "${name}" must be plain YAML without template actions`);
  return yaml.load(body) as PolicyRule[];
}
