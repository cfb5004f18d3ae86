import { randomBytes } from 'node:crypto';
import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import { Topics, type TopicName } from '@burnback/contracts';
import { waitFor } from '@burnback/emulators';

export interface TappedMessage {
  id: string;
  data: Buffer;
  attributes: Record<string, string>;
  orderingKey: string;
  /** The topic it was published to (a tap of several topics holds all of theirs). */
  topic: TopicName;
  json<T = unknown>(): T;
}

/** A subscription of a test's own on a topic, collecting (and acking) everything published to it. */
export interface TopicTap {
  readonly messages: TappedMessage[];
  /** Waits until at least `count` messages match `filter`, and returns those. */
  waitFor(count: number, filter?: (m: TappedMessage) => boolean, timeoutMs?: number): Promise<TappedMessage[]>;
  close(): Promise<void>;
}

export async function tapTopic(pubsub: PubSub, topic: TopicName): Promise<TopicTap> {
  return tapTopics(pubsub, [topic]);
}

/**
 * Both lanes of alerts ingest publishes (burnback-alerts, the fast lane, and burnback-alerts-bulk) as one tap, in the
 * order they arrived; each message says its topic. For tests of what ingest publishes, whichever lane it goes to.
 */
export function tapAlerts(pubsub: PubSub): Promise<TopicTap> {
  return tapTopics(pubsub, [Topics.alerts, Topics.alertsBulk]);
}

/** One tap over several topics: a subscription of the test's own on each, their messages in one list as they arrive. */
export async function tapTopics(pubsub: PubSub, topics: readonly TopicName[]): Promise<TopicTap> {
  const messages: TappedMessage[] = [];
  const subscriptions = await Promise.all(
    topics.map(async (topic) => {
      const name = `tap-${topic}-${randomBytes(4).toString('hex')}`;
      const [subscription]: [Subscription, unknown] = await pubsub.topic(topic).createSubscription(name, { enableMessageOrdering: true });
      subscription.on('message', (m: Message) => {
        messages.push({
          id: m.id,
          data: m.data,
          attributes: { ...(m.attributes ?? {}) },
          orderingKey: m.orderingKey ?? '',
          topic,
          json: <T>() => JSON.parse(m.data.toString('utf8')) as T,
        });
        m.ack();
      });
      return subscription;
    }),
  );
  return {
    messages,
    async waitFor(count, filter = () => true, timeoutMs = 20_000) {
      return waitFor(
        () => {
          const matched = messages.filter(filter);
          return matched.length >= count ? matched : undefined;
        },
        { timeoutMs, what: `${count} message(s) on ${topics.join(' and ')}` },
      );
    },
    async close() {
      await Promise.all(
        subscriptions.map(async (subscription) => {
          subscription.removeAllListeners('message');
          await subscription.close();
          await subscription.delete().catch(() => undefined);
        }),
      );
    },
  };
}
