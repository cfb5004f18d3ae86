import type { Firestore, Transaction } from '@google-cloud/firestore';
import { Collections } from '@burnback/contracts';
import type { NotifyKind } from '@burnback/platform';
import type { DeliveryAction, PlannedDelivery } from './pure/deliveries.js';
import type { Notice } from './pure/notices.js';

export const DeliveryStatuses = { sending: 'sending', delivered: 'delivered', failed: 'failed' } as const;
export type DeliveryStatus = (typeof DeliveryStatuses)[keyof typeof DeliveryStatuses];

/**
 * `deliveries/{id}`: one request to one destination, made once. Never holds the
 * destination's URL, routing key, secret or the request body (they may hold secrets).
 */
export interface DeliveryRecord {
  id: string;
  destination: string;
  kind: NotifyKind;
  action: DeliveryAction;
  /** The notice's key (decision id, or rollback id/stage) and topic. */
  key: string;
  topic: string;
  service: string;
  incidentId: string;
  decisionId: string;
  rollbackId: string | null;
  status: DeliveryStatus;
  attempts: number;
  firstAttemptAt: string;
  lastAttemptAt: string;
  /** The process sending it, and until when the others leave it alone (renewed at every attempt). */
  owner: string;
  leaseUntil: string;
  /** The destination's last HTTP status (null: no answer), and the start of what it said. */
  responseStatus: number | null;
  answer: string | null;
  lastError: string | null;
  deliveredAt: string | null;
  failedAt: string | null;
}

export type Claim =
  { kind: 'claimed'; record: DeliveryRecord } | { kind: 'done'; record: DeliveryRecord } | { kind: 'busy'; record: DeliveryRecord };

export class DeliveryStore {
  constructor(private readonly db: Firestore) {}

  private ref(id: string) {
    return this.db.collection(Collections.deliveries).doc(id);
  }

  /**
   * Takes a delivery to send: `done` when it was delivered or given up already (a
   * redelivered event), `busy` while another process holds its lease, else `claimed`
   * (created, or taken over from a lease that ran out: that process died mid-send).
   */
  async claim(planned: PlannedDelivery, kind: NotifyKind, notice: Notice, owner: string, now: Date, leaseMs: number): Promise<Claim> {
    return this.db.runTransaction(async (tx: Transaction) => {
      const snap = await tx.get(this.ref(planned.id));
      const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
      if (snap.exists) {
        const record = snap.data() as DeliveryRecord;
        if (record.status !== DeliveryStatuses.sending) return { kind: 'done', record };
        if (record.owner !== owner && Date.parse(record.leaseUntil) > now.getTime()) return { kind: 'busy', record };
        const taken = { ...record, owner, leaseUntil };
        tx.update(this.ref(planned.id), { owner, leaseUntil });
        return { kind: 'claimed', record: taken };
      }
      const record: DeliveryRecord = {
        id: planned.id,
        destination: planned.destination,
        kind,
        action: planned.action,
        key: notice.key,
        topic: notice.topic,
        service: notice.service,
        incidentId: notice.incidentId,
        decisionId: notice.decisionId,
        rollbackId: notice.rollbackId,
        status: DeliveryStatuses.sending,
        attempts: 0,
        firstAttemptAt: now.toISOString(),
        lastAttemptAt: now.toISOString(),
        owner,
        leaseUntil,
        responseStatus: null,
        answer: null,
        lastError: null,
        deliveredAt: null,
        failedAt: null,
      };
      tx.create(this.ref(planned.id), record);
      return { kind: 'claimed', record };
    });
  }

  /** Before an attempt: counts it and renews the lease; false when another process took the delivery over meanwhile. */
  async attempt(id: string, owner: string, now: Date, leaseMs: number): Promise<boolean> {
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(this.ref(id));
      const record = snap.data() as DeliveryRecord | undefined;
      if (!record || record.status !== DeliveryStatuses.sending || record.owner !== owner) return false;
      tx.update(this.ref(id), {
        attempts: record.attempts + 1,
        lastAttemptAt: now.toISOString(),
        leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
      });
      return true;
    });
  }

  /** An attempt that will be tried again: what went wrong, for `burnback` readers and the dead letter. */
  async retrying(id: string, responseStatus: number | null, answer: string | null, error: string): Promise<void> {
    await this.ref(id).update({ responseStatus, answer, lastError: error });
  }

  async delivered(id: string, responseStatus: number, answer: string | null, now: Date): Promise<void> {
    await this.ref(id).update({
      status: DeliveryStatuses.delivered,
      responseStatus,
      answer,
      lastError: null,
      deliveredAt: now.toISOString(),
    });
  }

  async failed(id: string, responseStatus: number | null, answer: string | null, error: string, now: Date): Promise<void> {
    await this.ref(id).update({ status: DeliveryStatuses.failed, responseStatus, answer, lastError: error, failedAt: now.toISOString() });
  }

  /** Whether `destination` raised a PagerDuty alert for the incident (a delivered trigger): only then does it resolve it. */
  async paged(destination: string, incidentId: string): Promise<boolean> {
    // Equality filters only: Firestore serves them from its single-field indexes, no composite index needed.
    const snap = await this.db
      .collection(Collections.deliveries)
      .where('destination', '==', destination)
      .where('incidentId', '==', incidentId)
      .where('action', '==', 'trigger')
      .where('status', '==', DeliveryStatuses.delivered)
      .limit(1)
      .get();
    return !snap.empty;
  }

  async get(id: string): Promise<DeliveryRecord | null> {
    const snap = await this.ref(id).get();
    return snap.exists ? (snap.data() as DeliveryRecord) : null;
  }
}
