// Entry point: configuration, logger, manager; SIGTERM drains the queue.
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, loadConfig } from './config';
import { Manager } from './controller/manager';
import { KubeClient } from './kube/client';
import { errorMessage } from './kube/errors';
import { createLogger } from './observability/logger';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`msop: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel, config.logFormat);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const manager = new Manager(new KubeClient(kubeConfig), config, log);

  const shutdown = new AbortController();
  const stop = (signal: string) => {
    if (shutdown.signal.aborted) return;
    log.info({ signal }, 'Shutting down');
    shutdown.abort();
    manager.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: errorMessage(err) }, 'Shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (err) => log.error({ err: errorMessage(err) }, 'Unhandled rejection'));

  log.info(
    { cluster: kubeConfig.getCurrentCluster()?.server, watchNamespaces: config.watchNamespaces },
    'Starting msop',
  );
  await manager.start(shutdown.signal);
}

main().catch((err: unknown) => {
  console.error(`msop: ${errorMessage(err)}`);
  process.exit(1);
});
