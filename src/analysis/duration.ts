import { DurationError, formatDuration, parseDuration as parse } from '../api/duration';
import { AnalysisConfigError } from './errors';

export { formatDuration };

/** Milliseconds in a Go-style duration; `field` names the setting in the error. */
export function parseDuration(text: string, field = 'duration'): number {
  try {
    return parse(text);
  } catch (err) {
    if (err instanceof DurationError) throw new AnalysisConfigError(`${field}: ${err.message}`);
    throw err;
  }
}
