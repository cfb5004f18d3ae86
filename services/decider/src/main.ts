import { ConfigError, exitOnFatal, createFirestore, createLogger, createPubSub, loadConfig, onShutdown } from '@burnback/platform';
import { startDeciderService } from './service.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('decider', { level: config.logLevel });
  const pubsub = createPubSub(config);
  const db = createFirestore(config);
  const service = await startDeciderService({
    onFatal: (error) => exitOnFatal(logger, error),
    config,
    pubsub,
    db,
    logger,
    port: config.port,
  });
  onShutdown([() => service.close(), () => pubsub.close(), () => db.terminate()], logger);
}

main().catch((err: unknown) => {
  const message =
    err instanceof ConfigError ? `configuration error: ${err.message}` : `decider failed to start: ${(err as Error).stack ?? String(err)}`;
  process.stderr.write(JSON.stringify({ severity: 'CRITICAL', message, component: 'decider' }) + '\n');
  process.exit(1);
});
