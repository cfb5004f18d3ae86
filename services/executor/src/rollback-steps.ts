import {
  errorKind,
  isFinalStage,
  ErrorKinds,
  EventTypes,
  progressSequence,
  TerminalRolloutStates,
  Topics,
  TransientError,
  type DeployHistory,
  type PolicySettings,
  type Acknowledgement,
  type AuditStage,
  type CloudEvent,
  type Pause,
  type ProgressStage,
  type RollbackCommand,
  type RollbackProgress,
  type RollbackRecord,
  type RolloutTracking,
} from '@burnback/contracts';
import {
  CrashPoints,
  isRetryableGrpcError,
  withRetry,
  type CrashHook,
  type Logger,
  type Metrics,
  type Publisher,
} from '@burnback/platform';
import { chooseReleases, latestRolloutOn, RUNNING_ROLLOUT_STATES, servingOf, servingTimeline, supersedingControl } from '@burnback/policy';
import type { DeployPort, RollbackRequest } from './deploy.js';
import { trackingDueIn, type RollbackChange, type RollbackStore, type UpdateOptions } from './store.js';

/** What the command handler and the tracker share: the clients, the clock and the timings. */
export interface RollbackStepsDeps {
  store: RollbackStore;
  deploy: DeployPort;
  publisher: Publisher;
  logger: Logger;
  metrics?: Metrics;
  now?: () => Date;
  /** The first check of a rollout comes this long after it started; each check that sees no change doubles the wait. */
  pollIntervalMs?: number;
  /** The longest wait between two checks of one rollout (default 15 poll intervals, at most 30 s). */
  maxPollIntervalMs?: number;
  /**
   * After this long since the rollback was ordered, a rollout still not finished is reported failed (default 24 h);
   * one that never started (waiting for approval, or queued) is cancelled first, so it cannot deploy an old release later.
   * A serving rollout whose cancellation has not ended by then fails the rollback too (nothing was rolled back).
   */
  maxTrackingMs?: number;
  /** Aborted on shutdown: Cloud Deploy calls stop retrying. */
  signal?: AbortSignal;
  /** Retry settings for Cloud Deploy calls (tests shorten them). */
  retry?: { retries?: number; minTimeout?: number; maxTimeout?: number };
  /** Test-only fault injection (`npm run test:chaos`): may kill the process between a Cloud Deploy call and its record. */
  crash?: CrashHook;
  /**
   * The operator's controls of a command's service and incident, re-read right before the executor cancels anything
   * and right before RollbackTarget: a pause, an acknowledgement, a freeze or a mode set since the decision supersedes it.
   */
  controls?: (command: RollbackCommand) => Promise<{ pause: Pause | null; acknowledgement: Acknowledgement | null }>;
  /** Each service's policy (mode, freeze windows), from the same config as the decider's; a service not in it is checked for pause and acknowledgement only. */
  policies?: Record<string, PolicySettings>;
  /**
   * How long Cloud Deploy's PERMISSION_DENIED or UNAUTHENTICATED is waited out (an IAM grant still propagating) before
   * the rollback fails naming the permission (default 10 min, counted from when the rollback was ordered).
   */
  permissionWaitMs?: number;
}

/** Cloud Deploy answered a non-retryable error to a call that starts the rollback: the rollback fails with the reason. */
export class DeployRefusal extends Error {
  override name = 'DeployRefusal';
  constructor(
    readonly code: number,
    detail: string,
  ) {
    super(`Cloud Deploy refused the rollback (gRPC ${code}): ${detail}`);
  }
}

/** gRPC PERMISSION_DENIED and UNAUTHENTICATED: an IAM grant still propagating, or missing for good. */
const PERMISSION_CODES: ReadonlyMap<number, string> = new Map([
  [7, 'PERMISSION_DENIED'],
  [16, 'UNAUTHENTICATED'],
]);

/**
 * Cloud Deploy denied a call the executor needs (PERMISSION_DENIED,
 * UNAUTHENTICATED). Waited out for a while, since a grant can take minutes to
 * propagate; then the rollback fails naming the permission.
 */
export class DeployPermissionDenied extends Error {
  override name = 'DeployPermissionDenied';
  constructor(
    readonly code: number,
    /** The permission the call needs: the one Cloud Deploy named, else the call's own. */
    readonly permission: string,
    detail: string,
  ) {
    super(`Cloud Deploy denied ${permission} (gRPC ${code} ${PERMISSION_CODES.get(code) ?? ''}): ${detail}`);
  }
}

/** What each Cloud Deploy call the executor makes needs (https://cloud.google.com/iam/docs/roles-permissions/clouddeploy). */
export const CallPermissions = {
  readHistory: 'clouddeploy.rollouts.list',
  rollbackTarget: 'clouddeploy.rollouts.rollback',
  cancelRollout: 'clouddeploy.rollouts.cancel',
  getRollout: 'clouddeploy.rollouts.get',
} as const;

/** The permission a denial names (`Permission 'x' denied …`), else the one the call needs. */
export function deniedPermission(message: string, call: keyof typeof CallPermissions): string {
  return /[Pp]ermission '([a-z][a-zA-Z0-9_.]+)'/.exec(message)?.[1] ?? CallPermissions[call];
}

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

const NOT_FOUND = 5;
/** Rollback rollouts that have deployed nothing yet: cancelled when tracking gives up on them. */
const NOT_STARTED = new Set(['PENDING_APPROVAL', 'PENDING', 'PENDING_RELEASE']);

/** The command an event carries; one of the validate-only type is validate-only whatever its data says. */
export function commandOf(event: CloudEvent<typeof EventTypes.rollbackCommand | typeof EventTypes.rollbackValidate>): RollbackCommand {
  return event.type === EventTypes.rollbackValidate ? { ...event.data, validateOnly: true } : event.data;
}

export const pipelineNameOf = (cmd: RollbackCommand): string =>
  `projects/${cmd.project}/locations/${cmd.region}/deliveryPipelines/${cmd.pipeline}`;

/** The detail of the record's latest audit line of `stage`, for re-publishing that stage. */
export const lastDetail = (record: RollbackRecord, stage: ProgressStage): string =>
  [...record.audit].reverse().find((a) => a.stage === stage)?.detail ?? stage;

/**
 * The steps of one rollback, none of which waits for Cloud Deploy to move:
 * starting it (choose both releases, check, cancel the serving rollout, create
 * the rollback rollout) and checking its rollout once. Each either ends the
 * rollback, or leaves it with a tracking schedule for the tracker's next look.
 * Written for at-least-once: every write is conditional (store.update never goes
 * backwards; a tracker's writes need its lease), and progress ids are `rollbackId.stage`.
 */
export function createRollbackSteps(deps: RollbackStepsDeps) {
  const { store, deploy, publisher, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const pollIntervalMs = deps.pollIntervalMs ?? 2_000;
  const maxPollIntervalMs = Math.max(pollIntervalMs, deps.maxPollIntervalMs ?? Math.min(15 * pollIntervalMs, 30_000));
  const maxTrackingMs = deps.maxTrackingMs ?? 24 * 3_600_000;
  const permissionWaitMs = deps.permissionWaitMs ?? 10 * 60_000;

  /** How long after a check that saw no change for `unchanged` checks in a row the next one comes. */
  const nextCheckInMs = (unchanged: number): number => Math.min(pollIntervalMs * 2 ** Math.min(unchanged, 20), maxPollIntervalMs);

  const publishProgress = async (cmd: RollbackCommand, record: RollbackRecord, stage: ProgressStage, detail: string) => {
    // What the decider needs besides the stage: since when the release returned to serves; what made a command stale.
    const extra: Pick<RollbackProgress, 'servingSince' | 'supersededBy'> = {
      ...(stage === 'succeeded' && record.servingSince ? { servingSince: record.servingSince } : {}),
      ...(stage === 'superseded' && record.supersededBy ? { supersededBy: record.supersededBy } : {}),
    };
    await publisher.publishEvent(
      Topics.progress,
      {
        id: `${cmd.rollbackId}.${stage}`,
        type: EventTypes.rollbackProgress,
        source: '//burnback/executor',
        subject: `services/${cmd.service}/rollbacks/${cmd.rollbackId}`,
        time: now().toISOString(),
        data: {
          rollbackId: cmd.rollbackId,
          decisionId: cmd.decisionId,
          incidentId: cmd.incidentId,
          service: cmd.service,
          target: cmd.target,
          stage,
          sequence: progressSequence[stage],
          rolloutName: record.rolloutName,
          releaseId: record.releaseId,
          fromReleaseId: record.leaving?.releaseId ?? null,
          detail,
          at: now().toISOString(),
          ...(cmd.validateOnly ? { validateOnly: true } : {}),
          ...extra,
        },
      },
      cmd.service,
    );
    deps.metrics?.rollbackProgress.inc({ service: cmd.service, stage });
    logger.info(`rollback ${cmd.rollbackId} of ${cmd.service}/${cmd.target}: ${stage}: ${detail}`, {
      event: 'rollback_progress',
      stage,
      rollbackId: cmd.rollbackId,
      decisionId: cmd.decisionId,
      incidentId: cmd.incidentId,
      service: cmd.service,
      rolloutName: record.rolloutName,
      releaseId: record.releaseId,
    });
  };

  /** Publishes the progress of the record's current status (again: consumers drop a repeat by its id). */
  const republish = (record: RollbackRecord) => publishProgress(record.command, record, record.status, lastDetail(record, record.status));

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

  const callDeploy = <T>(fn: () => Promise<T>) =>
    withRetry(fn, {
      grpc: true,
      retries: deps.retry?.retries ?? 5,
      minTimeout: deps.retry?.minTimeout ?? 500,
      maxTimeout: deps.retry?.maxTimeout ?? 10_000,
      ...(deps.signal ? { signal: deps.signal } : {}),
    });

  /**
   * A Cloud Deploy call whose non-retryable answer is a refusal of the rollback, except: a shutdown that stops its
   * retries (the command is redelivered and resumes), and a denied permission (waited out; see `start`).
   */
  const askDeploy = async <T>(call: keyof typeof CallPermissions, fn: () => Promise<T>): Promise<T> => {
    try {
      return await callDeploy(fn);
    } catch (err) {
      // p-retry rejects with the signal's reason, a DOMException whose legacy code (20) is no gRPC answer.
      if (deps.signal?.aborted || (err as Error)?.name === 'AbortError')
        throw new TransientError(`stopped by the executor's shutdown during ${call}; the command's redelivery resumes it`, { cause: err });
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number' && PERMISSION_CODES.has(code))
        throw new DeployPermissionDenied(code, deniedPermission((err as Error).message, call), (err as Error).message);
      if (typeof code === 'number' && !isRetryableGrpcError(err)) throw new DeployRefusal(code, (err as Error).message);
      throw err;
    }
  };

  /** The rollout's status, or null when Cloud Deploy has no rollout of that name. */
  const findRollout = async (name: string) => {
    try {
      return await callDeploy(() => deploy.getRollout(name));
    } catch (err) {
      if ((err as { code?: unknown }).code === NOT_FOUND) return null;
      throw err;
    }
  };

  const hasAudit = (record: RollbackRecord, stage: AuditStage) => record.audit.some((a) => a.stage === stage);

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

  /**
   * What changed since the decision, or null: the rollout serving the target (by
   * the decider's own model, policy's servingTimeline) is no longer the one the
   * decision saw. A hotfix shipped, a human rolled back, another release is in
   * its canary: the decision judged another world. Commands of deciders that
   * predate `servingRollout` are not checked.
   */
  const worldChange = (cmd: RollbackCommand, history: DeployHistory): string | null => {
    if (!cmd.servingRollout) return null;
    const { serving } = servingOf(servingTimeline(history.rollouts, cmd.target));
    if (serving?.rollout === cmd.servingRollout) return null;
    const now = serving
      ? `${serving.releaseId} serves ${cmd.target} now (rollout ${serving.rollout}${serving.phase ? `, in ${serving.phase}` : ''}, since ${serving.since})`
      : `nothing serves ${cmd.target} now`;
    return `superseded: ${now}, not rollout ${cmd.servingRollout}${cmd.blamedReleaseId ? ` of ${cmd.blamedReleaseId}, which the decision blamed` : ''}; the world changed since the decision, so nothing was rolled back and the incident is decided again`;
  };

  /** A control set since the decision that stops the command (supersedingControl), or null. */
  const controlChange = async (cmd: RollbackCommand): Promise<string | null> => {
    if (!deps.controls || cmd.validateOnly) return null;
    const { pause, acknowledgement } = await deps.controls(cmd);
    const reason = supersedingControl(cmd, now().getTime(), { pause, acknowledgement, policy: deps.policies?.[cmd.service] ?? null });
    return reason === null
      ? null
      : `superseded: ${reason} since the decision${cmd.evaluatedAt ? ` (${cmd.evaluatedAt})` : ''}; nothing was rolled back`;
  };

  /**
   * Status accepted: choose both releases from Cloud Deploy's history, check the
   * rollback (validate_only), cancel the serving rollout if it still runs, and
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
    if (!record.leaving) {
      const history = await askDeploy('readHistory', () => deploy.readHistory(pipelineName));
      // The command acts on the world it was decided on, or not at all.
      const changed = worldChange(cmd, history);
      if (changed) return end(ctx, cmd, 'superseded', changed, 'accepted', null, 'rollout');
      const control = await controlChange(cmd);
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
    try {
      // Checked before anything is cancelled; once a cancellation is under way it was.
      if (!hasAudit(record, 'cancelling'))
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
      // Right before the rollback: a control set while the serving rollout was being cancelled still stops it.
      const control = await controlChange(cmd);
      if (control) return end(ctx, cmd, 'superseded', control, 'accepted', null, 'control');
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
    if (NOT_STARTED.has(rollout.state)) {
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

  return { publishProgress, republish, write, start, checkRollout, nextCheckInMs, pollIntervalMs, maxPollIntervalMs, now };
}

/** How a rollback reports that its rollout ended in `state` (FAILED, CANCELLED, HALTED), with Cloud Deploy's reason. */
export function rolloutEndedReason(rolloutId: string, state: string, cloudDeployReason: string): string {
  return `rollout ${rolloutId} ended ${state}${cloudDeployReason ? `: ${cloudDeployReason}` : ''}`;
}

/**
 * Cloud Deploy's own reason inside a rollback's failure reason (rolloutEndedReason's
 * inverse: '' when Cloud Deploy gave none), or null when the rollback did not fail
 * that way (it was refused, or timed out).
 */
export function cloudDeployReasonOf(reason: string, rolloutId: string, state: string): string | null {
  const bare = rolloutEndedReason(rolloutId, state, '');
  if (reason === bare) return '';
  return reason.startsWith(`${bare}: `) ? reason.slice(bare.length + 2) : null;
}
