/** A source of uniform numbers in [0, 1), like Math.random; tests pass a seeded one. */
export type RandomSource = () => number;

/**
 * Decorrelated jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): a uniform draw between
 * base and three times the previous delay, capped at max. Never below base, so a retry is never instant,
 * and callers that failed together spread apart instead of retrying in lockstep.
 */
export function decorrelatedJitter(previousMs: number, baseMs: number, maxMs: number, random: RandomSource): number {
  const high = Math.min(maxMs, Math.max(baseMs, previousMs * 3));
  return Math.min(maxMs, Math.floor(baseMs + random() * (high - baseMs)));
}

/**
 * Exponential backoff: base, 2×base, 4×base … capped at max. Given a random source, the delays are
 * decorrelated-jittered instead (see decorrelatedJitter).
 */
export class Backoff {
  private attempt = 0;
  // AWS's formula starts from base, so even the first retries of callers that failed together differ.
  private previousMs: number;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly random?: RandomSource,
  ) {
    this.previousMs = baseMs;
  }

  next(): number {
    const delay = this.random
      ? decorrelatedJitter(this.previousMs, this.baseMs, this.maxMs, this.random)
      : Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    this.previousMs = delay;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
    this.previousMs = this.baseMs;
  }
}
