/** Tracking a started rollback: one look at its rollout, which ends the rollback when the rollout has ended or has been tracked too long. */
import { TerminalRolloutStates, type RollbackRecord } from '@burnback/contracts';
import { CrashPoints } from '@burnback/platform';
import type { DeployCalls } from './deploy-calls.js';
import { lastDetail, rolloutEndedReason } from './pure/rollback-facts.js';
import { deployedNothingYet } from './pure/rollout-states.js';
import type { RollbackRecords, StepContext } from './rollback-records.js';
import type { RollbackStepsDeps, StepTimings } from './step-deps.js';

/** The step that looks once at a started rollback's rollout (`checkRollout`), built from the steps' shared parts. */
export function createRolloutCheck(deps: RollbackStepsDeps, timings: StepTimings, records: RollbackRecords, calls: DeployCalls) {
  const { deploy, logger } = deps;
  const { now, maxTrackingMs } = timings;
  const { publishProgress, write, scheduleFor, fail } = records;
  const { callDeploy, askDeploy } = calls;

  /**
   * Status started: one look at the rollback rollout (never a wait). Ends the
   * rollback when the rollout has ended, or when it has been tracked for
   * maxTrackingMs (a rollout that never started is cancelled first). Errors
   * here never fail the rollback (the rollout keeps running in Cloud Deploy).
   * Returns the record and the rollout state seen.
   */
  const checkRollout = async (ctx: StepContext, record: RollbackRecord): Promise<{ record: RollbackRecord; state: string }> => {
    const cmd = record.command;
    const rolloutName = record.rolloutName!;
    let rollout = await callDeploy(() => deploy.getRollout(rolloutName));
    // Seen, not recorded, lease held: a crash here leaves the rollback to the next tracker once the lease ends.
    deps.crash?.(CrashPoints.trackingBeforeRecord, { rollbackId: cmd.rollbackId, service: cmd.service });
    if (rollout.state !== record.rolloutState) {
      logger.info(`rollout ${rolloutName} is ${rollout.state}`, {
        event: 'rollout_state',
        rollbackId: cmd.rollbackId,
        service: cmd.service,
        state: rollout.state,
      });
    }
    const succeeded = async () => {
      const detail = `${cmd.target} rolled back to ${record.releaseId} (rollout ${cmd.rolloutId} SUCCEEDED)`;
      const servingSince = rollout.deployStartTime > 0 ? new Date(rollout.deployStartTime).toISOString() : null;
      const done = await write(
        ctx,
        cmd.rollbackId,
        { status: 'succeeded', rolloutState: 'SUCCEEDED', tracking: scheduleFor(ctx, 'succeeded'), servingSince },
        { stage: 'succeeded', detail },
      );
      await publishProgress(cmd, done, done.status, done.status === 'succeeded' ? detail : lastDetail(done, done.status));
      return { record: done, state: 'SUCCEEDED' };
    };
    if (rollout.state === 'SUCCEEDED') return succeeded();
    if (TerminalRolloutStates.has(rollout.state)) {
      const reason = rolloutEndedReason(cmd.rolloutId, rollout.state, rollout.failureReason ?? '');
      return { record: await fail(ctx, cmd, reason, 'started', rollout.state), state: rollout.state };
    }
    if (now().getTime() - Date.parse(record.createdAt) <= maxTrackingMs) return { record, state: rollout.state };

    let reason = `rollout ${cmd.rolloutId} still ${rollout.state} ${Math.round(maxTrackingMs / 3_600_000)} h after the rollback was ordered; Burnback stopped tracking it`;
    if (deployedNothingYet(rollout.state)) {
      // Left alone, an approval days later would deploy a release that is no longer the right one.
      record = await write(
        ctx,
        cmd.rollbackId,
        {},
        {
          stage: 'cancelling',
          detail: `${reason}: cancelling it so it cannot deploy ${record.releaseId} later`,
        },
      );
      try {
        await askDeploy('cancelRollout', () => deploy.cancelRollout(rolloutName));
        reason += ` and cancelled it, so it cannot deploy ${record.releaseId} later`;
      } catch (err) {
        rollout = await callDeploy(() => deploy.getRollout(rolloutName));
        if (rollout.state === 'SUCCEEDED') return succeeded(); // it went through after all: report that
        reason += `; cancelling it failed (${(err as Error).message}), check it in Cloud Deploy`;
      }
      await write(ctx, cmd.rollbackId, {}, { stage: 'cancelled', detail: reason });
    } else {
      reason += ' (check it in Cloud Deploy)';
    }
    logger.error(reason, { event: 'rollout_abandoned', rollbackId: cmd.rollbackId, service: cmd.service, state: rollout.state });
    return { record: await fail(ctx, cmd, reason, 'started', rollout.state), state: rollout.state };
  };

  return checkRollout;
}
