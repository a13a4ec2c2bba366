// `kubectl msop explain NAME`, pure: the effective spec of a Microservice, field by field, with where
// each value came from. The Microservice's own fields come from its spec; every other field is one
// that msop recorded in status.defaulted (its Environment, the operator's flags, built-in defaults).
import type { Microservice } from '../api/types';

export interface ExplainedField {
  field: string;
  value: string;
  source: string;
}

export const SOURCE_MICROSERVICE = 'Microservice';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The Microservice's own leaves: objects are walked, lists shown whole (env and envFrom entry by entry). */
function ownFields(spec: Record<string, unknown>, path = ''): ExplainedField[] {
  const out: ExplainedField[] = [];
  for (const [key, value] of Object.entries(spec)) {
    if (value === undefined) continue;
    const field = path ? `${path}.${key}` : key;
    if (path === '' && key === 'env' && Array.isArray(value)) {
      for (const entry of value as { name: string }[])
        out.push({ field: `env[${entry.name}]`, value: JSON.stringify(entry), source: SOURCE_MICROSERVICE });
    } else if (path === '' && key === 'envFrom' && Array.isArray(value)) {
      for (const entry of value as { configMapRef?: { name: string }; secretRef?: { name: string } }[]) {
        const name = entry.configMapRef
          ? `configMapRef=${entry.configMapRef.name}`
          : entry.secretRef
            ? `secretRef=${entry.secretRef.name}`
            : JSON.stringify(entry);
        out.push({ field: `envFrom[${name}]`, value: JSON.stringify(entry), source: SOURCE_MICROSERVICE });
      }
    } else if (isObject(value) && Object.keys(value).length > 0) {
      out.push(...ownFields(value, field));
    } else {
      out.push({ field, value: JSON.stringify(value), source: SOURCE_MICROSERVICE });
    }
  }
  return out;
}

/** One field of the effective spec: the Microservice's own value, else the one status.defaulted recorded. */
export function effectiveValue(ms: Microservice, field: string): unknown {
  const entry = explainFields(ms).find((f) => f.field === field);
  if (!entry) return undefined;
  try {
    return JSON.parse(entry.value);
  } catch {
    return undefined;
  }
}

/** Every field of the effective spec, sorted by path. */
export function explainFields(ms: Microservice): ExplainedField[] {
  const own = ownFields(ms.spec as unknown as Record<string, unknown>);
  const defaulted = (ms.status?.defaulted ?? []).map((d) => ({ field: d.field, value: d.value, source: d.source }));
  // A field the Microservice sets now wins even over a stale status entry.
  const ownPaths = own.map((f) => f.field);
  const fresh = defaulted.filter(
    (d) => !ownPaths.some((p) => p === d.field || d.field.startsWith(`${p}.`) || p.startsWith(`${d.field}.`)),
  );
  return [...own, ...fresh].sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
}

/** A value for a table cell: strings without their quotes, everything else as JSON, never shortened. */
function cell(json: string): string {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'string' ? value : json;
  } catch {
    return json;
  }
}

export function renderExplain(ms: Microservice): string {
  const { name, namespace, generation } = ms.metadata;
  const status = ms.status;
  const lines = [
    `Microservice ${namespace}/${name}: ${status?.environment ? `Environment ${status.environment}` : 'no Environment'}`,
  ];
  if (status?.observedGeneration !== undefined && status.observedGeneration !== generation) {
    lines.push(
      `Note: msop has not reconciled generation ${generation} yet; the defaulted fields are those of generation ${status.observedGeneration}`,
    );
  } else if (status?.observedGeneration === undefined) {
    lines.push('Note: msop has not reconciled this Microservice yet; only its own fields are shown');
  }
  lines.push('');
  const fields = explainFields(ms);
  // FROM before VALUE: values can be long JSON, and the columns stay aligned.
  const rows = fields.map((f) => [f.field, f.source, cell(f.value)]);
  const widths = [0, 1].map((i) => Math.max(5, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]}`.trimEnd();
  lines.push(line(['FIELD', 'FROM', 'VALUE']), ...rows.map(line));
  return `${lines.join('\n')}\n`;
}
