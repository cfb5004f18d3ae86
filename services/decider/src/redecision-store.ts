import { randomUUID } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import { Collections, PermanentError, Redecision } from '@burnback/contracts';
import { toFirestoreData } from '@burnback/platform';

/** A stored schedule that no longer fits its schema will not fit on a retry either. */
function parse(incidentId: string, data: unknown): Redecision {
  const parsed = Redecision.safeParse(data);
  if (!parsed.success)
    throw new PermanentError(`redecisions/${incidentId} does not fit the Redecision schema: ${parsed.error.message}`, {
      cause: parsed.error,
    });
  return parsed.data;
}

/**
 * `redecisions/{incidentId}`: the incidents to decide again, shared by every
 * decider through `dueAt` (one single-field index, ascending) and a lease, as the
 * executor's tracker shares rollbacks. A decision's own transaction writes and
 * removes them (store.ts); this is the sweep's side.
 */
export class RedecisionStore {
  constructor(private readonly db: Firestore) {}

  private ref(incidentId: string) {
    return this.db.collection(Collections.redecisions).doc(incidentId);
  }

  /** The incidents due at `now`, soonest first (at most `limit`), and when the next one after them is due. */
  async due(now: Date, limit: number): Promise<{ due: string[]; nextDueAt: Date | null }> {
    const snap = await this.db
      .collection(Collections.redecisions)
      .orderBy('dueAt')
      .limit(limit + 1)
      .select('dueAt')
      .get();
    const due: string[] = [];
    let nextDueAt: Date | null = null;
    for (const doc of snap.docs) {
      const dueAt = Date.parse(String(doc.get('dueAt')));
      if (dueAt <= now.getTime() && due.length < limit) due.push(doc.id);
      else if (dueAt > now.getTime()) {
        nextDueAt = new Date(dueAt);
        break;
      }
    }
    return { due, nextDueAt };
  }

  /**
   * Takes the incident for one attempt if it is due (ignoring `dueAt` with
   * `force`: the replay's redecideNow): the lease is the schedule itself, moved
   * to `now + leaseMs`, so a decider that dies holding it only delays it.
   */
  async claim(
    incidentId: string,
    owner: string,
    now: Date,
    leaseMs: number,
    force = false,
  ): Promise<{ redecision: Redecision; leaseId: string } | null> {
    return this.db.runTransaction(async (tx) => {
      const doc = await tx.get(this.ref(incidentId));
      if (!doc.exists) return null;
      const current = parse(incidentId, doc.data());
      if (!force && Date.parse(current.dueAt) > now.getTime()) return null;
      const leaseId = randomUUID();
      const next: Redecision = {
        ...current,
        dueAt: new Date(now.getTime() + leaseMs).toISOString(),
        lease: { id: leaseId, owner },
        updatedAt: now.toISOString(),
      };
      tx.set(this.ref(incidentId), toFirestoreData(next));
      return { redecision: next, leaseId };
    });
  }

  /** Removes the schedule if `leaseId` still holds it (a newer decision may have replaced it meanwhile). */
  async drop(incidentId: string, leaseId: string): Promise<boolean> {
    return this.db.runTransaction(async (tx) => {
      const doc = await tx.get(this.ref(incidentId));
      if (!doc.exists || parse(incidentId, doc.data()).lease?.id !== leaseId) return false;
      tx.delete(this.ref(incidentId));
      return true;
    });
  }

  /** An attempt failed: the next one at `dueAt`, if `leaseId` still holds it. */
  async retryAt(incidentId: string, leaseId: string, dueAt: Date, now: Date): Promise<boolean> {
    return this.db.runTransaction(async (tx) => {
      const doc = await tx.get(this.ref(incidentId));
      if (!doc.exists) return false;
      const current = parse(incidentId, doc.data());
      if (current.lease?.id !== leaseId) return false;
      tx.set(
        this.ref(incidentId),
        toFirestoreData({
          ...current,
          dueAt: dueAt.toISOString(),
          lease: null,
          attempts: current.attempts + 1,
          updatedAt: now.toISOString(),
        }),
      );
      return true;
    });
  }

  /** Lets go at once (shutdown): due now, so another decider takes it without waiting for the lease. */
  async release(incidentId: string, leaseId: string, now: Date): Promise<void> {
    await this.db.runTransaction(async (tx) => {
      const doc = await tx.get(this.ref(incidentId));
      if (!doc.exists) return;
      const current = parse(incidentId, doc.data());
      if (current.lease?.id !== leaseId) return;
      tx.set(this.ref(incidentId), toFirestoreData({ ...current, dueAt: now.toISOString(), lease: null, updatedAt: now.toISOString() }));
    });
  }

  /** Puts off a schedule that cannot be read until `until`, so the sweep does not claim it over and over. */
  async postpone(incidentId: string, until: Date): Promise<void> {
    await this.ref(incidentId).update({ dueAt: until.toISOString() });
  }

  async get(incidentId: string): Promise<Redecision | null> {
    const doc = await this.ref(incidentId).get();
    return doc.exists ? parse(incidentId, doc.data()) : null;
  }
}
