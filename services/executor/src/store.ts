import { randomUUID } from 'node:crypto';
import type { Firestore, Transaction } from '@google-cloud/firestore';
import {
  Acknowledgement,
  Collections,
  PermanentError,
  RollbackRecord,
  ServiceControls,
  type AuditEntry,
  type AuditStage,
  type ProgressStage,
  type RollbackCommand,
  type RolloutTracking,
  isFinalStage,
  progressSequence,
} from '@burnback/contracts';
import { toFirestoreData } from '@burnback/platform';

/**
 * A stored record that no longer fits its schema (written by another release, or by hand)
 * will not fit on a retry either: a permanent error naming the document, so the command
 * is dead-lettered with the reason instead of being retried until Pub/Sub gives up on it.
 */
function parseRecord(rollbackId: string, data: unknown): RollbackRecord {
  const parsed = RollbackRecord.safeParse(data);
  if (!parsed.success)
    throw new PermanentError(`rollbacks/${rollbackId} does not fit the RollbackRecord schema: ${parsed.error.message}`, {
      cause: parsed.error,
    });
  return parsed.data;
}

/** What a write may change; `tracking: null` clears the schedule, `undefined` leaves it as it is. */
export type RollbackChange = Partial<
  Pick<
    RollbackRecord,
    | 'status'
    | 'releaseId'
    | 'leaving'
    | 'rolloutToRollBack'
    | 'rolloutName'
    | 'rolloutState'
    | 'failureReason'
    | 'tracking'
    | 'servingSince'
    | 'supersededBy'
  >
>;

export interface UpdateOptions {
  /** Apply only while the record is in this status (a change decided on a status another delivery moved past does not apply). */
  onlyIfStatus?: ProgressStage;
}

/** A rollback a tracker claimed: the record as the claim left it, and the lease the claim took. */
export interface ClaimedRollback {
  record: RollbackRecord;
  leaseId: string;
}

/** The executor's Firestore documents: `rollbacks/{rollbackId}`, the state machine, its audit trail and its tracking schedule. */
export class RollbackStore {
  constructor(private readonly db: Firestore) {}

  private ref(rollbackId: string) {
    return this.db.collection(Collections.rollbacks).doc(rollbackId);
  }

  /** Creates the record in `accepted`, or returns the one a previous delivery created. */
  async begin(command: RollbackCommand, now: Date): Promise<{ record: RollbackRecord; created: boolean }> {
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(this.ref(command.rollbackId));
      if (snap.exists) return { record: parseRecord(command.rollbackId, snap.data()), created: false };
      const at = now.toISOString();
      const record: RollbackRecord = {
        rollbackId: command.rollbackId,
        command,
        status: 'accepted',
        releaseId: command.releaseId,
        leaving: null,
        rolloutToRollBack: null,
        rolloutName: null,
        rolloutState: null,
        failureReason: null,
        audit: [{ at, stage: 'accepted', detail: `rollback of ${command.target} ordered: ${command.reason}` }],
        createdAt: at,
        updatedAt: at,
        tracking: null,
        servingSince: null,
        supersededBy: null,
      };
      tx.create(this.ref(command.rollbackId), toFirestoreData(record));
      return { record, created: true };
    });
  }

  /**
   * Applies a change and appends an audit line (none when `audit` is null),
   * atomically, and never backwards: a terminal record is final (only its
   * tracking schedule may still change), a status never regresses, and the
   * releases, once chosen, are kept (a concurrent delivery's different choice is ignored).
   */
  async update(
    rollbackId: string,
    change: RollbackChange,
    audit: { stage: AuditStage; detail: string } | null,
    now: Date,
    options: UpdateOptions = {},
  ): Promise<RollbackRecord> {
    return this.db.runTransaction(async (tx) => this.apply(tx, rollbackId, change, audit, now, options, null) as Promise<RollbackRecord>);
  }

  /**
   * `update` for a tracker: applies only while `leaseId` is still the record's
   * lease. Null when it is not (the lease ended and another tracker claimed the
   * rollback, or it was finished meanwhile): the caller stops, the new holder carries on.
   */
  async updateLeased(
    rollbackId: string,
    leaseId: string,
    change: RollbackChange,
    audit: { stage: AuditStage; detail: string } | null,
    now: Date,
    options: UpdateOptions = {},
  ): Promise<RollbackRecord | null> {
    return this.db.runTransaction(async (tx) => this.apply(tx, rollbackId, change, audit, now, options, leaseId));
  }

  private async apply(
    tx: Transaction,
    rollbackId: string,
    change: RollbackChange,
    audit: { stage: AuditStage; detail: string } | null,
    now: Date,
    options: UpdateOptions,
    leaseId: string | null,
  ): Promise<RollbackRecord | null> {
    const snap = await tx.get(this.ref(rollbackId));
    if (!snap.exists) throw new Error(`rollbacks/${rollbackId} does not exist`);
    const current = parseRecord(rollbackId, snap.data());
    if (leaseId !== null && current.tracking?.lease?.id !== leaseId) return null;
    const at = now.toISOString();
    if (isFinalStage(current.status)) {
      // Final: nothing changes but the schedule (a tracker publishing the outcome, then letting go).
      if (change.tracking === undefined) return current;
      const next: RollbackRecord = { ...current, tracking: change.tracking, updatedAt: at };
      tx.set(this.ref(rollbackId), toFirestoreData(next));
      return next;
    }
    // A change decided on a status another delivery has since moved past does not apply.
    if (options.onlyIfStatus && current.status !== options.onlyIfStatus) return current;
    const guarded = { ...change };
    if (guarded.tracking === undefined) delete guarded.tracking;
    if (guarded.status && progressSequence[guarded.status] < progressSequence[current.status]) delete guarded.status;
    // The first choice wins, as a whole: the release, what it leaves and the rollout to roll back go together.
    if (current.releaseId) delete guarded.releaseId;
    if (current.leaving) {
      delete guarded.leaving;
      delete guarded.rolloutToRollBack;
    }
    let trail = current.audit;
    if (audit) {
      const entry: AuditEntry = { at, ...audit };
      // A rollback resumed again and again (redeliveries, takeovers) would otherwise grow its document to the size limit.
      const repeat = audit.stage === 'resumed' && current.audit.at(-1)?.stage === 'resumed';
      trail = repeat ? current.audit : [...current.audit, entry];
    }
    const next: RollbackRecord = { ...current, ...guarded, audit: trail, updatedAt: at };
    tx.set(this.ref(rollbackId), toFirestoreData(next));
    return next;
  }

  /**
   * Takes the rollback for one check if it is due: the lease is the schedule
   * itself, moved to `now + leaseMs`, so a tracker that dies holding it only
   * delays the rollback until then. Null when it is not due (any more): another
   * tracker claimed it first, or it needs no tracking. A claim that finds an
   * earlier lease (its holder never let go) says so in the audit trail.
   */
  async claim(rollbackId: string, owner: string, now: Date, leaseMs: number): Promise<ClaimedRollback | null> {
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(this.ref(rollbackId));
      if (!snap.exists) return null;
      const current = parseRecord(rollbackId, snap.data());
      const tracking = current.tracking;
      if (!tracking || Date.parse(tracking.dueAt) > now.getTime()) return null;
      const leaseId = randomUUID();
      const at = now.toISOString();
      const audit = current.audit;
      const takeover =
        tracking.lease && !isFinalStage(current.status) && audit.at(-1)?.stage !== 'resumed'
          ? [
              {
                at,
                stage: 'resumed' as const,
                detail: `tracker ${owner} took over in status ${current.status}: ${tracking.lease.owner} did not finish its check (stopped or crashed)`,
              },
            ]
          : [];
      const next: RollbackRecord = {
        ...current,
        audit: [...audit, ...takeover],
        tracking: { ...tracking, dueAt: new Date(now.getTime() + leaseMs).toISOString(), lease: { id: leaseId, owner } },
        updatedAt: at,
      };
      tx.set(this.ref(rollbackId), toFirestoreData(next));
      return { record: next, leaseId };
    });
  }

  /**
   * The rollbacks whose tracking is due at `now` (soonest first, at most
   * `limit`), and when the next one after them is due. One single-field range
   * query on `tracking.dueAt`: records without tracking have no such field and
   * are never read.
   */
  async dueForTracking(now: Date, limit: number): Promise<{ due: string[]; nextDueAt: Date | null }> {
    const snap = await this.db
      .collection(Collections.rollbacks)
      .orderBy('tracking.dueAt')
      .limit(limit + 1)
      .select('tracking.dueAt')
      .get();
    const due: string[] = [];
    let nextDueAt: Date | null = null;
    for (const doc of snap.docs) {
      const dueAt = Date.parse(String(doc.get('tracking.dueAt')));
      if (dueAt <= now.getTime() && due.length < limit) due.push(doc.id);
      else if (dueAt > now.getTime()) {
        nextDueAt = new Date(dueAt);
        break;
      }
    }
    return { due, nextDueAt };
  }

  /**
   * Puts off a record that cannot be read (it no longer fits the schema) until
   * `until`, touching nothing else, so the sweep does not claim it over and over;
   * it stays in the sweep, and is tracked again once someone repairs it.
   */
  async postpone(rollbackId: string, until: Date): Promise<void> {
    await this.ref(rollbackId).update({ 'tracking.dueAt': until.toISOString() });
  }

  /** The rollbacks whose own rollout has this id (one, as the id is derived from the rollback id). */
  async idsByRolloutId(rolloutId: string): Promise<string[]> {
    const snap = await this.db.collection(Collections.rollbacks).where('command.rolloutId', '==', rolloutId).limit(10).select().get();
    return snap.docs.map((d) => d.id);
  }

  /** The rollbacks of this pipeline's target that have not started yet (one may wait for a rollout there to stop). */
  async idsNotStartedOn(pipeline: string, target: string): Promise<string[]> {
    const snap = await this.db
      .collection(Collections.rollbacks)
      .where('command.pipeline', '==', pipeline)
      .where('command.target', '==', target)
      .where('status', '==', 'accepted')
      .limit(10)
      .select()
      .get();
    return snap.docs.map((d) => d.id);
  }

  /**
   * Brings the rollback's next look forward to `now`, as a fresh start of its
   * backoff. False when there is nothing to bring forward: no tracking, already
   * due, or a tracker holding it right now (its look, or the next, sees the change).
   */
  async nudge(rollbackId: string, now: Date): Promise<boolean> {
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(this.ref(rollbackId));
      if (!snap.exists) return false;
      const current = parseRecord(rollbackId, snap.data());
      const tracking = current.tracking;
      if (!tracking || tracking.lease || Date.parse(tracking.dueAt) <= now.getTime()) return false;
      const next: RollbackRecord = { ...current, tracking: { ...tracking, dueAt: now.toISOString(), unchangedChecks: 0 } };
      tx.set(this.ref(rollbackId), toFirestoreData(next));
      return true;
    });
  }

  /**
   * The operator's controls of a command's service and incident (the management
   * API writes them, the decider reads them in its transaction): read, never
   * written, right before the executor acts. A document that no longer fits its
   * schema reads as no control, and is said in the error log by the caller's error.
   */
  async controlsOf(command: Pick<RollbackCommand, 'service' | 'incidentId'>): Promise<{
    pause: ServiceControls['pause'];
    acknowledgement: Acknowledgement | null;
  }> {
    const [controls, ack] = await this.db.getAll(
      this.db.collection(Collections.controls).doc(command.service),
      this.db.collection(Collections.acknowledgements).doc(command.incidentId),
    );
    return {
      pause: controls?.exists ? ServiceControls.parse(controls.data()).pause : null,
      acknowledgement: ack?.exists ? Acknowledgement.parse(ack.data()) : null,
    };
  }

  async get(rollbackId: string): Promise<RollbackRecord | null> {
    const snap = await this.ref(rollbackId).get();
    return snap.exists ? parseRecord(rollbackId, snap.data()) : null;
  }
}

/** The schedule of a rollback the tracker looks at next after `delayMs`, nobody holding it. */
export function trackingDueIn(now: Date, delayMs: number, unchangedChecks = 0): RolloutTracking {
  return { dueAt: new Date(now.getTime() + delayMs).toISOString(), lease: null, unchangedChecks, reportDue: false };
}
