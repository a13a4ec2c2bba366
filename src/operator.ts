// The operator: configuration, logger, HTTP endpoints, leader election, manager;
// SIGTERM drains the queue, hands the leader Lease back and exits 0.
import { ConfigError, helpRequested, loadConfig, usage } from './config';
import { LeaderElector, leaderIdentity } from './controller/leader';
import { Manager } from './controller/manager';
import { KubeClient } from './kube/client';
import { KubeConfigError, loadKubeConfig } from './kube/kubeconfig';
import { KubeLeaseStore } from './kube/lease';
import { createLogger } from './observability/logger';
import { metrics } from './observability/metrics';
import { startServers } from './observability/server';

export async function runOperator(): Promise<void> {
  if (helpRequested(process.argv.slice(2))) {
    process.stdout.write(usage());
    return;
  }
  // Bad flags or a bad kubeconfig: one line saying what, exit 2, before anything starts.
  let config, kubeContext;
  try {
    config = loadConfig();
    kubeContext = loadKubeConfig();
  } catch (err) {
    if (!(err instanceof ConfigError || err instanceof KubeConfigError)) throw err;
    console.error(`msop: ${err.message}`);
    process.exit(2);
  }
  const log = createLogger(config.logLevel, config.logFormat);
  const client = new KubeClient(kubeContext, (code, method, host) => metrics.countRequest(code, method, host));

  // Losing the Lease ends the process at once, as controller-runtime does: no write
  // may follow, and Kubernetes restarts the pod as a fresh standby.
  const elector = config.leaderElect
    ? new LeaderElector(
        new KubeLeaseStore(client, config.leaderElectionNamespace!, config.leaderElectionId),
        { identity: leaderIdentity(), onLost: () => process.exit(1) },
        log,
      )
    : undefined;
  metrics.collectProcessMetrics();
  metrics.setLeading(!elector);
  metrics.setLease(config.leaderElectionId);
  const manager = new Manager(client, config, log, {
    metrics,
    waitForLeadership: elector
      ? async (signal) => {
          const leading = await elector.acquire(signal);
          metrics.setLeading(leading);
          return leading;
        }
      : undefined,
  });
  const servers = await startServers(
    { healthPort: config.healthPort, metricsPort: config.metricsPort, ready: () => manager.hasSynced(), metrics },
    log,
  );

  const shutdown = new AbortController();
  const stop = (signal: string) => {
    if (shutdown.signal.aborted) return;
    log.info({ signal }, 'Shutting down');
    shutdown.abort();
    (async () => {
      await manager.stop();
      await elector?.release();
      await servers.close();
    })().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'Shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (err) => log.error({ err }, 'Unhandled rejection'));

  log.info(
    {
      cluster: kubeContext.cluster.server,
      watchNamespaces: config.watchNamespaces,
      shardSelector: config.shardSelector,
      leaderElection: elector
        ? { lease: `${config.leaderElectionNamespace}/${config.leaderElectionId}`, identity: elector.identity }
        : false,
    },
    'Starting msop',
  );
  await manager.start(shutdown.signal);
}
