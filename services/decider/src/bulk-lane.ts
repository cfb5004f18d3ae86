import type { DocumentReference, DocumentSnapshot, Firestore, WriteBatch } from '@google-cloud/firestore';
import { Collections, DecisionRecord, IncidentRecord, OutboxEntry, decisionIdFor, type AlertEvent } from '@burnback/contracts';
import {
  CrashPoints,
  publishOutboxEvent,
  systemClock,
  toFirestoreData,
  type Clock,
  type CrashHook,
  type Logger,
  type Metrics,
  type Publisher,
  type ServiceConfig,
} from '@burnback/platform';
import { planBulk, type BulkGroup, type BulkItem, type BulkService } from './pure/bulk-plan.js';
import { publishOwedEvents } from './owed-events.js';
import { classifyStoreError } from './pure/store-errors.js';
import type { RedecideOutcome } from './handler.js';

/** The most alerts one batch decides (each writes up to three documents; a Firestore batch takes 500 writes). */
export const BULK_BATCH_MAX = 100;
/** How many times a batch that could not be written is planned again on a fresh read before the fast lane decides it. */
export const BULK_ATTEMPTS = 3;
/** The longest a batch waits for the fast lane (so a fast lane that is never idle cannot starve the bulk lane). */
export const BULK_YIELD_MAX_MS = 2_000;

export interface BulkLaneDeps {
  db: Firestore;
  services: ReadonlyMap<string, ServiceConfig>;
  publisher: Publisher;
  logger: Logger;
  metrics?: Metrics;
  clock?: Clock;
  crash?: CrashHook;
  /** The fast lane's path (one transaction per alert): duplicates, alerts the bulk lane may not decide, and conflicts. */
  decideAlert: (alert: AlertEvent, alertEventId: string) => Promise<RedecideOutcome>;
  /** How long the first alert of a batch waits for others (default 20 ms); a full batch goes at once. */
  lingerMs?: number;
  /**
   * While this says the fast lane has alerts being decided, a batch waits (up to BULK_YIELD_MAX_MS, then goes
   * anyway): the fast lane's transactions get the store and the CPU first, whatever backlog the bulk lane holds.
   */
  fastLaneBusy?: () => boolean;
  /** Test seam: runs after a batch was read and planned, before it is written (a test changes an incident there). */
  beforeWrite?: () => Promise<void>;
}

export interface BulkLane {
  /** Decides one bulk-lane alert with the others that arrive with it; resolves once its decision is recorded and published. */
  decide(alert: AlertEvent, alertEventId: string): Promise<void>;
  /** Decides what is waiting, then returns. */
  close(): Promise<void>;
}

interface Waiting {
  item: BulkItem;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The bulk lane (docs/architecture.md, "The storm lane"): alerts that cannot
 * roll back, decided in batches. A batch reads its decisions and incidents in
 * one call, decides with the pure plan, and writes every decision and its
 * incident in one Firestore batch that applies only if each incident is still
 * as read (a fast-lane decision on it since makes the batch fail, and the fast
 * lane's transaction then decides those alerts one by one). Each alert's
 * message is acked only after its decision is recorded and its event
 * published. No outbox entry: an event that did not go out is sent by the
 * alert's redelivery, which finds the decision on record and publishes its
 * event again (bulkDecisionEvent). An alert costs two writes here (three on
 * an incident already on record, whose re-decision is removed), not four or five.
 */
export function startBulkLane(deps: BulkLaneDeps): BulkLane {
  const clock = deps.clock ?? systemClock;
  const lingerMs = deps.lingerMs ?? 20;
  let waiting: Waiting[] = [];
  let timer: NodeJS.Timeout | null = null;
  let closing = false;
  const running = new Set<Promise<void>>();

  const serviceOf = (name: string): BulkService | undefined => {
    const s = deps.services.get(name);
    return s ? { policy: s.policy, target: { project: s.project, region: s.region, pipeline: s.pipeline, target: s.target } } : undefined;
  };

  /** When the batch now waiting first had to wait for the fast lane (null: it has not). */
  let yieldingSince: number | null = null;
  const flushNow = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!closing && waiting.length > 0 && deps.fastLaneBusy?.()) {
      yieldingSince ??= Date.now();
      if (Date.now() - yieldingSince < BULK_YIELD_MAX_MS) {
        timer = setTimeout(flushNow, lingerMs);
        return;
      }
    }
    yieldingSince = null;
    const batch = waiting;
    waiting = [];
    if (batch.length === 0) return;
    const run = decideBatch(batch).finally(() => running.delete(run));
    running.add(run);
  };

  /** Settles each waiting alert with the outcome of `task` for it. */
  const settle = async (items: Waiting[], task: (w: Waiting) => Promise<unknown>) => {
    await Promise.all(
      items.map(async (w) => {
        try {
          await task(w);
          w.resolve();
        } catch (err) {
          w.reject(err);
        }
      }),
    );
  };

  /**
   * The fast lane's transaction for each alert, one at a time: these are few (alerts the bulk lane may not decide,
   * batches that kept conflicting), and every such transaction takes its service's document, so running them at
   * once would only make them contend.
   */
  const decideInFull = async (items: Waiting[]) => {
    for (const w of items) await settle([w], () => deps.decideAlert(w.item.alert, w.item.alertEventId));
  };

  /**
   * Decisions already on record (`decided`: as the batch read them), without a transaction: each publishes what it
   * still owes (owed-events.ts) once, however many of its alerts wait here. A bulk-lane decision's event goes out
   * again (the lane keeps no outbox, so whether it went out is not known); one the fast lane's path made, its entry
   * if it was never sent. A duplicate of an alert earlier in the same batch is not on record yet: that one sends it.
   */
  const republish = async (items: Waiting[], decided: ReadonlyMap<string, DocumentSnapshot>) => {
    if (items.length === 0) return;
    const ids = [...new Set(items.map((w) => w.item.decisionId))];
    let owed: Map<string, Promise<OutboxEntry[]>>;
    try {
      const docs = await deps.db.getAll(...ids.map((id) => deps.db.collection(Collections.outbox).doc(id)));
      const records = ids.map((id) => {
        const doc = decided.get(id);
        return doc ? DecisionRecord.parse(doc.data()) : null;
      });
      const entries = docs.map((d) => (d.exists ? [OutboxEntry.parse(d.data())] : []));
      const publishing = { db: deps.db, publisher: deps.publisher, now: () => clock.now() };
      owed = new Map(ids.map((id, i) => [id, records[i] ? publishOwedEvents(publishing, records[i], entries[i]!) : Promise.resolve([])]));
    } catch (err) {
      const error = classifyStoreError(err, 'bulk-lane duplicate read');
      for (const w of items) w.reject(error);
      return;
    }
    const sent = new Set<string>();
    await settle(items, async (w) => {
      for (const entry of await owed.get(w.item.decisionId)!) sent.add(entry.id);
    });
    deps.logger.info(`${items.length} bulk-lane alert(s) already decided; nothing new to do`, {
      event: 'decision_duplicate',
      lane: 'bulk',
      alerts: items.length,
      republished: sent.size,
    });
  };

  const decideBatch = async (batch: Waiting[], attempt = 1): Promise<void> => {
    const of = new Map(batch.map((w) => [w.item, w]));
    let read: {
      decided: Map<string, DocumentSnapshot>;
      incidents: Map<string, IncidentRecord | null>;
      snapshots: Map<string, DocumentSnapshot>;
    };
    try {
      read = await readBatch(
        deps.db,
        batch.map((w) => w.item),
      );
    } catch (err) {
      const error = classifyStoreError(err, 'bulk-lane read');
      for (const w of batch) w.reject(error);
      return;
    }
    const now = clock.now().toISOString();
    const plan = planBulk(
      batch.map((w) => w.item),
      new Set(read.decided.keys()),
      read.incidents,
      serviceOf,
      { evaluatedAt: now, createdAt: now },
    );
    const pick = (items: BulkItem[]) => items.map((i) => of.get(i)!);
    await deps.beforeWrite?.();
    await Promise.all([
      republish(pick(plan.duplicates), read.decided),
      decideInFull(pick(plan.full)),
      ...chunks(plan.groups).map((groups) => writeGroups(groups, read.snapshots, of, attempt)),
    ]);
  };

  /**
   * Writes some incidents' decisions in one batch, then publishes their events. A batch that could not be written
   * (an incident changed since it was read, a decision written by another batch holding a redelivery) is planned
   * again on a fresh read, up to BULK_ATTEMPTS times; then the fast lane's transaction decides its alerts.
   */
  const writeGroups = async (
    groups: BulkGroup[],
    snapshots: Map<string, DocumentSnapshot>,
    of: Map<BulkItem, Waiting>,
    attempt: number,
  ) => {
    const items = groups.flatMap((g) => g.decisions.map((d) => of.get(d.item)!));
    const batch = deps.db.batch();
    for (const group of groups) addGroup(deps.db, batch, group, snapshots.get(group.incidentId));
    try {
      await batch.commit();
    } catch (err) {
      const again = attempt < BULK_ATTEMPTS;
      deps.logger.info(
        `bulk-lane batch not written (${(err as Error).message}); ${again ? 'planned again on a fresh read' : 'deciding its alerts one by one'}`,
        { event: 'bulk_batch_conflict', alerts: items.length, attempt },
      );
      await (again ? decideBatch(items, attempt + 1) : decideInFull(items));
      return;
    }
    const decided = groups.flatMap((g) => g.decisions);
    for (const { record } of decided) {
      deps.metrics?.decisions.inc({ service: record.service, action: record.action });
      deps.logger.info(`decision for ${record.service}: ${record.reason}`, {
        event: 'decision',
        lane: 'bulk',
        eventId: record.alertEventId,
        incidentId: record.incidentId,
        decisionId: record.decisionId,
        service: record.service,
        action: record.action,
        reason: record.reason,
        verdicts: record.verdicts,
        target: record.target,
      });
    }
    const first = decided[0]!.record;
    // Committed, nothing published: a crash here leaves the events to the alerts' redelivery (republish above).
    deps.crash?.(CrashPoints.decidedBeforePublish, { decisionId: first.decisionId, incidentId: first.incidentId, service: first.service });
    // Each alert is settled by its own event's publish: one whose event did not go out is nacked, and its
    // redelivery (a duplicate then) publishes it.
    const eventOf = new Map(decided.map((d) => [d.item, d.event]));
    await settle(
      decided.map((d) => of.get(d.item)!),
      async (w) => {
        await publishOutboxEvent(deps.publisher, eventOf.get(w.item)!);
      },
    );
  };

  return {
    decide(alert, alertEventId) {
      const item: BulkItem = {
        alert,
        alertEventId,
        decisionId: decisionIdFor(alert.incidentId, alert.state, alert.startedAt, alert.notificationId),
      };
      return new Promise<void>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        if (waiting.length >= BULK_BATCH_MAX && yieldingSince === null) flushNow();
        else timer ??= setTimeout(flushNow, lingerMs);
      });
    },
    async close() {
      closing = true;
      flushNow();
      await Promise.all([...running]);
    },
  };
}

/** The decisions on record (by id) and the incidents as they stand, for a batch, in one read. */
async function readBatch(db: Firestore, items: BulkItem[]) {
  const decisionRefs = [...new Set(items.map((i) => i.decisionId))].map((id) => db.collection(Collections.decisions).doc(id));
  const incidentRefs = [...new Set(items.map((i) => i.alert.incidentId))].map((id) => db.collection(Collections.incidents).doc(id));
  const docs = await db.getAll(...decisionRefs, ...incidentRefs);
  const decided = new Map<string, DocumentSnapshot>();
  const incidents = new Map<string, IncidentRecord | null>();
  const snapshots = new Map<string, DocumentSnapshot>();
  for (const doc of docs) {
    if (doc.ref.parent.id === Collections.decisions) {
      if (doc.exists) decided.set(doc.id, doc);
    } else {
      incidents.set(doc.id, doc.exists ? IncidentRecord.parse(doc.data()) : null);
      snapshots.set(doc.id, doc);
    }
  }
  return { decided, incidents, snapshots };
}

/** One incident's writes: each decision created, the incident written only if still as read. */
function addGroup(db: Firestore, batch: WriteBatch, group: BulkGroup, read: DocumentSnapshot | undefined) {
  for (const { record } of group.decisions)
    batch.create(db.collection(Collections.decisions).doc(record.decisionId), toFirestoreData(record));
  const ref: DocumentReference = db.collection(Collections.incidents).doc(group.incidentId);
  if (read?.exists && read.updateTime) {
    batch.update(ref, toFirestoreData(group.after), { lastUpdateTime: read.updateTime });
    // The incident's schedule follows its latest decision, as in the fast lane: a bulk decision is never decided again.
    batch.delete(db.collection(Collections.redecisions).doc(group.incidentId));
  } else batch.create(ref, toFirestoreData(group.after));
}

/** Groups in batches of at most BULK_BATCH_MAX decisions (an incident's decisions never split). */
function chunks(groups: BulkGroup[]): BulkGroup[][] {
  const out: BulkGroup[][] = [];
  let current: BulkGroup[] = [];
  let size = 0;
  for (const g of groups) {
    if (size > 0 && size + g.decisions.length > BULK_BATCH_MAX) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(g);
    size += g.decisions.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}
