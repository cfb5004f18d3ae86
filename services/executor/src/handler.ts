import {
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
  /** How long one delivery tracks a rollout before handing it back to Pub/Sub (redelivery resumes tracking). */
  trackTimeoutMs?: number;
  /** Retry settings for Cloud Deploy calls (tests shorten them). */
  retry?: { retries?: number; minTimeout?: number; maxTimeout?: number };
}

export type ExecutorOutcome = { kind: 'finished'; record: RollbackRecord } | { kind: 'duplicate'; record: RollbackRecord };

const ALREADY_EXISTS = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const terminal = (status: ProgressStage) => status === 'succeeded' || status === 'failed';

/**
 * RollbackCommand in → one Cloud Deploy rollback, tracked to a terminal state,
 * recorded in `rollbacks/{id}` with its audit trail, progress published
 * (accepted → started → succeeded | failed). Safe under redelivery: the rollout
 * id is derived from the rollback id, and ALREADY_EXISTS means "resume tracking".
 */
export function createExecutorHandler(deps: ExecutorDeps): (event: CloudEvent<typeof EventTypes.rollbackCommand>) => Promise<ExecutorOutcome> {
  const { store, deploy, publisher, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const pollIntervalMs = deps.pollIntervalMs ?? 2_000;
  const trackTimeoutMs = deps.trackTimeoutMs ?? 9 * 60_000;

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

  const fail = async (cmd: RollbackCommand, reason: string, rolloutState: string | null = null) => {
    const record = await store.update(cmd.rollbackId, { status: 'failed', failureReason: reason, rolloutState }, { stage: 'failed', detail: reason }, now());
    await publishProgress(cmd, record, 'failed', reason);
    return record;
  };

  const callDeploy = <T>(fn: () => Promise<T>) =>
    withRetry(fn, { grpc: true, retries: deps.retry?.retries ?? 5, minTimeout: deps.retry?.minTimeout ?? 500, maxTimeout: deps.retry?.maxTimeout ?? 10_000 });

  return async (event) => {
    const cmd = event.data;
    const pipelineName = `projects/${cmd.project}/locations/${cmd.region}/deliveryPipelines/${cmd.pipeline}`;
    const begun = await store.begin(cmd, now());
    const created = begun.created;
    let record = begun.record;

    if (terminal(record.status)) {
      logger.info(`rollback ${cmd.rollbackId} already ${record.status}; nothing to do`, { event: 'rollback_duplicate', rollbackId: cmd.rollbackId, service: cmd.service });
      return { kind: 'duplicate', record };
    }
    if (created) await publishProgress(cmd, record, 'accepted', `rollback of ${cmd.target} ordered: ${cmd.reason}`);
    else record = await store.update(cmd.rollbackId, {}, { stage: 'resumed', detail: `redelivered in status ${record.status}; resuming` }, now());

    try {
      if (record.status === 'accepted') {
        let releaseId = record.releaseId;
        if (!releaseId) {
          const choice = await callDeploy(() => deploy.lastKnownGoodRelease(pipelineName, cmd.target));
          if (!choice) {
            return { kind: 'finished', record: await fail(cmd, `no last known good release: no earlier release ever succeeded on ${cmd.target} before the current one`) };
          }
          releaseId = choice.releaseId;
          record = await store.update(cmd.rollbackId, { releaseId }, { stage: 'accepted', detail: `last known good release of ${cmd.target} is ${releaseId} (current ${choice.currentReleaseId})` }, now());
        }
        let rolloutName: string;
        let resumed = false;
        try {
          ({ rolloutName } = await callDeploy(() => deploy.rollbackTarget({ pipelineName, targetId: cmd.target, rolloutId: cmd.rolloutId, releaseId })));
        } catch (err) {
          if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
          rolloutName = `${pipelineName}/releases/${releaseId}/rollouts/${cmd.rolloutId}`;
          resumed = true;
        }
        const detail = resumed
          ? `rollout ${cmd.rolloutId} already exists (started by an earlier attempt); tracking it`
          : `Cloud Deploy rollout ${cmd.rolloutId} created, rolling ${cmd.target} back to ${releaseId}`;
        record = await store.update(cmd.rollbackId, { status: 'started', rolloutName }, { stage: 'started', detail }, now());
        await publishProgress(cmd, record, 'started', detail);
      }

      const rolloutName = record.rolloutName!;
      const deadline = Date.now() + trackTimeoutMs;
      let lastState = '';
      for (;;) {
        const rollout = await callDeploy(() => deploy.getRollout(rolloutName));
        if (rollout.state !== lastState) {
          lastState = rollout.state;
          logger.info(`rollout ${rolloutName} is ${rollout.state}`, { event: 'rollout_state', rollbackId: cmd.rollbackId, service: cmd.service, state: rollout.state });
        }
        if (TERMINAL_ROLLOUT_STATES.has(rollout.state)) {
          if (rollout.state === 'SUCCEEDED') {
            const detail = `${cmd.target} rolled back to ${record.releaseId} (rollout ${cmd.rolloutId} SUCCEEDED)`;
            record = await store.update(cmd.rollbackId, { status: 'succeeded', rolloutState: rollout.state }, { stage: 'succeeded', detail }, now());
            await publishProgress(cmd, record, 'succeeded', detail);
            return { kind: 'finished', record };
          }
          const reason = `rollout ${cmd.rolloutId} ended ${rollout.state}${rollout.failureReason ? `: ${rollout.failureReason}` : ''}`;
          return { kind: 'finished', record: await fail(cmd, reason, rollout.state) };
        }
        if (Date.now() > deadline) {
          throw new TransientError(`rollout ${rolloutName} still ${rollout.state} after ${trackTimeoutMs} ms; tracking resumes on redelivery`);
        }
        await sleep(pollIntervalMs);
      }
    } catch (err) {
      if (err instanceof TransientError || isRetryableGrpcError(err)) {
        throw err instanceof TransientError ? err : new TransientError(`Cloud Deploy unavailable: ${(err as Error).message}`, { cause: err });
      }
      const code = (err as { code?: number }).code;
      const reason = `Cloud Deploy refused the rollback${code !== undefined ? ` (gRPC ${code})` : ''}: ${(err as Error).message}`;
      return { kind: 'finished', record: await fail(cmd, reason) };
    }
  };
}
