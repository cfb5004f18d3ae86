/** Starting a rollback (status accepted): choose both releases, check the world and the rollback, cancel the serving rollout, create the rollback rollout. */
import {
  errorKind,
  ErrorKinds,
  TerminalRolloutStates,
  TransientError,
  type RollbackCommand,
  type RollbackRecord,
} from '@burnback/contracts';
import { CrashPoints } from '@burnback/platform';
import { chooseReleases, latestRolloutOn, RUNNING_ROLLOUT_STATES } from '@burnback/policy';
import { DeployPermissionDenied, DeployRefusal, type DeployCalls } from './deploy-calls.js';
import type { RollbackRequest } from './deploy.js';
import { hasAudit, lastDetail, pipelineNameOf } from './pure/rollback-facts.js';
import { controlChangeReason, worldChange } from './pure/world-checks.js';
import { LeaseLostError, type RollbackRecords, type StepContext } from './rollback-records.js';
import type { RollbackStepsDeps, StepTimings } from './step-deps.js';
import { trackingDueIn } from './store.js';

/** The step that starts a rollback (`start`), built from the steps' shared parts. */
export function createStartStep(deps: RollbackStepsDeps, timings: StepTimings, records: RollbackRecords, calls: DeployCalls) {
  const { deploy, logger } = deps;
  const { now, pollIntervalMs, maxTrackingMs, permissionWaitMs } = timings;
  const { publishProgress, write, scheduleFor, end, fail } = records;
  const { callDeploy, askDeploy, findRollout } = calls;

  /**
   * The serving rollout is still running (a canary mid-way): Cloud Deploy would
   * queue the rollback PENDING behind it, and a canary waiting to be advanced
   * never finishes. So cancel it, with both steps in the audit trail
   * (`cancelling`, then `cancelled` once it has stopped). Never waits: the
   * record when the rollback may go ahead, or null while the cancellation is
   * still under way (the tracker looks again). A rollout that finished meanwhile is left as it is.
   */
  const stopServingRollout = async (ctx: StepContext, cmd: RollbackCommand, record: RollbackRecord): Promise<RollbackRecord | null> => {
    const leaving = record.leaving!;
    // A rollout that had finished when the releases were chosen never runs again.
    if (TerminalRolloutStates.has(leaving.state)) return record;
    let current = await callDeploy(() => deploy.getRollout(leaving.rolloutName));
    if (current.state === 'IN_PROGRESS') {
      record = await write(
        ctx,
        cmd.rollbackId,
        {},
        {
          stage: 'cancelling',
          detail: `rollout ${leaving.rolloutName} of ${leaving.releaseId} is still IN_PROGRESS on ${cmd.target}: cancelling it first, or Cloud Deploy would queue the rollback behind it`,
        },
      );
      try {
        await askDeploy('cancelRollout', () => deploy.cancelRollout(leaving.rolloutName));
      } catch (err) {
        // Another delivery cancelled it, or it finished meanwhile: look again before calling it a refusal.
        current = await callDeploy(() => deploy.getRollout(leaving.rolloutName));
        if (current.state === 'IN_PROGRESS') throw err;
      }
      current = await callDeploy(() => deploy.getRollout(leaving.rolloutName));
    } else if (current.state === 'CANCELLING' && !hasAudit(record, 'cancelling')) {
      record = await write(
        ctx,
        cmd.rollbackId,
        {},
        {
          stage: 'cancelling',
          detail: `rollout ${leaving.rolloutName} of ${leaving.releaseId} is already CANCELLING on ${cmd.target}: waiting for it to stop before rolling back`,
        },
      );
    }
    if (RUNNING_ROLLOUT_STATES.has(current.state)) return null;
    if (!hasAudit(record, 'cancelling') || hasAudit(record, 'cancelled')) return record;
    return write(
      ctx,
      cmd.rollbackId,
      {},
      {
        stage: 'cancelled',
        detail: `rollout ${leaving.rolloutName} of ${leaving.releaseId} is ${current.state}; rolling back`,
      },
    );
  };

  /**
   * A validate-only command (mode recommend): Cloud Deploy's `validate_only`
   * RollbackTarget proves the rollback would be accepted, and nothing else is
   * done: no cancel, no rollout. Accepted: `validated`; refused: `failed` with
   * Cloud Deploy's reason. Both final; neither changes the target.
   */
  const validateOnly = async (
    ctx: StepContext,
    cmd: RollbackCommand,
    request: RollbackRequest,
    record: RollbackRecord,
  ): Promise<RollbackRecord> => {
    try {
      await askDeploy('rollbackTarget', () => deploy.rollbackTarget({ ...request, validateOnly: true }));
    } catch (err) {
      if (!(err instanceof DeployRefusal)) throw err;
      return fail(ctx, cmd, `Cloud Deploy would refuse this rollback (validate_only, gRPC ${err.code}): ${err.message}`, 'accepted');
    }
    const detail = `validate_only: Cloud Deploy would accept rolling ${cmd.target} back from ${record.leaving!.releaseId} to ${request.releaseId}; nothing was changed (mode recommend)`;
    record = await write(
      ctx,
      cmd.rollbackId,
      { status: 'validated', tracking: scheduleFor(ctx, 'validated') },
      { stage: 'validated', detail },
      { onlyIfStatus: 'accepted' },
    );
    await publishProgress(cmd, record, record.status, record.status === 'validated' ? detail : lastDetail(record, record.status));
    return record;
  };

  /** A control set since the decision that stops the command (supersedingControl), or null. */
  const controlChange = async (cmd: RollbackCommand): Promise<string | null> => {
    if (!deps.controls || cmd.validateOnly) return null;
    const { pause, acknowledgement } = await deps.controls(cmd);
    return controlChangeReason(cmd, now().getTime(), { pause, acknowledgement }, deps.policies?.get(cmd.service) ?? null);
  };

  /**
   * Status accepted: choose both releases from Cloud Deploy's history, check the
   * rollback (validate_only) when the serving rollout may still run, cancel it if it does, and
   * create the rollback rollout with rollout_to_roll_back = the target's latest
   * rollout at decision time. Any refusal first asks GetRollout for the derived
   * rollout (an earlier attempt may have created it: it is tracked); else a newer
   * rollout on the target means the command is superseded, and anything else
   * fails it with the reason. Other errors are transient.
   *
   * Returns the record: final, `started` (scheduled for the tracker), or still
   * `accepted` and scheduled while the serving rollout's cancellation runs.
   */
  const attemptStart = async (ctx: StepContext, cmd: RollbackCommand, record: RollbackRecord): Promise<RollbackRecord> => {
    const pipelineName = pipelineNameOf(cmd);
    /** Whether this attempt chooses the releases, reading the controls as it does: then only a cancellation's wait needs another look. */
    const choosing = !record.leaving;
    if (!record.leaving) {
      // Read side by side: neither depends on the other, and the rollback waits for both.
      const [history, control] = await Promise.all([askDeploy('readHistory', () => deploy.readHistory(pipelineName)), controlChange(cmd)]);
      // The command acts on the world it was decided on, or not at all.
      const changed = worldChange(cmd, history);
      if (changed) return end(ctx, cmd, 'superseded', changed, 'accepted', null, 'rollout');
      if (control) return end(ctx, cmd, 'superseded', control, 'accepted', null, 'control');
      const decision = chooseReleases(history, cmd.target, record.releaseId, {
        allowLeavingOwnRollback: Boolean(cmd.manual),
        blamedReleaseId: cmd.blamedReleaseId ?? null,
      });
      if (decision.kind === 'refuse') return fail(ctx, cmd, decision.reason, 'accepted');
      const { from, to } = decision;
      record = await write(
        ctx,
        cmd.rollbackId,
        { releaseId: to.releaseId, leaving: from, rolloutToRollBack: decision.latestRolloutName },
        {
          stage: 'accepted',
          detail:
            `leaving ${from.releaseId} (rollout ${from.rolloutName}, ${from.state}) for ${to.releaseId}, the last known good release of ${cmd.target} (rollout ${to.rolloutName} SUCCEEDED)` +
            (decision.skipped.length > 0 ? `; passed over ${decision.skipped.join(', ')}` : ''),
        },
      );
      // Another delivery may have chosen first (the stored choice wins), or finished or started it meanwhile.
      if (record.status !== 'accepted' || !record.leaving) return record;
    }
    const request: RollbackRequest = {
      pipelineName,
      targetId: cmd.target,
      rolloutId: cmd.rolloutId,
      releaseId: record.releaseId!,
      rolloutToRollBack: record.rolloutToRollBack ?? record.leaving.rolloutName,
    };
    const derivedName = `${pipelineName}/releases/${request.releaseId}/rollouts/${cmd.rolloutId}`;
    let detail: string;
    if (cmd.validateOnly) return validateOnly(ctx, cmd, request, record);
    // Whether the rollout being left may still be running, so that it may have to be cancelled first.
    const mayCancel = !TerminalRolloutStates.has(record.leaving.state);
    try {
      // Checked before anything is cancelled (once a cancellation is under way it was). With nothing to cancel the
      // rollback itself is the check: Cloud Deploy refuses it for the same reasons, before it changes anything.
      if (mayCancel && !hasAudit(record, 'cancelling'))
        await askDeploy('rollbackTarget', () => deploy.rollbackTarget({ ...request, validateOnly: true }));
      const stopped = await stopServingRollout(ctx, cmd, record);
      if (!stopped) {
        const leaving = record.leaving;
        if (now().getTime() - Date.parse(record.createdAt) > maxTrackingMs) {
          return fail(
            ctx,
            cmd,
            `rollout ${leaving.rolloutName} of ${leaving.releaseId} was still stopping ${Math.round(maxTrackingMs / 3_600_000)} h after the rollback was ordered; Burnback stopped waiting for it and rolled nothing back (check it in Cloud Deploy)`,
            'accepted',
          );
        }
        // The cancellation takes its time (a deploy job to abort): the tracker looks again, this delivery lets go.
        return ctx.lease ? record : write(ctx, cmd.rollbackId, { tracking: trackingDueIn(now(), pollIntervalMs) }, null);
      }
      record = stopped;
      // Right before the rollback: a control set while the serving rollout was being cancelled (or since an earlier
      // attempt chose the releases) still stops it. Read once already by this attempt, with nothing cancelled since,
      // it is not read again milliseconds later.
      if (mayCancel || !choosing) {
        const control = await controlChange(cmd);
        if (control) return end(ctx, cmd, 'superseded', control, 'accepted', null, 'control');
      }
      await askDeploy('rollbackTarget', () => deploy.rollbackTarget(request));
      // The rollout exists, the record does not say so: a crash here is resumed by GetRollout of the derived name.
      deps.crash?.(CrashPoints.rollbackTargetBeforeRecord, { rollbackId: cmd.rollbackId, service: cmd.service });
      detail = `Cloud Deploy rollout ${cmd.rolloutId} created, rolling ${cmd.target} back to ${request.releaseId}`;
    } catch (err) {
      if (!(err instanceof DeployRefusal)) throw err;
      const existing = await findRollout(derivedName);
      if (!existing) {
        const latest = latestRolloutOn(await callDeploy(() => deploy.readHistory(pipelineName)), cmd.target);
        if (latest && latest.name !== request.rolloutToRollBack) {
          return end(
            ctx,
            cmd,
            'superseded',
            `superseded: rollout ${latest.name} (${latest.releaseId}, ${latest.state}) reached ${cmd.target} after the decision to roll back ${request.rolloutToRollBack}; Cloud Deploy refused the stale rollback (${err.message})`,
            'accepted',
            null,
            'rollout',
          );
        }
        throw err;
      }
      detail = `rollout ${cmd.rolloutId} already exists (started by an earlier attempt, Cloud Deploy now answers gRPC ${err.code}); tracking it`;
    }
    record = await write(
      ctx,
      cmd.rollbackId,
      { status: 'started', rolloutName: derivedName, tracking: scheduleFor(ctx, 'started') },
      { stage: 'started', detail },
    );
    await publishProgress(cmd, record, record.status, record.status === 'started' ? detail : lastDetail(record, record.status));
    return record;
  };

  /**
   * Cloud Deploy denied a call the rollback needs. An IAM grant takes minutes to
   * propagate, so until permissionWaitMs after the rollback was ordered it is
   * tried again from the tracker's schedule (said once in the audit trail); then
   * it fails, naming the permission the executor's service account lacks.
   */
  const waitForPermission = async (ctx: StepContext, record: RollbackRecord, err: DeployPermissionDenied): Promise<RollbackRecord> => {
    const cmd = record.command;
    const waitedMs = now().getTime() - Date.parse(record.createdAt);
    if (waitedMs >= permissionWaitMs)
      return fail(
        ctx,
        cmd,
        `${err.message}; still denied ${Math.round(waitedMs / 60_000)} min after the rollback was ordered: grant the executor's service account ${err.permission} (roles/clouddeploy.operator has it) and order the rollback again`,
        'accepted',
      );
    const until = new Date(Date.parse(record.createdAt) + permissionWaitMs).toISOString();
    const said = record.audit.at(-1)?.stage === 'waiting';
    const audit = said
      ? null
      : { stage: 'waiting' as const, detail: `${err.message}; trying again until ${until} (an IAM grant can take minutes to propagate)` };
    logger.warn(`rollback ${cmd.rollbackId}: ${err.message}; trying again until ${until}`, {
      event: 'rollback_permission_denied',
      rollbackId: cmd.rollbackId,
      service: cmd.service,
      permission: err.permission,
    });
    // A tracker's release reschedules with its backoff; a command delivery hands it to the tracker.
    return write(ctx, cmd.rollbackId, ctx.lease ? {} : { tracking: trackingDueIn(now(), pollIntervalMs) }, audit);
  };

  /** attemptStart, with a refusal of one of the calls that start the rollback failing it with Cloud Deploy's reason. */
  const start = async (ctx: StepContext, record: RollbackRecord): Promise<RollbackRecord> => {
    const cmd = record.command;
    try {
      return await attemptStart(ctx, cmd, record);
    } catch (err) {
      if (err instanceof DeployPermissionDenied) return waitForPermission(ctx, record, err);
      if (err instanceof DeployRefusal) return fail(ctx, cmd, err.message, 'accepted');
      if (err instanceof LeaseLostError) throw err;
      // Firestore, Pub/Sub or an unavailable Cloud Deploy: nothing is refused, retry.
      throw errorKind(err) === ErrorKinds.permanent || err instanceof TransientError
        ? err
        : new TransientError(`starting the rollback failed: ${(err as Error).message}`, { cause: err });
    }
  };

  return start;
}
