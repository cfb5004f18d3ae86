import { createHash, randomUUID } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  Acknowledgement,
  CLOUD_DEPLOY_ID,
  Collections,
  decisionIdFor,
  EventTypes,
  incidentIdProblem,
  serviceNameProblem,
  ServiceControls,
  Topics,
  type AlertEvent,
  type ControlAuditEntry,
  type Pause,
} from '@burnback/contracts';
import type { Logger, Publisher, ServiceConfig } from '@burnback/platform';
import { registerApprovalRoute } from './approve.js';
import { MAX_PAGE_SIZE, recentDecisions, rollbackMetrics, rollbackStatus } from './management-reads.js';
import { humanRequestAlert } from './pure/human-request.js';
import { decodePageToken } from './pure/page-token.js';

export { MAX_PAGE_SIZE, percentile, recentDecisions, rollbackMetrics, rollbackStatus } from './management-reads.js';
export type { RollbackMetrics, RollbackStatus, ServiceMetrics } from './management-reads.js';

export interface ManagementDeps {
  db: Firestore;
  managementToken: string | null;
  /** Where a manual rollback request goes (burnback-alerts, judged by the decider like any alert). */
  publisher: Publisher;
  services: ReadonlyMap<string, ServiceConfig>;
  now?: () => Date;
  logger: Logger;
  /** Answers an error in the front door's one shape. */
  reject: (reply: FastifyReply, status: number, message: string) => FastifyReply;
  tokenMatches: (presented: string | undefined, expected: string | null) => boolean;
}

/** Who asked: `by` (query) or the X-Burnback-User header; else the management token's holder. */
const ACTOR = /^[\p{L}\p{N} ._@+-]{1,120}$/u;
const REQUEST_KEY = /^[A-Za-z0-9._:-]{1,100}$/;
const AUDIT_KEPT = 50;

/**
 * The operator's routes, behind a bearer token of their own (never the
 * webhook's): `GET /rollback/status/{id}`, `GET /rollback/recent`,
 * `GET /rollback/metrics`, `POST /rollback/manual/{service}`,
 * `POST /decisions/{id}/approve` (approve.ts),
 * `POST /alerts/{id}/acknowledge`, `POST /services/{service}/pause` and `/resume`.
 */
export function registerManagementRoutes(app: FastifyInstance, deps: ManagementDeps): void {
  const denied = (req: FastifyRequest, reply: FastifyReply): FastifyReply | null => {
    if (!deps.managementToken)
      return deps.reject(reply, 503, 'the management routes are disabled: BURNBACK_MANAGEMENT_TOKEN is not configured');
    const header = req.headers.authorization;
    const token = typeof header === 'string' && /^bearer /i.test(header) ? header.slice(7) : undefined;
    if (!token) return deps.reject(reply, 401, 'missing token: give the management token as Authorization: Bearer');
    if (!deps.tokenMatches(token, deps.managementToken)) {
      deps.logger.warn('authentication failed', { event: 'auth_failed', path: req.url.split('?')[0], ip: req.ip });
      return deps.reject(reply, 403, 'invalid token');
    }
    return null;
  };
  /** Authentication before fastify reads the body: an unauthenticated caller costs no more than its headers. */
  const guard = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const refused = denied(req, reply);
    if (refused) await refused;
  };

  const now = deps.now ?? (() => new Date());

  app.get<{ Params: { id: string } }>('/rollback/status/:id', { onRequest: guard }, async (req, reply) => {
    const found = await rollbackStatus(deps.db, req.params.id);
    if (!found) return deps.reject(reply, 404, `no rollback, decision or incident ${req.params.id}`);
    return reply.code(200).send(found);
  });

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/rollback/recent', { onRequest: guard }, async (req, reply) => {
    const query = req.query;
    for (const [name, value] of Object.entries(query))
      if (Array.isArray(value)) return deps.reject(reply, 400, `give ${name.slice(0, 40)} once (got it ${value.length} times)`);
    const text = (name: string) => query[name] as string | undefined;
    const hours = Number(text('hours') ?? '24');
    const limit = Number(text('limit') ?? '50');
    if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 90)
      return deps.reject(
        reply,
        400,
        `hours must be a number of hours above 0 and at most 2160 (got '${String(text('hours')).slice(0, 40)}')`,
      );
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE)
      return deps.reject(
        reply,
        400,
        `limit must be a whole number from 1 to ${MAX_PAGE_SIZE} (got '${String(text('limit')).slice(0, 40)}')`,
      );
    const service = text('service');
    const serviceProblem = service === undefined ? null : serviceNameProblem(service);
    if (serviceProblem) return deps.reject(reply, 400, serviceProblem);
    const token = text('pageToken');
    const after = token === undefined ? undefined : decodePageToken(token);
    if (after && 'problem' in after) return deps.reject(reply, 400, after.problem);
    const page = await recentDecisions(deps.db, {
      since: new Date(now().getTime() - hours * 3_600_000),
      ...(service === undefined ? {} : { service }),
      limit,
      ...(after ? { after } : {}),
    });
    return reply.code(200).send(page);
  });

  type Query = Record<string, string | string[] | undefined>;
  /** One query parameter, given at most once (a repeated one is refused rather than guessed). */
  const param = (req: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply, name: string): string | undefined | FastifyReply => {
    const v = req.query[name];
    if (Array.isArray(v)) return deps.reject(reply, 400, `give ${name} once (got it ${v.length} times)`);
    return v === '' ? undefined : v;
  };
  // What the helpers below return when they have already answered the request (a refusal).
  const isReply = (v: unknown): v is FastifyReply => typeof v === 'object' && v !== null && 'send' in v && 'statusCode' in v;
  const actorOf = (req: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply): string | FastifyReply => {
    const by = param(req, reply, 'by');
    if (isReply(by)) return by;
    const header = req.headers['x-burnback-user'];
    const who = by ?? (typeof header === 'string' ? header : undefined) ?? 'management-api';
    return ACTOR.test(who) ? who : deps.reject(reply, 400, 'by (or X-Burnback-User) must be 1 to 120 letters, digits, spaces or ._@+-');
  };
  const reasonOf = (req: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply, required: boolean): string | FastifyReply => {
    const reason = param(req, reply, 'reason');
    if (isReply(reason)) return reason;
    if (reason === undefined) return required ? deps.reject(reply, 400, 'reason is required: say why, for the audit trail') : '';
    return reason.length > 500 ? deps.reject(reply, 400, 'reason is at most 500 characters') : reason;
  };
  const serviceOf = (name: string, reply: FastifyReply): ServiceConfig | FastifyReply =>
    deps.services.get(name) ?? deps.reject(reply, 404, `no service ${JSON.stringify(name.slice(0, 100))} in Burnback's configuration`);

  app.get<{ Querystring: Query }>('/rollback/metrics', { onRequest: guard }, async (req, reply) => {
    const hoursText = param(req, reply, 'hours');
    if (isReply(hoursText)) return hoursText;
    const hours = Number(hoursText ?? '24');
    if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 90)
      return deps.reject(reply, 400, `hours must be a number of hours above 0 and at most 2160 (got '${String(hoursText).slice(0, 40)}')`);
    return reply.code(200).send(await rollbackMetrics(deps.db, new Date(now().getTime() - hours * 3_600_000)));
  });

  app.post<{ Params: { service: string }; Querystring: Query }>('/services/:service/pause', { onRequest: guard }, async (req, reply) => {
    const service = serviceOf(req.params.service, reply);
    if (isReply(service)) return service;
    const by = actorOf(req, reply);
    if (isReply(by)) return by;
    const reason = reasonOf(req, reply, true);
    if (isReply(reason)) return reason;
    const untilText = param(req, reply, 'until');
    if (isReply(untilText)) return untilText;
    const minutesText = param(req, reply, 'minutes');
    if (isReply(minutesText)) return minutesText;
    const at = now();
    let wanted: number;
    if (untilText !== undefined && minutesText !== undefined) return deps.reject(reply, 400, 'give until or minutes, not both');
    if (untilText !== undefined) {
      wanted = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(untilText) ? Date.parse(untilText) : NaN;
      if (Number.isNaN(wanted)) return deps.reject(reply, 400, 'until must be an RFC 3339 time with a zone, e.g. 2026-11-26T18:00:00Z');
    } else if (minutesText !== undefined) {
      const minutes = Number(minutesText);
      if (!Number.isFinite(minutes) || minutes <= 0) return deps.reject(reply, 400, 'minutes must be a number above 0');
      wanted = at.getTime() + minutes * 60_000;
    } else wanted = at.getTime() + service.policy.pauseDefaultMinutes * 60_000;
    if (wanted <= at.getTime()) return deps.reject(reply, 400, 'until must be in the future');
    const max = at.getTime() + service.policy.pauseMaxMinutes * 60_000;
    const capped = wanted > max;
    const pause: Pause = { until: new Date(capped ? max : wanted).toISOString(), reason, by, at: at.toISOString() };
    const controls = await updateControls(deps.db, service.name, at, (c) => ({
      pause,
      audit: [...c.audit, { at: pause.at, action: 'pause' as const, by, reason, until: pause.until }],
    }));
    deps.logger.warn(`${service.name} paused until ${pause.until} by ${by}: ${reason}`, {
      event: 'service_paused',
      service: service.name,
      until: pause.until,
      by,
      reason,
      capped,
    });
    return reply.code(200).send({
      service: service.name,
      pause: controls.pause,
      ...(capped ? { capped: `at most ${service.policy.pauseMaxMinutes} min (pauseMaxMinutes)` } : {}),
    });
  });

  app.post<{ Params: { service: string }; Querystring: Query }>('/services/:service/resume', { onRequest: guard }, async (req, reply) => {
    const service = serviceOf(req.params.service, reply);
    if (isReply(service)) return service;
    const by = actorOf(req, reply);
    if (isReply(by)) return by;
    const reason = reasonOf(req, reply, false);
    if (isReply(reason)) return reason;
    const at = now();
    let wasPaused = false;
    await updateControls(deps.db, service.name, at, (c) => {
      wasPaused = c.pause !== null && Date.parse(c.pause.until) > at.getTime();
      return { pause: null, audit: [...c.audit, { at: at.toISOString(), action: 'resume' as const, by, reason, until: null }] };
    });
    deps.logger.warn(`${service.name} resumed by ${by}${reason ? `: ${reason}` : ''}`, {
      event: 'service_resumed',
      service: service.name,
      by,
      reason,
      wasPaused,
    });
    return reply.code(200).send({ service: service.name, pause: null, wasPaused });
  });

  app.post<{ Params: { id: string }; Querystring: Query }>('/alerts/:id/acknowledge', { onRequest: guard }, async (req, reply) => {
    const id = req.params.id;
    const idProblem = incidentIdProblem(id);
    if (idProblem) return deps.reject(reply, 400, idProblem);
    const by = actorOf(req, reply);
    if (isReply(by)) return by;
    const reason = reasonOf(req, reply, false);
    if (isReply(reason)) return reason;
    const ack: Acknowledgement = { incidentId: id, by, reason, at: now().toISOString() };
    const ref = deps.db.collection(Collections.acknowledgements).doc(id);
    let first = true;
    try {
      await ref.create(ack);
    } catch (err) {
      if ((err as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw err;
      first = false;
    }
    const [stored, incident] = await Promise.all([ref.get(), deps.db.collection(Collections.incidents).doc(id).get()]);
    const kept = Acknowledgement.parse(stored.data());
    if (first)
      deps.logger.warn(`incident ${id} acknowledged by ${by}: no automatic rollback from now on`, {
        event: 'incident_acknowledged',
        incidentId: id,
        by,
        reason,
      });
    return reply.code(200).send({
      acknowledgement: kept,
      alreadyAcknowledged: !first,
      // An incident Burnback has not heard of yet is acknowledged all the same: its first notification will hold.
      incidentKnown: incident.exists,
    });
  });

  app.post<{ Params: { service: string }; Querystring: Query }>('/rollback/manual/:service', { onRequest: guard }, async (req, reply) => {
    const service = serviceOf(req.params.service, reply);
    if (isReply(service)) return service;
    const by = actorOf(req, reply);
    if (isReply(by)) return by;
    const reason = reasonOf(req, reply, true);
    if (isReply(reason)) return reason;
    const revision = param(req, reply, 'target_revision');
    if (isReply(revision)) return revision;
    if (revision !== undefined && !CLOUD_DEPLOY_ID.test(revision))
      return deps.reject(reply, 400, 'target_revision must be a Cloud Deploy release id (lowercase letters, digits, hyphens)');
    const forceText = param(req, reply, 'force');
    if (isReply(forceText)) return forceText;
    if (forceText !== undefined && forceText !== 'true' && forceText !== 'false')
      return deps.reject(reply, 400, 'force must be true or false');
    const key = req.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || !REQUEST_KEY.test(key)))
      return deps.reject(reply, 400, 'Idempotency-Key must be 1 to 100 letters, digits or ._:-');
    // A forced request bypasses the cooldown: a client retrying one without a key would roll back twice.
    if (forceText === 'true' && key === undefined)
      return deps.reject(reply, 400, 'force=true needs an Idempotency-Key header, so that a retried request cannot roll back twice');
    // The same Idempotency-Key is the same request: the first one's event is published again, so the decider
    // sees the same ids and decides once. Without a key every POST is a new request (the cooldown then applies).
    const requestId = key ?? randomUUID();
    const notificationId = `manual-${createHash('sha256').update(`${service.name}\u0000${requestId}`).digest('hex').slice(0, 24)}`;
    const requestedAt = now().toISOString();
    const fresh: AlertEvent = humanRequestAlert({
      incidentId: notificationId,
      service: service.name,
      startedAt: requestedAt,
      at: requestedAt,
      project: service.project,
      notificationId,
      unsupportedReason: 'a manual rollback request, judged on who asked and why',
      policyName: 'manual rollback request',
      manual: { requestedBy: by, reason, force: forceText === 'true', releaseId: revision ?? null },
    });
    const ref = deps.db.collection(Collections.notifications).doc(notificationId);
    let event = fresh;
    let replayed = false;
    try {
      await ref.create({
        id: notificationId,
        source: 'manual',
        receivedAt: requestedAt,
        incidentId: notificationId,
        state: 'open',
        raw: JSON.stringify(fresh),
        messageId: null,
      });
    } catch (err) {
      if ((err as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw err;
      event = JSON.parse(String((await ref.get()).get('raw'))) as AlertEvent;
      const asked = fresh.manual!;
      const first = event.manual!;
      // The same key with other parameters is a mistake, not a retry: say so rather than replay the first silently.
      if (
        first.reason !== asked.reason ||
        first.force !== asked.force ||
        first.releaseId !== asked.releaseId ||
        first.requestedBy !== asked.requestedBy
      )
        return deps.reject(
          reply,
          409,
          `Idempotency-Key ${requestId} was used for another request (${first.requestedBy}: ${first.reason}${first.force ? ', force' : ''}${first.releaseId ? `, to ${first.releaseId}` : ''}); use a new key`,
        );
      replayed = true;
    }
    await deps.publisher.publishEvent(
      Topics.alerts,
      {
        id: notificationId,
        type: EventTypes.alert,
        source: '//burnback/ingest/manual',
        subject: `services/${service.name}/incidents/${notificationId}`,
        time: event.observedAt,
        data: event,
      },
      service.name,
    );
    const decisionId = decisionIdFor(event.incidentId, event.state, event.startedAt, event.notificationId);
    deps.logger.warn(`manual rollback of ${service.name} requested by ${event.manual!.requestedBy}: ${event.manual!.reason}`, {
      event: 'manual_rollback_requested',
      service: service.name,
      incidentId: event.incidentId,
      decisionId,
      by: event.manual!.requestedBy,
      reason: event.manual!.reason,
      force: event.manual!.force,
      releaseId: event.manual!.releaseId,
    });
    return reply.code(202).send({
      status: 'accepted',
      service: service.name,
      requestId,
      incidentId: event.incidentId,
      decisionId,
      force: event.manual!.force,
      releaseId: event.manual!.releaseId,
      // True when this key was seen before: the first request's event was sent again, nothing new was asked.
      replayed,
      // The decider judges it like any alert: follow it here.
      statusPath: `/rollback/status/${decisionId}`,
    });
  });

  registerApprovalRoute(app, deps, { guard, param, actorOf, reasonOf, isReply, now });
}

/** Applies `change` to `controls/{service}` in a transaction, keeping the latest audit lines. */
async function updateControls(
  db: Firestore,
  service: string,
  at: Date,
  change: (current: ServiceControls) => Pick<ServiceControls, 'pause' | 'audit'>,
): Promise<ServiceControls> {
  const ref = db.collection(Collections.controls).doc(service);
  return db.runTransaction(async (tx) => {
    const doc = await tx.get(ref);
    const current = doc.exists
      ? ServiceControls.parse(doc.data())
      : { service, pause: null, audit: [] as ControlAuditEntry[], updatedAt: at.toISOString() };
    const next = change(current);
    const updated: ServiceControls = { service, pause: next.pause, audit: next.audit.slice(-AUDIT_KEPT), updatedAt: at.toISOString() };
    tx.set(ref, JSON.parse(JSON.stringify(updated)) as ServiceControls);
    return updated;
  });
}
