import { TransientError, type CloudEvent, type NotifyDestination } from '@burnback/contracts';
import { publishDeadLetter, type Logger, type Metrics, type Publisher } from '@burnback/platform';
import { planDeliveries, RESOLVING_TOPICS, structuredCloudEvent, verdictOf, type PlannedDelivery } from './pure/deliveries.js';
import { noticeOf, type Notice } from './pure/notices.js';
import { backoffMs, cleanAnswer } from './pure/retries.js';
import type { Answer, Sender } from './send.js';
import { type DeliveryRecord, type DeliveryStore } from './store.js';

export interface NotifierHandlerDeps {
  destinations: readonly NotifyDestination[];
  store: DeliveryStore;
  send: Sender;
  publisher: Publisher;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
  /** This process, as the owner of the deliveries it attempts. */
  owner: string;
  /** How long a destination that does not answer (or answers 5xx / 429) is retried, counted from the first attempt. */
  retryMs: number;
  /** Backoff between attempts (tests shorten it). */
  backoff?: { minMs: number; maxMs: number };
  /** How long an attempt's lease lasts (another process takes the delivery over after it). */
  leaseMs?: number;
}

export interface NotifierHandler {
  /** One decision or rollback-progress event: the first attempt of each of its deliveries. Resolves once each is recorded. */
  handle(event: CloudEvent): Promise<void>;
  /** Attempts the deliveries whose next attempt is due (at most `limit`); resolves to how many it attempted. */
  sweep(limit?: number): Promise<number>;
}

const DEFAULT_BACKOFF = { minMs: 1_000, maxMs: 60_000 };
const DEFAULT_LEASE_MS = 60_000;

/**
 * Delivers notices, each request at most once per key (deliveries/{id}) and at least
 * once while its destination can take it:
 * - an event's deliveries are each attempted once, recorded, and the event is acked:
 *   a destination that answers 429, 5xx or nothing never holds the events behind it;
 * - the sweep attempts what is due again, with exponential backoff, until `retryMs`
 *   after the first attempt; a destination that answers another 4xx is not retried;
 *   a delivery given up is dead-lettered with the reason, then recorded failed;
 * - a resolve waits while its incident's trigger is still being sent, so a page is
 *   never resolved before it is raised (the two come from different subscriptions).
 */
export function createNotifierHandler(deps: NotifierHandlerDeps): NotifierHandler {
  const { store, logger, metrics } = deps;
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const window = deps.retryMs >= 60_000 ? `${Math.round(deps.retryMs / 60_000)} min` : `${Math.round(deps.retryMs / 1000)} s`;
  const byName = new Map(deps.destinations.map((d) => [d.name, d]));

  const giveUp = async (destination: NotifyDestination, planned: PlannedDelivery, notice: Notice, last: Answer, why: string) => {
    const at = deps.now();
    const reason = `delivery ${planned.id} (${planned.action}) to ${destination.name} (${destination.kind}) failed: ${why}`;
    // The dead letter first: a delivery recorded failed is never attempted again, so its dead letter must exist by then.
    await publishDeadLetter(
      deps.publisher,
      Buffer.from(structuredCloudEvent(notice)),
      { 'burnback-delivery': planned.id, 'burnback-destination': destination.name },
      reason,
      'notifier',
      at,
    );
    await store.failed(planned.id, last.status, last.answer, why, at);
    metrics.notificationsSent.inc({ destination: destination.name, outcome: 'failed' });
    logger.error(reason, {
      event: 'notification_failed',
      destination: destination.name,
      deliveryId: planned.id,
      service: notice.service,
      incidentId: notice.incidentId,
    });
  };

  /** One attempt of a claimed delivery, recorded whatever it gives. */
  const attempt = async (
    destination: NotifyDestination,
    planned: PlannedDelivery,
    notice: Notice,
    record: DeliveryRecord,
  ): Promise<void> => {
    if (planned.action === 'resolve' && (await store.triggers(destination.name, notice.incidentId)).sending) {
      // The page is still being raised: resolve it once it is (or once raising it was given up).
      await store.retryAt(
        planned.id,
        new Date(deps.now().getTime() + backoff.minMs),
        null,
        null,
        'waiting for its trigger to be delivered',
      );
      return;
    }
    const attempts = record.attempts + 1;
    await store.attempt(planned.id, attempts, deps.now());
    const sent = await deps.send(planned, AbortSignal.timeout(leaseMs));
    const last: Answer = { ...sent, answer: cleanAnswer(sent.answer, destination) };
    const verdict = verdictOf(last.status);
    if (verdict === 'delivered') {
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
      return;
    }
    const why = last.status === null ? (last.error ?? 'no answer') : `HTTP ${last.status}${last.answer ? `: ${last.answer}` : ''}`;
    if (verdict === 'refused') return giveUp(destination, planned, notice, last, `${why} (a 4xx other than 429 is not retried)`);
    const now = deps.now();
    if (now.getTime() >= Date.parse(record.firstAttemptAt) + deps.retryMs)
      return giveUp(destination, planned, notice, last, `${why}, still after ${attempts} attempt(s) over ${window}`);
    await store.retryAt(planned.id, new Date(now.getTime() + backoffMs(attempts, backoff)), last.status, last.answer, why);
    metrics.notificationsSent.inc({ destination: destination.name, outcome: 'retried' });
    logger.warn(`delivery ${planned.id} to ${destination.name}: ${why}; trying again`, {
      event: 'notification_retry',
      destination: destination.name,
      deliveryId: planned.id,
      attempt: attempts,
    });
  };

  const claimAndAttempt = async (destination: NotifyDestination, planned: PlannedDelivery, notice: Notice): Promise<void> => {
    const claim = await store.claim(planned, destination.kind, notice, deps.owner, deps.now(), leaseMs);
    // Delivered or given up before (a redelivered event); or being attempted, or due later: the sweep has it.
    if (claim.kind !== 'claimed') {
      if (claim.kind === 'done') metrics.notificationsSent.inc({ destination: destination.name, outcome: 'skipped' });
      return;
    }
    await attempt(destination, planned, notice, claim.record);
  };

  /** A destination's requests in order (a trigger before its change event). */
  const toDestination = async (destination: NotifyDestination, notice: Notice): Promise<void> => {
    let paged = false;
    if (destination.kind === 'pagerduty' && RESOLVING_TOPICS.has(notice.topic)) {
      const triggers = await store.triggers(destination.name, notice.incidentId);
      paged = triggers.delivered || triggers.sending;
    }
    for (const planned of planDeliveries(destination, notice, paged)) await claimAndAttempt(destination, planned, notice);
  };

  /** One due delivery: planned again from its event (pure: the same request), then attempted. */
  const sweepOne = async (record: DeliveryRecord): Promise<boolean> => {
    const destination = byName.get(record.destination);
    const notice = noticeOf(JSON.parse(record.event) as CloudEvent);
    const planned = destination && notice ? planDeliveries(destination, notice, true).find((p) => p.id === record.id) : undefined;
    if (!destination || !notice || !planned) {
      // The config no longer names the destination (or no longer sends this): nothing to send it with.
      await store.failed(
        record.id,
        record.responseStatus,
        record.answer,
        `destination ${record.destination} is no longer in the config's notify: block`,
        deps.now(),
      );
      return false;
    }
    const claim = await store.claim(planned, destination.kind, notice, deps.owner, deps.now(), leaseMs);
    if (claim.kind !== 'claimed') return false;
    await attempt(destination, planned, notice, claim.record);
    return true;
  };

  return {
    async handle(event) {
      const notice = noticeOf(event);
      if (notice === null) return;
      const results = await Promise.allSettled(deps.destinations.map((d) => toDestination(d, notice)));
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
      // What failed here is Burnback's own store (each destination's answer is recorded, whatever it was): nack,
      // and the redelivery skips what was recorded.
      if (failed.length > 0)
        throw new TransientError(`recording deliveries of ${notice.key} failed: ${failed.map((e) => e.message).join('; ')}`, {
          cause: failed[0],
        });
    },

    async sweep(limit = 20) {
      const due = await store.due(deps.now(), limit);
      let attempted = 0;
      for (const record of due) {
        try {
          if (await sweepOne(record)) attempted++;
        } catch (err) {
          // The store failed for this one: the next sweep finds it due again.
          logger.warn(`sweeping delivery ${record.id} failed: ${(err as Error).message}`, {
            event: 'notification_sweep_failed',
            deliveryId: record.id,
          });
        }
      }
      return attempted;
    },
  };
}
