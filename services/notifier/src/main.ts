import { ConfigError, createFirestore, createLogger, createPubSub, exitOnFatal, loadConfig, onShutdown } from '@burnback/platform';
import { startNotifierService } from './service.js';

async function main(): Promise<void> {
  // The notifier alone reads the notify: block's ${VAR}s (routing keys, chat URLs, webhook keys).
  const config = loadConfig(process.env, { resolveNotify: true });
  const logger = createLogger('notifier', { level: config.logLevel });
  const pubsub = createPubSub(config);
  const db = createFirestore(config);
  const service = await startNotifierService({
    onFatal: (error) => exitOnFatal(logger, error),
    pubsub,
    db,
    logger,
    destinations: config.notify,
    retryMinutes: config.notifyRetryMinutes,
    port: config.port,
  });
  onShutdown([() => service.close(), () => pubsub.close(), () => db.terminate()], logger);
}

main().catch((err: unknown) => {
  const message =
    err instanceof ConfigError ? `configuration error: ${err.message}` : `notifier failed to start: ${(err as Error).stack ?? String(err)}`;
  process.stderr.write(JSON.stringify({ severity: 'CRITICAL', message, component: 'notifier' }) + '\n');
  process.exit(1);
});
