import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { documentIdProblem, errorKind, ErrorKinds } from '@burnback/contracts';
import {
  closeConnectionsWithUnreadBodies,
  publishDeadLetter,
  registerHealthRoutes,
  type Logger,
  type Metrics,
  type Publisher,
  type ServiceConfig,
} from '@burnback/platform';
import type { Firestore } from '@google-cloud/firestore';
import type { AlertmanagerOutcome } from './alertmanager.js';
import { registerAlertmanagerRoute } from './alertmanager-route.js';
import { registerConsole } from './console/routes.js';
import type { IncomingNotification, IngestOutcome } from './handler.js';
import { registerManagementRoutes } from './management.js';
import { isWellFormedJson, rejectionReasonOf } from './parse.js';
import type { PushTokenVerifier } from './push-auth.js';

export interface IngestAppDeps {
  handle: (incoming: IncomingNotification) => Promise<IngestOutcome>;
  /** Prometheus Alertmanager's notifications (`POST /webhook/alertmanager`, the webhook's token); without it there is no such route. */
  handleAlertmanager?: (incoming: IncomingNotification) => Promise<AlertmanagerOutcome>;
  /** Where push deliveries of bad messages go (a push endpoint must ack them, or Pub/Sub retries forever). */
  deadLetter: Publisher;
  webhookToken: string | null;
  /**
   * How `POST /pubsub/push` authenticates: Pub/Sub's OIDC token, or `unsigned`
   * (local only: the emulator sends no token). Null: the push route answers 503.
   */
  pushAuth: { kind: 'oidc'; verifier: PushTokenVerifier } | { kind: 'unsigned' } | null;
  /** The store the management routes read, their token, and the services they steer; without a store there are no management routes. */
  management?: { db: Firestore; token: string | null; services?: ReadonlyMap<string, ServiceConfig> };
  logger: Logger;
  metrics: Metrics;
  now?: () => Date;
  /** Told of every route as it is registered (the fuzz suite finds the routes to fuzz this way). */
  onRoute?: (route: { method: string | string[]; url: string }) => void;
}

/** The longest path segment the router takes (a 1,500-byte id percent-encoded is at most 4,500 characters). */
const MAX_PATH_PARAM_LENGTH = 8192;

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
  409: 'ALREADY_EXISTS',
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

/** Where a notification came in: the label `source` of the front door's counters. */
type Source = 'webhook' | 'pubsub' | 'alertmanager';
const ROUTE_SOURCES: Record<string, Source> = {
  '/webhook/error-budget-alert': 'webhook',
  '/pubsub/push': 'pubsub',
  '/webhook/alertmanager': 'alertmanager',
};

/**
 * Why the front door refused a request: the `reason` label of
 * burnback_notifications_rejected_total. A fixed set, so the metric's
 * cardinality stays bounded whatever a caller sends; never free text.
 */
export const REJECT_REASONS = [
  'disabled',
  'unauthenticated',
  'forbidden',
  'too-large',
  'empty-body',
  'invalid-json',
  'not-an-envelope',
  'bad-base64',
  'not-a-notification',
  'unavailable',
  'bad-request',
  'internal',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Standard base64 with its padding, as Pub/Sub encodes `message.data` (Buffer.from would take anything, silently). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** What Pub/Sub message ids and subscription names look like; anything else in an envelope is not used. */
const MESSAGE_ID = /^[A-Za-z0-9._:-]{1,256}$/;
const SUBSCRIPTION = /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/subscriptions\/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const stringOr = (v: unknown, fallback: string | null): string | null => (typeof v === 'string' && v !== '' ? v : fallback);

/**
 * A pushed message's attributes that can go on with it to the dead-letter topic:
 * well-formed strings only, within Pub/Sub's limits, none of its reserved `goog` keys
 * (a publish with them would fail, and Pub/Sub would redeliver the push forever).
 */
function forwardableAttributes(attributes: unknown): Record<string, string> {
  if (!isObject(attributes)) return {};
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes).slice(0, 64)) {
    if (typeof value !== 'string' || key === '' || /^goog/i.test(key) || !isWellFormedJson([key, value])) continue;
    if (Buffer.byteLength(key) > 256 || Buffer.byteLength(value) > 1024) continue;
    kept[key] = value;
  }
  return kept;
}

/** Ingest's HTTP front door: the Monitoring webhook, Pub/Sub push, and health. */
export function createIngestApp(deps: IngestAppDeps): FastifyInstance {
  const { logger, metrics } = deps;
  const now = deps.now ?? (() => new Date());
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    // Ids in the path are checked by the one rule (documentIdProblem, below), which says why; the router's own
    // limit (100 characters by default) would answer first, in a shape of its own. Node caps the URL at 16 KiB.
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    // The router's refusals (a bad percent-encoding, a path segment over the cap) in the front door's one shape.
    frameworkErrors: (err, _req, reply) => {
      void reject(
        reply,
        400,
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? `a path segment is longer than ${MAX_PATH_PARAM_LENGTH} characters`
          : 'the URL is not valid (a bad percent-encoding)',
      );
    },
  });
  closeConnectionsWithUnreadBodies(app);
  const { onRoute } = deps;
  if (onRoute) app.addHook('onRoute', (route) => onRoute({ method: route.method, url: route.url }));
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
  /** A refused notification request: counted by source and reason, answered in the one shape. */
  const refuse = (reply: FastifyReply, source: Source, reason: RejectReason, status: number, message: string) => {
    metrics.notificationsRejected.inc({ source, reason });
    return reject(reply, status, message);
  };
  const authFailed = (req: FastifyRequest, reason: string) =>
    logger.warn('authentication failed', { event: 'auth_failed', path: req.url.split('?')[0], ip: req.ip, reason });

  /**
   * The webhook's token check. It runs as an onRequest hook, before fastify
   * reads the body: an unauthenticated caller never gets a megabyte buffered.
   */
  const webhookAuth = async (req: FastifyRequest, reply: FastifyReply) => {
    // Monitoring's webhook and Alertmanager's take the same token; each route's refusals are counted under its own source.
    const source = ROUTE_SOURCES[req.routeOptions.url ?? ''] ?? 'webhook';
    if (!deps.webhookToken)
      return refuse(reply, source, 'disabled', 503, 'the webhook is disabled: BURNBACK_WEBHOOK_TOKEN is not configured');
    const token = presentedToken(req);
    if (!token)
      return refuse(
        reply,
        source,
        'unauthenticated',
        401,
        'missing token: give auth_token as a query parameter, HTTP Basic credentials, or an Authorization: Bearer header',
      );
    if (!tokenMatches(token, deps.webhookToken)) {
      authFailed(req, 'invalid token');
      return refuse(reply, source, 'forbidden', 403, 'invalid token');
    }
  };

  /** Pub/Sub push's OIDC check, before the body too; the webhook's token is not taken here. */
  const pushAuth = async (req: FastifyRequest, reply: FastifyReply) => {
    const auth = deps.pushAuth;
    if (!auth)
      return refuse(
        reply,
        'pubsub',
        'disabled',
        503,
        'the push endpoint is disabled: set BURNBACK_PUSH_AUDIENCE and BURNBACK_PUSH_SERVICE_ACCOUNT (or, locally only, BURNBACK_PUSH_ALLOW_UNSIGNED=true)',
      );
    if (auth.kind === 'unsigned') return;
    const header = req.headers.authorization;
    const verdict = await auth.verifier.verify(typeof header === 'string' ? header : undefined);
    if (verdict.ok) return;
    if (verdict.status === 503) {
      logger.error('cannot verify push tokens: fetching Google signing certificates failed', { event: 'push_certs_unavailable' });
      return refuse(reply, 'pubsub', 'unavailable', 503, verdict.message);
    }
    authFailed(req, verdict.problem);
    return refuse(reply, 'pubsub', verdict.status === 401 ? 'unauthenticated' : 'forbidden', verdict.status, verdict.message);
  };

  app.setNotFoundHandler((req, reply) => reject(reply, 404, `no route ${req.method} ${req.url.split('?')[0] ?? ''}`));
  app.setErrorHandler((err: { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) logger.error('request failed', { event: 'http_error', error: err });
    const source = ROUTE_SOURCES[req.routeOptions.url ?? ''];
    if (source)
      metrics.notificationsRejected.inc({ source, reason: status === 413 ? 'too-large' : status === 500 ? 'internal' : 'bad-request' });
    return reject(
      reply,
      status,
      status === 413 ? 'body too large: at most 1 MiB' : status === 500 ? 'internal error' : (err.code ?? 'bad request'),
    );
  });

  // Every route parameter names a document (or a service): refuse what cannot be one, before any handler looks it up.
  app.addHook('preValidation', async (req, reply) => {
    if (req.is404) return;
    for (const [name, value] of Object.entries((req.params ?? {}) as Record<string, unknown>)) {
      const problem = typeof value === 'string' ? documentIdProblem(value, `the ${name} in the path`) : null;
      if (problem) return reject(reply, 400, problem);
    }
  });

  registerHealthRoutes(app, deps.metrics);
  if (deps.management)
    registerManagementRoutes(app, {
      db: deps.management.db,
      managementToken: deps.management.token,
      // The same publisher: a manual rollback request goes to burnback-alerts.
      publisher: deps.deadLetter,
      services: deps.management.services ?? new Map(),
      now,
      logger,
      reject,
      tokenMatches,
    });
  // The read-only console (/console/), behind the same management token.
  if (deps.management)
    registerConsole(app, {
      db: deps.management.db,
      token: deps.management.token,
      services: deps.management.services ?? new Map(),
      now,
      logger,
      tokenMatches,
    });

  app.post('/webhook/error-budget-alert', { onRequest: webhookAuth }, async (req, reply) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (raw.length === 0) return refuse(reply, 'webhook', 'empty-body', 400, 'empty body: expected a Cloud Monitoring notification (JSON)');
    try {
      const receivedAt = now();
      const outcome = await deps.handle({ raw, source: 'webhook', observedAt: receivedAt, receivedAt, messageId: null });
      metrics.notificationsAccepted.inc({ source: 'webhook' });
      if (outcome.kind === 'test-notification') return reply.code(200).send({ status: 'test notification received' });
      // Valid, but for no configured service (another project's alert): answered 200 so the sender does not retry.
      if (outcome.kind === 'unmapped') return reply.code(200).send({ status: 'unmapped', reason: outcome.reason });
      return reply
        .code(202)
        .send({ status: 'accepted', eventId: outcome.eventId, service: outcome.event.service, incidentId: outcome.event.incidentId });
    } catch (err) {
      if (errorKind(err) === ErrorKinds.permanent) {
        logger.warn('webhook notification rejected', { event: 'webhook_rejected', reason: (err as Error).message });
        return refuse(reply, 'webhook', rejectionReasonOf(err), 400, (err as Error).message);
      }
      logger.error('webhook notification failed; the sender should retry', { error: err });
      return refuse(reply, 'webhook', 'unavailable', 503, 'temporarily unable to accept the notification; retry');
    }
  });

  if (deps.handleAlertmanager)
    registerAlertmanagerRoute(app, {
      handle: deps.handleAlertmanager,
      auth: webhookAuth,
      refuse: (reply, reason, status, message) => refuse(reply, 'alertmanager', reason, status, message),
      now,
      logger,
      metrics,
    });

  app.post('/pubsub/push', { onRequest: pushAuth }, async (req, reply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (body.length === 0) return refuse(reply, 'pubsub', 'empty-body', 400, 'empty body: expected a Pub/Sub push envelope (JSON)');
    let envelope: unknown;
    try {
      envelope = JSON.parse(body.toString('utf8'));
    } catch {
      return refuse(reply, 'pubsub', 'invalid-json', 400, 'not a Pub/Sub push envelope (invalid JSON)');
    }
    const message = isObject(envelope) ? envelope.message : undefined;
    if (!isObject(message) || typeof message.data !== 'string')
      return refuse(reply, 'pubsub', 'not-an-envelope', 400, 'not a Pub/Sub push envelope: message.data missing');
    if (!BASE64.test(message.data))
      return refuse(reply, 'pubsub', 'bad-base64', 400, 'not a Pub/Sub push envelope: message.data is not base64');
    const raw = Buffer.from(message.data, 'base64');
    const receivedAt = now();
    const publishTime = stringOr(message.publishTime, stringOr(message.publish_time, null));
    const published = publishTime === null ? Number.NaN : Date.parse(publishTime);
    // A pushed publish time in the future (a skewed or forged clock) is kept as observedAt, and the decision
    // clamps it to receivedAt, the time it arrived here; the decision, the history and the incident use that.
    const observedAt = Number.isNaN(published) ? receivedAt : new Date(published);
    const named = isObject(envelope) ? envelope.subscription : undefined;
    const subscription = typeof named === 'string' && SUBSCRIPTION.test(named) ? named : 'push';
    const id = stringOr(message.messageId, stringOr(message.message_id, null));
    try {
      await deps.handle({
        raw,
        source: 'pubsub',
        observedAt,
        receivedAt,
        // Kept with the notification; an id Pub/Sub would never send (a lone surrogate fails every store write) is dropped.
        messageId: id !== null && MESSAGE_ID.test(id) ? id : null,
      });
      metrics.notificationsAccepted.inc({ source: 'pubsub' });
      return reply.code(204).send();
    } catch (err) {
      if (errorKind(err) !== ErrorKinds.permanent)
        return refuse(reply, 'pubsub', 'unavailable', 503, 'temporarily unable to process; Pub/Sub will redeliver');
      const reason = (err as Error).message;
      try {
        await publishDeadLetter(deps.deadLetter, raw, forwardableAttributes(message.attributes), reason, subscription, now());
      } catch {
        return refuse(reply, 'pubsub', 'unavailable', 503, 'cannot dead-letter the message; Pub/Sub will redeliver');
      }
      logger.warn('pushed message dead-lettered', { event: 'dead_letter', reason });
      // Acked (a push endpoint must answer 2xx, or Pub/Sub redelivers forever), but not accepted.
      metrics.notificationsRejected.inc({ source: 'pubsub', reason: rejectionReasonOf(err) });
      return reply.code(204).send();
    }
  });

  return app;
}
