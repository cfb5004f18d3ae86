import { ErrorKinds, errorKind } from '@burnback/contracts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits `ms`: for a handler that simulates work. Never for asserting that something
 * did not happen (that passes whenever the system is slower than the wait): publish a
 * marker behind the message under test and wait for its effect instead.
 */
export const settle = sleep;

/**
 * `handler` called as its subscriber calls it: a transient failure is a nack,
 * and Pub/Sub delivers the event again (at most `deliveries` times in all). For
 * tests that call a handler directly and race it against others: racing
 * transactions on one document can fail transiently on the Firestore emulator
 * (its lock timeouts surface as `INVALID_ARGUMENT: Transaction is invalid or
 * closed`, which the client does not retry itself).
 */
export function redelivering<A extends unknown[], R>(handler: (...args: A) => Promise<R>, deliveries = 5): (...args: A) => Promise<R> {
  return async (...args) => {
    for (let delivery = 1; ; delivery++) {
      try {
        return await handler(...args);
      } catch (err) {
        if (errorKind(err) !== ErrorKinds.transient || delivery >= deliveries) throw err;
      }
    }
  };
}
