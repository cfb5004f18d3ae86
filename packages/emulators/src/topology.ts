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
 * Delivery attempts before a subscription dead-letters a message, on the emulator without a retry policy: a message
 * nacked there comes back in ~150 ms, so the 10 that Terraform sets (with its backoff, minutes) would last about
 * a second and a half (a fast-lane alert waiting for its key's earlier nacked message is nacked meanwhile).
 * 100 is Pub/Sub's maximum.
 */
export const EMULATOR_MAX_DELIVERY_ATTEMPTS = 100;

/**
 * Creates every Burnback topic and subscription on the Pub/Sub emulator (as
 * Terraform does in a real project): ordering where the code relies on it and
 * a dead-letter policy to burnback-dead-letter on each subscription. Idempotent.
 *
 * Without the retry backoff Terraform sets, unless asked (`retryPolicy: true`):
 * the emulator (0.8.20) implements it with two faults that production does not
 * have. It never hands back, to any client, what a killed client held (20
 * messages held by a SIGKILLed subscriber: back after 8–19 s without the
 * policy, not within 60 s with it). And each message whose lease lapses is
 * filed in a sorted map it scans whole for every insertion
 * (`MessageBacklog.insertDelayedMessage`, `TreeMap.containsValue`, found with
 * jstack): a 100,000 backlog consumed at 300 a second, window 1,000, collapsed
 * to 100 and then 1 a second after 40 s with the emulator on a full core, and
 * held steady at 300 (the emulator at 12 %) without the policy; the
 * 100,000-notification storm stalled on it. So on the emulator a nacked message
 * comes back at once, and dead-letters after EMULATOR_MAX_DELIVERY_ATTEMPTS.
 */
export async function ensureTopology(
  pubsub: PubSub,
  options: {
    maxDeliveryAttempts?: number;
    /** How long Pub/Sub waits for an ack before redelivering (default 60 s, as Terraform sets; 10 s is Pub/Sub's minimum). */
    ackDeadlineSeconds?: number;
    /** A retry backoff of 1 s to 60 s (Terraform sets 10 s to 600 s). Default false on the emulator: above. */
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
          deadLetterPolicy: {
            deadLetterTopic,
            maxDeliveryAttempts: options.maxDeliveryAttempts ?? (options.retryPolicy ? 10 : EMULATOR_MAX_DELIVERY_ATTEMPTS),
          },
          ...(options.retryPolicy ? { retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 60 } } } : {}),
        }),
      ),
    ),
  );
}
