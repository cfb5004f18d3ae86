import { createHash, randomUUID } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  Acknowledgement,
  CLOUD_DEPLOY_ID,
  Collections,
  DecisionRecord,
  decisionIdFor,
  EventTypes,
  IncidentRecord,
  isFinalStage,
  Redecision,
  RollbackRecord,
  ServiceControls,
  Topics,
  type AlertEvent,
  type ControlAuditEntry,
  type Pause,
} from '@burnback/contracts';
import type { Logger, Publisher, ServiceConfig } from '@burnback/platform';

/** What one rollback looks like to an operator: where it stands, what it changed, how it got there, and why. */
export interface RollbackStatus {
  rollbackId: string | null;
  incidentId: string;
  service: string;
  status: string;
  target: { project: string; region: string; pipeline: string; target: string } | null;
  releases: { from: string | null; to: string | null };
  rollout: { name: string | null; state: string | null; rollsBack: string | null };
  failureReason: string | null;
  timeline: Array<{ at: string; stage: string; detail: string }>;
  decision: Pick<DecisionRecord, 'decisionId' | 'action' | 'reason' | 'verdicts' | 'decidedAt' | 'confidence' | 'cause'> | null;
  /** The incident is to be decided again (its hold lapses, or its rollback ended): when, and why; null when not. */
  redecision: { dueAt: string; trigger: string; rule: string | null; detail: string; afterDecisionId: string } | null;
}

const decisionView = (d: DecisionRecord): RollbackStatus['decision'] => ({
  decisionId: d.decisionId,
  action: d.action,
  reason: d.reason,
  verdicts: d.verdicts,
  decidedAt: d.decidedAt,
  confidence: d.confidence,
  cause: d.cause,
});

/**
 * The rollback an id names: a rollback id, the decision that ordered it, or
 * its incident. A decision (or incident) without a rollback answers with the
 * decision and status `no-rollback`. Null when the id names nothing.
 */
export async function rollbackStatus(db: Firestore, id: string): Promise<RollbackStatus | null> {
  const get = (collection: string) => db.collection(collection).doc(id).get();
  const [rollbackDoc, decisionDoc, incidentDoc] = await Promise.all([
    get(Collections.rollbacks),
    get(Collections.decisions),
    get(Collections.incidents),
  ]);
  let decision = decisionDoc.exists ? DecisionRecord.parse(decisionDoc.data()) : null;
  const incident = incidentDoc.exists ? IncidentRecord.parse(incidentDoc.data()) : null;
  let rollback = rollbackDoc.exists ? RollbackRecord.parse(rollbackDoc.data()) : null;
  const rollbackId = rollback?.rollbackId ?? decision?.rollbackId ?? incident?.rollback?.rollbackId ?? null;
  if (!rollback && rollbackId) {
    const doc = await db.collection(Collections.rollbacks).doc(rollbackId).get();
    rollback = doc.exists ? RollbackRecord.parse(doc.data()) : null;
  }
  const decisionId = rollback?.command.decisionId ?? decision?.decisionId ?? incident?.rollback?.decisionId ?? incident?.lastDecisionId;
  if (!decision && decisionId) {
    const doc = await db.collection(Collections.decisions).doc(decisionId).get();
    decision = doc.exists ? DecisionRecord.parse(doc.data()) : null;
  }
  if (!rollback && !decision) return null;
  const incidentOf = rollback?.command.incidentId ?? decision!.incidentId;
  const scheduleDoc = await db.collection(Collections.redecisions).doc(incidentOf).get();
  const schedule = scheduleDoc.exists ? Redecision.parse(scheduleDoc.data()) : null;
  return {
    rollbackId,
    incidentId: rollback?.command.incidentId ?? decision!.incidentId,
    service: rollback?.command.service ?? decision!.service,
    // Ordered but not yet picked up by the executor: `ordered`; a decision that ordered nothing: `no-rollback`.
    status: rollback?.status ?? (rollbackId ? 'ordered' : 'no-rollback'),
    target: rollback
      ? {
          project: rollback.command.project,
          region: rollback.command.region,
          pipeline: rollback.command.pipeline,
          target: rollback.command.target,
        }
      : (decision?.target ?? null),
    releases: { from: rollback?.leaving?.releaseId ?? null, to: rollback?.releaseId ?? null },
    rollout: { name: rollback?.rolloutName ?? null, state: rollback?.rolloutState ?? null, rollsBack: rollback?.rolloutToRollBack ?? null },
    failureReason: rollback?.failureReason ?? null,
    timeline: [
      ...(decision ? [{ at: decision.decidedAt, stage: `decided: ${decision.action}`, detail: decision.reason }] : []),
      ...(rollback?.audit ?? []),
    ],
    decision: decision ? decisionView(decision) : null,
    redecision: schedule
      ? {
          dueAt: schedule.dueAt,
          trigger: schedule.trigger,
          rule: schedule.rule,
          detail: schedule.detail,
          afterDecisionId: schedule.afterDecisionId,
        }
      : null,
  };
}

/**
 * Decisions newest first since `since` (by decision time), optionally of one
 * service, `limit` at a time; `before` continues after a page's last decision.
 */
export async function recentDecisions(
  db: Firestore,
  options: { since: Date; service?: string; limit: number; before?: string },
): Promise<{ decisions: DecisionRecord[]; nextPageToken: string | null }> {
  let query = db.collection(Collections.decisions).where('decidedAt', '>=', options.since.toISOString()).orderBy('decidedAt', 'desc');
  if (options.before) query = query.where('decidedAt', '<', options.before);
  // The service is filtered here rather than in the query, so a real project needs no composite index.
  const all = (await query.get()).docs.map((d) => DecisionRecord.parse(d.data()));
  const matching = all.filter((d) => options.service === undefined || d.service === options.service);
  const page = matching.slice(0, options.limit);
  return { decisions: page, nextPageToken: matching.length > options.limit ? page[page.length - 1]!.decidedAt : null };
}

export interface ManagementDeps {
  db: Firestore;
  managementToken: string | null;
  /** Where a manual rollback request goes (burnback-alerts, judged by the decider like any alert). */
  publisher: Publisher;
  services: Record<string, ServiceConfig>;
  now?: () => Date;
  logger: Logger;
  /** Answers an error in the front door's one shape. */
  reject: (reply: FastifyReply, status: number, message: string) => FastifyReply;
  tokenMatches: (presented: string | undefined, expected: string | null) => boolean;
}

/** What the decider keeps of a rollback to report on, per service, over a time range. */
export interface RollbackMetrics {
  since: string;
  services: Record<string, ServiceMetrics>;
  total: ServiceMetrics;
}
export interface ServiceMetrics {
  rollbacks: number;
  byOutcome: Record<string, number>;
  /** succeeded / finished (succeeded, failed, superseded); null before any finished. */
  successRate: number | null;
  /** Validate-only rollbacks (mode recommend), not counted above. */
  validated: number;
  /** From the alert (the decision's event time) to the rollout's start, and to the rollback's end, in seconds. */
  alertToStartSeconds: { p50: number | null; p95: number | null; count: number };
  alertToFinishSeconds: { p50: number | null; p95: number | null; count: number };
  decisions: Record<string, number>;
}

/** The nearest-rank percentile of sorted values; null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Rollbacks and decisions since `since`, counted by outcome and action, with alert-to-start and alert-to-finish times. */
export async function rollbackMetrics(db: Firestore, since: Date): Promise<RollbackMetrics> {
  const from = since.toISOString();
  const [rollbacks, decisions] = await Promise.all([
    db.collection(Collections.rollbacks).where('createdAt', '>=', from).get(),
    db.collection(Collections.decisions).where('decidedAt', '>=', from).select('service', 'action').get(),
  ]);
  const acc = new Map<string, { records: RollbackRecord[]; decisions: Record<string, number> }>();
  const of = (service: string) => {
    let a = acc.get(service);
    if (!a) acc.set(service, (a = { records: [], decisions: {} }));
    return a;
  };
  for (const doc of rollbacks.docs) {
    const r = RollbackRecord.parse(doc.data());
    of(r.command.service).records.push(r);
  }
  for (const doc of decisions.docs) {
    const d = of(String(doc.get('service'))).decisions;
    const action = String(doc.get('action'));
    d[action] = (d[action] ?? 0) + 1;
  }
  const summarise = (records: RollbackRecord[], decisionCounts: Record<string, number>): ServiceMetrics => {
    const real = records.filter((r) => !r.command.validateOnly);
    const byOutcome: Record<string, number> = {};
    for (const r of real) byOutcome[r.status] = (byOutcome[r.status] ?? 0) + 1;
    const finished = real.filter((r) => isFinalStage(r.status));
    const toStart: number[] = [];
    const toFinish: number[] = [];
    for (const r of real) {
      const alertAt = Date.parse(r.command.requestedAt);
      const started = r.audit.find((a) => a.stage === 'started');
      const ended = r.audit.find((a) => a.stage === r.status && isFinalStage(r.status));
      if (started) toStart.push((Date.parse(started.at) - alertAt) / 1000);
      if (ended) toFinish.push((Date.parse(ended.at) - alertAt) / 1000);
    }
    toStart.sort((a, b) => a - b);
    toFinish.sort((a, b) => a - b);
    const stats = (xs: number[]) => ({ p50: percentile(xs, 50), p95: percentile(xs, 95), count: xs.length });
    return {
      rollbacks: real.length,
      byOutcome,
      successRate: finished.length === 0 ? null : (byOutcome.succeeded ?? 0) / finished.length,
      validated: records.length - real.length,
      alertToStartSeconds: stats(toStart),
      alertToFinishSeconds: stats(toFinish),
      decisions: decisionCounts,
    };
  };
  const services: Record<string, ServiceMetrics> = {};
  const allDecisions: Record<string, number> = {};
  for (const [service, a] of [...acc.entries()].sort(([x], [y]) => x.localeCompare(y))) {
    services[service] = summarise(a.records, a.decisions);
    for (const [k, v] of Object.entries(a.decisions)) allDecisions[k] = (allDecisions[k] ?? 0) + v;
  }
  return {
    since: from,
    services,
    total: summarise(
      [...acc.values()].flatMap((a) => a.records),
      allDecisions,
    ),
  };
}

/** Who asked: `by` (query) or the X-Burnback-User header; else the management token's holder. */
const ACTOR = /^[\p{L}\p{N} ._@+-]{1,120}$/u;
const REQUEST_KEY = /^[A-Za-z0-9._:-]{1,100}$/;
const AUDIT_KEPT = 50;

/**
 * The operator's routes, behind a bearer token of their own (never the
 * webhook's): `GET /rollback/status/{id}`, `GET /rollback/recent`,
 * `GET /rollback/metrics`, `POST /rollback/manual/{service}`,
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

  app.get<{ Params: { id: string } }>('/rollback/status/:id', { onRequest: guard }, async (req, reply) => {
    const found = await rollbackStatus(deps.db, req.params.id);
    if (!found) return deps.reject(reply, 404, `no rollback, decision or incident ${req.params.id}`);
    return reply.code(200).send(found);
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/rollback/recent', { onRequest: guard }, async (req, reply) => {
    const hours = Number(req.query.hours ?? '24');
    const limit = Number(req.query.limit ?? '50');
    if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 90)
      return deps.reject(reply, 400, `hours must be a number of hours above 0 and at most 2160 (got '${req.query.hours}')`);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      return deps.reject(reply, 400, `limit must be a whole number from 1 to 500 (got '${req.query.limit}')`);
    const before = req.query.pageToken;
    if (before !== undefined && Number.isNaN(Date.parse(before))) return deps.reject(reply, 400, 'pageToken is not one this route gave');
    const page = await recentDecisions(deps.db, {
      since: new Date(Date.now() - hours * 3_600_000),
      service: req.query.service,
      limit,
      before,
    });
    return reply.code(200).send(page);
  });

  const now = deps.now ?? (() => new Date());
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
    deps.services[name] ?? deps.reject(reply, 404, `no service ${JSON.stringify(name.slice(0, 100))} in Burnback's configuration`);

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
    if (!/^[\w.:-]{1,200}$/.test(id)) return deps.reject(reply, 400, 'an incident id is 1 to 200 letters, digits or ._:-');
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
    const fresh: AlertEvent = {
      incidentId: notificationId,
      service: service.name,
      state: 'open',
      startedAt: requestedAt,
      endedAt: null,
      observedAt: requestedAt,
      receivedAt: requestedAt,
      observedValue: null,
      thresholdValue: null,
      signal: 'unsupported',
      lookbackSeconds: null,
      comparison: null,
      signalValue: null,
      signalThreshold: null,
      sloName: null,
      sloSelector: null,
      burnPolicy: null,
      burnPolicySource: null,
      burnWindows: null,
      unsupportedReason: 'a manual rollback request, judged on who asked and why',
      policyName: 'manual rollback request',
      conditionName: '',
      severity: '',
      resourceType: '',
      resourceLabels: {},
      policyUserLabels: {},
      scopingProjectId: service.project,
      url: '',
      source: 'manual',
      notificationId,
      manual: { requestedBy: by, reason, force: forceText === 'true', releaseId: revision ?? null },
    };
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
