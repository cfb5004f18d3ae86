import { setTimeout as delay } from 'node:timers/promises';
import {
  errorKind,
  isFinalStage,
  ErrorKinds,
  EventTypes,
  progressSequence,
  Topics,
  TransientError,
  type CloudEvent,
  type ProgressStage,
  type RollbackCommand,
  type RollbackRecord,
} from '@burnback/contracts';
import { isRetryableGrpcError, withRetry, type Logger, type Metrics, type Publisher } from '@burnback/platform';
import { TERMINAL_ROLLOUT_STATES, type DeployPort, type RollbackRequest } from './deploy.js';
import { chooseReleases, latestRolloutOn, RUNNING_ROLLOUT_STATES } from './release-choice.js';
import type { RollbackStore } from './store.js';

export interface ExecutorDeps {
  store: RollbackStore;
  deploy: DeployPort;
  publisher: Publisher;
  logger: Logger;
  metrics?: Metrics;
  now?: () => Date;
  /** How often GetRollout is polled. */
  pollIntervalMs?: number;
  /** How long one delivery tracks a rollout before re-queueing the command (the next delivery resumes tracking). */
  trackTimeoutMs?: number;
  /**
   * After this long since the rollback was ordered, a rollout still not finished is reported failed (default 24 h);
   * one that never started (waiting for approval, or queued) is cancelled first, so it cannot deploy an old release later.
   */
  maxTrackingMs?: number;
  /** Aborted on shutdown: tracking stops and the command is nacked (redelivery resumes it). */
  signal?: AbortSignal;
  /** Retry settings for Cloud Deploy calls (tests shorten them). */
  retry?: { retries?: number; minTimeout?: number; maxTimeout?: number };
}

/** Cloud Deploy answered a non-retryable error to a call that starts the rollback: the rollback fails with the reason. */
class DeployRefusal extends Error {
  override name = 'DeployRefusal';
  constructor(
    readonly code: number,
    detail: string,
  ) {
    super(`Cloud Deploy refused the rollback (gRPC ${code}): ${detail}`);
  }
}

export type ExecutorOutcome =
  | { kind: 'finished'; record: RollbackRecord }
  | { kind: 'duplicate'; record: RollbackRecord }
  /** Still running after trackTimeoutMs: the command was re-queued and this delivery acked. */
  | { kind: 'handed-off'; record: RollbackRecord };

const NOT_FOUND = 5;
/** Rollback rollouts that have deployed nothing yet: cancelled when tracking gives up on them. */
const NOT_STARTED = new Set(['PENDING_APPROVAL', 'PENDING', 'PENDING_RELEASE']);
/** Sleeps, ending early (without error) when `signal` aborts (shutdown); leaves no listener behind. */
const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  delay(ms, undefined, signal ? { signal } : {}).catch((err: unknown) => {
    if ((err as Error).name !== 'AbortError') throw err;
  });

/** The command an event carries; one of the validate-only type is validate-only whatever its data says. */
function commandOf(event: CloudEvent<typeof EventTypes.rollbackCommand | typeof EventTypes.rollbackValidate>): RollbackCommand {
  return event.type === EventTypes.rollbackValidate ? { ...event.data, validateOnly: true } : event.data;
}

/**
 * RollbackCommand in → one Cloud Deploy rollback, tracked to a terminal state,
 * recorded in `rollbacks/{id}` with its audit trail, progress published
 * (accepted → started → succeeded | failed). Safe under redelivery: the rollout
 * id is derived from the rollback id, and ALREADY_EXISTS means "resume tracking".
 */
export function createExecutorHandler(
  deps: ExecutorDeps,
): (event: CloudEvent<typeof EventTypes.rollbackCommand | typeof EventTypes.rollbackValidate>) => Promise<ExecutorOutcome> {
  const { store, deploy, publisher, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const pollIntervalMs = deps.pollIntervalMs ?? 2_000;
  const trackTimeoutMs = deps.trackTimeoutMs ?? 9 * 60_000;
  const maxTrackingMs = deps.maxTrackingMs ?? 24 * 3_600_000;

  const publishProgress = async (cmd: RollbackCommand, record: RollbackRecord, stage: ProgressStage, detail: string) => {
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

  /** The detail of the record's latest audit line of `stage`, for re-publishing that stage. */
  const lastDetail = (record: RollbackRecord, stage: ProgressStage) =>
    [...record.audit].reverse().find((a) => a.stage === stage)?.detail ?? stage;

  /**
   * Ends the rollback without rolling back (failed, or superseded by a newer
   * rollout), but only from `expected`: when a concurrent delivery has moved the
   * record on (e.g. started the rollout), this delivery's view is stale and the
   * caller gets that record back instead.
   */
  const end = async (
    cmd: RollbackCommand,
    status: 'failed' | 'superseded',
    reason: string,
    expected: ProgressStage,
    rolloutState: string | null = null,
  ) => {
    const record = await store.update(
      cmd.rollbackId,
      { status, failureReason: reason, rolloutState },
      { stage: status, detail: reason },
      now(),
      { onlyIfStatus: expected },
    );
    if (!isFinalStage(record.status))
      throw new TransientError(`rollback ${cmd.rollbackId} moved to ${record.status} meanwhile; redelivery resumes it`);
    // A concurrent delivery may have finished it first: report what the record says.
    await publishProgress(cmd, record, record.status, record.status === status ? reason : lastDetail(record, record.status));
    return record;
  };
  const fail = (cmd: RollbackCommand, reason: string, expected: ProgressStage, rolloutState: string | null = null) =>
    end(cmd, 'failed', reason, expected, rolloutState);

  const callDeploy = <T>(fn: () => Promise<T>) =>
    withRetry(fn, {
      grpc: true,
      retries: deps.retry?.retries ?? 5,
      minTimeout: deps.retry?.minTimeout ?? 500,
      maxTimeout: deps.retry?.maxTimeout ?? 10_000,
    });

  /** A Cloud Deploy call whose non-retryable answer is a refusal of the rollback. */
  const askDeploy = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await callDeploy(fn);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
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

  /**
   * The serving rollout is still running (a canary mid-way): Cloud Deploy would
   * queue the rollback PENDING behind it, and a canary waiting to be advanced
   * never finishes. So cancel it and wait until it is CANCELLED, with both
   * steps in the audit trail. A rollout that finished meanwhile is left as it is.
   */
  const stopServingRollout = async (cmd: RollbackCommand, record: RollbackRecord): Promise<RollbackRecord> => {
    const leaving = record.leaving!;
    // A rollout that had finished when the releases were chosen never runs again.
    if (TERMINAL_ROLLOUT_STATES.has(leaving.state)) return record;
    let current = await callDeploy(() => deploy.getRollout(leaving.rolloutName));
    if (!RUNNING_ROLLOUT_STATES.has(current.state)) return record;
    if (current.state === 'IN_PROGRESS') {
      await store.update(
        cmd.rollbackId,
        {},
        {
          stage: 'cancelling',
          detail: `rollout ${leaving.rolloutName} of ${leaving.releaseId} is still IN_PROGRESS on ${cmd.target}: cancelling it first, or Cloud Deploy would queue the rollback behind it`,
        },
        now(),
      );
      try {
        await askDeploy(() => deploy.cancelRollout(leaving.rolloutName));
      } catch (err) {
        // Another delivery cancelled it, or it finished meanwhile: look again before calling it a refusal.
        current = await callDeploy(() => deploy.getRollout(leaving.rolloutName));
        if (current.state === 'IN_PROGRESS') throw err;
      }
    }
    const deadline = Date.now() + trackTimeoutMs;
    for (;;) {
      current = await callDeploy(() => deploy.getRollout(leaving.rolloutName));
      if (TERMINAL_ROLLOUT_STATES.has(current.state)) break;
      if (deps.signal?.aborted || Date.now() > deadline)
        throw new TransientError(
          `rollout ${leaving.rolloutName} is still ${current.state}; the rollback waits for it (redelivery resumes)`,
        );
      await sleep(pollIntervalMs, deps.signal);
    }
    return store.update(
      cmd.rollbackId,
      {},
      { stage: 'cancelled', detail: `rollout ${leaving.rolloutName} of ${leaving.releaseId} is ${current.state}; rolling back` },
      now(),
    );
  };

  /**
   * A validate-only command (mode recommend): Cloud Deploy's `validate_only`
   * RollbackTarget proves the rollback would be accepted, and nothing else is
   * done: no cancel, no rollout. Accepted: `validated`; refused: `failed` with
   * Cloud Deploy's reason. Both final; neither changes the target.
   */
  const validateOnly = async (cmd: RollbackCommand, request: RollbackRequest, record: RollbackRecord): Promise<RollbackRecord> => {
    try {
      await askDeploy(() => deploy.rollbackTarget({ ...request, validateOnly: true }));
    } catch (err) {
      if (!(err instanceof DeployRefusal)) throw err;
      return fail(cmd, `Cloud Deploy would refuse this rollback (validate_only, gRPC ${err.code}): ${err.message}`, 'accepted');
    }
    const detail = `validate_only: Cloud Deploy would accept rolling ${cmd.target} back from ${record.leaving!.releaseId} to ${request.releaseId}; nothing was changed (mode recommend)`;
    record = await store.update(cmd.rollbackId, { status: 'validated' }, { stage: 'validated', detail }, now(), {
      onlyIfStatus: 'accepted',
    });
    await publishProgress(cmd, record, record.status, record.status === 'validated' ? detail : lastDetail(record, record.status));
    return record;
  };

  /**
   * Phase 1 (status accepted): choose both releases from Cloud Deploy's history,
   * check the rollback (validate_only), cancel the serving rollout if it still
   * runs, and create the rollback rollout with rollout_to_roll_back = the
   * target's latest rollout at decision time. Any refusal first asks GetRollout
   * for the derived rollout (an earlier attempt may have created it: resume);
   * else a newer rollout on the target means the command is superseded, and
   * anything else fails it with the reason. Other errors are transient.
   */
  const startRollout = async (cmd: RollbackCommand, pipelineName: string, record: RollbackRecord): Promise<RollbackRecord> => {
    if (!record.leaving) {
      const history = await askDeploy(() => deploy.readHistory(pipelineName));
      const decision = chooseReleases(history, cmd.target, record.releaseId);
      if (decision.kind === 'refuse') return fail(cmd, decision.reason, 'accepted');
      const { from, to } = decision;
      record = await store.update(
        cmd.rollbackId,
        { releaseId: to.releaseId, leaving: from, rolloutToRollBack: decision.latestRolloutName },
        {
          stage: 'accepted',
          detail:
            `leaving ${from.releaseId} (rollout ${from.rolloutName}, ${from.state}) for ${to.releaseId}, the last known good release of ${cmd.target} (rollout ${to.rolloutName} SUCCEEDED)` +
            (decision.skipped.length > 0 ? `; passed over ${decision.skipped.join(', ')}` : ''),
        },
        now(),
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
    if (cmd.validateOnly) return validateOnly(cmd, request, record);
    try {
      await askDeploy(() => deploy.rollbackTarget({ ...request, validateOnly: true }));
      record = await stopServingRollout(cmd, record);
      await askDeploy(() => deploy.rollbackTarget(request));
      detail = `Cloud Deploy rollout ${cmd.rolloutId} created, rolling ${cmd.target} back to ${request.releaseId}`;
    } catch (err) {
      if (!(err instanceof DeployRefusal)) throw err;
      const existing = await findRollout(derivedName);
      if (!existing) {
        const latest = latestRolloutOn(await callDeploy(() => deploy.readHistory(pipelineName)), cmd.target);
        if (latest && latest.name !== request.rolloutToRollBack) {
          return end(
            cmd,
            'superseded',
            `superseded: rollout ${latest.name} (${latest.releaseId}, ${latest.state}) reached ${cmd.target} after the decision to roll back ${request.rolloutToRollBack}; Cloud Deploy refused the stale rollback (${err.message})`,
            'accepted',
          );
        }
        throw err;
      }
      detail = `rollout ${cmd.rolloutId} already exists (started by an earlier attempt, Cloud Deploy now answers gRPC ${err.code}); tracking it`;
    }
    record = await store.update(cmd.rollbackId, { status: 'started', rolloutName: derivedName }, { stage: 'started', detail }, now());
    await publishProgress(cmd, record, record.status, record.status === 'started' ? detail : lastDetail(record, record.status));
    return record;
  };

  /**
   * Phase 2 (status started): poll the rollout to a terminal state. Errors here
   * never fail the rollback (the rollout keeps running in Cloud Deploy): they are
   * transient. After trackTimeoutMs the command is handed back to the queue as a
   * fresh message, so a long rollout (an approval, a slow canary) never exhausts
   * the subscription's delivery attempts and lands in the dead-letter topic.
   */
  const trackRollout = async (
    event: CloudEvent<typeof EventTypes.rollbackCommand | typeof EventTypes.rollbackValidate>,
    record: RollbackRecord,
  ): Promise<ExecutorOutcome> => {
    const cmd = commandOf(event);
    const rolloutName = record.rolloutName!;
    const deadline = Date.now() + trackTimeoutMs;
    let lastState = '';
    for (;;) {
      if (deps.signal?.aborted) throw new TransientError(`shutting down while tracking ${rolloutName}; tracking resumes on redelivery`);
      const rollout = await callDeploy(() => deploy.getRollout(rolloutName));
      if (rollout.state !== lastState) {
        lastState = rollout.state;
        logger.info(`rollout ${rolloutName} is ${rollout.state}`, {
          event: 'rollout_state',
          rollbackId: cmd.rollbackId,
          service: cmd.service,
          state: rollout.state,
        });
      }
      if (rollout.state === 'SUCCEEDED') {
        const detail = `${cmd.target} rolled back to ${record.releaseId} (rollout ${cmd.rolloutId} SUCCEEDED)`;
        record = await store.update(
          cmd.rollbackId,
          { status: 'succeeded', rolloutState: rollout.state },
          { stage: 'succeeded', detail },
          now(),
        );
        await publishProgress(cmd, record, record.status, record.status === 'succeeded' ? detail : lastDetail(record, record.status));
        return { kind: 'finished', record };
      }
      if (TERMINAL_ROLLOUT_STATES.has(rollout.state)) {
        const reason = `rollout ${cmd.rolloutId} ended ${rollout.state}${rollout.failureReason ? `: ${rollout.failureReason}` : ''}`;
        return { kind: 'finished', record: await fail(cmd, reason, 'started', rollout.state) };
      }
      if (Date.now() - Date.parse(record.createdAt) > maxTrackingMs) {
        let reason = `rollout ${cmd.rolloutId} still ${rollout.state} ${Math.round(maxTrackingMs / 3_600_000)} h after the rollback was ordered; Burnback stopped tracking it`;
        if (NOT_STARTED.has(rollout.state)) {
          // Left alone, an approval days later would deploy a release that is no longer the right one.
          record = await store.update(
            cmd.rollbackId,
            {},
            { stage: 'cancelling', detail: `${reason}: cancelling it so it cannot deploy ${record.releaseId} later` },
            now(),
          );
          try {
            await askDeploy(() => deploy.cancelRollout(rolloutName));
            reason += ` and cancelled it, so it cannot deploy ${record.releaseId} later`;
          } catch (err) {
            const after = await callDeploy(() => deploy.getRollout(rolloutName));
            if (after.state === 'SUCCEEDED') continue; // it went through after all: report that
            reason += `; cancelling it failed (${(err as Error).message}), check it in Cloud Deploy`;
          }
          await store.update(cmd.rollbackId, {}, { stage: 'cancelled', detail: reason }, now());
        } else {
          reason += ' (check it in Cloud Deploy)';
        }
        logger.error(reason, { event: 'rollout_abandoned', rollbackId: cmd.rollbackId, service: cmd.service, state: rollout.state });
        return { kind: 'finished', record: await fail(cmd, reason, 'started', rollout.state) };
      }
      if (Date.now() > deadline) {
        // Record first, then re-queue: a crash in between leaves this delivery unacked, so nothing is lost either way.
        if (rollout.state !== record.rolloutState) {
          record = await store.update(
            cmd.rollbackId,
            { rolloutState: rollout.state },
            {
              stage: 'resumed',
              detail: `rollout still ${rollout.state}; handed back to the queue every ${Math.round(trackTimeoutMs / 1000)} s to keep tracking`,
            },
            now(),
          );
        }
        await publisher.publishEvent(Topics.commands, event, cmd.service);
        logger.info(`rollout ${rolloutName} still ${rollout.state}; tracking continues from the queue`, {
          event: 'rollout_handoff',
          rollbackId: cmd.rollbackId,
          service: cmd.service,
          state: rollout.state,
        });
        return { kind: 'handed-off', record };
      }
      await sleep(pollIntervalMs, deps.signal);
    }
  };

  return async (event) => {
    const cmd = commandOf(event);
    const pipelineName = `projects/${cmd.project}/locations/${cmd.region}/deliveryPipelines/${cmd.pipeline}`;
    const begun = await store.begin(cmd, now());
    let record = begun.record;

    if (isFinalStage(record.status)) {
      // Re-publish the outcome: if its first publish was lost, this delivery is the only one left to send it.
      await publishProgress(cmd, record, record.status, lastDetail(record, record.status));
      logger.info(`rollback ${cmd.rollbackId} already ${record.status}; nothing to do`, {
        event: 'rollback_duplicate',
        rollbackId: cmd.rollbackId,
        service: cmd.service,
      });
      return { kind: 'duplicate', record };
    }
    if (begun.created) {
      await publishProgress(cmd, record, 'accepted', `rollback of ${cmd.target} ordered: ${cmd.reason}`);
    } else {
      record = await store.update(
        cmd.rollbackId,
        {},
        { stage: 'resumed', detail: `redelivered in status ${record.status}; resuming` },
        now(),
      );
      if (isFinalStage(record.status)) return { kind: 'duplicate', record }; // finished by another delivery meanwhile
      // Progress ids are deterministic (rollbackId.stage), so consumers drop the repeat of a publish that did go through.
      await publishProgress(cmd, record, record.status, lastDetail(record, record.status));
    }

    if (record.status === 'accepted') {
      try {
        record = await startRollout(cmd, pipelineName, record);
      } catch (err) {
        if (err instanceof DeployRefusal) return { kind: 'finished', record: await fail(cmd, err.message, 'accepted') };
        // Firestore, Pub/Sub or an unavailable Cloud Deploy: nothing is refused, retry.
        throw errorKind(err) === ErrorKinds.permanent || err instanceof TransientError
          ? err
          : new TransientError(`starting the rollback failed: ${(err as Error).message}`, { cause: err });
      }
      if (isFinalStage(record.status)) return { kind: 'finished', record };
    }

    try {
      return await trackRollout(event, record);
    } catch (err) {
      throw err instanceof TransientError
        ? err
        : new TransientError(`tracking ${record.rolloutName} failed: ${(err as Error).message}`, { cause: err });
    }
  };
}
