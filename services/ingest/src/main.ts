import {
  ConfigError,
  createCrashHook,
  createFirestore,
  createLogger,
  createPubSub,
  exitOnFatal,
  loadConfig,
  onShutdown,
} from '@burnback/platform';
import { startIngestService } from './service.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('ingest', { level: config.logLevel });
  const pubsub = createPubSub(config);
  const db = createFirestore(config);
  const service = await startIngestService({
    onFatal: (error) => exitOnFatal(logger, error),
    config,
    pubsub,
    db,
    logger,
    crash: createCrashHook(config.chaosCrashAt, logger),
  });
  onShutdown([() => service.close(), () => pubsub.close(), () => db.terminate()], logger);
}

main().catch((err: unknown) => {
  const message =
    err instanceof ConfigError ? `configuration error: ${err.message}` : `ingest failed to start: ${(err as Error).stack ?? String(err)}`;
  process.stderr.write(JSON.stringify({ severity: 'CRITICAL', message, component: 'ingest' }) + '\n');
  process.exit(1);
});
