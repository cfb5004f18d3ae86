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
import { TERMINAL_ROLLOUT_STATES, type DeployPort } from './deploy.js';
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
  /** After this long since the rollback was ordered, a rollout still not finished is reported failed (default 24 h). */
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

const ALREADY_EXISTS = 6;
/** Sleeps, ending early (without error) when `signal` aborts (shutdown); leaves no listener behind. */
const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  delay(ms, undefined, signal ? { signal } : {}).catch((err: unknown) => {
    if ((err as Error).name !== 'AbortError') throw err;
  });

/**
 * RollbackCommand in → one Cloud Deploy rollback, tracked to a terminal state,
 * recorded in `rollbacks/{id}` with its audit trail, progress published
 * (accepted → started → succeeded | failed). Safe under redelivery: the rollout
 * id is derived from the rollback id, and ALREADY_EXISTS means "resume tracking".
 */
export function createExecutorHandler(
  deps: ExecutorDeps,
): (event: CloudEvent<typeof EventTypes.rollbackCommand>) => Promise<ExecutorOutcome> {
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
          detail,
          at: now().toISOString(),
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
   * Fails the rollback, but only from `expected`: when a concurrent delivery has
   * moved the record on (e.g. started the rollout), this delivery's view is stale
   * and the caller gets that record back instead.
   */
  const fail = async (cmd: RollbackCommand, reason: string, expected: ProgressStage, rolloutState: string | null = null) => {
    const record = await store.update(
      cmd.rollbackId,
      { status: 'failed', failureReason: reason, rolloutState },
      { stage: 'failed', detail: reason },
      now(),
      { onlyIfStatus: expected },
    );
    if (!isFinalStage(record.status))
      throw new TransientError(`rollback ${cmd.rollbackId} moved to ${record.status} meanwhile; redelivery resumes it`);
    // A concurrent delivery may have finished it first: report what the record says.
    await publishProgress(cmd, record, record.status, record.status === 'failed' ? reason : lastDetail(record, record.status));
    return record;
  };

  const callDeploy = <T>(fn: () => Promise<T>) =>
    withRetry(fn, {
      grpc: true,
      retries: deps.retry?.retries ?? 5,
      minTimeout: deps.retry?.minTimeout ?? 500,
      maxTimeout: deps.retry?.maxTimeout ?? 10_000,
    });

  /** A Cloud Deploy call whose non-retryable answer (other than ALREADY_EXISTS) is a refusal of the rollback. */
  const askDeploy = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await callDeploy(fn);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number' && code !== ALREADY_EXISTS && !isRetryableGrpcError(err))
        throw new DeployRefusal(code, (err as Error).message);
      throw err;
    }
  };

  /**
   * Phase 1 (status accepted): choose the release and create the rollout. A
   * non-retryable answer from Cloud Deploy here is a refusal: the rollback fails
   * with the reason. Anything else is transient (nack, redelivery resumes).
   */
  const startRollout = async (cmd: RollbackCommand, pipelineName: string, record: RollbackRecord): Promise<RollbackRecord> => {
    let releaseId = record.releaseId;
    if (!releaseId) {
      const choice = await askDeploy(() => deploy.lastKnownGoodRelease(pipelineName, cmd.target));
      if (!choice)
        return fail(
          cmd,
          `no last known good release: no earlier release ever succeeded on ${cmd.target} before the current one`,
          'accepted',
        );
      record = await store.update(
        cmd.rollbackId,
        { releaseId: choice.releaseId },
        {
          stage: 'accepted',
          detail: `last known good release of ${cmd.target} is ${choice.releaseId} (current ${choice.currentReleaseId})`,
        },
        now(),
      );
      // Another delivery may have chosen first (the stored choice wins), or finished or started it meanwhile.
      if (record.status !== 'accepted' || !record.releaseId) return record;
      releaseId = record.releaseId;
    }
    let rolloutName: string;
    let resumed = false;
    try {
      ({ rolloutName } = await askDeploy(() =>
        deploy.rollbackTarget({ pipelineName, targetId: cmd.target, rolloutId: cmd.rolloutId, releaseId }),
      ));
    } catch (err) {
      if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
      rolloutName = `${pipelineName}/releases/${releaseId}/rollouts/${cmd.rolloutId}`;
      resumed = true;
    }
    const detail = resumed
      ? `rollout ${cmd.rolloutId} already exists (started by an earlier attempt); tracking it`
      : `Cloud Deploy rollout ${cmd.rolloutId} created, rolling ${cmd.target} back to ${releaseId}`;
    record = await store.update(cmd.rollbackId, { status: 'started', rolloutName }, { stage: 'started', detail }, now());
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
  const trackRollout = async (event: CloudEvent<typeof EventTypes.rollbackCommand>, record: RollbackRecord): Promise<ExecutorOutcome> => {
    const cmd = event.data;
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
        const reason = `rollout ${cmd.rolloutId} still ${rollout.state} ${Math.round(maxTrackingMs / 3_600_000)} h after the rollback was ordered; Burnback stopped tracking it (check it in Cloud Deploy)`;
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
    const cmd = event.data;
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
