// The podTemplate escape hatch: a user's partial pod template merged over the one msop generates.
import { cloneJson } from './clone';

type PlainObject = Record<string, unknown>;

function isPlainObject(value: unknown): value is PlainObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isNamed(value: unknown): value is PlainObject & { name: string } {
  return isPlainObject(value) && typeof value.name === 'string';
}

/**
 * Merges `override` over `base` and returns a new value; neither input is changed.
 * - Objects merge key by key, recursively. A `null` member removes the key (or leaves it out of a new object).
 * - Lists whose items all have a string `name` on both sides merge by name, like strategic merge
 *   on containers, env or volumes: a matching item is merged, a new name is appended, base order is kept.
 *   An empty override list replaces, so a list can still be cleared.
 * - Anything else (scalars, other lists) is replaced by the override.
 */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (override === undefined) return cloneJson(base);
  if (isPlainObject(override)) return mergeObjects(isPlainObject(base) ? base : {}, override);
  if (Array.isArray(override)) {
    if (Array.isArray(base) && canMergeByName(base, override)) return mergeByName(base, override);
    return override.map((item) => deepMerge(undefined, item));
  }
  return override;
}

function mergeObjects(base: PlainObject, override: PlainObject): PlainObject {
  const merged: PlainObject = cloneJson(base);
  for (const [key, value] of Object.entries(override)) {
    if (key === '__proto__') continue; // user input must never reach a prototype
    if (value === null) delete merged[key];
    else if (value !== undefined) merged[key] = deepMerge(Object.hasOwn(base, key) ? base[key] : undefined, value);
  }
  return merged;
}

function canMergeByName(base: unknown[], override: unknown[]): boolean {
  return override.length > 0 && base.every(isNamed) && override.every(isNamed);
}

function mergeByName(base: unknown[], override: unknown[]): unknown[] {
  const merged = cloneJson(base) as (PlainObject & { name: string })[];
  for (const item of override as (PlainObject & { name: string })[]) {
    const index = merged.findIndex((existing) => existing.name === item.name);
    if (index >= 0) merged[index] = deepMerge(merged[index], item) as PlainObject & { name: string };
    else merged.push(deepMerge(undefined, item) as PlainObject & { name: string });
  }
  return merged;
}
