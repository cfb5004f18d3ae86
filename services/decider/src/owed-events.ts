import type { Firestore } from '@google-cloud/firestore';
import { EventTypes, type DecisionRecord, type OutboxEntry } from '@burnback/contracts';
import { publishOutboxEntry, publishOutboxEvent, type Publisher } from '@burnback/platform';
import { bulkDecisionEvent } from './pure/bulk-plan.js';

/** Command first: the rollback is what is waiting; the decision event is for people. */
const publishOrder = (entry: OutboxEntry): number => (entry.eventType === EventTypes.decision ? 1 : 0);

/**
 * What a decision on record still owes when its alert is delivered again (both
 * lanes answer a duplicate so), published now; returns what was published.
 *
 * With outbox entries (the fast lane's path decided it): those never marked
 * sent, the command before the decision event — a crash between the commit and
 * the publish left them. Without any (the bulk lane decided it, and keeps no
 * outbox): its decision event, rebuilt from the record, whether or not it went
 * out before — the lane does not know, and consumers go by the event's id.
 */
export async function publishOwedEvents(
  deps: { db: Firestore; publisher: Publisher; now: () => Date },
  decision: DecisionRecord,
  entries: readonly OutboxEntry[],
): Promise<OutboxEntry[]> {
  if (entries.length === 0) {
    const event = bulkDecisionEvent(decision);
    if (!event) return [];
    await publishOutboxEvent(deps.publisher, event);
    return [event];
  }
  const unsent = entries.filter((e) => e.sentAt === null).sort((a, b) => publishOrder(a) - publishOrder(b));
  for (const entry of unsent) await publishOutboxEntry(deps.db, deps.publisher, entry, deps.now());
  return unsent;
}
