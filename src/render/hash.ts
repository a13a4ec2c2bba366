import { createHash } from 'node:crypto';
import type { TrackedContent } from './tracked';

/**
 * JSON with object keys sorted at every depth, so equal values give equal text whatever order
 * their keys were built in. Like JSON.stringify, undefined object members are dropped.
 */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? 'null' : stableStringify(item))).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${stableStringify((value as Record<string, unknown>)[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
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
