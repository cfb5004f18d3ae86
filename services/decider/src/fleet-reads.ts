import type { FleetView } from '@burnback/contracts';
import { createTurns } from '@burnback/platform';

/**
 * Fleet reads one store runs at once. Each holds the documents of every burning service and every rollback in
 * flight (up to the whole fleet): in the 100,000-notification storm (1,000 services burning) the decider ran out of
 * its 128 MiB heap holding 48,567 of those documents at once (a heap snapshot at the limit), when each of the fast
 * lane's hundreds of decisions in flight ran its own read.
 */
export const FLEET_READS_AT_ONCE = 4;

/** Runs one fleet query as of `now`, over the breaker window of `windowMinutes`. */
export type FleetQuery = (now: Date, windowMinutes: number) => Promise<FleetView>;

interface Pending {
  /** The earliest `now` of the decisions sharing it (lowered by each that joins before it starts). */
  asOf: { now: Date };
  /** The read, which starts when a turn is free. */
  promise: Promise<FleetView>;
}

/**
 * Fleet reads shared by the decisions that wait for them: at most FLEET_READS_AT_ONCE run at once, and a decision
 * that finds every turn taken joins the read that will start next (one per breaker window) instead of queueing a
 * read of its own. A read never starts before a decision that joins it asked, so each decision sees the fleet at
 * least as fresh as a read of its own would have (a read already running is never joined). The shared read is
 * taken as of the earliest `now` among its decisions: the widest of their windows, so a burn any of them would
 * count is counted (a breaker errs towards tripping); each decision's view is stamped with its own `now`, as its
 * own read's would be, so what a decision records does not depend on which others shared its read. In a storm
 * the fast lane's decisions then cost a few reads at a time, not one each: the 10,000 storm's 300 burning alerts
 * had waited for 4-at-a-time reads of their own.
 */
export function createFleetReads(query: FleetQuery): FleetQuery {
  const turns = createTurns(FLEET_READS_AT_ONCE);
  /** The read about to start, per breaker window (a decision's service policy names its window). */
  const next = new Map<number, Pending>();

  const start = (asOf: Pending['asOf'], windowMinutes: number): Promise<FleetView> =>
    turns.take().then(async () => {
      // Started: decisions that ask from now on start (or join) the next read, which begins after they asked.
      if (next.get(windowMinutes)?.asOf === asOf) next.delete(windowMinutes);
      try {
        return await query(asOf.now, windowMinutes);
      } finally {
        turns.done();
      }
    });

  return async (now, windowMinutes) => {
    let entry = next.get(windowMinutes);
    if (entry) {
      if (now < entry.asOf.now) entry.asOf.now = now;
    } else {
      const asOf = { now };
      entry = { asOf, promise: start(asOf, windowMinutes) };
      next.set(windowMinutes, entry);
    }
    const view = await entry.promise;
    return { ...view, readAt: now.toISOString() };
  };
}
