/** Pub/Sub topics every part of Burnback (code and Terraform) agrees on. */
export const Topics = {
  monitoringIncidents: 'monitoring-incidents',
  clouddeployOperations: 'clouddeploy-operations',
  /** Cloud Deploy's approval notifications (Required, Approved, Rejected). */
  clouddeployApprovals: 'clouddeploy-approvals',
  /** The fast lane: alerts that could roll back (an open incident over its bar on a configured service), and humans' requests. */
  alerts: 'burnback-alerts',
  /** The bulk lane: every other alert (closed, below its bar, not a burn), decided without the service's history, in batches. */
  alertsBulk: 'burnback-alerts-bulk',
  commands: 'burnback-commands',
  progress: 'burnback-progress',
  /** Every decision (rollback, hold, escalate, ignore), for paging and chat integrations. */
  decisions: 'burnback-decisions',
  deadLetter: 'burnback-dead-letter',
} as const;
export type TopicName = (typeof Topics)[keyof typeof Topics];

/** Pull subscriptions, each with the topic it reads. */
export const Subscriptions = {
  ingest: { name: 'burnback-ingest', topic: Topics.monitoringIncidents, ordered: false },
  decider: { name: 'burnback-decider', topic: Topics.alerts, ordered: true },
  /** The bulk lane, on its own subscription and flow control, so a backlog of it never delays the fast lane. */
  deciderBulk: { name: 'burnback-decider-bulk', topic: Topics.alertsBulk, ordered: false },
  deciderProgress: { name: 'burnback-decider-progress', topic: Topics.progress, ordered: true },
  deciderDeployEvents: {
    name: 'burnback-decider-deploy-events',
    topic: Topics.clouddeployOperations,
    ordered: false,
  },
  executor: { name: 'burnback-executor', topic: Topics.commands, ordered: true },
  /** Cloud Deploy's operation notifications for the executor: a rollout that ended wakes its tracker at once. */
  executorDeployEvents: {
    name: 'burnback-executor-deploy-events',
    topic: Topics.clouddeployOperations,
    ordered: false,
  },
  /** The notifier: every decision, to page, chat or post it where the config says. */
  notifierDecisions: { name: 'burnback-notifier-decisions', topic: Topics.decisions, ordered: true },
  /** The notifier: rollback progress (started and how it ended), for change events and chat. */
  notifierProgress: { name: 'burnback-notifier-progress', topic: Topics.progress, ordered: true },
} as const;
export type SubscriptionKey = keyof typeof Subscriptions;
export type SubscriptionName = (typeof Subscriptions)[SubscriptionKey]['name'];

/** Firestore collections. */
export const Collections = {
  notifications: 'notifications',
  incidents: 'incidents',
  services: 'services',
  decisions: 'decisions',
  rollbacks: 'rollbacks',
  outbox: 'outbox',
  /** One document per Cloud Deploy target: quarantined releases and the release Burnback returned to. */
  targets: 'targets',
  /** One document per service: operator controls (a pause with its expiry) and their audit trail. */
  controls: 'controls',
  /** One document per incident a human acknowledged: never rolled back automatically afterwards. */
  acknowledgements: 'acknowledgements',
  /**
   * `fleet/breaker`: the fleet circuit breaker's exact count, read and written in
   * the transaction of a decision only when it would roll back (a storm then
   * serialises on it; ordinary decisions never touch it).
   */
  fleet: 'fleet',
  /** Cloud Deploy operation notifications the decider acted on, as received (for export and replay). */
  deployEvents: 'deployEvents',
  /** Rollback progress events the decider recorded, as received (for export and replay). */
  progressEvents: 'progressEvents',
  /**
   * `redecisions/{incidentId}`: an incident to decide again when the cause of its
   * last hold or escalation lapses (a pause ends, a cooldown runs out, Cloud
   * Monitoring answers again), or once its rollback was superseded or failed.
   * Written in the decision's transaction, swept and leased by the decider.
   */
  redecisions: 'redecisions',
  /**
   * `deliveries/{id}`: one per (destination, decision or rollback stage, delivery kind), the
   * notifier's idempotency key: what was sent where, when, and the destination's answer.
   */
  deliveries: 'deliveries',
} as const;

/**
 * The composite indexes Burnback's queries need (an equality on one field
 * ordered by another, or an order on two fields): infra/ creates each, and a
 * test checks the two agree. `__name__` is the document id.
 */
export const FirestoreIndexes = [
  // The outbox relay: unsent entries oldest first; commands sent but not yet confirmed, oldest send first.
  {
    name: 'outbox_unsent',
    collection: Collections.outbox,
    fields: [
      ['sentAt', 'ASCENDING'],
      ['createdAt', 'ASCENDING'],
    ],
  },
  {
    name: 'outbox_unconfirmed',
    collection: Collections.outbox,
    fields: [
      ['confirmedAt', 'ASCENDING'],
      ['sentAt', 'ASCENDING'],
    ],
  },
  // GET /rollback/recent?service=…: one service's decisions newest first, a page at a time.
  {
    name: 'decisions_by_service',
    collection: Collections.decisions,
    fields: [
      ['service', 'ASCENDING'],
      ['decidedAt', 'DESCENDING'],
      ['__name__', 'DESCENDING'],
    ],
  },
  // The notifier's sweep: deliveries still being sent whose next attempt is due, oldest first.
  {
    name: 'deliveries_due',
    collection: Collections.deliveries,
    fields: [
      ['status', 'ASCENDING'],
      ['nextAttemptAt', 'ASCENDING'],
    ],
  },
] as const satisfies ReadonlyArray<{
  name: string;
  collection: string;
  fields: ReadonlyArray<readonly [string, 'ASCENDING' | 'DESCENDING']>;
}>;
export type CollectionName = (typeof Collections)[keyof typeof Collections];

/** CloudEvents `type` of each Burnback event. */
export const EventTypes = {
  alert: 'dev.burnback.alert.v1',
  rollbackCommand: 'dev.burnback.rollback.command.v1',
  /**
   * A validate-only rollback (mode recommend): the same data as a command, under a
   * type of its own, so an executor that predates it dead-letters it instead of
   * reading it as a real rollback.
   */
  rollbackValidate: 'dev.burnback.rollback.validate.v1',
  rollbackProgress: 'dev.burnback.rollback.progress.v1',
  decision: 'dev.burnback.decision.v1',
} as const;
export type EventType = (typeof EventTypes)[keyof typeof EventTypes];

/** Attribute names Burnback sets on dead-lettered messages. */
export const DeadLetterAttributes = {
  reason: 'burnback-dead-letter-reason',
  source: 'burnback-dead-letter-source',
  at: 'burnback-dead-letter-at',
} as const;

/**
 * User labels on a Cloud Monitoring alert policy that name what Burnback should
 * roll back (they override the resource-label mapping in the config).
 */
export const PolicyUserLabels = {
  service: 'burnback-service',
  pipeline: 'burnback-pipeline',
  target: 'burnback-target',
  /** `fast` or `slow`: which burn-rate alerting policy this is (services/ingest/README.md). */
  burnPolicy: 'burnback-burn-policy',
} as const;
