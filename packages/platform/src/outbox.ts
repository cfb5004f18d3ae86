import { FieldValue, type Firestore } from '@google-cloud/firestore';
import { Collections, EventTypes, OutboxEntry, type CloudEvent, type TopicName } from '@burnback/contracts';
import type { Logger } from './logger.js';
import type { Publisher } from './pubsub.js';

/** The CloudEvent an outbox entry stands for; the entry's event type says what its data is. */
function eventOf(entry: OutboxEntry): CloudEvent {
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

/**
 * Publishes one outbox entry and marks it sent. Publishing twice is harmless:
 * the event id is the rollback id (the executor is idempotent on it) or the
 * decision id (consumers dedupe on it).
 */
export async function publishOutboxEntry(db: Firestore, publisher: Publisher, entry: OutboxEntry, sentAt: Date): Promise<void> {
  await publisher.publishEvent(entry.topic as TopicName, eventOf(entry), entry.orderingKey);
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

/**
 * Re-publishes outbox entries a crash left unsent between commit and publish.
 * Only entries older than `minAgeMs` are taken, so the relay does not race the
 * decider's own publish right after commit.
 */
export function startOutboxRelay(options: {
  db: Firestore;
  publisher: Publisher;
  logger: Logger;
  intervalMs?: number;
  minAgeMs?: number;
  now?: () => Date;
}): OutboxRelay {
  const { db, publisher, logger } = options;
  const now = options.now ?? (() => new Date());
  const minAgeMs = options.minAgeMs ?? 15_000;
  let running: Promise<number> | null = null;

  const runOnce = async (): Promise<number> => {
    const snap = await db.collection(Collections.outbox).where('sentAt', '==', null).limit(100).get();
    const cutoff = now().getTime() - minAgeMs;
    const due = snap.docs
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
      .filter((e) => Date.parse(e.createdAt) <= cutoff)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    let sent = 0;
    for (const entry of due) {
      try {
        await publishOutboxEntry(db, publisher, entry, now());
        sent++;
        logger.warn('outbox entry relayed after a missed publish', {
          event: 'outbox_relayed',
          eventType: entry.eventType,
          eventId: entry.eventId,
        });
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
