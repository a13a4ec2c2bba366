import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger } from 'pino';

/** JSON logs for clusters; `pretty` for a terminal (needs the pino-pretty dev dependency). */
export function createLogger(level: string, format: 'json' | 'pretty'): Logger {
  return pino({
    level,
    base: { component: 'msop' },
    ...(format === 'pretty' ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
