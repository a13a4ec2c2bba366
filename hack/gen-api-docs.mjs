// Generates docs/api.md, the field reference of the Microservice and Environment APIs, from
// crds/microservice.yaml and crds/environment.yaml (the single sources of truth).
//
//   node hack/gen-api-docs.mjs           write docs/api.md          (npm run gen)
//   node hack/gen-api-docs.mjs --check   exit 1 when it is stale    (npm run gen:check)
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { load } from 'js-yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(root, 'docs', 'api.md');

async function schemaOf(file) {
  const crd = load(await readFile(join(root, file), 'utf8'));
  const version = crd.spec.versions.find((v) => v.served && v.storage);
  return { crd, version, schema: version.schema.openAPIV3Schema };
}

const oneLine = (text) => (text ?? '').replace(/\s+/g, ' ').trim().replaceAll('|', '\\|');

/** The type column: the type, then what bounds it. */
function typeOf(schema, required) {
  let type = schema.type ?? (schema['x-kubernetes-int-or-string'] ? 'int or string' : 'any');
  if (type === 'array') type = `[]${schema.items?.type ?? 'any'}`;
  if (type === 'object' && schema.additionalProperties)
    type = `map[string]${schema.additionalProperties.type ?? 'any'}`;
  const facts = [];
  if (required) facts.push('required');
  if (schema.enum) facts.push(`one of ${schema.enum.map((v) => `\`${v}\``).join(', ')}`);
  if (schema.default !== undefined) facts.push(`default \`${JSON.stringify(schema.default)}\``);
  if (schema.minimum !== undefined) facts.push(`min ${schema.minimum}`);
  if (schema.maximum !== undefined) facts.push(`max ${schema.maximum}`);
  if (schema.minLength !== undefined) facts.push(`min length ${schema.minLength}`);
  if (schema.maxLength !== undefined) facts.push(`max length ${schema.maxLength}`);
  if (schema.maxItems !== undefined) facts.push(`max ${schema.maxItems} items`);
  if (schema.pattern) facts.push(`pattern \`${schema.pattern.replaceAll('|', '\\|')}\``);
  return [`\`${type}\``, ...facts].join(', ');
}

/** Rows of `path | type | description`, depth first; a subtree equal to `same(path)` is named, not repeated. */
function rows(schema, path, required, same) {
  const out = [];
  if (path) {
    const rules = (schema['x-kubernetes-validations'] ?? []).map((r) => oneLine(r.message ?? r.rule));
    const sameAs = same?.(path, schema);
    const description = [
      oneLine(schema.description),
      sameAs ? `Same fields as ${sameAs}.` : '',
      schema['x-kubernetes-preserve-unknown-fields'] ? 'Free-form: any fields are kept.' : '',
      rules.length ? `Rules: ${rules.join('; ')}.` : '',
    ]
      .filter(Boolean)
      .join(' ');
    out.push(`| \`${path}\` | ${typeOf(schema, required)} | ${description} |`);
    if (sameAs) return out;
  }
  const items = schema.type === 'array' ? schema.items : undefined;
  const object = items ?? schema;
  const prefix = items ? `${path}[]` : path;
  if (items && !items.properties) return out;
  for (const [name, child] of Object.entries(object.properties ?? {})) {
    if (!path && (name === 'apiVersion' || name === 'kind')) continue;
    out.push(...rows(child, prefix ? `${prefix}.${name}` : name, (object.required ?? []).includes(name), same));
  }
  return out;
}

function section(title, { crd, version, schema }, intro, same) {
  const names = crd.spec.names;
  const columns = (version.additionalPrinterColumns ?? []).map((c) => `${c.name} (\`${c.jsonPath}\`)`).join(', ');
  return [
    `## ${title}`,
    '',
    intro,
    '',
    `\`${crd.spec.group}/${version.name}\`, kind \`${names.kind}\`, ${crd.spec.scope === 'Namespaced' ? 'namespaced' : 'cluster-scoped'}; ` +
      `plural \`${names.plural}\`${names.shortNames ? `, short name${names.shortNames.length > 1 ? 's' : ''} ${names.shortNames.map((s) => `\`${s}\``).join(', ')}` : ''}.` +
      (columns ? ` \`kubectl get\` shows ${columns}.` : ''),
    '',
    '| field | type | description |',
    '| --- | --- | --- |',
    ...rows(schema, '', false, same),
    '',
  ].join('\n');
}

export async function render() {
  const microservice = await schemaOf('crds/microservice.yaml');
  const environment = await schemaOf('crds/environment.yaml');
  const msSpec = microservice.schema.properties.spec;
  // The Environment's defaults repeat the Microservice's schemas: name them instead of listing them twice.
  const sameAsMicroservice = (path, schema) => {
    const match = /^spec\.defaults\.(.+)$/.exec(path);
    if (!match) return undefined;
    let target = msSpec;
    for (const part of match[1].split('.')) target = target?.properties?.[part];
    return target &&
      isDeepStrictEqual({ ...target, description: '' }, { ...schema, description: '' }) &&
      schema.properties
      ? `the Microservice's \`spec.${match[1]}\``
      : undefined;
  };
  return [
    '# API reference',
    '',
    '<!-- Generated by hack/gen-api-docs.mjs from crds/*.yaml: edit the CRDs and run `npm run gen`; `npm run gen:check` fails when this file is stale. -->',
    '',
    'Every field of the two msop APIs, as the CRDs define them (`kubectl explain microservice.spec` shows the same',
    'descriptions). `[]` stands for the items of a list. The README and [docs/](.) explain how the fields work together.',
    '',
    section(
      'Microservice',
      microservice,
      'One service: what runs, how many and where, and how a new revision is released.',
    ),
    section(
      'Environment',
      environment,
      'What differs between environments, described once by the platform team; see [environments.md](environments.md).',
      sameAsMicroservice,
    ),
  ].join('\n');
}

const text = await render();
if (process.argv.includes('--check')) {
  const current = await readFile(OUT, 'utf8').catch(() => '');
  if (current !== text) {
    console.error('docs/api.md is stale: the CRDs changed. Run `npm run gen` and commit the result.');
    process.exit(1);
  }
} else {
  await writeFile(OUT, text);
}
