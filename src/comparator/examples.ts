// The few most recent differing requests, for a person to look at. Everything kept here has
// been redacted (redact.ts): no credentials, no query values, no bodies beyond a short snippet.

export interface Example {
  /** RFC 3339. */
  time: string;
  method: string;
  /** Query values redacted. */
  path: string;
  /** Primary vs candidate. */
  differences: string[];
  /** Primary vs secondary for the same request, when a secondary is set and answered. */
  noise?: string[];
}

export class Examples {
  private readonly kept: Example[] = [];

  constructor(private readonly max: number) {}

  /** Keeps the example, dropping the oldest beyond the limit. */
  add(example: Example): void {
    if (this.max === 0) return;
    this.kept.push(example);
    if (this.kept.length > this.max) this.kept.shift();
  }

  /** Oldest first. */
  list(): readonly Example[] {
    return this.kept;
  }
}
