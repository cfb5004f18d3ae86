/** How a rollback step records what it did: one write per change (a tracker's only under its lease), the tracking schedule, and ending a rollback. */
import {
  isFinalStage,
  TransientError,
  type AuditStage,
  type ProgressStage,
  type RollbackCommand,
  type RollbackRecord,
  type RolloutTracking,
} from '@burnback/contracts';
import { createProgressReport } from './progress-report.js';
import { lastDetail } from './pure/rollback-facts.js';
import type { RollbackStepsDeps, StepTimings } from './step-deps.js';
import { trackingDueIn, type RollbackChange, type UpdateOptions } from './store.js';

/** A tracker's lease on the rollback ended (another tracker claimed it): this one stops, the holder carries on. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
  constructor(rollbackId: string) {
    super(`the lease on rollbacks/${rollbackId} ended before this tracker finished; its new holder carries on`);
  }
}

/**
 * Who is working on a rollback: the command's delivery (`lease` null: Pub/Sub
 * redelivers the command if it dies), or a tracker holding a lease (the
 * schedule it claimed; if it dies the lease ends and another tracker resumes).
 */
export interface StepContext {
  /** The tracker's lease and the schedule it holds (reportDue set once this check changed the status). */
  lease: { id: string; tracking: RolloutTracking } | null;
}
export const COMMAND_DELIVERY: StepContext = { lease: null };

/** The record writes of the rollback steps, and the progress each status change publishes. */
export function createRollbackRecords(deps: RollbackStepsDeps, timings: Pick<StepTimings, 'now' | 'pollIntervalMs'>) {
  const { store } = deps;
  const { now, pollIntervalMs } = timings;
  const { publishProgress, republish } = createProgressReport(deps, now);

  /**
   * One write in `ctx`: a command delivery writes unconditionally (store.update's
   * own rules), a tracker only while it holds its lease (else LeaseLostError).
   */
  const write = async (
    ctx: StepContext,
    rollbackId: string,
    change: RollbackChange,
    audit: { stage: AuditStage; detail: string } | null,
    options: UpdateOptions = {},
  ): Promise<RollbackRecord> => {
    if (!ctx.lease) return store.update(rollbackId, change, audit, now(), options);
    const record = await store.updateLeased(rollbackId, ctx.lease.id, change, audit, now(), options);
    if (!record) throw new LeaseLostError(rollbackId);
    return record;
  };

  /**
   * The schedule to write with a status change in `ctx`. A tracker keeps its
   * lease and marks the new status' progress as owed (reportDue) until it has
   * published it; a command delivery hands a started rollback (or one waiting
   * for a cancellation) to the tracker, first look after one poll interval, and
   * leaves a final one without tracking (a redelivery of the command re-publishes it).
   */
  const scheduleFor = (ctx: StepContext, next: ProgressStage): RolloutTracking | null | undefined => {
    if (!ctx.lease) return isFinalStage(next) ? undefined : trackingDueIn(now(), pollIntervalMs);
    // The context remembers it too: if this check fails from here on, the tracker's reschedule keeps it owed.
    ctx.lease.tracking = { ...ctx.lease.tracking, reportDue: true };
    return ctx.lease.tracking;
  };

  /**
   * Ends the rollback without rolling back (failed, or superseded by a newer
   * rollout), but only from `expected`: when a concurrent delivery has moved the
   * record on (e.g. started the rollout), this view is stale and the caller gets
   * that record back instead.
   */
  const end = async (
    ctx: StepContext,
    cmd: RollbackCommand,
    status: 'failed' | 'superseded',
    reason: string,
    expected: ProgressStage,
    rolloutState: string | null = null,
    supersededBy: 'rollout' | 'control' | null = null,
  ): Promise<RollbackRecord> => {
    const record = await write(
      ctx,
      cmd.rollbackId,
      { status, failureReason: reason, rolloutState, tracking: scheduleFor(ctx, status), ...(supersededBy ? { supersededBy } : {}) },
      { stage: status, detail: reason },
      { onlyIfStatus: expected },
    );
    if (!isFinalStage(record.status))
      throw new TransientError(`rollback ${cmd.rollbackId} moved to ${record.status} meanwhile; it resumes from there`);
    // A concurrent delivery may have finished it first: report what the record says.
    await publishProgress(cmd, record, record.status, record.status === status ? reason : lastDetail(record, record.status));
    return record;
  };
  const fail = (ctx: StepContext, cmd: RollbackCommand, reason: string, expected: ProgressStage, rolloutState: string | null = null) =>
    end(ctx, cmd, 'failed', reason, expected, rolloutState);

  return { publishProgress, republish, write, scheduleFor, end, fail };
}

export type RollbackRecords = ReturnType<typeof createRollbackRecords>;
