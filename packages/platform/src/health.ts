import Fastify, { type FastifyInstance } from 'fastify';
import { listenHostFrom } from './config.js';
import { closeConnectionsWithUnreadBodies, closeHttpServer } from './http-server.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/** GET /healthz and GET /metrics on `app` (each service's HTTP port; Cloud Run needs one). */
export function registerHealthRoutes(app: FastifyInstance, metrics: Metrics): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

/**
 * A health + metrics server for the worker services (decider, executor); none when `port` is null (in-process tests).
 * It listens on `host`, else BURNBACK_LISTEN_HOST (127.0.0.1 unless a container sets 0.0.0.0).
 */
export async function startHealthServer(options: {
  port: number | null | undefined;
  host?: string;
  metrics: Metrics;
  logger: Logger;
  /** How long close() lets requests in flight finish before cutting them off (default 5 s). */
  closeGraceMs?: number;
}): Promise<{ address: string | null; close(): Promise<void> }> {
  if (options.port === null || options.port === undefined) return { address: null, close: async () => undefined };
  const app = Fastify({ logger: false });
  // A request refused before its body is read (an unknown route) ends its connection, so close() never waits on it.
  closeConnectionsWithUnreadBodies(app);
  registerHealthRoutes(app, options.metrics);
  const address = await app.listen({ host: options.host ?? listenHostFrom(process.env), port: options.port });
  options.logger.info(`health and metrics on ${address}`, { event: 'http_listening', address });
  return {
    address,
    close: async () => {
      await closeHttpServer(app, { logger: options.logger, graceMs: options.closeGraceMs });
    },
  };
}
