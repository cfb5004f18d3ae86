import type { Firestore } from '@google-cloud/firestore';
import {
  Collections,
  PermanentError,
  RollbackRecord,
  type AuditEntry,
  type AuditStage,
  type ProgressStage,
  type RollbackCommand,
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

/** The executor's Firestore documents: `rollbacks/{rollbackId}`, the state machine and its audit trail. */
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
      };
      tx.create(this.ref(command.rollbackId), toFirestoreData(record));
      return { record, created: true };
    });
  }

  /**
   * Applies a change and appends an audit line, atomically, and never backwards:
   * a terminal record is final, a status never regresses, and the releases, once
   * chosen, are kept (a concurrent delivery's different choice is ignored).
   */
  async update(
    rollbackId: string,
    change: Partial<
      Pick<RollbackRecord, 'status' | 'releaseId' | 'leaving' | 'rolloutToRollBack' | 'rolloutName' | 'rolloutState' | 'failureReason'>
    >,
    audit: { stage: AuditStage; detail: string },
    now: Date,
    options: { onlyIfStatus?: ProgressStage } = {},
  ): Promise<RollbackRecord> {
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(this.ref(rollbackId));
      if (!snap.exists) throw new Error(`rollbacks/${rollbackId} does not exist`);
      const current = parseRecord(rollbackId, snap.data());
      if (isFinalStage(current.status)) return current;
      // A change decided on a status another delivery has since moved past does not apply.
      if (options.onlyIfStatus && current.status !== options.onlyIfStatus) return current;
      const guarded = { ...change };
      if (guarded.status && progressSequence[guarded.status] < progressSequence[current.status]) delete guarded.status;
      // The first choice wins, as a whole: the release, what it leaves and the rollout to roll back go together.
      if (current.releaseId) delete guarded.releaseId;
      if (current.leaving) {
        delete guarded.leaving;
        delete guarded.rolloutToRollBack;
      }
      const entry: AuditEntry = { at: now.toISOString(), ...audit };
      // Re-deliveries of a long rollout would otherwise add a 'resumed' line every cycle, until the document hits its size limit.
      const repeat = audit.stage === 'resumed' && current.audit.at(-1)?.stage === 'resumed';
      const next: RollbackRecord = {
        ...current,
        ...guarded,
        audit: repeat ? current.audit : [...current.audit, entry],
        updatedAt: entry.at,
      };
      tx.set(this.ref(rollbackId), toFirestoreData(next));
      return next;
    });
  }

  async get(rollbackId: string): Promise<RollbackRecord | null> {
    const snap = await this.ref(rollbackId).get();
    return snap.exists ? parseRecord(rollbackId, snap.data()) : null;
  }
}
