import { FieldValue, type Firestore } from '@google-cloud/firestore';
import { Collections, EventTypes, OutboxEntry, type CloudEvent, type TopicName } from '@burnback/contracts';
import type { Logger } from './logger.js';
import type { Publisher } from './pubsub.js';

/** The CloudEvent an outbox entry stands for; the entry's event type says what its data is. */
export function eventOfOutboxEntry(entry: OutboxEntry): CloudEvent {
  const context = { id: entry.eventId, source: '//burnback/decider', subject: entry.subject, time: entry.time };
  switch (entry.eventType) {
    case EventTypes.rollbackCommand:
      return { ...context, type: entry.eventType, data: entry.data };
    case EventTypes.rollbackValidate:
      return { ...context, type: entry.eventType, data: entry.data };
    case EventTypes.decision:
      return { ...context, type: entry.eventType, data: entry.data };
    default: {
      const never: never = entry;
      throw new Error(`unknown outbox event type ${String((never as OutboxEntry).eventType)}`);
    }
  }
}

/** Publishes the event an outbox entry stands for, on its topic and ordering key; marks nothing (publishOutboxEntry does). */
export function publishOutboxEvent(publisher: Publisher, entry: OutboxEntry): Promise<unknown> {
  return publisher.publishEvent(entry.topic as TopicName, eventOfOutboxEntry(entry), entry.orderingKey);
}

/**
 * Publishes one outbox entry and marks it sent. Publishing twice is harmless:
 * the event id is the rollback id (the executor is idempotent on it) or the
 * decision id (consumers dedupe on it).
 */
export async function publishOutboxEntry(db: Firestore, publisher: Publisher, entry: OutboxEntry, sentAt: Date): Promise<void> {
  await publishOutboxEvent(publisher, entry);
  await db
    .collection(Collections.outbox)
    .doc(entry.id)
    .update({ sentAt: sentAt.toISOString(), attempts: entry.attempts + 1 });
}

export interface OutboxRelay {
  /** Publishes every unsent entry older than minAgeMs once; returns how many it sent. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** A command is sent again at most this many times while unconfirmed; then it is left to a human, loudly. */
export const MAX_COMMAND_SENDS = 20;

/**
 * Re-publishes outbox entries a crash left unsent between commit and publish,
 * and commands sent but never confirmed (no progress past `accepted` came back
 * within `resendAfterMs` of their last send: Pub/Sub lost them, or dead-lettered
 * them after their delivery attempts). Only unsent entries older than `minAgeMs`
 * are taken, so the relay does not race the decider's own publish right after commit.
 * Sending a command again is harmless: the executor is idempotent on its rollback id.
 */
export function startOutboxRelay(options: {
  db: Firestore;
  publisher: Publisher;
  logger: Logger;
  intervalMs?: number;
  minAgeMs?: number;
  /** An unconfirmed command is sent again this long after its last send (default 120 s). */
  resendAfterMs?: number;
  now?: () => Date;
  /**
   * A command sent MAX_COMMAND_SENDS times and still unconfirmed a resend interval after its last send: the relay
   * stops sending it and hands it here (the decider fails its rollback, so its incident escalates), then marks it given up.
   */
  onGiveUp?: (entry: OutboxEntry) => Promise<void>;
}): OutboxRelay {
  const { db, publisher, logger } = options;
  const now = options.now ?? (() => new Date());
  const minAgeMs = options.minAgeMs ?? 15_000;
  const resendAfterMs = options.resendAfterMs ?? 120_000;
  let running: Promise<number> | null = null;

  const runOnce = async (): Promise<number> => {
    // Oldest first, so entries that will never go out (given up, below) cannot crowd the ones behind them out of a page.
    const [unsent, unconfirmed] = await Promise.all([
      db.collection(Collections.outbox).where('sentAt', '==', null).orderBy('createdAt').limit(100).get(),
      // Only commands carry confirmedAt; confirmed ones, given-up ones and decision events never match.
      db.collection(Collections.outbox).where('confirmedAt', '==', null).orderBy('sentAt').limit(100).get(),
    ]);
    const cutoff = now().getTime() - minAgeMs;
    const resendCutoff = now().getTime() - resendAfterMs;
    const due = [...unsent.docs, ...unconfirmed.docs.filter((d) => !unsent.docs.some((u) => u.id === d.id))]
      .flatMap((d) => {
        const parsed = OutboxEntry.safeParse(d.data());
        if (parsed.success) return [parsed.data];
        // Never skipped in silence: this event would otherwise be lost without a trace.
        logger.error(`outbox/${d.id} does not fit the OutboxEntry schema; the relay cannot send it: ${parsed.error.message}`, {
          event: 'outbox_invalid',
          outboxId: d.id,
        });
        return [];
      })
      .filter((e) =>
        e.sentAt === null ? Date.parse(e.createdAt) <= cutoff : e.confirmedAt === null && Date.parse(e.sentAt) <= resendCutoff,
      )
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    let sent = 0;
    for (const entry of due) {
      if (entry.sentAt !== null && entry.attempts >= MAX_COMMAND_SENDS) {
        await giveUp(entry);
        continue;
      }
      try {
        await publishOutboxEntry(db, publisher, entry, now());
        sent++;
        if (entry.sentAt === null)
          logger.warn('outbox entry relayed after a missed publish', {
            event: 'outbox_relayed',
            eventType: entry.eventType,
            eventId: entry.eventId,
          });
        else
          logger[entry.attempts + 1 >= MAX_COMMAND_SENDS ? 'error' : 'warn'](
            `command ${entry.eventId} sent again: no progress past accepted came back ${Math.round((now().getTime() - Date.parse(entry.sentAt)) / 1000)} s after its last send` +
              (entry.attempts + 1 >= MAX_COMMAND_SENDS
                ? `; that was its last automatic send (${MAX_COMMAND_SENDS}): unconfirmed after the next interval, its rollback is failed`
                : ''),
            {
              event: 'outbox_resent',
              eventType: entry.eventType,
              eventId: entry.eventId,
              rollbackId: entry.eventId,
              attempts: entry.attempts + 1,
            },
          );
      } catch (err) {
        logger.error('outbox relay publish failed; will retry', { eventId: entry.eventId, attempts: entry.attempts + 1, error: err });
        // Count the failed attempt: an entry that never gets out shows in outbox/ as its attempts grow.
        await db
          .collection(Collections.outbox)
          .doc(entry.id)
          .update({ attempts: FieldValue.increment(1) })
          .catch((updateErr: unknown) =>
            logger.error('cannot count the failed outbox attempt', { eventId: entry.eventId, error: updateErr }),
          );
      }
    }
    return sent;
  };

  /** Stops sending a command no executor ever confirmed: its rollback is failed (onGiveUp), then the entry is marked. */
  const giveUp = async (entry: OutboxEntry): Promise<void> => {
    try {
      await options.onGiveUp?.(entry);
      const at = now().toISOString();
      await db.collection(Collections.outbox).doc(entry.id).update({ gaveUpAt: at, confirmedAt: at });
      logger.error(
        `command ${entry.eventId} was sent ${entry.attempts} times and never confirmed: Burnback stopped sending it and failed its rollback (look at the executor)`,
        {
          event: 'outbox_given_up',
          eventType: entry.eventType,
          eventId: entry.eventId,
          rollbackId: entry.eventId,
          attempts: entry.attempts,
        },
      );
    } catch (err) {
      logger.error('giving up on an unconfirmed command failed; will retry', { eventId: entry.eventId, error: err });
    }
  };

  const tick = () => {
    if (running) return;
    running = runOnce()
      .catch((err: unknown) => {
        logger.error('outbox relay scan failed', { error: err });
        return 0;
      })
      .finally(() => (running = null));
  };
  const timer = options.intervalMs === 0 ? null : setInterval(tick, options.intervalMs ?? 10_000);
  timer?.unref();

  return {
    runOnce,
    async stop() {
      if (timer) clearInterval(timer);
      if (running) await running;
    },
  };
}
