import { createHash } from 'node:crypto';
import type { TrackedContent } from './tracked';

/**
 * JSON with object keys sorted at every depth, so equal values give equal text whatever order
 * their keys were built in. Like JSON.stringify, undefined object members are dropped.
 */
export function stableStringify(value: unknown): string {
  // Loops and one string, not map/filter/join: this runs over every rendered object on every reconcile.
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i += 1) {
      if (i > 0) text += ',';
      text += value[i] === undefined ? 'null' : stableStringify(value[i]);
    }
    return `${text}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let text = '{';
  for (const key of keys) {
    if (record[key] === undefined) continue;
    if (text.length > 1) text += ',';
    text += `${JSON.stringify(key)}:${stableStringify(record[key])}`;
  }
  return `${text}}`;
}

/**
 * The revision of a pod template: the first 8 hex characters of a sha256 over the template
 * (without its revision label) and the content of the ConfigMaps and Secrets it references,
 * so a change to referenced config rolls out like a change to the image.
 */
export function revisionOf(template: unknown, tracked: TrackedContent): string {
  const text = stableStringify({ template, configMaps: tracked.configMaps, secrets: tracked.secrets });
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}
