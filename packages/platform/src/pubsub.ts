import { PubSub, type Topic } from '@google-cloud/pubsub';
import {
  DeadLetterAttributes,
  decodeCloudEvent,
  encodeCloudEvent,
  errorKind,
  ErrorKinds,
  PermanentError,
  pubsubMessageProblem,
  Topics,
  TransientError,
  type CloudEvent,
  type EventType,
  type TopicName,
} from '@burnback/contracts';
import type { Config } from './config.js';

/** gRPC's code for a request that is wrong in itself. */
const INVALID_ARGUMENT = 3;

/** A Pub/Sub client for the configured project (the emulator when PUBSUB_EMULATOR_HOST is set). */
export function createPubSub(config: Pick<Config, 'projectId'>): PubSub {
  return new PubSub({ projectId: config.projectId });
}

/** The port services publish through. Deliberately leaves out batching knobs and topic admin. */
export interface Publisher {
  /** Publishes a CloudEvent; messages with the same ordering key are delivered in order. Returns the message id. */
  publishEvent<T extends EventType>(topic: TopicName, event: CloudEvent<T>, orderingKey?: string): Promise<string>;
  /** Publishes raw bytes (the dead-letter path keeps a bad message exactly as it came). */
  publishRaw(topic: TopicName, data: Buffer, attributes: Record<string, string>, orderingKey?: string): Promise<string>;
}

export class PubSubPublisher implements Publisher {
  private readonly topics = new Map<string, Topic>();
  constructor(private readonly pubsub: PubSub) {}

  private topic(name: string): Topic {
    let topic = this.topics.get(name);
    if (!topic) {
      topic = this.pubsub.topic(name, { messageOrdering: true, batching: { maxMilliseconds: 5 } });
      this.topics.set(name, topic);
    }
    return topic;
  }

  async publishEvent<T extends EventType>(topic: TopicName, event: CloudEvent<T>, orderingKey?: string): Promise<string> {
    const { data, attributes } = encodeCloudEvent(event);
    return this.publishRaw(topic, data, attributes, orderingKey);
  }

  async publishRaw(topicName: TopicName, data: Buffer, attributes: Record<string, string>, orderingKey?: string): Promise<string> {
    const problem = pubsubMessageProblem(data, attributes, orderingKey);
    if (problem) throw new PermanentError(`Pub/Sub would refuse the message for ${topicName}: ${problem}`);
    const topic = this.topic(topicName);
    try {
      return await topic.publishMessage({ data, attributes, ...(orderingKey ? { orderingKey } : {}) });
    } catch (err) {
      // A failed ordered publish pauses its key until resumed; resume so the retry can go through.
      if (orderingKey) topic.resumePublishing(orderingKey);
      // Pub/Sub refusing the message itself (an attribute over 1,024 bytes, over 100 attributes, over 10 MB)
      // answers the same on every retry: never retry it, or it would hold its ordering key for good.
      if ((err as { code?: unknown }).code === INVALID_ARGUMENT)
        throw new PermanentError(`Pub/Sub refused the message for ${topicName} (gRPC 3 INVALID_ARGUMENT): ${(err as Error).message}`, {
          cause: err,
        });
      throw new TransientError(`publish to ${topicName} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.topics.values()].map((t) => t.flush()));
  }
}

/** What a handler receives: the message as Pub/Sub delivered it. */
export interface ReceivedMessage {
  id: string;
  data: Buffer;
  attributes: Record<string, string>;
  orderingKey: string;
  publishTime: Date;
  deliveryAttempt: number;
}

export type MessageHandler = (message: ReceivedMessage) => Promise<void>;

/** A MessageHandler for CloudEvents of the accepted types: anything else is an InvalidEventError (dead-lettered). */
export function cloudEventHandler<T extends EventType>(
  accept: readonly T[],
  handle: (event: CloudEvent<T>) => Promise<unknown>,
): MessageHandler {
  return async (message) => {
    await handle(decodeCloudEvent(message, accept));
  };
}

/** Pub/Sub attribute values are limited to 1024 bytes; cut on a character boundary within that. */
export function truncateUtf8(text: string, maxBytes = 1024): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > maxBytes - 3) break;
    out += ch;
    bytes += size;
  }
  return `${out}...`;
}

/** The attributes a dead-lettered message carries: its own, plus why, from where and when. */
export function deadLetterAttributes(original: Record<string, string>, reason: string, source: string, at: Date): Record<string, string> {
  return {
    ...original,
    [DeadLetterAttributes.reason]: truncateUtf8(reason),
    [DeadLetterAttributes.source]: truncateUtf8(source),
    [DeadLetterAttributes.at]: at.toISOString(),
  };
}

/**
 * Publishes a message Burnback cannot read to burnback-dead-letter, kept as it
 * came, with why, from where and when. When its own attributes and ours do not
 * fit in one Pub/Sub message (over 100, or one over its limit), it goes with
 * ours only and the reason says what was dropped: a dead letter is never
 * retried for ever over its attributes.
 */
export async function publishDeadLetter(
  publisher: Publisher,
  data: Buffer,
  original: Record<string, string>,
  reason: string,
  source: string,
  at: Date,
): Promise<string> {
  try {
    return await publisher.publishRaw(Topics.deadLetter, data, deadLetterAttributes(original, reason, source, at));
  } catch (err) {
    if (errorKind(err) !== ErrorKinds.permanent) throw err;
    const dropped = `${reason} (its ${Object.keys(original).length} attributes were dropped: ${(err as Error).message})`;
    return publisher.publishRaw(Topics.deadLetter, data, deadLetterAttributes({}, dropped, source, at));
  }
}
