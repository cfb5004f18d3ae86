/**
 * What the console reads from Firestore, page by page: the documents the
 * decider and the executor write (services/, controls/, targets/, decisions/,
 * incidents/, rollbacks/, deployEvents/), parsed with their contracts. Every
 * read is bounded: by document id, by the look-back and a page size, or by the
 * services' own bounded lists; no query needs an index that infra/ does not create.
 */
import type { Firestore } from '@google-cloud/firestore';
import {
  Collections,
  DecisionRecord,
  IncidentRecord,
  isFinalStage,
  RollbackRecord,
  ServiceControls,
  ServiceState,
  StoredDeployEvent,
  TargetRecord,
  targetDocIdFor,
} from '@burnback/contracts';
import type { ServiceConfig } from '@burnback/platform';
import { freezeVerdict } from '@burnback/policy';
import { recentDecisions } from '../management-reads.js';
import { ATTENTION_HOURS, type FleetInput } from '../pure/console/fleet.js';
import type { DeployNotice } from '../pure/console/rollback-view.js';
import type { ServiceInput } from '../pure/console/service-view.js';

const HOUR_MS = 3_600_000;
/** The most decisions the fleet reads per service for what needs a human. */
const ATTENTION_DECISIONS = 100;
/** The most decisions the service page reads for its axis and table. */
export const SERVICE_PAGE_DECISIONS = 200;
/** The most Cloud Deploy notifications the rollback page reads around its rollback. */
const DEPLOY_NOTICES = 300;

const getAll = async <T>(db: Firestore, collection: string, ids: readonly string[], parse: (data: unknown) => T): Promise<T[]> => {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  const docs = await db.getAll(...unique.map((id) => db.collection(collection).doc(id)));
  return docs.filter((d) => d.exists).map((d) => parse(d.data()));
};

/** What one service looks like now, for the fleet and the head of its page; with the documents read on the way. */
export async function readServiceNow(
  db: Firestore,
  service: ServiceConfig,
  now: Date,
): Promise<{ fleet: FleetInput; target: TargetRecord | null; recent: DecisionRecord[] }> {
  const name = service.name;
  const [stateDoc, controlsDoc, targetDoc, recent] = await Promise.all([
    db.collection(Collections.services).doc(name).get(),
    db.collection(Collections.controls).doc(name).get(),
    db.collection(Collections.targets).doc(targetDocIdFor(service)).get(),
    recentDecisions(db, { since: new Date(now.getTime() - ATTENTION_HOURS * HOUR_MS), service: name, limit: ATTENTION_DECISIONS }),
  ]);
  const state = stateDoc.exists ? ServiceState.parse(stateDoc.data()) : null;
  const controls = controlsDoc.exists ? ServiceControls.parse(controlsDoc.data()) : null;
  const target = targetDoc.exists ? TargetRecord.parse(targetDoc.data()) : null;
  const remembered = state?.recentRollbacks ?? [];
  const waiting = remembered.filter((r) => r.outcome === null).sort((a, b) => b.decidedAt.localeCompare(a.decidedAt))[0];
  const lastId = state?.lastDecisionId ?? null;
  const [inFlightDoc, lastDoc] = await Promise.all([
    waiting ? db.collection(Collections.rollbacks).doc(waiting.rollbackId).get() : null,
    lastId && !recent.decisions.some((d) => d.decisionId === lastId) ? db.collection(Collections.decisions).doc(lastId).get() : null,
  ]);
  const inFlight = inFlightDoc?.exists ? RollbackRecord.parse(inFlightDoc.data()) : null;
  const last = lastDoc?.exists
    ? DecisionRecord.parse(lastDoc.data())
    : (recent.decisions.find((d) => d.decisionId === lastId) ?? recent.decisions[0] ?? null);
  const freeze = freezeVerdict(service.policy, now.getTime());
  return {
    target,
    recent: recent.decisions,
    fleet: {
      name,
      mode: service.policy.enabled ? service.policy.mode : 'off',
      target: `${service.pipeline}/${service.target}`,
      serving: target?.serving ? { releaseId: target.serving.releaseId, since: target.serving.since, phase: target.serving.phase } : null,
      pause: controls?.pause ? { until: controls.pause.until, by: controls.pause.by, reason: controls.pause.reason } : null,
      freeze: freeze.passed ? null : freeze.detail,
      inFlight: !waiting
        ? null
        : !inFlight
          ? // Ordered, not yet picked up by the executor.
            { rollbackId: waiting.rollbackId, status: 'ordered', releaseId: null, since: waiting.decidedAt }
          : isFinalStage(inFlight.status)
            ? // Ended; the decider has not recorded the outcome yet.
              null
            : {
                rollbackId: inFlight.rollbackId,
                status: inFlight.status,
                releaseId: inFlight.releaseId,
                since: inFlight.command.requestedAt,
              },
      lastDecision: last ? { decisionId: last.decisionId, action: last.action, reason: last.reason, decidedAt: last.decidedAt } : null,
      recentDecisions: recent.decisions.map((d) => ({
        decisionId: d.decisionId,
        action: d.action,
        decidedAt: d.decidedAt,
        approvableUntil: d.approvableUntil ?? null,
      })),
      failedRollbacks: remembered.flatMap((r) =>
        r.outcome === 'failed' && r.finishedAt ? [{ rollbackId: r.rollbackId, finishedAt: r.finishedAt }] : [],
      ),
    },
  };
}

/** Every configured service, now. */
export async function readFleet(db: Firestore, services: ReadonlyMap<string, ServiceConfig>, now: Date): Promise<FleetInput[]> {
  const all = await Promise.all([...services.values()].map((s) => readServiceNow(db, s, now)));
  return all.map((s) => s.fleet);
}

/** One service's page: now, and its decisions, incidents and rollbacks over the last `hours`. */
export async function readService(db: Firestore, service: ServiceConfig, now: Date, hours: number): Promise<ServiceInput> {
  const [current, page] = await Promise.all([
    readServiceNow(db, service, now),
    recentDecisions(db, { since: new Date(now.getTime() - hours * HOUR_MS), service: service.name, limit: SERVICE_PAGE_DECISIONS }),
  ]);
  const decisions = page.decisions;
  const rollbackIds = [
    ...decisions.flatMap((d) => (d.rollbackId ? [d.rollbackId] : [])),
    ...(current.fleet.inFlight ? [current.fleet.inFlight.rollbackId] : []),
  ];
  const [incidents, rollbacks] = await Promise.all([
    getAll(
      db,
      Collections.incidents,
      decisions.map((d) => d.incidentId),
      (data) => IncidentRecord.parse(data),
    ),
    getAll(db, Collections.rollbacks, rollbackIds, (data) => RollbackRecord.parse(data)),
  ]);
  return { fleet: current.fleet, target: current.target, decisions, incidents, rollbacks, hours, truncated: page.nextPageToken !== null };
}

/** A decision, and the ids of every decision of its incident; null when there is no such decision. */
export async function readDecision(db: Firestore, id: string): Promise<{ decision: DecisionRecord; incidentDecisionIds: string[] } | null> {
  const doc = await db.collection(Collections.decisions).doc(id).get();
  if (!doc.exists) return null;
  const decision = DecisionRecord.parse(doc.data());
  const incident = await db.collection(Collections.incidents).doc(decision.incidentId).get();
  return { decision, incidentDecisionIds: incident.exists ? IncidentRecord.parse(incident.data()).decisionIds : [] };
}

/**
 * A rollback, the decision that ordered it, and the Cloud Deploy notifications
 * the decider kept from its order to a little after it ended (its own service's;
 * the service is filtered here, so the query needs no composite index). Null when there is no such rollback.
 */
export async function readRollback(
  db: Firestore,
  id: string,
  now: Date,
): Promise<{ rollback: RollbackRecord; decision: DecisionRecord | null; notices: DeployNotice[] } | null> {
  const doc = await db.collection(Collections.rollbacks).doc(id).get();
  if (!doc.exists) return null;
  const rollback = RollbackRecord.parse(doc.data());
  const from = new Date(Math.min(Date.parse(rollback.command.requestedAt), Date.parse(rollback.createdAt)) - 60_000).toISOString();
  const to = new Date(Math.min(Date.parse(rollback.updatedAt) + 5 * 60_000, now.getTime() + 60_000)).toISOString();
  const [decisionDoc, deploys] = await Promise.all([
    db.collection(Collections.decisions).doc(rollback.command.decisionId).get(),
    db
      .collection(Collections.deployEvents)
      .where('publishTime', '>=', from)
      .where('publishTime', '<=', to)
      .orderBy('publishTime')
      .limit(DEPLOY_NOTICES)
      .get(),
  ]);
  const notices = deploys.docs
    .map((d) => StoredDeployEvent.parse(d.data()))
    .filter((e) => e.service === rollback.command.service)
    .map((e) => ({ publishTime: e.publishTime, attributes: e.attributes, read: e.read }));
  return { rollback, decision: decisionDoc.exists ? DecisionRecord.parse(decisionDoc.data()) : null, notices };
}
