import { v1, type PubSub } from '@google-cloud/pubsub';
import type { google } from '@google-cloud/pubsub/build/protos/protos';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { canWait, createSettle, createTurns, observeWait, reopenPolicy, type ReopenOptions, type SettleOutcome } from './delivery.js';
import type { MessageHandler, Publisher, ReceivedMessage } from './pubsub.js';
import { LEASE_CEILING, type RunningSubscriber } from './subscriber.js';

/** The most messages one Pull asks for. */
export const PULL_BATCH_MAX = 1_000;
/**
 * How long one Pull waits for messages: Pub/Sub answers as soon as it has some, or empty at the deadline. Short,
 * because close() waits for the Pull in progress rather than cancelling it: a cancelled Pull can still be handed
 * messages (on the emulator a message published as the cancel lands was leased to it for the subscription's whole
 * ack deadline, 60 s), and a message left so is a burning alert waiting for nobody.
 */
export const PULL_TIMEOUT_MS = 2_000;
/** The most ack ids one Acknowledge or ModifyAckDeadline carries (Pub/Sub's request limit is 512 KiB). */
const ACK_BATCH_MAX = 2_000;
/** How long an ack waits for others to share its request. */
const ACK_LINGER_MS = 10;

export interface PullSubscriberOptions {
  pubsub: PubSub;
  subscription: string;
  handler: MessageHandler;
  /** Where permanently bad messages go, with the reason. */
  deadLetter: Publisher;
  logger: Logger;
  /** The most messages in hand (being handled or waiting their turn): the subscriber pulls no more than that. */
  maxInFlight: number;
  /** Messages that can wait (see SubscriberOptions.later): at most `atOnce` run, in arrival order. */
  later?: { isLater: (message: ReceivedMessage) => boolean; atOnce: number };
  metrics?: Metrics;
  onSettled?: (outcome: SettleOutcome, message: ReceivedMessage) => void;
  /** Pulls that fail in a row before the worker is told (default 5, 1 s doubling up to 30 s: about a minute in all). */
  reopen?: ReopenOptions;
  /** Called when pulling kept failing: the worker consumes nothing any more and should exit so its platform restarts it. */
  onUnexpectedClose?: (error: Error) => void;
}

/** Ack ids sent together: one request per ACK_BATCH_MAX, after ACK_LINGER_MS; `flush` sends what waits and resolves when sent. */
function createBatcher(send: (ackIds: string[]) => Promise<unknown>, onError: (err: unknown, count: number) => void) {
  const pending: string[] = [];
  let timer: NodeJS.Timeout | null = null;
  const sending = new Set<Promise<void>>();
  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = null;
    while (pending.length > 0) {
      const ids = pending.splice(0, ACK_BATCH_MAX);
      const sent = send(ids).then(
        () => undefined,
        (err: unknown) => onError(err, ids.length),
      );
      sending.add(sent);
      void sent.finally(() => sending.delete(sent));
    }
    return Promise.all([...sending]).then(() => undefined);
  };
  return {
    add(ackId: string) {
      pending.push(ackId);
      if (pending.length >= ACK_BATCH_MAX) void flush();
      else timer ??= setTimeout(() => void flush(), ACK_LINGER_MS);
    },
    flush,
  };
}

/**
 * A subscriber that asks Pub/Sub for messages with unary Pull, never more than
 * it has room for, for subscriptions without message ordering (ingest's). Its
 * delivery rules are the streaming subscriber's (delivery.ts).
 *
 * Why not streaming pull: the emulator's streaming pull sends whatever it has,
 * whatever the client's flow control says; what the client holds past its
 * window waits leased, and in a backlog of 100,000 the leases lapsed faster than
 * they were extended: the emulator then dropped the late acks (it takes an ack
 * only while the lease runs) and handed the messages out again, a loop that
 * never settled (BENCHMARKS.md). A Pull returns at most what it asked for, so
 * nothing is leased that is not in hand, on the emulator as on Pub/Sub.
 *
 * Leases: each pulled message's lease is cut to LEASE_CEILING at once (so a
 * worker that dies gives its messages back within ~10 s, as the streaming
 * subscriber does), then extended every third of it while the message is held.
 * Acks and nacks (a zero lease) go in batches.
 */
export function startPullSubscriber(options: PullSubscriberOptions): RunningSubscriber {
  const { pubsub, logger } = options;
  const leaseSeconds = LEASE_CEILING.totalOf('second');
  const settle = createSettle(options);
  const turns = options.later ? createTurns(options.later.atOnce) : null;
  const { attempts, delayMs: retryDelayMs } = reopenPolicy(options.reopen);
  /** Made once the client's config (the emulator's address, the project) is known; null until then. */
  let client: v1.SubscriberClient | null = null;
  let subscriptionPath = '';

  /** Messages in hand, by ack id (their leases are extended until they are answered). */
  const held = new Map<string, ReceivedMessage>();
  const inFlight = new Set<Promise<void>>();
  let draining = false;
  let roomFreed: (() => void) | null = null;
  let backoff: { timer: NodeJS.Timeout; resolve: () => void } | null = null;

  const warnRpc = (what: string) => (err: unknown, count: number) =>
    logger.warn(`${what} failed; Pub/Sub hands those messages out again when their lease lapses`, {
      subscription: options.subscription,
      messages: count,
      error: err,
    });
  /** Sets the lease of `ackIds` to `seconds` (0: a nack); no client yet means no message either. */
  const setLease = async (ackIds: string[], seconds: number) =>
    client?.modifyAckDeadline({ subscription: subscriptionPath, ackIds, ackDeadlineSeconds: seconds });
  const acks = createBatcher(async (ackIds) => client?.acknowledge({ subscription: subscriptionPath, ackIds }), warnRpc('acknowledge'));
  const nacks = createBatcher((ackIds) => setLease(ackIds, 0), warnRpc('nack'));
  const lease = (ackIds: string[]) => {
    for (let i = 0; i < ackIds.length; i += ACK_BATCH_MAX) {
      const some = ackIds.slice(i, i + ACK_BATCH_MAX);
      setLease(some, leaseSeconds).catch((err: unknown) => warnRpc('lease extension')(err, some.length));
    }
  };
  const extender = setInterval(() => lease([...held.keys()]), (leaseSeconds * 1000) / 3);
  extender.unref();

  /** The message was answered: its lease is no longer extended, and its room goes to the next Pull. */
  const release = (ackId: string) => {
    held.delete(ackId);
    const wake = roomFreed;
    roomFreed = null;
    wake?.();
  };

  const receive = (m: google.pubsub.v1.IReceivedMessage): void => {
    const ackId = m.ackId ?? '';
    const message = m.message ?? {};
    const seconds = Number(message.publishTime?.seconds ?? 0);
    const received: ReceivedMessage = {
      id: message.messageId ?? '',
      data: Buffer.from(message.data ?? new Uint8Array()),
      attributes: { ...(message.attributes ?? {}) },
      orderingKey: message.orderingKey ?? '',
      publishTime: new Date(seconds * 1000 + Math.floor((message.publishTime?.nanos ?? 0) / 1e6)),
      deliveryAttempt: m.deliveryAttempt ?? 0,
    };
    held.set(ackId, received);
    const receivedAt = Date.now();
    observeWait(options.metrics, options.subscription, 'delivery', (receivedAt - received.publishTime.getTime()) / 1000);
    const later = options.later && turns && canWait(options.later.isLater, received) ? turns : null;
    let answered = false;
    const answer = {
      ack: () => {
        answered = true;
        release(ackId);
        acks.add(ackId);
      },
      nack: () => {
        answered = true;
        release(ackId);
        nacks.add(ackId);
      },
    };
    const run = (later ? later.take() : Promise.resolve())
      .then(async () => {
        if (draining) return answer.nack();
        observeWait(options.metrics, options.subscription, 'queue', (Date.now() - receivedAt) / 1000);
        await settle(answer, received);
      })
      .finally(() => later?.done())
      .catch((err: unknown) => {
        // settle() answers handler errors itself; this is a bug in the hooks (metrics, logging): never lose the message.
        if (!answered) answer.nack();
        logger.error('message settlement failed; nacked', { subscription: options.subscription, messageId: received.id, error: err });
      });
    inFlight.add(run);
    void run.then(() => inFlight.delete(run));
  };

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      backoff = { timer: setTimeout(resolve, ms), resolve };
    }).finally(() => (backoff = null));

  const loop = async (): Promise<void> => {
    const config = await pubsub.getClientConfig();
    client = new v1.SubscriberClient(config as ConstructorParameters<typeof v1.SubscriberClient>[0]);
    subscriptionPath = client.subscriptionPath(pubsub.projectId, options.subscription);
    let failures = 0;
    while (!draining) {
      const room = options.maxInFlight - held.size;
      if (room <= 0) {
        await new Promise<void>((resolve) => (roomFreed = resolve));
        continue;
      }
      try {
        const [response] = await client.pull(
          { subscription: subscriptionPath, maxMessages: Math.min(room, PULL_BATCH_MAX) },
          { timeout: PULL_TIMEOUT_MS, maxRetries: 0 },
        );
        failures = 0;
        const messages = response.receivedMessages ?? [];
        if (messages.length === 0) continue;
        // Cut the subscription's lease to ours at once: a worker that dies now gives these back within a lease.
        lease(messages.map((m) => m.ackId ?? ''));
        for (const m of messages) receive(m);
      } catch (err) {
        if (draining) return;
        const code = (err as { code?: unknown }).code;
        // A Pull that waited its whole time for messages that did not come is not a failure.
        if (code === 4) continue;
        failures += 1;
        if (failures > attempts) {
          logger.error('pulling kept failing: this worker no longer consumes the subscription', {
            subscription: options.subscription,
            failures: failures - 1,
            error: err,
          });
          options.onUnexpectedClose?.(err as Error);
          return;
        }
        const delayMs = retryDelayMs(failures - 1);
        logger.warn('pull failed; pulling again', {
          subscription: options.subscription,
          attempt: failures,
          of: attempts,
          delayMs,
          error: err,
        });
        await pause(delayMs);
      }
    }
  };

  const looping = loop().catch((err: unknown) => {
    if (draining) return;
    logger.error('the pull subscriber stopped', { subscription: options.subscription, error: err });
    options.onUnexpectedClose?.(err as Error);
  });

  return {
    subscription: options.subscription,
    async close() {
      draining = true;
      // The Pull in progress ends within PULL_TIMEOUT_MS; what it brings is nacked (receive() sees draining).
      if (backoff) {
        clearTimeout(backoff.timer);
        backoff.resolve();
      }
      roomFreed?.();
      await looping;
      await Promise.allSettled([...inFlight]);
      clearInterval(extender);
      await Promise.all([acks.flush(), nacks.flush()]);
      await client?.close();
    },
  };
}
