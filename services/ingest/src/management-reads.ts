/**
 * What the management routes read: one rollback's status, the recent
 * decisions a page at a time, and rollback metrics over a time range.
 */
import { FieldPath, type Firestore, type Query } from '@google-cloud/firestore';
import { Collections, DecisionRecord, IncidentRecord, isFinalStage, Redecision, RollbackRecord } from '@burnback/contracts';
import { encodePageToken, type PageCursor } from './pure/page-token.js';

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

/** The most decisions one page of `GET /rollback/recent` holds. */
export const MAX_PAGE_SIZE = 500;

/**
 * Decisions newest first since `since` (by decision time, then decision id),
 * optionally of one service, at most `limit` of them: one query, one page read
 * (never the whole range), the service filtered by Firestore (the composite
 * index `decisions_by_service` in infra/). `after` continues right after the
 * previous page's last decision, even when many share its `decidedAt`.
 */
export async function recentDecisions(
  db: Firestore,
  options: { since: Date; service?: string; limit: number; after?: PageCursor },
): Promise<{ decisions: DecisionRecord[]; nextPageToken: string | null }> {
  const limit = Math.min(Math.max(1, Math.floor(options.limit)), MAX_PAGE_SIZE);
  let query: Query = db.collection(Collections.decisions);
  if (options.service !== undefined) query = query.where('service', '==', options.service);
  query = query.where('decidedAt', '>=', options.since.toISOString()).orderBy('decidedAt', 'desc').orderBy(FieldPath.documentId(), 'desc');
  if (options.after) query = query.startAfter(options.after.decidedAt, options.after.decisionId);
  // One more than the page: whether there is a next page, without a second query.
  const docs = (await query.limit(limit + 1).get()).docs;
  const decisions = docs.slice(0, limit).map((d) => DecisionRecord.parse(d.data()));
  const last = docs.length > limit ? docs[limit - 1]! : null;
  return {
    decisions,
    nextPageToken: last ? encodePageToken({ decidedAt: String(last.get('decidedAt')), decisionId: last.id }) : null,
  };
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
