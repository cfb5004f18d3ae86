import type { PubSub } from '@google-cloud/pubsub';
import { Subscriptions, Topics } from '@burnback/contracts';

const ALREADY_EXISTS = 6;

const ignoreExists = async (fn: () => Promise<unknown>): Promise<void> => {
  try {
    await fn();
  } catch (err) {
    if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
  }
};

/**
 * Creates every Burnback topic and subscription (as Terraform does in a real
 * project): ordering where the code relies on it, a dead-letter policy to
 * burnback-dead-letter and a retry backoff on each subscription. Idempotent.
 */
export async function ensureTopology(
  pubsub: PubSub,
  options: {
    maxDeliveryAttempts?: number;
    /** How long Pub/Sub waits for an ack before redelivering (default 60 s, as Terraform sets; 10 s is Pub/Sub's minimum). */
    ackDeadlineSeconds?: number;
    /**
     * The retry backoff Terraform sets (default true). The emulator (0.8.20) never hands back, to any client, what a
     * killed client held on a subscription with a retry policy: 20 messages held by a SIGKILLed subscriber reached
     * its successor after 8–19 s without one, and not within 60 s with one (with only a dead-letter policy: 8 s).
     * The chaos suite, which kills workers holding messages, goes without it.
     */
    retryPolicy?: boolean;
  } = {},
): Promise<void> {
  await Promise.all(Object.values(Topics).map((name) => ignoreExists(() => pubsub.createTopic(name))));
  const deadLetterTopic = pubsub.topic(Topics.deadLetter).name; // projects/{project}/topics/burnback-dead-letter
  await Promise.all(
    Object.values(Subscriptions).map((s) =>
      ignoreExists(() =>
        pubsub.topic(s.topic).createSubscription(s.name, {
          enableMessageOrdering: s.ordered,
          ackDeadlineSeconds: options.ackDeadlineSeconds ?? 60,
          deadLetterPolicy: { deadLetterTopic, maxDeliveryAttempts: options.maxDeliveryAttempts ?? 10 },
          ...(options.retryPolicy === false ? {} : { retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 60 } } }),
        }),
      ),
    ),
  );
}
