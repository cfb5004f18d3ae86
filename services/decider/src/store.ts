import type { Firestore, Transaction } from '@google-cloud/firestore';
import {
  Acknowledgement,
  BREAKER_DOC_ID,
  BreakerRecord,
  Collections,
  DecisionRecord,
  ServiceControls,
  type FleetView,
  type StoredDeployEvent,
  type StoredProgressEvent,
  IncidentRecord,
  OutboxEntry,
  Redecision,
  ServiceState,
  TargetRecord,
  targetDocIdFor,
  type RollbackProgress,
} from '@burnback/contracts';
import { toFirestoreData } from '@burnback/platform';
import { initialServiceState, initialTargetRecord } from '@burnback/policy';
import { createFleetReads } from './fleet-reads.js';
import { releasesBreaker } from './pure/gates.js';

/** Project, region, pipeline and target: which Cloud Deploy target a service rolls back. */
export interface TargetIdentity {
  project: string;
  region: string;
  pipeline: string;
  target: string;
}

/** What the decider reads inside its transaction. */
export interface DecisionSnapshot {
  existing: DecisionRecord | null;
  /** The existing decision's outbox entries (its decision event, and its command if it ordered one). */
  existingOutbox: OutboxEntry[];
  state: ServiceState;
  incident: IncidentRecord | null;
  target: TargetRecord | null;
  /** The operator's controls of the service (its pause), read in the same transaction as the decision. */
  controls: ServiceControls | null;
  /** The incident's acknowledgement, if a human gave one. */
  acknowledgement: Acknowledgement | null;
  /**
   * Reads `fleet/breaker` in the same transaction: only for a decision that would
   * roll back, so a storm serialises on it while ordinary decisions never touch it.
   */
  readBreaker(): Promise<BreakerRecord | null>;
}

/** What one decision writes, all or nothing. */
export interface DecisionWrite {
  decision: DecisionRecord;
  state: ServiceState;
  incident: IncidentRecord;
  /** The target, when the decision changed what is known of it (a burn on its serving release); null = unchanged. */
  target: TargetRecord | null;
  /** The decision event, and the command when the decision orders a rollback. */
  outbox: OutboxEntry[];
  /** The breaker document, when the decision read it (it then records its burn, and its rollback in flight). */
  breaker?: BreakerRecord;
  /** `redecisions/{incidentId}`: when the incident is decided again (its hold lapses), or null: not again (removed). */
  redecision: Redecision | null;
}

/** One decision for a transaction: the documents it reads, and what it decides on them. */
export interface DecisionRequest {
  decisionId: string;
  service: string;
  incidentId: string;
  target: TargetIdentity;
  decideFn: (snapshot: DecisionSnapshot) => Promise<DecisionWrite | null>;
  /** The fleet names (burning services, rollbacks in flight) the decision records: what bounds a group commit's size. */
  fleetNames?: number;
}

/** What one progress event changed. */
export interface ProgressWrite {
  state: ServiceState;
  incident: IncidentRecord | null;
  target: TargetRecord;
  /** The breaker document, when the rollback's end takes it out of flight. */
  breaker?: BreakerRecord | null;
  /** The incident to decide again (its rollback was superseded, or failed); undefined: nothing to schedule. */
  redecision?: Redecision;
}

/**
 * The decider's Firestore documents. One transaction per event, on
 * `services/{service}`, serialises decisions per service across replicas.
 */
export class DecisionStore {
  /** Fleet reads, a few at a time and shared by the decisions waiting for them (fleet-reads.ts). */
  private readonly sharedFleetReads = createFleetReads((now, windowMinutes) => this.queryFleet(now, windowMinutes));

  constructor(
    private readonly db: Firestore,
    /** Counts each attempt of a transaction (a retry after contention counts again). */
    private readonly onAttempt: (transaction: 'decision' | 'progress' | 'target') => void = () => undefined,
  ) {}

  private targetRef(target: TargetIdentity) {
    return this.db.collection(Collections.targets).doc(targetDocIdFor(target));
  }

  /**
   * Runs `decideFn` in a transaction: reads the decision (dedupe), the service
   * state, the incident and the target, and writes what it returns. Returns what
   * was written, or the existing decision when this event was decided before.
   * Outbox entries are created, never overwritten: a second rollback of one
   * incident (same rollback id) fails the transaction instead of being written.
   */
  async decideOnce(
    decisionId: string,
    service: string,
    incidentId: string,
    target: TargetIdentity,
    decideFn: (snapshot: DecisionSnapshot) => Promise<DecisionWrite | null>,
  ): Promise<{ written: DecisionWrite | null; snapshot: DecisionSnapshot }> {
    return this.db.runTransaction(
      async (tx: Transaction) => {
        this.onAttempt('decision');
        const [read] = await this.readDecisions(tx, [{ decisionId, service, incidentId, target }]);
        const breakerRef = this.db.collection(Collections.fleet).doc(BREAKER_DOC_ID);
        const readBreaker = async () => {
          const doc = await tx.get(breakerRef);
          return doc.exists ? BreakerRecord.parse(doc.data()) : null;
        };
        const snapshot: DecisionSnapshot = { ...read!, readBreaker };
        const write = await decideFn(snapshot);
        if (!write) return { written: null, snapshot };
        this.applyDecision(tx, { decisionId, service, incidentId, target }, snapshot.target, write);
        if (write.breaker) tx.set(breakerRef, toFirestoreData(write.breaker));
        return { written: write, snapshot };
      },
      { maxAttempts: 10 },
    );
  }

  /**
   * Several decisions that may each touch the fleet breaker, in one transaction
   * (a group commit): the breaker's document is read once and each decision, in
   * order, sees it as the ones before it in the group left it, exactly as if
   * they had been decided one after the other; all are written, or none. The
   * requests must not share a service, an incident or a target (the caller
   * groups them so): each reads its own documents as they stood before the group.
   */
  async decideGroup(requests: readonly DecisionRequest[]): Promise<Array<{ written: DecisionWrite | null; snapshot: DecisionSnapshot }>> {
    return this.db.runTransaction(
      async (tx: Transaction) => {
        this.onAttempt('decision');
        const breakerRef = this.db.collection(Collections.fleet).doc(BREAKER_DOC_ID);
        const [reads, breakerDoc] = await Promise.all([this.readDecisions(tx, requests), tx.get(breakerRef)]);
        let breaker = breakerDoc.exists ? BreakerRecord.parse(breakerDoc.data()) : null;
        let breakerChanged = false;
        const results: Array<{ written: DecisionWrite | null; snapshot: DecisionSnapshot }> = [];
        for (const [i, request] of requests.entries()) {
          const snapshot: DecisionSnapshot = { ...reads[i]!, readBreaker: async () => breaker };
          const write = await request.decideFn(snapshot);
          if (write) {
            this.applyDecision(tx, request, snapshot.target, write);
            if (write.breaker) {
              breaker = write.breaker;
              breakerChanged = true;
            }
          }
          results.push({ written: write, snapshot });
        }
        if (breakerChanged && breaker) tx.set(breakerRef, toFirestoreData(breaker));
        return results;
      },
      { maxAttempts: 10 },
    );
  }

  /** What each decision reads in its transaction: its record (dedupe) with its outbox, the service, incident, target, controls. */
  private async readDecisions(tx: Transaction, requests: ReadonlyArray<Omit<DecisionRequest, 'decideFn'>>) {
    const refsOf = (r: Omit<DecisionRequest, 'decideFn'>) => [
      this.db.collection(Collections.decisions).doc(r.decisionId),
      this.db.collection(Collections.services).doc(r.service),
      this.db.collection(Collections.incidents).doc(r.incidentId),
      this.targetRef(r.target),
      this.db.collection(Collections.controls).doc(r.service),
      this.db.collection(Collections.acknowledgements).doc(r.incidentId),
    ];
    const docs = await tx.getAll(...requests.flatMap(refsOf));
    return Promise.all(
      requests.map(async (r, i) => {
        const [decisionDoc, serviceDoc, incidentDoc, targetDoc, controlsDoc, ackDoc] = docs.slice(i * 6, i * 6 + 6);
        const existing = decisionDoc?.exists ? DecisionRecord.parse(decisionDoc.data()) : null;
        const existingOutbox: OutboxEntry[] = [];
        if (existing) {
          const ids = [existing.decisionId, ...(existing.rollbackId ? [existing.rollbackId] : [])];
          const outbox = await tx.getAll(...ids.map((id) => this.db.collection(Collections.outbox).doc(id)));
          for (const doc of outbox) if (doc.exists) existingOutbox.push(OutboxEntry.parse(doc.data()));
        }
        return {
          existing,
          existingOutbox,
          state: serviceDoc?.exists ? ServiceState.parse(serviceDoc.data()) : initialServiceState(r.service),
          incident: incidentDoc?.exists ? IncidentRecord.parse(incidentDoc.data()) : null,
          target: targetDoc?.exists ? TargetRecord.parse(targetDoc.data()) : null,
          controls: controlsDoc?.exists ? ServiceControls.parse(controlsDoc.data()) : null,
          acknowledgement: ackDoc?.exists ? Acknowledgement.parse(ackDoc.data()) : null,
        };
      }),
    );
  }

  /** One decision's writes (all but the breaker's document, which the caller writes once). */
  private applyDecision(tx: Transaction, r: Omit<DecisionRequest, 'decideFn'>, targetAsRead: TargetRecord | null, write: DecisionWrite) {
    tx.create(this.db.collection(Collections.decisions).doc(r.decisionId), toFirestoreData(write.decision));
    tx.set(this.db.collection(Collections.services).doc(r.service), toFirestoreData(write.state));
    tx.set(this.db.collection(Collections.incidents).doc(r.incidentId), toFirestoreData(write.incident));
    if (write.target !== null && write.target !== targetAsRead) tx.set(this.targetRef(r.target), toFirestoreData(write.target));
    for (const entry of write.outbox) tx.create(this.db.collection(Collections.outbox).doc(entry.id), toFirestoreData(entry));
    // The incident's schedule follows its latest decision: a new hold that lapses replaces it, anything else ends it.
    const redecisionRef = this.db.collection(Collections.redecisions).doc(r.incidentId);
    if (write.redecision) tx.set(redecisionRef, toFirestoreData(write.redecision));
    else tx.delete(redecisionRef);
  }

  /**
   * A decision on record (a redelivered alert's) with its outbox entries, or null: read outside any transaction,
   * before queueing for one. A decision is never rewritten and its outbox entries only ever gain `sentAt`, so what
   * this reads is what a transaction would: a duplicate needs no transaction (and takes no lock) to be answered.
   */
  async readDecided(decisionId: string): Promise<{ existing: DecisionRecord; existingOutbox: OutboxEntry[] } | null> {
    const doc = await this.db.collection(Collections.decisions).doc(decisionId).get();
    if (!doc.exists) return null;
    const existing = DecisionRecord.parse(doc.data());
    const ids = [existing.decisionId, ...(existing.rollbackId ? [existing.rollbackId] : [])];
    const outbox = await this.db.getAll(...ids.map((id) => this.db.collection(Collections.outbox).doc(id)));
    return { existing, existingOutbox: outbox.filter((d) => d.exists).map((d) => OutboxEntry.parse(d.data())) };
  }

  /**
   * The fleet as the circuit breaker reads it, as of `now`: services whose
   * lastBurnAt is within the window, and services with a rollback ordered in the
   * last hour whose outcome is not known yet. Two range queries over one field
   * each (single-field indexes, no composite index), read outside any
   * transaction: inside one they would lock every service's document.
   */
  readFleet(now: Date, windowMinutes: number): Promise<FleetView> {
    return this.sharedFleetReads(now, windowMinutes);
  }

  private async queryFleet(now: Date, windowMinutes: number): Promise<FleetView> {
    const services = this.db.collection(Collections.services);
    const [burning, inFlight] = await Promise.all([
      services
        .where('lastBurnAt', '>=', new Date(now.getTime() - windowMinutes * 60_000).toISOString())
        .select('service')
        .get(),
      services
        .where('inFlightSince', '>=', new Date(now.getTime() - 3_600_000).toISOString())
        .select('service')
        .get(),
    ]);
    const names = (docs: typeof burning.docs) => docs.map((d) => String(d.get('service'))).sort();
    return { burningServices: names(burning.docs), inFlight: names(inFlight.docs), readAt: now.toISOString() };
  }

  /** `targets/{id}` as it stands, or null when nothing was recorded for the target yet. */
  async readTarget(target: TargetIdentity): Promise<TargetRecord | null> {
    const doc = await this.targetRef(target).get();
    return doc.exists ? TargetRecord.parse(doc.data()) : null;
  }

  /**
   * Updates `targets/{id}` in a transaction (what serves it, from Cloud Deploy's
   * own notifications), and keeps the notifications that asked for the read in
   * `deployEvents/` for export and replay, in the same transaction.
   */
  async updateTarget(
    target: TargetIdentity,
    at: string,
    applyFn: (current: TargetRecord) => TargetRecord,
    received?: { events: ReadonlyArray<Omit<StoredDeployEvent, 'appliedAt'>>; now: () => Date },
  ): Promise<TargetRecord> {
    return this.db.runTransaction(async (tx: Transaction) => {
      this.onAttempt('target');
      const ref = this.targetRef(target);
      const doc = await tx.get(ref);
      const current = doc.exists ? TargetRecord.parse(doc.data()) : initialTargetRecord(target, at);
      const next = applyFn(current);
      if (next !== current) tx.set(ref, toFirestoreData(next));
      const appliedAt = received?.now().toISOString();
      for (const event of received?.events ?? []) {
        const stored: StoredDeployEvent = { ...event, appliedAt };
        tx.set(this.db.collection(Collections.deployEvents).doc(stored.messageId), toFirestoreData(stored));
      }
      return next;
    });
  }

  /**
   * Records one rollback progress event on the service state, the incident and
   * the target, in one transaction on `services/{service}` (serialised with the
   * decisions of that service).
   */
  async recordProgress(
    eventId: string,
    progress: RollbackProgress,
    target: TargetIdentity,
    now: () => Date,
    applyFn: (snapshot: {
      state: ServiceState;
      incident: IncidentRecord | null;
      target: TargetRecord;
      breaker: BreakerRecord | null;
    }) => ProgressWrite,
  ): Promise<ProgressWrite> {
    return this.db.runTransaction(
      async (tx: Transaction) => {
        this.onAttempt('progress');
        const serviceRef = this.db.collection(Collections.services).doc(progress.service);
        const incidentRef = this.db.collection(Collections.incidents).doc(progress.incidentId);
        const targetRef = this.targetRef(target);
        const breakerRef = this.db.collection(Collections.fleet).doc(BREAKER_DOC_ID);
        const commandRef = this.db.collection(Collections.outbox).doc(progress.rollbackId);
        // The breaker's document only when this progress can change it (a real rollback's end): every other stage
        // leaves it unread, so it does not contend with the decisions that count on it.
        const [serviceDoc, incidentDoc, targetDoc, commandDoc] = await tx.getAll(serviceRef, incidentRef, targetRef, commandRef);
        const breakerDoc = releasesBreaker(progress) ? await tx.get(breakerRef) : undefined;
        const state = serviceDoc?.exists ? ServiceState.parse(serviceDoc.data()) : initialServiceState(progress.service);
        const incident = incidentDoc?.exists ? IncidentRecord.parse(incidentDoc.data()) : null;
        const targetRecord = targetDoc?.exists ? TargetRecord.parse(targetDoc.data()) : initialTargetRecord(target, progress.at);
        const breaker = breakerDoc?.exists ? BreakerRecord.parse(breakerDoc.data()) : null;
        const write = applyFn({ state, incident, target: targetRecord, breaker });
        tx.set(serviceRef, toFirestoreData(write.state));
        if (write.incident) tx.set(incidentRef, toFirestoreData(write.incident));
        tx.set(targetRef, toFirestoreData(write.target));
        if (write.breaker && write.breaker !== breaker) tx.set(breakerRef, toFirestoreData(write.breaker));
        // Past accepted, the executor has the command for good (started, or ended): the relay stops sending it.
        // `accepted` alone is not enough: a command whose executor died before `started` is resumed only by its redelivery.
        if (progress.stage !== 'accepted' && commandDoc?.exists && commandDoc.get('confirmedAt') === null)
          tx.update(commandRef, { confirmedAt: progress.at });
        if (write.redecision)
          tx.set(this.db.collection(Collections.redecisions).doc(progress.incidentId), toFirestoreData(write.redecision));
        // As received, for export and replay (a redelivery writes it again, with when it was applied again).
        const stored: StoredProgressEvent = { eventId, progress, appliedAt: now().toISOString() };
        tx.set(this.db.collection(Collections.progressEvents).doc(eventId), toFirestoreData(stored));
        return write;
      },
      { maxAttempts: 10 },
    );
  }
}
