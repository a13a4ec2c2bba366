// Static checks of crds/microservice.yaml: documentation, subresources, printer columns and CEL rules.
// Admission itself (defaults, CEL) needs a real API server and is covered by the cluster tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';

interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
}

interface Schema {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  maxItems?: number;
  maxProperties?: number;
  'x-kubernetes-validations'?: ValidationRule[];
}

interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  priority?: number;
  description?: string;
}

interface CRD {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: Record<string, unknown>;
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: Record<string, unknown>;
      additionalPrinterColumns?: PrinterColumn[];
      schema: { openAPIV3Schema: Schema };
    }[];
  };
}

const crd = load(readFileSync(join(__dirname, '..', '..', 'crds', 'microservice.yaml'), 'utf8')) as CRD;
const version = crd.spec.versions.find((v) => v.name === 'v1alpha1');
if (!version) throw new Error('crds/microservice.yaml has no v1alpha1 version');
const root = version.schema.openAPIV3Schema;

/** Calls visit for every schema under node, with a path such as spec.ports[].name ([] = list items, {} = map values). */
function walk(node: Schema, path: string, visit: (node: Schema, path: string, isProperty: boolean) => void): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const childPath = path ? `${path}.${key}` : key;
    visit(child, childPath, true);
    walk(child, childPath, visit);
  }
  if (node.items) {
    visit(node.items, `${path}[]`, false);
    walk(node.items, `${path}[]`, visit);
  }
  if (typeof node.additionalProperties === 'object') {
    visit(node.additionalProperties, `${path}{}`, false);
    walk(node.additionalProperties, `${path}{}`, visit);
  }
}

function propertyPaths(top: 'spec' | 'status'): { all: string[]; undocumented: string[] } {
  const all: string[] = [];
  const undocumented: string[] = [];
  const topSchema = root.properties?.[top];
  if (!topSchema) throw new Error(`the schema has no ${top}`);
  const check = (node: Schema, path: string) => {
    all.push(path);
    if (!node.description?.trim()) undocumented.push(path);
  };
  check(topSchema, top);
  walk(topSchema, top, (node, path, isProperty) => isProperty && check(node, path));
  return { all, undocumented };
}

const rules: { path: string; rule: ValidationRule; node: Schema }[] = [];
for (const rule of root['x-kubernetes-validations'] ?? []) rules.push({ path: '(root)', rule, node: root });
walk(root, '', (node, path) => {
  for (const rule of node['x-kubernetes-validations'] ?? []) rules.push({ path, rule, node });
});

describe('crds/microservice.yaml', () => {
  test('defines microservices.msop.dev, namespaced, with its names', () => {
    expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1');
    expect(crd.kind).toBe('CustomResourceDefinition');
    expect(crd.metadata.name).toBe('microservices.msop.dev');
    expect(crd.spec.group).toBe('msop.dev');
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names).toEqual({
      plural: 'microservices',
      singular: 'microservice',
      kind: 'Microservice',
      listKind: 'MicroserviceList',
      shortNames: ['msvc'],
      categories: ['msop'],
    });
    expect(crd.spec.versions.map(({ name, served, storage }) => ({ name, served, storage }))).toEqual([
      { name: 'v1alpha1', served: true, storage: true },
    ]);
  });

  describe.each(['spec', 'status'] as const)('%s', (top) => {
    test('documents every property at every depth', () => {
      const { all, undocumented } = propertyPaths(top);
      expect(all.length).toBeGreaterThan(top === 'spec' ? 50 : 10);
      expect(undocumented).toEqual([]);
    });
  });

  test('the walk reaches nested properties', () => {
    expect(propertyPaths('spec').all).toEqual(
      expect.arrayContaining([
        'spec.ports[].containerPort',
        'spec.envFrom[].configMapRef.name',
        'spec.probes.startup.httpGet.path',
        'spec.podTemplate.metadata.labels',
      ]),
    );
    expect(propertyPaths('status').all).toContain('status.conditions[].lastTransitionTime');
  });

  test('has the status and scale subresources', () => {
    expect(version.subresources).toEqual({
      status: {},
      scale: {
        specReplicasPath: '.spec.replicas',
        statusReplicasPath: '.status.replicas',
        labelSelectorPath: '.status.selector',
      },
    });
  });

  describe('printer columns', () => {
    const columns = version.additionalPrinterColumns ?? [];

    test('are listed in order', () => {
      expect(columns.map((c) => c.name)).toEqual([
        'Phase',
        'Weight',
        'Ready',
        'Stable',
        'Canary',
        'Age',
        'Image',
        'Environment',
        'Message',
      ]);
    });

    test.each([
      ['Phase', 'string', '.status.phase', 0],
      ['Weight', 'integer', '.status.canaryWeight', 0],
      ['Ready', 'string', '.status.ready', 0],
      ['Stable', 'string', '.status.stableRevision', 0],
      ['Canary', 'string', '.status.canaryRevision', 0],
      ['Age', 'date', '.metadata.creationTimestamp', 0],
      ['Image', 'string', '.spec.image', 1],
      ['Environment', 'string', '.status.environment', 1],
      ['Message', 'string', '.status.message', 1],
    ])('%s is a %s column on %s with priority %d', (name, type, jsonPath, priority) => {
      const column = columns.find((c) => c.name === name);
      expect(column).toMatchObject({ type, jsonPath });
      expect(column?.priority ?? 0).toBe(priority);
      expect(column?.description?.trim()).toBeTruthy();
    });
  });

  test('defaults spec.ports, and leaves the fields an Environment or the operator may fill unset', () => {
    const spec = root.properties?.spec?.properties;
    expect(spec?.ports?.default).toEqual([{ name: 'http', containerPort: 8080, servicePort: 80 }]);
    // A schema default would be indistinguishable from the Microservice's own value.
    const release = spec?.release?.properties;
    expect(spec?.replicas?.default).toBeUndefined();
    expect(spec?.placement?.properties?.spreadAcrossNodes?.default).toBeUndefined();
    expect(spec?.placement?.properties?.spreadAcrossZones?.default).toBeUndefined();
    expect(release?.strategy?.default).toBeUndefined();
    expect(release?.progressDeadlineSeconds?.default).toBeUndefined();
    expect(release?.canary?.properties?.traffic?.properties?.router?.default).toBeUndefined();
  });

  describe('x-kubernetes-validations', () => {
    test('exist', () => {
      expect(rules.length).toBeGreaterThan(0);
    });

    test.each(rules.map(({ path, rule, node }) => [path, rule.rule, rule, node] as const))(
      'the rule on %s has a message: %s',
      (_path, _source, rule, node) => {
        expect(rule.message?.trim()).toBeTruthy();
        // A rule on a list or a map must bound its size, or the API server refuses the CRD for cost.
        if (node.type === 'array') expect(node.maxItems).toBeDefined();
        if (typeof node.additionalProperties === 'object') expect(node.maxProperties).toBeDefined();
      },
    );
  });
});
