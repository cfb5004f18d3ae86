import type { FastifyInstance } from 'fastify';
import type { Logger } from './logger.js';

/** How long close() lets requests in flight finish before it cuts their connections. */
export const HTTP_CLOSE_GRACE_MS = 5_000;

/**
 * A request answered before its body was read (refused by authentication, too
 * large) leaves bytes on the connection that Node would wait for before it could
 * reuse it; a client that stops sending then holds the connection open, and the
 * server's close() waits on it for as long as the client likes. Such answers
 * say `Connection: close`, so Node ends the connection with the answer.
 */
export function closeConnectionsWithUnreadBodies(app: FastifyInstance): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (!req.raw.complete) reply.header('connection', 'close');
    return payload;
  });
}

/**
 * Stops listening and waits for the requests in flight, at most `graceMs`; then
 * closes whatever connections are left (a client that never finishes its
 * request), and says so in the log (`http_close_forced`). Shutdown has a
 * deadline (Cloud Run: 10 s after SIGTERM) and the subscriptions still have to
 * drain after the HTTP server.
 */
export async function closeHttpServer(app: FastifyInstance, options: { logger: Logger; graceMs?: number }): Promise<{ forced: boolean }> {
  const bound = app.server.address();
  const address =
    bound !== null && typeof bound === 'object'
      ? `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`
      : bound;
  let forced = false;
  const timer = setTimeout(() => {
    forced = true;
    app.server.closeAllConnections();
  }, options.graceMs ?? HTTP_CLOSE_GRACE_MS);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
  if (forced) options.logger.warn('HTTP requests still open at shutdown were cut off', { event: 'http_close_forced', address });
  return { forced };
}
