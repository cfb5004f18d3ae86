import type { Firestore } from '@google-cloud/firestore';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Collections, DecisionRecord, IncidentRecord, RollbackRecord } from '@burnback/contracts';
import type { Logger } from '@burnback/platform';

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
  logger: Logger;
  /** Answers an error in the front door's one shape. */
  reject: (reply: FastifyReply, status: number, message: string) => FastifyReply;
  tokenMatches: (presented: string | undefined, expected: string | null) => boolean;
}

/**
 * The operator's routes, behind a bearer token of their own (never the
 * webhook's): `GET /rollback/status/{id}` and `GET /rollback/recent`.
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

  app.get<{ Params: { id: string } }>('/rollback/status/:id', async (req, reply) => {
    const refused = denied(req, reply);
    if (refused) return refused;
    const found = await rollbackStatus(deps.db, req.params.id);
    if (!found) return deps.reject(reply, 404, `no rollback, decision or incident ${req.params.id}`);
    return reply.code(200).send(found);
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/rollback/recent', async (req, reply) => {
    const refused = denied(req, reply);
    if (refused) return refused;
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
}
