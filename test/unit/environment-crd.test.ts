// Static checks of crds/environment.yaml: names, documentation, CEL messages, and that spec.defaults keeps
// the very schemas of the Microservice's fields (crds/microservice.yaml), so the two cannot drift.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';

interface Schema {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  maxItems?: number;
  maxProperties?: number;
  'x-kubernetes-validations'?: { rule: string; message?: string }[];
}

interface CRD {
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: Record<string, unknown>;
    versions: { name: string; served: boolean; storage: boolean; schema: { openAPIV3Schema: Schema } }[];
  };
}

const read = (file: string) => load(readFileSync(join(__dirname, '..', '..', 'crds', file), 'utf8')) as CRD;
const environment = read('environment.yaml');
const microservice = read('microservice.yaml');
const root = environment.spec.versions[0]!.schema.openAPIV3Schema;
const spec = root.properties!.spec!;
const msSpec = microservice.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;

function walk(node: Schema, path: string, visit: (node: Schema, path: string, isProperty: boolean) => void): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    visit(child, `${path}.${key}`, true);
    walk(child, `${path}.${key}`, visit);
  }
  if (node.items) walk(node.items, `${path}[]`, visit);
  if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${path}{}`, visit);
}

/** The schema without the descriptions of its top node, which say "for Microservices that set none". */
function shape(node: Schema): Schema {
  const rest = { ...node };
  delete rest.description;
  return rest;
}

describe('crds/environment.yaml', () => {
  test('defines environments.msop.dev, cluster-scoped, in the msop category', () => {
    expect(environment.metadata.name).toBe('environments.msop.dev');
    expect(environment.spec.group).toBe('msop.dev');
    expect(environment.spec.scope).toBe('Cluster');
    expect(environment.spec.names).toMatchObject({ plural: 'environments', kind: 'Environment', categories: ['msop'] });
    expect(environment.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([['v1alpha1', true, true]]);
  });

  test('documents every property at every depth (kubectl explain)', () => {
    const undocumented: string[] = [];
    let count = 0;
    walk(root, '', (node, path, isProperty) => {
      if (!isProperty || path === '.metadata') return;
      count++;
      if (!node.description?.trim()) undocumented.push(path);
    });
    expect(count).toBeGreaterThan(80);
    expect(undocumented).toEqual([]);
  });

  test('every CEL rule has a message, and a rule on a list or map bounds its size', () => {
    const rules: { node: Schema; message?: string }[] = [];
    walk(root, '', (node) => {
      for (const rule of node['x-kubernetes-validations'] ?? []) rules.push({ node, message: rule.message });
    });
    expect(rules.length).toBeGreaterThan(5);
    for (const { node, message } of rules) {
      expect(message?.trim()).toBeTruthy();
      if (node.type === 'array') expect(node.maxItems).toBeDefined();
    }
  });

  test.each(['replicas', 'placement', 'disruptionBudget', 'resources'])(
    'defaults.%s has the schema of the Microservice field',
    (field) => {
      expect(shape(spec.properties!.defaults!.properties![field]!)).toEqual(shape(msSpec.properties![field]!));
    },
  );

  test('defaults.release is the Microservice release without paused and without the Canary-only rule', () => {
    const release = spec.properties!.defaults!.properties!.release!;
    const msRelease = structuredClone(msSpec.properties!.release!);
    delete msRelease.properties!.paused;
    msRelease['x-kubernetes-validations'] = msRelease['x-kubernetes-validations']!.filter(
      (r) => !r.rule.includes('self.strategy'),
    );
    expect(shape(release)).toEqual(shape(msRelease));
  });

  test.each(['env', 'envFrom'])('%s has the schema of the Microservice field', (field) => {
    expect(shape(spec.properties![field]!)).toEqual(shape(msSpec.properties![field]!));
  });

  test('has no schema defaults: an unset field must stay unset to fall through to the next layer', () => {
    const defaulted: string[] = [];
    walk(root, '', (node, path) => {
      if (node.default !== undefined) defaulted.push(path);
    });
    expect(defaulted).toEqual([]);
  });
});
