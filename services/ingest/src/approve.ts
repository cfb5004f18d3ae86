import type { Firestore } from '@google-cloud/firestore';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  AlertEvent,
  approvalNotificationIdFor,
  Collections,
  DecisionRecord,
  decisionIdFor,
  EventTypes,
  IncidentRecord,
  Topics,
} from '@burnback/contracts';
import type { Logger, Publisher, ServiceConfig } from '@burnback/platform';
import { approvalAlert, approvalRefusal, DECISION_ID, MAX_APPROVAL_ATTEMPTS, priorApproval } from './pure/approval.js';

type Query = Record<string, string | string[] | undefined>;
type Request = FastifyRequest<{ Params: { id: string }; Querystring: Query }>;

/** What the approval route reads and writes (the management routes' own dependencies). */
export interface ApprovalDeps {
  db: Firestore;
  publisher: Publisher;
  services: ReadonlyMap<string, ServiceConfig>;
  logger: Logger;
  reject: (reply: FastifyReply, status: number, message: string) => FastifyReply;
}

/** The management routes' shared pieces the approval route reuses: authentication and the audit parameters. */
export interface ApprovalRouteHelpers {
  guard: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
  param: (req: Request, reply: FastifyReply, name: string) => string | undefined | FastifyReply;
  actorOf: (req: Request, reply: FastifyReply) => string | FastifyReply;
  reasonOf: (req: Request, reply: FastifyReply, required: boolean) => string | FastifyReply;
  isReply: (v: unknown) => v is FastifyReply;
  now: () => Date;
}

/**
 * `POST /decisions/{id}/approve?by=&reason=[&force=true]`: a human approves a
 * `recommend` decision, which becomes a rollback if the decider, judging it
 * again now, allows it. Refused here with the reason when the decision does
 * not exist (404), is not a recommendation or its incident closed (409), or its
 * time to approve is over (410). Exactly once: the approval's notification id
 * (and so its decision and the incident's one rollback) is derived from the
 * recommendation's decision id, so a second approval, by anyone, answers that
 * it was already approved (200 for the same approver, reason and force: a
 * retry; 409 otherwise) and rolls nothing back again. Only an approval the
 * decider refused (a pause, the cooldown) or whose rollback was superseded
 * before it rolled anything back may be followed by another.
 */
export function registerApprovalRoute(app: FastifyInstance, deps: ApprovalDeps, h: ApprovalRouteHelpers): void {
  app.post<{ Params: { id: string }; Querystring: Query }>('/decisions/:id/approve', { onRequest: h.guard }, async (req, reply) => {
    const id = req.params.id;
    if (!DECISION_ID.test(id)) return deps.reject(reply, 400, 'the id must be a decision id: dec- and 24 hex digits');
    const by = h.actorOf(req, reply);
    if (h.isReply(by)) return by;
    const reason = h.reasonOf(req, reply, true);
    if (h.isReply(reason)) return reason;
    const forceText = h.param(req, reply, 'force');
    if (h.isReply(forceText)) return forceText;
    if (forceText !== undefined && forceText !== 'true' && forceText !== 'false')
      return deps.reject(reply, 400, 'force must be true or false');
    const force = forceText === 'true';

    const doc = (collection: string, docId: string) => deps.db.collection(collection).doc(docId).get();
    const decisionDoc = await doc(Collections.decisions, id);
    const recommendation = decisionDoc.exists ? DecisionRecord.parse(decisionDoc.data()) : null;
    const incidentDoc = recommendation ? await doc(Collections.incidents, recommendation.incidentId) : null;
    const incident = incidentDoc?.exists ? IncidentRecord.parse(incidentDoc.data()) : null;
    const at = h.now();
    const refusal = approvalRefusal(id, recommendation, incident, at);
    if (refusal) return deps.reject(reply, refusal.status, refusal.message);
    const service = deps.services.get(recommendation!.service);
    if (!service)
      return deps.reject(reply, 409, `decision ${id} is of ${recommendation!.service}, which is no longer in Burnback's configuration`);

    /** Publishes the approval's alert: the decider's dedupe makes a repeat of the same event change nothing. */
    const publish = (event: AlertEvent) =>
      deps.publisher.publishEvent(
        Topics.alerts,
        {
          id: event.notificationId,
          type: EventTypes.alert,
          source: '//burnback/ingest/approval',
          subject: `services/${event.service}/incidents/${event.incidentId}`,
          time: event.observedAt,
          data: event,
        },
        event.service,
      );
    const answer = (event: AlertEvent, status: 'accepted' | 'already-approved') => {
      const decisionId = decisionIdFor(event.incidentId, event.state, event.startedAt, event.notificationId);
      const manual = event.manual!;
      return {
        status,
        approves: id,
        service: event.service,
        incidentId: event.incidentId,
        approvedBy: manual.requestedBy,
        reason: manual.reason,
        force: manual.force,
        approvedAt: event.observedAt,
        // The decider judges the approval again (controls, breaker, rate limit, cooldown): follow it here.
        decisionId,
        statusPath: `/rollback/status/${decisionId}`,
      };
    };

    for (let attempt = 0; attempt < MAX_APPROVAL_ATTEMPTS; attempt++) {
      const notificationId = approvalNotificationIdFor(id, attempt);
      const fresh = approvalAlert(recommendation!, incident, service.project, { by, reason, force }, notificationId, at);
      const ref = deps.db.collection(Collections.notifications).doc(notificationId);
      try {
        await ref.create({
          id: notificationId,
          source: 'manual',
          receivedAt: fresh.observedAt,
          incidentId: fresh.incidentId,
          state: 'open',
          raw: JSON.stringify(fresh),
          messageId: null,
        });
      } catch (err) {
        if ((err as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw err;
        const first = AlertEvent.parse(JSON.parse(String((await ref.get()).get('raw'))));
        const firstDecisionId = decisionIdFor(first.incidentId, first.state, first.startedAt, first.notificationId);
        const decided = await doc(Collections.decisions, firstDecisionId);
        const firstDecision = decided.exists ? DecisionRecord.parse(decided.data()) : null;
        const rollback = firstDecision?.rollbackId ? await doc(Collections.rollbacks, firstDecision.rollbackId) : null;
        const outcome = priorApproval(firstDecision, rollback?.exists ? String(rollback.get('status')) : null);
        // Refused, or superseded before it rolled anything back: this approval is the next attempt.
        if (outcome === 'refused') continue;
        // Not decided yet: its publish may have been lost (a crash after the record); the same event again changes nothing.
        if (outcome === 'deciding') await publish(first);
        const approved = first.manual!;
        if (approved.requestedBy === by && approved.reason === reason && approved.force === force)
          return reply.code(200).send(answer(first, 'already-approved'));
        return deps.reject(
          reply,
          409,
          `recommendation ${id} was already approved by ${approved.requestedBy} at ${first.observedAt} (${approved.reason}${approved.force ? ', force' : ''}): one recommendation, one rollback; follow it at /rollback/status/${firstDecisionId}`,
        );
      }
      await publish(fresh);
      deps.logger.warn(`recommendation ${id} for ${service.name} approved by ${by}: ${reason}`, {
        event: 'recommendation_approved',
        service: service.name,
        incidentId: fresh.incidentId,
        approves: id,
        decisionId: answer(fresh, 'accepted').decisionId,
        by,
        reason,
        force,
        attempt,
      });
      return reply.code(202).send(answer(fresh, 'accepted'));
    }
    return deps.reject(
      reply,
      409,
      `recommendation ${id} was approved ${MAX_APPROVAL_ATTEMPTS} times and each approval was refused: see /rollback/status/${id} and decide by hand`,
    );
  });
}
