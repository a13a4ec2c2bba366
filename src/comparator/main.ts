// `msop comparator [flags]`: the parallel-run comparator, a mode of the operator's own program.
// SIGTERM closes both listeners and exits 0.
import { createLogger } from '../observability/logger';
import { FlagError, parseComparatorFlags, USAGE } from './flags';
import { startComparator } from './server';

/** Runs until SIGTERM or SIGINT; a bad flag exits 2 with the reason. */
export async function runComparator(argv: string[]): Promise<void> {
  let options;
  try {
    options = parseComparatorFlags(argv);
  } catch (err) {
    if (err instanceof FlagError) {
      console.error(`msop comparator: ${err.message}\nRun "msop comparator --help" for the flags.`);
      process.exit(2);
    }
    throw err;
  }
  if (!options) {
    process.stdout.write(USAGE);
    return;
  }
  const log = createLogger(options.logLevel, 'json').child({ mode: 'comparator' });
  const running = await startComparator(options, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'Shutting down');
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'Shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
