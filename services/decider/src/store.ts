import { FieldValue, type Firestore, type Transaction } from '@google-cloud/firestore';
import {
  Collections,
  DecisionRecord,
  OutboxEntry,
  ServiceState,
} from '@burnback/contracts';
import { toFirestoreData } from '@burnback/platform';
import { initialServiceState } from '@burnback/policy';

/** What the decider reads inside its transaction. */
export interface DecisionSnapshot {
  existing: DecisionRecord | null;
  existingOutbox: OutboxEntry | null;
  state: ServiceState;
}

/** What one decision writes, all or nothing. */
export interface DecisionWrite {
  decision: DecisionRecord;
  state: ServiceState;
  incident: { incidentId: string; service: string; state: string; startedAt: string; endedAt: string | null; observedAt: string };
  outbox: OutboxEntry | null;
}

/**
 * The decider's Firestore documents. One transaction per event, on
 * `services/{service}`, serialises decisions per service across replicas.
 */
export class DecisionStore {
  constructor(private readonly db: Firestore) {}

  /**
   * Runs `decideFn` in a transaction: reads the decision (dedupe) and the service
   * state, and writes what it returns. Returns what was written, or the
   * existing decision when this event was decided before.
   */
  async decideOnce(
    decisionId: string,
    service: string,
    decideFn: (snapshot: DecisionSnapshot) => DecisionWrite | null,
  ): Promise<{ written: DecisionWrite | null; snapshot: DecisionSnapshot }> {
    return this.db.runTransaction(
      async (tx: Transaction) => {
        const decisionRef = this.db.collection(Collections.decisions).doc(decisionId);
        const serviceRef = this.db.collection(Collections.services).doc(service);
        const [decisionDoc, serviceDoc] = await tx.getAll(decisionRef, serviceRef);
        const existing = decisionDoc?.exists ? DecisionRecord.parse(decisionDoc.data()) : null;
        let existingOutbox: OutboxEntry | null = null;
        if (existing?.rollbackId) {
          const outboxDoc = await tx.get(this.db.collection(Collections.outbox).doc(existing.rollbackId));
          existingOutbox = outboxDoc.exists ? OutboxEntry.parse(outboxDoc.data()) : null;
        }
        const state = serviceDoc?.exists ? ServiceState.parse(serviceDoc.data()) : initialServiceState(service);
        const snapshot = { existing, existingOutbox, state };
        const write = decideFn(snapshot);
        if (!write) return { written: null, snapshot };

        tx.create(decisionRef, toFirestoreData(write.decision));
        tx.set(serviceRef, toFirestoreData(write.state));
        tx.set(
          this.db.collection(Collections.incidents).doc(write.incident.incidentId),
          {
            ...write.incident,
            lastDecisionId: write.decision.decisionId,
            decisionIds: FieldValue.arrayUnion(write.decision.decisionId),
          },
          { merge: true },
        );
        if (write.outbox) tx.create(this.db.collection(Collections.outbox).doc(write.outbox.id), toFirestoreData(write.outbox));
        return { written: write, snapshot };
      },
      { maxAttempts: 10 },
    );
  }
}
