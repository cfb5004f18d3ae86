import type { Logger } from './logger.js';

export type ShutdownTask = () => Promise<void>;

/**
 * Runs `tasks` in order on SIGTERM/SIGINT (Cloud Run sends SIGTERM, then SIGKILL
 * after 10 s), then exits. A second signal exits at once.
 */
export function onShutdown(tasks: ShutdownTask[], logger: Logger, options: { timeoutMs?: number } = {}): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info('shutting down: draining in-flight work', { event: 'shutdown', signal });
    const timer = setTimeout(() => {
      logger.error('drain timed out; exiting', { event: 'shutdown' });
      process.exit(1);
    }, options.timeoutMs ?? 9_000);
    timer.unref();
    void (async () => {
      for (const task of tasks) {
        try {
          await task();
        } catch (err) {
          logger.error('shutdown task failed', { error: err });
        }
      }
      logger.info('stopped', { event: 'shutdown' });
      process.exit(0);
    })();
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/** Logs a worker that can no longer do its job and exits non-zero, so Cloud Run (or npm start) restarts or reports it. */
export function exitOnFatal(logger: Logger, error: Error): void {
  logger.error(`fatal: ${error.message}; exiting so the platform restarts this instance`, { event: 'fatal', error });
  setTimeout(() => process.exit(1), 100).unref();
}
