import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { errorKind, ErrorKinds, Topics } from '@burnback/contracts';
import {
  deadLetterAttributes,
  registerHealthRoutes,
  type Logger,
  type Metrics,
  type Publisher,
  type ServiceConfig,
} from '@burnback/platform';
import type { Firestore } from '@google-cloud/firestore';
import type { IncomingNotification, IngestOutcome } from './handler.js';
import { registerManagementRoutes } from './management.js';

export interface IngestAppDeps {
  handle: (incoming: IncomingNotification) => Promise<IngestOutcome>;
  /** Where push deliveries of bad messages go (a push endpoint must ack them, or Pub/Sub retries forever). */
  deadLetter: Publisher;
  webhookToken: string | null;
  /** The store the management routes read, their token, and the services they steer; without a store there are no management routes. */
  management?: { db: Firestore; token: string | null; services?: Record<string, ServiceConfig> };
  logger: Logger;
  metrics: Metrics;
  now?: () => Date;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison of a presented token with the configured one. */
export function tokenMatches(presented: string | undefined, expected: string | null): boolean {
  if (!expected || !presented) return false;
  return timingSafeEqual(digest(presented), digest(expected));
}

const ERROR_CODES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/**
 * The webhook token as a caller presents it: the `auth_token` query parameter
 * (what Cloud Monitoring's webhook channel sends), HTTP Basic credentials
 * (Monitoring's basic-auth webhook: the password is the token), or a bearer header.
 */
export function presentedToken(req: Pick<FastifyRequest, 'query' | 'headers'>): string | undefined {
  const query = (req.query as { auth_token?: unknown } | undefined)?.auth_token;
  if (typeof query === 'string' && query) return query;
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const [scheme, value] = header.split(' ', 2);
  if (!value) return undefined;
  if (scheme?.toLowerCase() === 'bearer') return value;
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) || undefined : undefined;
  }
  return undefined;
}

interface PushEnvelope {
  message?: {
    data?: string;
    attributes?: Record<string, string>;
    messageId?: string;
    message_id?: string;
    publishTime?: string;
    publish_time?: string;
  };
  subscription?: string;
}

/** Ingest's HTTP front door: the Monitoring webhook, Pub/Sub push, and health. */
export function createIngestApp(deps: IngestAppDeps): FastifyInstance {
  const { logger } = deps;
  const now = deps.now ?? (() => new Date());
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onResponse', async (req, reply) => {
    // Probes hit /healthz every few seconds; their lines are noise at INFO.
    // The path only: query strings carry the webhook token (and fastify also accepts it percent-encoded).
    const path = req.url.split('?')[0] ?? '';
    const level = path === '/healthz' || path === '/metrics' ? 'debug' : 'info';
    logger.log(level, `${req.method} ${path} ${reply.statusCode}`, {
      event: 'http_request',
      httpRequest: {
        requestMethod: req.method,
        requestUrl: path,
        status: reply.statusCode,
        latency: `${(reply.elapsedTime / 1000).toFixed(3)}s`,
      },
    });
  });

  /** Every error, on every route, is one shape: `{"error": {"code", "message"}}`; no message ever holds a token or the URL. */
  const reject = (reply: FastifyReply, status: number, message: string) =>
    reply.code(status).send({ error: { code: ERROR_CODES[status] ?? 'ERROR', message } });

  const unauthorised = (req: FastifyRequest, reply: FastifyReply): FastifyReply | null => {
    if (!deps.webhookToken) return reject(reply, 503, 'the webhook is disabled: BURNBACK_WEBHOOK_TOKEN is not configured');
    const token = presentedToken(req);
    if (!token)
      return reject(
        reply,
        401,
        'missing token: give auth_token as a query parameter, HTTP Basic credentials, or an Authorization: Bearer header',
      );
    if (!tokenMatches(token, deps.webhookToken)) {
      logger.warn('authentication failed', { event: 'auth_failed', path: req.url.split('?')[0], ip: req.ip });
      return reject(reply, 403, 'invalid token');
    }
    return null;
  };

  app.setNotFoundHandler((req, reply) => reject(reply, 404, `no route ${req.method} ${req.url.split('?')[0] ?? ''}`));
  app.setErrorHandler((err: { statusCode?: number; code?: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) logger.error('request failed', { event: 'http_error', error: err });
    return reject(
      reply,
      status,
      status === 413 ? 'body too large: at most 1 MiB' : status === 500 ? 'internal error' : (err.code ?? 'bad request'),
    );
  });

  registerHealthRoutes(app, deps.metrics);
  if (deps.management)
    registerManagementRoutes(app, {
      db: deps.management.db,
      managementToken: deps.management.token,
      // The same publisher: a manual rollback request goes to burnback-alerts.
      publisher: deps.deadLetter,
      services: deps.management.services ?? {},
      now,
      logger,
      reject,
      tokenMatches,
    });

  app.post('/webhook/error-budget-alert', async (req, reply) => {
    const denied = unauthorised(req, reply);
    if (denied) return denied;
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (raw.length === 0) return reject(reply, 400, 'empty body: expected a Cloud Monitoring notification (JSON)');
    try {
      const receivedAt = now();
      const outcome = await deps.handle({ raw, source: 'webhook', observedAt: receivedAt, receivedAt, messageId: null });
      if (outcome.kind === 'test-notification') return reply.code(200).send({ status: 'test notification received' });
      return reply
        .code(202)
        .send({ status: 'accepted', eventId: outcome.eventId, service: outcome.event.service, incidentId: outcome.event.incidentId });
    } catch (err) {
      if (errorKind(err) === ErrorKinds.permanent) {
        logger.warn('webhook notification rejected', { event: 'webhook_rejected', reason: (err as Error).message });
        return reject(reply, 400, (err as Error).message);
      }
      logger.error('webhook notification failed; the sender should retry', { error: err });
      return reject(reply, 503, 'temporarily unable to accept the notification; retry');
    }
  });

  app.post('/pubsub/push', async (req, reply) => {
    const denied = unauthorised(req, reply);
    if (denied) return denied;
    let envelope: PushEnvelope;
    try {
      envelope = JSON.parse((req.body as Buffer).toString('utf8')) as PushEnvelope;
    } catch {
      return reject(reply, 400, 'not a Pub/Sub push envelope (invalid JSON)');
    }
    const message = envelope.message;
    if (!message || typeof message.data !== 'string') return reject(reply, 400, 'not a Pub/Sub push envelope: message.data missing');
    const raw = Buffer.from(message.data, 'base64');
    const publishTime = message.publishTime ?? message.publish_time;
    const observedAt = publishTime && !Number.isNaN(Date.parse(publishTime)) ? new Date(publishTime) : now();
    try {
      await deps.handle({
        raw,
        source: 'pubsub',
        observedAt,
        // A pushed publish time in the future (a skewed or forged clock) is clamped to this by the decision.
        receivedAt: now(),
        messageId: message.messageId ?? message.message_id ?? null,
      });
      return reply.code(204).send();
    } catch (err) {
      if (errorKind(err) !== ErrorKinds.permanent) return reject(reply, 503, 'temporarily unable to process; Pub/Sub will redeliver');
      const reason = (err as Error).message;
      try {
        await deps.deadLetter.publishRaw(
          Topics.deadLetter,
          raw,
          deadLetterAttributes(message.attributes ?? {}, reason, envelope.subscription ?? 'push', now()),
        );
      } catch {
        return reject(reply, 503, 'cannot dead-letter the message; Pub/Sub will redeliver');
      }
      logger.warn('pushed message dead-lettered', { event: 'dead_letter', reason });
      return reply.code(204).send();
    }
  });

  return app;
}
