import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { errorKind, ErrorKinds, isFinalStage, type RollbackRecord } from '@burnback/contracts';
import { createRollbackSteps, LeaseLostError, type RollbackStepsDeps, type StepContext } from './rollback-steps.js';
import { trackingDueIn, type ClaimedRollback } from './store.js';

export interface RolloutTrackerDeps extends Omit<RollbackStepsDeps, 'signal'> {
  /** Names this tracker in leases and the audit trail (default: host, pid and a random suffix). */
  owner?: string;
  /** Rollbacks checked at once by this tracker (default 8): the bound on its concurrent Cloud Deploy and Firestore work. */
  concurrency?: number;
  /** How long a claim holds a rollback (default 60 s): a tracker that dies holding it delays that rollback by at most this. */
  leaseMs?: number;
  /** How often an idle tracker looks for work it was not told about (scheduled by another replica; default 5 s). */
  idleSweepMs?: number;
  /** How long close() waits for checks in flight before leaving them to their leases (default 5 s). */
  drainMs?: number;
}

export interface RolloutTracker {
  /** Look for due work now rather than at the next scheduled sweep (the command handler just scheduled some). */
  wake(): void;
  /** Stops claiming; waits (at most drainMs) for the checks in flight, which let go of their leases. */
  close(): Promise<void>;
}

/**
 * Follows every rollback whose command was acked but which still needs work
 * (`rollbacks/{id}.tracking`): the rollout to its end, the serving rollout's
 * cancellation before rolling back, a progress event still owed. One loop per
 * process sweeps the due records (one query, soonest first), claims each with
 * a lease in a transaction, and checks at most `concurrency` at once; each
 * check looks once and reschedules itself, later the longer nothing changes.
 * Replicas share the work through the leases. There is one timer (the loop's
 * sleep) and no listener per rollout, however many are tracked.
 */
export function startRolloutTracker(deps: RolloutTrackerDeps): RolloutTracker {
  const { store, logger } = deps;
  const owner = deps.owner ?? `executor-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const concurrency = Math.max(1, deps.concurrency ?? 8);
  const leaseMs = deps.leaseMs ?? 60_000;
  const idleSweepMs = deps.idleSweepMs ?? 5_000;
  const drainMs = deps.drainMs ?? 5_000;
  const stopping = new AbortController();
  // Each check in flight may wait on a retry with this signal: at most `concurrency` listeners, never more.
  setMaxListeners(concurrency + 1, stopping.signal);
  const steps = createRollbackSteps({ ...deps, signal: stopping.signal });
  const { now } = steps;

  const active = new Map<string, Promise<void>>();
  let stopped = false;
  /** The loop's one timer while it sleeps, and when (wall clock, ms) it will wake. */
  let sleeper: { timer: NodeJS.Timeout; resolve: () => void; until: number } | null = null;
  let woken = false;
  /** The soonest look a check scheduled while the loop was not asleep (wall clock, ms). */
  let lookAt = Infinity;
  /** Set while the loop waits for a free slot: a finished check then wakes it. */
  let full = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken || stopped) {
        woken = false;
        resolve();
        return;
      }
      const until = Date.now() + ms;
      sleeper = { timer: setTimeout(() => wakeUp(), ms), resolve, until };
    });
  const wakeUp = () => {
    if (!sleeper) return;
    clearTimeout(sleeper.timer);
    const { resolve } = sleeper;
    sleeper = null;
    resolve();
  };
  const wake = () => {
    if (sleeper) wakeUp();
    else woken = true;
  };
  /** A check rescheduled a rollback `inMs` from now: the loop looks by then, however long it meant to sleep. */
  const lookWithin = (inMs: number) => {
    const at = Date.now() + inMs;
    if (!sleeper) lookAt = Math.min(lookAt, at);
    else if (at < sleeper.until) {
      clearTimeout(sleeper.timer);
      sleeper.until = at;
      sleeper.timer = setTimeout(() => wakeUp(), inMs);
    }
  };

  /** Lets go of the rollback: the next look after an interval that grows with `unchanged` (none once it is final and published). */
  const release = async (ctx: StepContext, record: RollbackRecord, next: { unchanged: number; rolloutState?: string }) => {
    const inMs = steps.nextCheckInMs(next.unchanged);
    await steps.write(
      ctx,
      record.rollbackId,
      {
        tracking: isFinalStage(record.status) ? null : trackingDueIn(now(), inMs, next.unchanged),
        ...(next.rolloutState !== undefined ? { rolloutState: next.rolloutState } : {}),
      },
      null,
    );
    if (!isFinalStage(record.status)) lookWithin(inMs);
  };

  /** Lets go at once, due now: a tracker that is stopping hands the rollback to the next one without waiting for its lease. */
  const handBack = (ctx: StepContext & { lease: NonNullable<StepContext['lease']> }, rollbackId: string) =>
    steps
      .write(ctx, rollbackId, { tracking: { ...ctx.lease.tracking, dueAt: now().toISOString(), lease: null } }, null)
      .catch(() => undefined);

  /** One claimed rollback: publish what is owed, take one step, then reschedule it or let it go. */
  const work = async ({ record, leaseId }: ClaimedRollback) => {
    const claimed = record.tracking!;
    const ctx = { lease: { id: leaseId, tracking: claimed } };
    const labels = { rollbackId: record.rollbackId, service: record.command.service };
    if (stopped) return handBack(ctx, record.rollbackId);
    try {
      // A tracker changed the status and stopped before publishing it or letting go: publish it now (the same event id).
      if (claimed.reportDue || isFinalStage(record.status)) await steps.republish(record);
      if (isFinalStage(record.status)) {
        await release(ctx, record, { unchanged: 0 });
        return;
      }
      const before = record;
      let seen: string | undefined;
      if (record.status === 'accepted') record = await steps.start(ctx, record);
      else ({ record, state: seen } = await steps.checkRollout(ctx, record));
      const changed = record.status !== before.status || (seen !== undefined && seen !== before.rolloutState);
      await release(ctx, record, {
        unchanged: changed ? 0 : claimed.unchangedChecks + 1,
        ...(seen !== undefined && !isFinalStage(record.status) ? { rolloutState: seen } : {}),
      });
    } catch (err) {
      if (err instanceof LeaseLostError) {
        logger.info(err.message, { event: 'tracking_lease_lost', ...labels, owner });
        return;
      }
      if (stopping.signal.aborted) {
        await handBack(ctx, record.rollbackId);
        logger.info(`tracking of rollback ${record.rollbackId} stopped by shutdown; the next tracker resumes it`, {
          event: 'tracking_stopped',
          ...labels,
        });
        return;
      }
      const unchanged = claimed.unchangedChecks + 1;
      const retryInMs = steps.nextCheckInMs(unchanged);
      logger.warn(`checking rollback ${record.rollbackId} failed; looking again in ${retryInMs} ms`, {
        event: 'tracking_check_failed',
        ...labels,
        status: record.status,
        error: err,
      });
      // Keeps a publish still owed; if even this write fails, the lease ends and the rollback is looked at then.
      const retry = { ...trackingDueIn(now(), retryInMs, unchanged), reportDue: ctx.lease.tracking.reportDue };
      await steps.write(ctx, record.rollbackId, { tracking: retry }, null).catch(() => undefined);
      lookWithin(retryInMs);
    }
  };

  const launch = (rollbackId: string) => {
    const run = (async () => {
      let claimed: ClaimedRollback | null;
      try {
        claimed = await store.claim(rollbackId, owner, now(), leaseMs);
      } catch (err) {
        if (errorKind(err) === ErrorKinds.permanent) {
          // A record this release cannot read: say so, and look again only after the longest interval.
          logger.error(`rollbacks/${rollbackId} cannot be tracked: ${(err as Error).message}`, {
            event: 'tracking_unreadable',
            rollbackId,
            error: err,
          });
          await store.postpone(rollbackId, new Date(now().getTime() + steps.maxPollIntervalMs)).catch(() => undefined);
        } else {
          logger.warn(`claiming rollback ${rollbackId} failed; the next sweep tries again`, {
            event: 'tracking_claim_failed',
            rollbackId,
            error: err,
          });
        }
        return;
      }
      if (claimed) await work(claimed);
    })().finally(() => {
      active.delete(rollbackId);
      if (full) wake();
    });
    active.set(rollbackId, run);
  };

  const loop = async () => {
    while (!stopped) {
      let waitMs = idleSweepMs;
      full = active.size >= concurrency;
      if (!full) {
        try {
          // A page as large as the tracker: our own checks may still show as due until their claims commit.
          const limit = concurrency;
          const { due, nextDueAt } = await store.dueForTracking(now(), limit);
          let launched = 0;
          for (const id of due) {
            if (stopped || active.size >= concurrency) break;
            if (active.has(id)) continue;
            launch(id);
            launched++;
          }
          full = active.size >= concurrency;
          if (due.length === limit && launched > 0)
            waitMs = 0; // there may be more due than this page
          else if (due.length === limit)
            waitMs = Math.min(idleSweepMs, steps.pollIntervalMs); // all ours, claims in flight
          else if (nextDueAt) waitMs = Math.min(idleSweepMs, Math.max(0, nextDueAt.getTime() - now().getTime()));
        } catch (err) {
          logger.warn('looking for rollbacks to track failed; trying again', { event: 'tracking_sweep_failed', owner, error: err });
        }
      }
      // A check may have rescheduled a rollback sooner while the sweep ran.
      if (lookAt !== Infinity) {
        waitMs = Math.min(waitMs, Math.max(0, lookAt - Date.now()));
        lookAt = Infinity;
      }
      // Woken by a finished check when full, by lookWithin() when a check reschedules sooner, by wake() or by the timer.
      if (waitMs > 0 || full) await sleep(waitMs);
    }
  };

  logger.info(`rollout tracker ${owner} started (at most ${concurrency} checks at once)`, { event: 'tracker_started', owner });
  const running = loop();
  return {
    wake,
    async close() {
      stopped = true;
      stopping.abort();
      wake();
      await running;
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        Promise.allSettled([...active.values()]).then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), drainMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
      if (!drained)
        logger.warn(`rollout tracker ${owner} stopped with ${active.size} check(s) unfinished; their leases end within ${leaseMs} ms`, {
          event: 'tracker_stopped',
          owner,
        });
      else logger.info(`rollout tracker ${owner} stopped`, { event: 'tracker_stopped', owner });
    },
  };
}
