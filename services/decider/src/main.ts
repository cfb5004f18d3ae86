import {
  CloudDeployHistory,
  ConfigError,
  createCrashHook,
  createDeployClient,
  createFirestore,
  createLogger,
  createMonitoringClient,
  createPubSub,
  exitOnFatal,
  loadConfig,
  onShutdown,
} from '@burnback/platform';
import { startDeciderService } from './service.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('decider', { level: config.logLevel });
  const pubsub = createPubSub(config);
  const db = createFirestore(config);
  // Only services that name their SLO ask Cloud Monitoring; without one, no client (and no credentials) is needed.
  const monitoring = [...config.services.values()].some((s) => s.slo !== null) ? createMonitoringClient(config) : null;
  // Cloud Deploy's history, read only: what serves each target, from the start of its first deploy job.
  const deployClient = createDeployClient(config);
  const service = await startDeciderService({
    monitoring,
    deploy: new CloudDeployHistory(deployClient),
    onFatal: (error) => exitOnFatal(logger, error),
    config,
    pubsub,
    db,
    logger,
    port: config.port,
    crash: createCrashHook(config.chaosCrashAt, logger),
    commandResendMs: config.commandResendMs,
  });
  onShutdown(
    [() => service.close(), async () => monitoring?.close(), () => deployClient.close(), () => pubsub.close(), () => db.terminate()],
    logger,
  );
}

main().catch((err: unknown) => {
  const message =
    err instanceof ConfigError ? `configuration error: ${err.message}` : `decider failed to start: ${(err as Error).stack ?? String(err)}`;
  process.stderr.write(JSON.stringify({ severity: 'CRITICAL', message, component: 'decider' }) + '\n');
  process.exit(1);
});
