import type { Firestore } from '@google-cloud/firestore';
import { Collections, type NotifyKind } from '@burnback/contracts';
import type { DeliveryAction, PlannedDelivery } from './pure/deliveries.js';
import type { Notice } from './pure/notices.js';

export const DeliveryStatuses = { sending: 'sending', delivered: 'delivered', failed: 'failed' } as const;
export type DeliveryStatus = (typeof DeliveryStatuses)[keyof typeof DeliveryStatuses];

/**
 * `deliveries/{id}`: one request to one destination, made once. Holds the event it
 * came from (a CloudEvent: no secret), so a later attempt plans the same request again;
 * never the destination's URL, routing key, secret or the request body.
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
  /** While `sending`: when the next attempt is due (the sweep takes it then). */
  nextAttemptAt: string;
  /** The process attempting it now, and until when the others leave it alone. */
  owner: string;
  leaseUntil: string;
  /** The destination's last HTTP status (null: no answer), and the start of what it said (secrets removed). */
  responseStatus: number | null;
  answer: string | null;
  lastError: string | null;
  deliveredAt: string | null;
  failedAt: string | null;
  /** The CloudEvent (JSON) the delivery is of. */
  event: string;
}

export type Claim = { kind: 'claimed'; record: DeliveryRecord } | { kind: 'done' | 'busy'; record: DeliveryRecord };

export class DeliveryStore {
  constructor(private readonly db: Firestore) {}

  private ref(id: string) {
    return this.db.collection(Collections.deliveries).doc(id);
  }

  /**
   * Takes a delivery to attempt now: `done` when it was delivered or given up already
   * (a redelivered event), `busy` while an attempt holds its lease or its next attempt
   * is not due yet (the sweep will make it), else `claimed` (created now, or due and
   * free: a failed attempt gave its lease back, or the process attempting it died).
   */
  async claim(planned: PlannedDelivery, kind: NotifyKind, notice: Notice, owner: string, now: Date, leaseMs: number): Promise<Claim> {
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(this.ref(planned.id));
      const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
      if (snap.exists) {
        const record = snap.data() as DeliveryRecord;
        if (record.status !== DeliveryStatuses.sending) return { kind: 'done', record };
        // Being attempted (by this process or another), or not due yet: whoever holds it, or the sweep later, sends it.
        if (Date.parse(record.leaseUntil) > now.getTime() || Date.parse(record.nextAttemptAt) > now.getTime())
          return { kind: 'busy', record };
        tx.update(this.ref(planned.id), { owner, leaseUntil, nextAttemptAt: leaseUntil });
        return { kind: 'claimed', record: { ...record, owner, leaseUntil, nextAttemptAt: leaseUntil } };
      }
      const at = now.toISOString();
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
        firstAttemptAt: at,
        lastAttemptAt: at,
        // Due again only if this attempt dies with its process: the lease's end.
        nextAttemptAt: leaseUntil,
        owner,
        leaseUntil,
        responseStatus: null,
        answer: null,
        lastError: null,
        deliveredAt: null,
        failedAt: null,
        event: JSON.stringify(notice.event),
      };
      tx.create(this.ref(planned.id), record);
      return { kind: 'claimed', record };
    });
  }

  /** Before an attempt: counts it. */
  async attempt(id: string, attempts: number, now: Date): Promise<void> {
    await this.ref(id).update({ attempts, lastAttemptAt: now.toISOString() });
  }

  /** An attempt that will be made again at `next`: what went wrong, and the lease given back so any process can take it then. */
  async retryAt(id: string, next: Date, responseStatus: number | null, answer: string | null, error: string | null): Promise<void> {
    await this.ref(id).update({
      nextAttemptAt: next.toISOString(),
      leaseUntil: new Date(0).toISOString(),
      responseStatus,
      answer,
      lastError: error,
    });
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

  /** The deliveries whose next attempt is due, oldest first (composite index deliveries_due). */
  async due(now: Date, limit: number): Promise<DeliveryRecord[]> {
    const snap = await this.db
      .collection(Collections.deliveries)
      .where('status', '==', DeliveryStatuses.sending)
      .where('nextAttemptAt', '<=', now.toISOString())
      .orderBy('nextAttemptAt')
      .limit(limit)
      .get();
    return snap.docs.map((d) => d.data() as DeliveryRecord);
  }

  /**
   * Whether `destination` raised, or is still raising, a PagerDuty alert for the
   * incident: a trigger delivered or still being sent. Only then does it resolve it.
   */
  async triggers(destination: string, incidentId: string): Promise<{ delivered: boolean; sending: boolean }> {
    // Equality filters only: Firestore serves them from its single-field indexes, no composite index needed.
    const snap = await this.db
      .collection(Collections.deliveries)
      .where('destination', '==', destination)
      .where('incidentId', '==', incidentId)
      .where('action', '==', 'trigger')
      .get();
    const statuses = snap.docs.map((d) => (d.data() as DeliveryRecord).status);
    return { delivered: statuses.includes(DeliveryStatuses.delivered), sending: statuses.includes(DeliveryStatuses.sending) };
  }

  async get(id: string): Promise<DeliveryRecord | null> {
    const snap = await this.ref(id).get();
    return snap.exists ? (snap.data() as DeliveryRecord) : null;
  }
}
