import type { Firestore, Transaction } from '@google-cloud/firestore';
import { Collections, DecisionRecord, IncidentRecord, OutboxEntry, ServiceState } from '@burnback/contracts';
import { toFirestoreData } from '@burnback/platform';
import { initialServiceState } from '@burnback/policy';

/** What the decider reads inside its transaction. */
export interface DecisionSnapshot {
  existing: DecisionRecord | null;
  existingOutbox: OutboxEntry | null;
  state: ServiceState;
  incident: IncidentRecord | null;
}

/** What one decision writes, all or nothing. */
export interface DecisionWrite {
  decision: DecisionRecord;
  state: ServiceState;
  incident: IncidentRecord;
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
    incidentId: string,
    decideFn: (snapshot: DecisionSnapshot) => DecisionWrite | null,
  ): Promise<{ written: DecisionWrite | null; snapshot: DecisionSnapshot }> {
    return this.db.runTransaction(
      async (tx: Transaction) => {
        const decisionRef = this.db.collection(Collections.decisions).doc(decisionId);
        const serviceRef = this.db.collection(Collections.services).doc(service);
        const incidentRef = this.db.collection(Collections.incidents).doc(incidentId);
        const [decisionDoc, serviceDoc, incidentDoc] = await tx.getAll(decisionRef, serviceRef, incidentRef);
        const existing = decisionDoc?.exists ? DecisionRecord.parse(decisionDoc.data()) : null;
        let existingOutbox: OutboxEntry | null = null;
        if (existing?.rollbackId) {
          const outboxDoc = await tx.get(this.db.collection(Collections.outbox).doc(existing.rollbackId));
          existingOutbox = outboxDoc.exists ? OutboxEntry.parse(outboxDoc.data()) : null;
        }
        const state = serviceDoc?.exists ? ServiceState.parse(serviceDoc.data()) : initialServiceState(service);
        const incident = incidentDoc?.exists ? IncidentRecord.parse(incidentDoc.data()) : null;
        const snapshot = { existing, existingOutbox, state, incident };
        const write = decideFn(snapshot);
        if (!write) return { written: null, snapshot };

        tx.create(decisionRef, toFirestoreData(write.decision));
        tx.set(serviceRef, toFirestoreData(write.state));
        tx.set(incidentRef, toFirestoreData(write.incident));
        if (write.outbox) tx.create(this.db.collection(Collections.outbox).doc(write.outbox.id), toFirestoreData(write.outbox));
        return { written: write, snapshot };
      },
      { maxAttempts: 10 },
    );
  }
}
