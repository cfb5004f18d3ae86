import { randomBytes } from 'node:crypto';
import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import type { TopicName } from '@burnback/contracts';
import { waitFor } from '@burnback/emulators';

export interface TappedMessage {
  id: string;
  data: Buffer;
  attributes: Record<string, string>;
  orderingKey: string;
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
  const name = `tap-${topic}-${randomBytes(4).toString('hex')}`;
  const [subscription]: [Subscription, unknown] = await pubsub.topic(topic).createSubscription(name, { enableMessageOrdering: true });
  const messages: TappedMessage[] = [];
  subscription.on('message', (m: Message) => {
    messages.push({
      id: m.id,
      data: m.data,
      attributes: { ...(m.attributes ?? {}) },
      orderingKey: m.orderingKey ?? '',
      json: <T>() => JSON.parse(m.data.toString('utf8')) as T,
    });
    m.ack();
  });
  return {
    messages,
    async waitFor(count, filter = () => true, timeoutMs = 20_000) {
      return waitFor(
        () => {
          const matched = messages.filter(filter);
          return matched.length >= count ? matched : undefined;
        },
        { timeoutMs, what: `${count} message(s) on ${topic}` },
      );
    },
    async close() {
      subscription.removeAllListeners('message');
      await subscription.close();
      await subscription.delete().catch(() => undefined);
    },
  };
}
