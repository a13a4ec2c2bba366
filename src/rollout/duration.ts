// Go-style durations ("90s", "1m30s", "250ms"), as Kubernetes users write them.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

export class DurationError extends Error {
  override name = 'DurationError';
}

export function parseDuration(text: string): number {
  const trimmed = text.trim();
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(PART)) {
    if (match.index !== consumed) break;
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    consumed += match[0].length;
  }
  if (trimmed === '' || consumed !== trimmed.length) {
    throw new DurationError(`"${text}" is not a duration; write it like 30s, 5m or 1h30m`);
  }
  return Math.round(total);
}

/** The shortest readable form, for messages: 90000 → "1m30s". */
export function formatDuration(ms: number): string {
  if (Math.round(ms) < 1_000) return `${Math.max(0, Math.round(ms))}ms`;
  let seconds = Math.round(ms / 1_000);
  const hours = Math.floor(seconds / 3_600);
  seconds -= hours * 3_600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  return `${hours ? `${hours}h` : ''}${minutes ? `${minutes}m` : ''}${seconds || (!hours && !minutes) ? `${seconds}s` : ''}`;
}
