/**
 * The bulk lane's plan for a batch of alerts (docs/architecture.md, "The storm
 * lane"): which are duplicates, which the fast lane's transaction must decide,
 * and, per incident, the decisions policy's decideBulk makes and the documents
 * they write. Pure: the caller reads the decisions and incidents first and
 * writes the plan in one batch, conditional on each incident as read.
 */
import {
  EVIDENCE_VERSION,
  EventTypes,
  Topics,
  policyHashOf,
  type AlertEvent,
  type DecisionEvent,
  type DecisionRecord,
  type IncidentRecord,
  type OutboxEntry,
  type PolicySettings,
} from '@burnback/contracts';
import { applyIncident, decideBulk } from '@burnback/policy';

export interface BulkItem {
  alert: AlertEvent;
  /** The CloudEvent id ingest published the alert under. */
  alertEventId: string;
  /** decisionIdFor(...) of the alert: a redelivery has the same one. */
  decisionId: string;
}

/** What a bulk decision needs of its service's configuration. */
export interface BulkService {
  policy: PolicySettings;
  target: { project: string; region: string; pipeline: string; target: string };
}

/** One incident's bulk decisions, in the order their alerts came, and the incident after them. */
export interface BulkGroup {
  incidentId: string;
  /** The incident as read (null: none on record); the batch writes only if it is still so. */
  before: IncidentRecord | null;
  after: IncidentRecord;
  /**
   * Each decision and its decision event, in the shape of an outbox entry (eventOfOutboxEntry publishes it): the
   * bulk lane writes no outbox entry, it publishes the event after the batch commits and acks the alert only then.
   */
  decisions: Array<{ item: BulkItem; record: DecisionRecord; event: OutboxEntry }>;
}

export interface BulkPlan {
  /** Already decided (on record, or earlier in this batch): the fast lane's path republishes what is unsent. */
  duplicates: BulkItem[];
  /** Decided by the fast lane's transaction: not bulk-lane alerts, or on an incident one of those is decided on. */
  full: BulkItem[];
  groups: BulkGroup[];
}

/**
 * Plans a batch. `decided` holds the decision ids on record, `incidents` each
 * incident as read (absent key: not read, null: none on record), `serviceOf`
 * the configured service (undefined: not configured, which the fast lane's
 * path refuses with its reason).
 */
export function planBulk(
  items: readonly BulkItem[],
  decided: ReadonlySet<string>,
  incidents: ReadonlyMap<string, IncidentRecord | null>,
  serviceOf: (service: string) => BulkService | undefined,
  at: { evaluatedAt: string; createdAt: string },
): BulkPlan {
  const plan: BulkPlan = { duplicates: [], full: [], groups: [] };
  const seen = new Set<string>();
  const byIncident = new Map<string, BulkItem[]>();
  for (const item of items) {
    if (decided.has(item.decisionId) || seen.has(item.decisionId)) {
      plan.duplicates.push(item);
      continue;
    }
    seen.add(item.decisionId);
    byIncident.set(item.alert.incidentId, [...(byIncident.get(item.alert.incidentId) ?? []), item]);
  }
  for (const [incidentId, its] of byIncident) {
    const group = planIncident(incidentId, its, incidents.get(incidentId), serviceOf, at);
    if (group === null) plan.full.push(...its);
    else plan.groups.push(group);
  }
  return plan;
}

/** One incident's decisions, each on the incident as the one before it left it; null when any needs the fast lane. */
function planIncident(
  incidentId: string,
  items: readonly BulkItem[],
  read: IncidentRecord | null | undefined,
  serviceOf: (service: string) => BulkService | undefined,
  at: { evaluatedAt: string; createdAt: string },
): BulkGroup | null {
  if (read === undefined) return null;
  let incident = read;
  const decisions: BulkGroup['decisions'] = [];
  for (const item of items) {
    const service = serviceOf(item.alert.service);
    const decision = service ? decideBulk(item.alert, service.policy, incident, at.evaluatedAt) : null;
    if (service === undefined || decision === null) return null;
    const record = bulkRecord(item, decision, service, incident, at.evaluatedAt);
    decisions.push({ item, record, event: decisionOutboxEntry(item.alert.state, record, at.createdAt) });
    incident = applyIncident(incident, item.alert, decision, item.decisionId, null, null);
  }
  return { incidentId, before: read, after: incident!, decisions };
}

function bulkRecord(
  item: BulkItem,
  decision: NonNullable<ReturnType<typeof decideBulk>>,
  service: BulkService,
  incident: IncidentRecord | null,
  evaluatedAt: string,
): DecisionRecord {
  const { alert } = item;
  return {
    decisionId: item.decisionId,
    incidentId: alert.incidentId,
    service: alert.service,
    incidentState: alert.state,
    action: decision.action,
    reason: decision.reason,
    verdicts: decision.verdicts,
    decidedAt: decision.decidedAt,
    alertEventId: item.alertEventId,
    rollbackId: null,
    target: service.target,
    confidence: null,
    cause: null,
    monitoring: null,
    controls: { pause: null, acknowledgement: null, evaluatedAt },
    fleet: null,
    evidence: {
      version: EVIDENCE_VERSION,
      alert,
      notificationId: alert.notificationId,
      policy: service.policy,
      policyHash: policyHashOf(service.policy),
      state: null,
      incident,
      target: null,
      lane: 'bulk',
    },
    redecisionOf: null,
    redecideAt: null,
    approvableUntil: null,
  };
}

/**
 * The decision event a bulk-lane decision on record goes out as, or null for any other decision. The bulk lane
 * keeps no outbox entry (its alert's redelivery is what sends an event that did not go out), so a redelivery found
 * already decided publishes this again: at least once, and consumers go by the event's id.
 */
export function bulkDecisionEvent(record: DecisionRecord): OutboxEntry | null {
  if (record.evidence?.lane !== 'bulk' || (record.incidentState !== 'open' && record.incidentState !== 'closed')) return null;
  return decisionOutboxEntry(record.incidentState, record, record.decidedAt);
}

/** The decision event of a decision, as the outbox keeps it until it is published (both lanes build it here). */
export function decisionOutboxEntry(incidentState: AlertEvent['state'], record: DecisionRecord, createdAt: string): OutboxEntry {
  const event: DecisionEvent = {
    decisionId: record.decisionId,
    incidentId: record.incidentId,
    service: record.service,
    action: record.action,
    reason: record.reason,
    verdicts: record.verdicts,
    decidedAt: record.decidedAt,
    rollbackId: record.rollbackId,
    target: record.target,
    confidence: record.confidence,
    cause: record.cause,
    redecisionOf: record.redecisionOf,
    redecideAt: record.redecideAt,
    incidentState,
    // A recommendation says until when it may be approved (approvalHowTo says how, for chat).
    ...(record.approvableUntil ? { approvableUntil: record.approvableUntil } : {}),
  };
  return {
    id: record.decisionId,
    topic: Topics.decisions,
    orderingKey: record.service,
    eventType: EventTypes.decision,
    eventId: record.decisionId,
    subject: `services/${record.service}/decisions/${record.decisionId}`,
    time: record.decidedAt,
    data: event,
    createdAt,
    sentAt: null,
    attempts: 0,
  };
}
