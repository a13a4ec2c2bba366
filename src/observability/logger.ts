import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * JSON lines for log collectors; `pretty` for people reading `kubectl logs` or a terminal
 * (pino-pretty in a worker thread; a production dependency, so the image has it).
 */
export function createLogger(level: string, format: 'json' | 'pretty'): Logger {
  return pino({
    level,
    base: { component: 'msop' },
    ...(format === 'pretty' ? { transport: { target: 'pino-pretty' } } : {}),
  });
}
