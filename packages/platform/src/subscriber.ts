import { Duration, type Message, type PubSub, type Subscription } from '@google-cloud/pubsub';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { canWait, createSettle, createTurns, observeWait, reopenPolicy, type ReopenOptions } from './delivery.js';
import type { MessageHandler, Publisher, ReceivedMessage } from './pubsub.js';
import { capHeldMessages, paceLeaseExtensions } from './pubsub-flow.js';

/** The longest lease the subscriber asks for (Pub/Sub's minimum ack deadline); see startSubscriber. */
export const LEASE_CEILING = Duration.from({ seconds: 10 });

/**
 * Messages the client may hold past the window before the subscriber stops reading its streams (pubsub-flow.ts): some
 * 20–30 MiB of heap, and more than the 10,000 storm ever sends past a window, so that storm runs as before.
 */
export const HELD_PAST_WINDOW = 10_000;

/**
 * The smaller bound, some 2–3 MiB of heap, for subscriptions whose storm backlog can wait with Pub/Sub and whose
 * messages cost little when handed over again: rollback progress, and the notifier's decisions (every decision, the
 * bulk lane's too: at 10,000 the notifier's peak RSS in the 100,000 storm was 163–188 MiB against 132 MiB in the
 * 10,000 storm). Not the default: past it the client pauses its streams, the emulator goes on sending, and leases
 * lapse; for the decider's fast lane that was 11,499 burning alerts handed over again in the 100,000 storm
 * (BENCHMARKS.md).
 */
export const HELD_PAST_WINDOW_SMALL = 1_000;

export interface SubscriberOptions {
  pubsub: PubSub;
  subscription: string;
  handler: MessageHandler;
  /** Where permanently bad messages go, with the reason. */
  deadLetter: Publisher;
  logger: Logger;
  maxInFlight?: number;
  /** Messages the client may hold past maxInFlight when the server sends more (default HELD_PAST_WINDOW). */
  heldPastWindow?: number;
  /**
   * Whether messages of one ordering key are handled one at a time, in order (default true). False for a
   * subscription without message ordering (the bulk lane's): its messages are handled at once, whatever key they carry.
   */
  ordered?: boolean;
  /**
   * After a nack, how long later messages of its ordering key are nacked while
   * waiting for it to come back (default 10 s); bounded, so a nacked message
   * that Pub/Sub dead-letters instead does not stop its key for good.
   */
  nackHoldMs?: number;
  /**
   * Messages that can wait (for ingest: the bulk lane's notifications). Those `isLater` picks run at most `atOnce`
   * at a time, in arrival order; every other message starts as soon as it arrives. With a flow-control window
   * (maxInFlight) wider than `atOnce`, a message that cannot wait is handled as soon as Pub/Sub hands it over,
   * not behind the window's backlog. Only for messages without an ordering key (a keyed one runs in its key's turn).
   */
  later?: { isLater: (message: ReceivedMessage) => boolean; atOnce: number };
  /**
   * Streaming pulls the client opens (default 5, the client library's). Each asks Pub/Sub for up to maxInFlight
   * messages, so a wide window on five streams leases five times what the handler can take.
   */
  streams?: number;
  /** Counts every settled message by subscription and outcome. */
  metrics?: Metrics;
  /** Called after every settled message. */
  onSettled?: (outcome: 'ack' | 'nack' | 'dead-letter', message: ReceivedMessage) => void;
  /**
   * When the client library closes the stream on its own (a stream error it
   * does not retry: the subscription deleted, a permission revoked, the
   * emulator restarted), the subscriber opens it again after a backoff, up to
   * `attempts` times in a row (a message received resets the count).
   * Defaults: 5 attempts, 1 s doubling up to 30 s (about a minute in all).
   */
  reopen?: ReopenOptions;
  /**
   * Called when the stream stayed closed after every reopen: the worker
   * consumes nothing any more and should exit so its platform restarts it.
   */
  onUnexpectedClose?: (error: Error) => void;
}

export interface RunningSubscriber {
  readonly subscription: string;
  /** Stops taking messages, waits for those in flight to settle, then closes the stream. */
  close(): Promise<void>;
}

/** A message as handlers see it. */
function receivedOf(message: Message): ReceivedMessage {
  return {
    id: message.id,
    data: message.data,
    attributes: { ...(message.attributes ?? {}) },
    orderingKey: message.orderingKey ?? '',
    publishTime: new Date(message.publishTime.getTime()),
    deliveryAttempt: message.deliveryAttempt ?? 0,
  };
}

/**
 * Streaming-pull subscriber with Burnback's delivery rules (delivery.ts); the services use it for ordered
 * subscriptions (the unordered ones pull, pull-subscriber.ts):
 * - ack only after the handler succeeded;
 * - PermanentError (invalid input): publish the message to burnback-dead-letter with the reason, then ack;
 * - anything else: nack, so Pub/Sub redelivers (with the subscription's backoff);
 * - messages with one ordering key are handled one at a time, in order; after a
 *   nack the messages of that key queued behind it, or delivered before it comes
 *   back (the emulator does deliver them), are nacked too, so none overtakes the
 *   one that will be redelivered.
 */
export function startSubscriber(options: SubscriberOptions): RunningSubscriber {
  const { pubsub, logger } = options;
  const subscription: Subscription = pubsub.subscription(options.subscription, {
    flowControl: { maxMessages: options.maxInFlight ?? 20, allowExcessMessages: false },
    // The client leases each message for the 99th percentile of its ack times (up to 10 min by default) and
    // extends the lease while the handler runs. A worker that dies holds its leased messages until their lease
    // lapses: with slow acks behind it (a storm, a Firestore stall) that was minutes, during which a burning
    // alert waited for a dead process. Pub/Sub's shortest lease, extended every few seconds, bounds that to ~10 s.
    maxAckDeadline: LEASE_CEILING,
    ...(options.streams !== undefined ? { streamingOptions: { maxStreams: options.streams } } : {}),
  });
  const inFlight = new Set<Promise<void>>();
  const keyChains = new Map<string, Promise<void>>();
  /**
   * Keys with a nacked message, until it comes back (or the hold expires): its
   * successors, queued or arriving later, are nacked too, so none overtakes it.
   */
  const blockedKeys = new Map<string, { messageId: string; until: number }>();
  const holdMs = options.nackHoldMs ?? 10_000;
  const block = (received: ReceivedMessage): void => {
    if (received.orderingKey) blockedKeys.set(received.orderingKey, { messageId: received.id, until: Date.now() + holdMs });
  };
  /** Whether a message must wait for an earlier nacked one of its key; the nacked one itself unblocks the key. */
  const mustWait = (key: string, messageId: string): boolean => {
    const blocked = key ? blockedKeys.get(key) : undefined;
    if (!blocked) return false;
    if (blocked.messageId === messageId || Date.now() >= blocked.until) {
      blockedKeys.delete(key);
      return false;
    }
    return true;
  };
  let draining = false;

  const settleWith = createSettle(options);
  const settle = async (message: Message, received: ReceivedMessage): Promise<void> => {
    await settleWith(
      {
        ack: () => message.ack(),
        nack: () => {
          message.nack();
          block(received);
        },
      },
      received,
    );
  };

  /** The `later` messages' turns: how many run, and who waits (released in arrival order). */
  const laterTurns = options.later ? createTurns(options.later.atOnce) : null;

  const onMessage = (message: Message): void => {
    if (draining) {
      message.nack();
      return;
    }
    const key = options.ordered === false ? '' : (message.orderingKey ?? '');
    const received = receivedOf(message);
    // Where it waited: Pub/Sub until the client received it (for a redelivery, since its first publish), then this
    // worker until its handler starts. A metric never costs the message.
    const receivedAt = typeof message.received === 'number' ? message.received : Date.now();
    observeWait(options.metrics, options.subscription, 'delivery', (receivedAt - received.publishTime.getTime()) / 1000);
    const later =
      !key && options.later !== undefined && laterTurns !== null && canWait(options.later.isLater, received) ? laterTurns : null;
    const previous = key ? (keyChains.get(key) ?? Promise.resolve()) : later ? later.take() : Promise.resolve();
    const run = previous
      .then(() => {
        // An earlier message of this key will be redelivered first; and nothing new starts while draining.
        if (draining || mustWait(key, message.id)) {
          message.nack();
          return;
        }
        observeWait(options.metrics, options.subscription, 'queue', (Date.now() - receivedAt) / 1000);
        return settle(message, received);
      })
      .finally(() => {
        if (later) later.done();
      })
      .catch((err: unknown) => {
        // settle() handles handler errors itself; this is a bug in the hooks (metrics, logging): never lose the message.
        message.nack();
        logger.error('message settlement failed; nacked', { subscription: options.subscription, messageId: message.id, error: err });
      });
    if (key) keyChains.set(key, run);
    inFlight.add(run);
    void run.then(() => {
      inFlight.delete(run);
      if (key && keyChains.get(key) === run) keyChains.delete(key);
    });
  };

  let lastError: Error | null = null;
  const { attempts: reopenAttempts, delayMs: reopenDelayMs } = reopenPolicy(options.reopen);
  /** Reopens since the stream last delivered a message. */
  let reopens = 0;
  let reopenTimer: NodeJS.Timeout | null = null;
  subscription.on('message', (message: Message) => {
    reopens = 0;
    onMessage(message);
  });
  // What the server sends past the window is bounded (held on the wire past HELD_PAST_WINDOW), and leases are
  // extended at a steady pace however slow the server answers (pubsub-flow.ts).
  if (!capHeldMessages(subscription, options.heldPastWindow ?? HELD_PAST_WINDOW))
    logger.warn('the Pub/Sub client changed shape: what the server sends past the window may fill memory', {
      event: 'held_messages_not_capped',
      subscription: options.subscription,
    });
  if (!paceLeaseExtensions(subscription))
    logger.warn('the Pub/Sub client changed shape: a slow server may make it extend leases without pause', {
      event: 'lease_extensions_not_paced',
      subscription: options.subscription,
    });
  subscription.on('error', (err: Error) => {
    lastError = err;
    logger.error('subscription stream error', { subscription: options.subscription, error: err });
  });
  subscription.on('close', () => {
    if (draining) return;
    const error = lastError ?? new Error(`the client library closed subscription ${options.subscription}`);
    if (reopens < reopenAttempts) {
      const delayMs = reopenDelayMs(reopens);
      reopens += 1;
      logger.warn('subscription stream closed; reopening it', {
        subscription: options.subscription,
        attempt: reopens,
        of: reopenAttempts,
        delayMs,
        error,
      });
      reopenTimer = setTimeout(() => {
        reopenTimer = null;
        if (draining) return;
        lastError = null;
        subscription.open();
      }, delayMs);
      return;
    }
    logger.error('subscription closed unexpectedly and stayed closed: this worker no longer consumes it', {
      subscription: options.subscription,
      reopens,
      error,
    });
    options.onUnexpectedClose?.(error);
  });

  return {
    subscription: options.subscription,
    async close() {
      draining = true;
      if (reopenTimer) clearTimeout(reopenTimer);
      await Promise.allSettled([...inFlight]);
      // Close before removing the listener: removing the last one makes the library start closing on its
      // own, and our close() would then return before the final acks are flushed.
      await subscription.close();
      subscription.removeAllListeners('message');
    },
  };
}
