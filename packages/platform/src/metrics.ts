import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one process (prom-client: the standard exposition
 * format and process metrics, rather than hand-written text).
 */
export interface Metrics {
  registry: Registry;
  messages: Counter<'subscription' | 'outcome'>;
  decisions: Counter<'service' | 'action'>;
  rollbackProgress: Counter<'service' | 'stage'>;
  /** Notifications the front door took, by source (webhook, pubsub). */
  notificationsAccepted: Counter<'source'>;
  /** Requests the front door refused, by source and a reason from a fixed set (bounded cardinality; never free text). */
  notificationsRejected: Counter<'source' | 'reason'>;
  /**
   * Valid notifications that map to no configured service (another project's alert), by the project they name:
   * acknowledged, never dead-lettered. The project label is bounded (see ingest's handler).
   */
  notificationsUnmapped: Counter<'project'>;
  /**
   * Attempts of Firestore transactions, by transaction kind (decision, progress, target): more attempts than
   * transactions means contention, each retry costing the client's backoff (a second or more).
   */
  transactionAttempts: Counter<'transaction'>;
  /**
   * The notifier's deliveries, by destination (a configured name: bounded) and outcome: delivered, retried (one
   * failed attempt that will be tried again), failed (given up: dead-lettered), skipped (already delivered).
   */
  notificationsSent: Counter<'destination' | 'outcome'>;
  /**
   * How long a message waited before its handler started, by subscription and stage: `delivery` from its publish
   * to the client's receipt (Pub/Sub, the stream; a redelivery counts its earlier attempts), `queue` from the
   * receipt to its handler's start (the worker: flow control, a key's earlier message, a busy event loop; a
   * message nacked behind an earlier one of its key has no queue wait). Says where a late alert waited.
   */
  messageWait: Histogram<'subscription' | 'stage'>;
}

export function createMetrics(component: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry });
  const messages = new Counter({
    name: 'burnback_messages_total',
    help: 'Pub/Sub messages settled, by subscription and outcome (ack, nack, dead-letter).',
    labelNames: ['subscription', 'outcome'] as const,
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'burnback_decisions_total',
    help: 'Decisions made, by service and action (rollback, hold, escalate, ignore).',
    labelNames: ['service', 'action'] as const,
    registers: [registry],
  });
  const rollbackProgress = new Counter({
    name: 'burnback_rollback_progress_total',
    help: 'Rollback progress events published, by service and stage.',
    labelNames: ['service', 'stage'] as const,
    registers: [registry],
  });
  const notificationsAccepted = new Counter({
    name: 'burnback_notifications_accepted_total',
    help: 'Notifications accepted by the HTTP front door, by source (webhook, pubsub).',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  const notificationsRejected = new Counter({
    name: 'burnback_notifications_rejected_total',
    help: 'Requests refused by the HTTP front door, by source and reason (a fixed set: unauthenticated, forbidden, too-large, invalid-json, ...).',
    labelNames: ['source', 'reason'] as const,
    registers: [registry],
  });
  const notificationsUnmapped = new Counter({
    name: 'burnback_notifications_unmapped_total',
    help: 'Valid notifications that map to no configured service, by the project they name (acknowledged, never dead-lettered).',
    labelNames: ['project'] as const,
    registers: [registry],
  });
  const transactionAttempts = new Counter({
    name: 'burnback_transaction_attempts_total',
    help: 'Attempts of Firestore transactions, by kind (decision, progress, target); above the number of transactions means contention and retries.',
    labelNames: ['transaction'] as const,
    registers: [registry],
  });
  const notificationsSent = new Counter({
    name: 'burnback_notifications_sent_total',
    help: "The notifier's deliveries, by destination and outcome (delivered, retried, failed, skipped).",
    labelNames: ['destination', 'outcome'] as const,
    registers: [registry],
  });
  const messageWait = new Histogram({
    name: 'burnback_message_wait_seconds',
    help: 'How long a message waited before its handler started, by subscription and stage (delivery: publish to receipt; queue: receipt to handler).',
    labelNames: ['subscription', 'stage'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80],
    registers: [registry],
  });
  return {
    registry,
    notificationsSent,
    messageWait,
    messages,
    decisions,
    rollbackProgress,
    notificationsAccepted,
    notificationsRejected,
    notificationsUnmapped,
    transactionAttempts,
  };
}
