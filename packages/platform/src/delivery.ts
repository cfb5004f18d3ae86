import { errorKind, ErrorKinds } from '@burnback/contracts';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { publishDeadLetter, type MessageHandler, type Publisher, type ReceivedMessage } from './pubsub.js';

/**
 * What both subscribers (the streaming one, subscriber.ts, and the pulling one, pull-subscriber.ts) do with a
 * message once it is in hand: Burnback's delivery rules and the turns of the messages that can wait.
 */

export type SettleOutcome = 'ack' | 'nack' | 'dead-letter';

/** How a message is answered to Pub/Sub: each subscriber's own. */
export interface Answer {
  ack(): void;
  nack(): void;
}

export interface SettleOptions {
  subscription: string;
  handler: MessageHandler;
  deadLetter: Publisher;
  logger: Logger;
  metrics?: Metrics;
  onSettled?: (outcome: SettleOutcome, message: ReceivedMessage) => void;
}

/**
 * Handles one message with Burnback's delivery rules:
 * - ack only after the handler succeeded;
 * - PermanentError (invalid input): publish the message to burnback-dead-letter with the reason, then ack;
 * - anything else: nack, so Pub/Sub redelivers (with the subscription's backoff).
 * Resolves with the outcome; never rejects for the handler's sake.
 */
export function createSettle(options: SettleOptions): (answer: Answer, received: ReceivedMessage) => Promise<SettleOutcome> {
  const { handler, deadLetter, logger } = options;
  const settled = (outcome: SettleOutcome, received: ReceivedMessage): SettleOutcome => {
    options.metrics?.messages.inc({ subscription: options.subscription, outcome });
    options.onSettled?.(outcome, received);
    return outcome;
  };
  return async (answer, received) => {
    const meta = { subscription: options.subscription, messageId: received.id, eventId: received.attributes['ce-id'] };
    try {
      await handler(received);
      answer.ack();
      return settled('ack', received);
    } catch (err) {
      if (errorKind(err) === ErrorKinds.permanent) {
        const reason = (err as Error).message;
        try {
          await publishDeadLetter(deadLetter, received.data, received.attributes, reason, options.subscription, new Date());
          answer.ack();
          logger.warn('message dead-lettered', { ...meta, event: 'dead_letter', reason });
          return settled('dead-letter', received);
        } catch (dlqErr) {
          answer.nack();
          logger.error('dead-letter publish failed; message will be redelivered', { ...meta, reason, error: dlqErr });
          return settled('nack', received);
        }
      }
      answer.nack();
      logger.warn('handler failed; message will be redelivered', { ...meta, deliveryAttempt: received.deliveryAttempt, error: err });
      return settled('nack', received);
    }
  };
}

/** Turns for the messages that can wait: at most `atOnce` run, the rest wait in arrival order. */
export function createTurns(atOnce: number): { take(): Promise<void>; done(): void } {
  let running = 0;
  const waiting: Array<() => void> = [];
  return {
    take() {
      if (running < atOnce) {
        running += 1;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    /** Hands the finished message's turn to the next waiting one, if any. */
    done() {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    },
  };
}

/** Whether a message can wait; one the classifier cannot read does not (it is handled, and answered, at once). */
export function canWait(isLater: (message: ReceivedMessage) => boolean, received: ReceivedMessage): boolean {
  try {
    return isLater(received);
  } catch {
    return false;
  }
}

/** Records where a message waited (Pub/Sub until it was received, then the worker until its handler started); never throws. */
export function observeWait(metrics: Metrics | undefined, subscription: string, stage: 'delivery' | 'queue', seconds: number): void {
  try {
    metrics?.messageWait.observe({ subscription, stage }, Math.max(0, seconds));
  } catch {
    /* a metrics failure is not the message's */
  }
}

/** How a subscriber comes back when its stream closes or its Pulls fail, in a row. */
export interface ReopenOptions {
  attempts?: number;
  minDelayMs?: number;
  maxDelayMs?: number;
}

/** The reopen policy with its defaults (5 attempts, 1 s doubling up to 30 s: about a minute in all); `delayMs(n)` for the n-th, from 0. */
export function reopenPolicy(options: ReopenOptions = {}): { attempts: number; delayMs: (n: number) => number } {
  const minDelayMs = options.minDelayMs ?? 1_000;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  return { attempts: options.attempts ?? 5, delayMs: (n) => Math.min(minDelayMs * 2 ** n, maxDelayMs) };
}
