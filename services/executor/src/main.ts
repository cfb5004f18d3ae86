import {
  ConfigError,
  createCrashHook,
  exitOnFatal,
  createDeployClient,
  createFirestore,
  createLogger,
  createPubSub,
  loadConfig,
  onShutdown,
} from '@burnback/platform';
import { startExecutorService } from './service.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('executor', { level: config.logLevel });
  const pubsub = createPubSub(config);
  const db = createFirestore(config);
  const deployClient = createDeployClient(config);
  const service = await startExecutorService({
    onFatal: (error) => exitOnFatal(logger, error),
    pubsub,
    db,
    deployClient,
    logger,
    pollIntervalMs: config.pollIntervalMs,
    port: config.port,
    tracker: { leaseMs: config.trackerLeaseMs },
    services: config.services,
    crash: createCrashHook(config.chaosCrashAt, logger),
  });
  logger.info(`Cloud Deploy at ${config.cloudDeployEndpoint ?? 'clouddeploy.googleapis.com'}`, { event: 'started' });
  onShutdown([() => service.close(), () => deployClient.close(), () => pubsub.close(), () => db.terminate()], logger);
}

main().catch((err: unknown) => {
  const message =
    err instanceof ConfigError ? `configuration error: ${err.message}` : `executor failed to start: ${(err as Error).stack ?? String(err)}`;
  process.stderr.write(JSON.stringify({ severity: 'CRITICAL', message, component: 'executor' }) + '\n');
  process.exit(1);
});
