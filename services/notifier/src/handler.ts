import pRetry, { AbortError } from 'p-retry';
import { TransientError, type CloudEvent } from '@burnback/contracts';
import { publishDeadLetter, type Logger, type Metrics, type NotifyDestination, type Publisher } from '@burnback/platform';
import { planDeliveries, RESOLVING_TOPICS, structuredCloudEvent, verdictOf, type PlannedDelivery } from './pure/deliveries.js';
import { noticeOf, type Notice } from './pure/notices.js';
import type { Answer, Sender } from './send.js';
import { DeliveryStatuses, type DeliveryStore } from './store.js';

export interface NotifierHandlerDeps {
  destinations: readonly NotifyDestination[];
  store: DeliveryStore;
  send: Sender;
  publisher: Publisher;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
  /** This process, as the owner of the deliveries it sends. */
  owner: string;
  /** How long a destination that does not answer (or answers 5xx / 429) is retried, counted from the first attempt. */
  retryMs: number;
  /** Backoff between attempts (tests shorten it). */
  backoff?: { minMs: number; maxMs: number };
  /** How long a delivery's lease lasts past each attempt (another process takes it over after). */
  leaseMs?: number;
  /** Aborted on shutdown: a delivery waiting to retry stops and its message is nacked (redelivery resumes it). */
  signal: AbortSignal;
}

const DEFAULT_BACKOFF = { minMs: 1_000, maxMs: 60_000 };
const DEFAULT_LEASE_MS = 120_000;

class GiveUp extends Error {}

/**
 * Handles one decision or rollback-progress event: its notice, if any, goes to
 * every destination that hears of it, each request at most once (deliveries/{id}).
 * A destination that answers 429, 5xx or nothing is retried with backoff until
 * `retryMs` after its first attempt; one that answers another 4xx is not. A request
 * given up is recorded and dead-lettered with the reason; the others go on. The
 * event is acked once every request was delivered or given up.
 */
export function createNotifierHandler(deps: NotifierHandlerDeps): (event: CloudEvent) => Promise<void> {
  const { store, logger, metrics } = deps;
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const window = deps.retryMs >= 60_000 ? `${Math.round(deps.retryMs / 60_000)} min` : `${Math.round(deps.retryMs / 1000)} s`;

  const giveUp = async (destination: NotifyDestination, planned: PlannedDelivery, notice: Notice, last: Answer, why: string) => {
    const at = deps.now();
    await store.failed(planned.id, last.status, last.answer, why, at);
    metrics.notificationsSent.inc({ destination: destination.name, outcome: 'failed' });
    const reason = `delivery ${planned.id} (${planned.action}) to ${destination.name} (${destination.kind}) failed: ${why}`;
    logger.error(reason, {
      event: 'notification_failed',
      destination: destination.name,
      deliveryId: planned.id,
      service: notice.service,
      incidentId: notice.incidentId,
    });
    await publishDeadLetter(
      deps.publisher,
      Buffer.from(structuredCloudEvent(notice)),
      { 'burnback-delivery': planned.id, 'burnback-destination': destination.name },
      reason,
      'notifier',
      at,
    );
  };

  const deliver = async (destination: NotifyDestination, planned: PlannedDelivery, notice: Notice): Promise<void> => {
    const claim = await store.claim(planned, destination.kind, notice, deps.owner, deps.now(), leaseMs);
    if (claim.kind === 'done') {
      metrics.notificationsSent.inc({ destination: destination.name, outcome: 'skipped' });
      return;
    }
    if (claim.kind === 'busy')
      throw new TransientError(`delivery ${planned.id} to ${destination.name} is being sent by ${claim.record.owner}`);
    const firstAttempt = Date.parse(claim.record.firstAttemptAt);
    const deadline = firstAttempt + deps.retryMs;
    let last: Answer = { status: null, answer: null, error: null };
    let attempts = claim.record.attempts;
    try {
      await pRetry(
        async () => {
          if (!(await store.attempt(planned.id, deps.owner, deps.now(), leaseMs)))
            throw new AbortError(new TransientError(`delivery ${planned.id} was taken over by another notifier`));
          attempts += 1;
          last = await deps.send(planned, deps.signal);
          const verdict = verdictOf(last.status);
          if (verdict === 'delivered') return;
          const why = last.status === null ? (last.error ?? 'no answer') : `HTTP ${last.status}${last.answer ? `: ${last.answer}` : ''}`;
          if (verdict === 'refused') throw new AbortError(new GiveUp(`${why} (a 4xx other than 429 is not retried)`));
          await store.retrying(planned.id, last.status, last.answer, why);
          metrics.notificationsSent.inc({ destination: destination.name, outcome: 'retried' });
          logger.warn(`delivery ${planned.id} to ${destination.name}: ${why}; trying again`, {
            event: 'notification_retry',
            destination: destination.name,
            deliveryId: planned.id,
            attempt: attempts,
          });
          if (deps.now().getTime() >= deadline)
            throw new AbortError(new GiveUp(`${why}, still after ${attempts} attempt(s) over ${window}`));
          throw new Error(why);
        },
        {
          retries: Number.POSITIVE_INFINITY,
          factor: 2,
          minTimeout: backoff.minMs,
          maxTimeout: backoff.maxMs,
          randomize: true,
          signal: deps.signal,
        },
      );
    } catch (err) {
      if (err instanceof GiveUp) return giveUp(destination, planned, notice, last, err.message);
      if (deps.signal.aborted) throw new TransientError(`shutting down while delivery ${planned.id} waits to retry`, { cause: err });
      throw err;
    }
    await store.delivered(planned.id, last.status!, last.answer, deps.now());
    metrics.notificationsSent.inc({ destination: destination.name, outcome: 'delivered' });
    logger.info(`${planned.action} delivered to ${destination.name} (${notice.topic} on ${notice.service}, HTTP ${last.status})`, {
      event: 'notification_delivered',
      destination: destination.name,
      deliveryId: planned.id,
      topic: notice.topic,
      service: notice.service,
      incidentId: notice.incidentId,
      decisionId: notice.decisionId,
      attempts,
    });
  };

  /** A destination's requests in order (a trigger before its change event), each destination on its own. */
  const toDestination = async (destination: NotifyDestination, notice: Notice): Promise<void> => {
    const paged =
      destination.kind === 'pagerduty' && RESOLVING_TOPICS.has(notice.topic) && (await store.paged(destination.name, notice.incidentId));
    for (const planned of planDeliveries(destination, notice, paged)) await deliver(destination, planned, notice);
  };

  return async (event) => {
    const notice = noticeOf(event);
    if (notice === null) return;
    const results = await Promise.allSettled(deps.destinations.map((d) => toDestination(d, notice)));
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    // Another destination's delivery is not lost: it is recorded delivered, and skipped when this event comes again.
    if (failed.length > 0)
      throw new TransientError(`${failed.length} destination(s) not done with ${notice.key}: ${failed.map((e) => e.message).join('; ')}`, {
        cause: failed[0],
      });
  };
}

export { DeliveryStatuses };
