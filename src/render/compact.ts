// Server-side apply claims every field we send, so absent must stay absent: these helpers
// keep `undefined` values and empty lists out of the rendered objects.

/** A shallow copy without the keys whose value is undefined. */
export function compact<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, value]) => value !== undefined)) as T;
}

/** The list itself, or undefined when it is absent or empty. */
export function nonEmpty<T>(list: readonly T[] | undefined): T[] | undefined {
  return list && list.length > 0 ? [...list] : undefined;
}

/** The map itself, or undefined when it is absent or has no keys. */
export function nonEmptyMap<T>(map: Record<string, T> | undefined): Record<string, T> | undefined {
  return map && Object.keys(map).length > 0 ? { ...map } : undefined;
}
