// Durations as the CRD's fields take them (pattern ^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$).
// Go's time.ParseDuration syntax, as Flagger and Argo Rollouts users write it: "30s", "1m30s", "1.5h".
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

export class DurationError extends Error {
  override name = 'DurationError';
}

/** Milliseconds in a Go-style duration. */
export function parseDuration(text: string): number {
  const fail = (why: string): never => {
    throw new DurationError(
      `"${text}" is not a duration (${why}); write a number and a unit such as "30s", "1m" or "1m30s"`,
    );
  };
  if (typeof text !== 'string') return fail('not a string');
  const source = text.trim();
  if (source === '0') return 0;
  if (source === '') return fail('empty');
  if (source.startsWith('-')) return fail('negative');
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < source.length) {
    const at = PART.lastIndex;
    const match = PART.exec(source);
    if (!match) {
      const rest = source.slice(at);
      const unit = /^[\d.]+([^\d.\s]+)/.exec(rest)?.[1];
      if (unit) return fail(`unknown unit "${unit}"; use h, m, s or ms`);
      return fail(/^\d/.test(rest) ? `missing unit after "${rest}"` : `unexpected "${rest}"`);
    }
    ms += Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  return ms;
}

/** The shortest Go-style form of a whole number of milliseconds: 90000 → "1m30s"; for `{{interval}}`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`cannot format ${ms} as a duration`);
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) out += `${count}${unit}`;
    rest -= count * size;
  }
  return out;
}
