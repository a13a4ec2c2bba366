import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * JSON lines for log collectors, with the level as a word and the time in ISO 8601
 * (`"level":"info","time":"2026-01-02T03:04:05.678Z"`), as controller-runtime's zap logs
 * have them; `pretty` for people reading `kubectl logs` or a terminal (pino-pretty in a
 * worker thread; a production dependency, so the image has it). Errors go under `err` as
 * objects, so their type, stack and cause survive.
 */
export function createLogger(level: string, format: 'json' | 'pretty', destination?: DestinationStream): Logger {
  const base = { level, base: { component: 'msop' } };
  if (format === 'pretty') return pino({ ...base, transport: { target: 'pino-pretty' } });
  const options: pino.LoggerOptions = {
    ...base,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * The logger of one reconcile, as controller-runtime's: the object's namespace and name, and
 * a reconcileID that all the lines of that one reconcile share.
 */
export function reconcileLogger(log: Logger, key: string): Logger {
  const [namespace = '', name = ''] = key.split('/');
  return log.child({ controller: 'microservice', namespace, name, reconcileID: randomUUID() });
}
