// The small JSONPath subset --ignore-json-path accepts: `$.a.b`, `$.items[0].id`, `$.items[*].id`.
// Anything else is refused at start-up, so a typo never silently ignores nothing.

/** One step of a parsed path: an object key, an array index, or `[*]` (any index). */
export type PathSegment = { key: string } | { index: number } | { any: true };

/** A concrete location in a JSON document: keys and indexes from the root. */
export type Location = readonly (string | number)[];

export class JsonPathError extends Error {}

const SEGMENT = /^(?:\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[\*\])/;

export function parseJsonPath(path: string): PathSegment[] {
  if (!path.startsWith('$'))
    throw new JsonPathError(`JSON path ${JSON.stringify(path)} must start with "$" (for example $.items[*].id)`);
  const segments: PathSegment[] = [];
  let rest = path.slice(1);
  while (rest.length > 0) {
    const match = SEGMENT.exec(rest);
    if (!match)
      throw new JsonPathError(
        `JSON path ${JSON.stringify(path)}: unsupported syntax at ${JSON.stringify(rest)}; ` +
          'use .field, [index] or [*] (for example $.items[*].id)',
      );
    if (match[1] !== undefined) segments.push({ key: match[1] });
    else if (match[2] !== undefined) segments.push({ index: Number(match[2]) });
    else segments.push({ any: true });
    rest = rest.slice(match[0].length);
  }
  if (segments.length === 0)
    throw new JsonPathError(`JSON path "$" names the whole body; name a field (for example $.generatedAt)`);
  return segments;
}

/** True when the location is exactly what the path names (its subtree is then skipped by the caller). */
export function pathMatches(path: readonly PathSegment[], location: Location): boolean {
  if (path.length !== location.length) return false;
  return path.every((segment, i) => {
    const step = location[i];
    if ('any' in segment) return typeof step === 'number';
    if ('index' in segment) return step === segment.index;
    return step === segment.key;
  });
}

/** `$.items[3].price`: how a difference names a location. */
export function formatLocation(location: Location): string {
  return (
    '$' +
    location
      .map((step) =>
        typeof step === 'number'
          ? `[${step}]`
          : /^[A-Za-z_$][\w$-]*$/.test(step)
            ? `.${step}`
            : `[${JSON.stringify(step)}]`,
      )
      .join('')
  );
}
