import { isFinalStage, type CloudEvent, type EventTypes, type RollbackRecord } from '@burnback/contracts';
import { commandOf, COMMAND_DELIVERY, createRollbackSteps, lastDetail, type RollbackStepsDeps } from './rollback-steps.js';
import { trackingDueIn } from './store.js';

export interface ExecutorDeps extends RollbackStepsDeps {
  /** Called when the handler left a rollback for the tracker (started, or waiting for a cancellation): look soon. */
  onTracked?: () => void;
}

export type ExecutorOutcome =
  /** Ended while the command was handled: failed, superseded, or validated (mode recommend). */
  | { kind: 'finished'; record: RollbackRecord }
  /** Already final: its outcome was published again (in case that publish was lost) and nothing else done. */
  | { kind: 'duplicate'; record: RollbackRecord }
  /** Started (or waiting for the serving rollout to stop): the tracker follows it from `rollbacks/{id}.tracking`. */
  | { kind: 'tracking'; record: RollbackRecord };

/**
 * RollbackCommand in → one Cloud Deploy rollback started, recorded in
 * `rollbacks/{id}` with its audit trail, progress published (accepted, then
 * started, or failed / superseded / validated). It never waits for a rollout:
 * once Cloud Deploy has the rollback rollout (or is cancelling the serving one
 * first), the record is scheduled for the tracker (tracker.ts) and the command
 * is acked, so a slow rollout holds none of the subscription's delivery slots.
 * Safe under redelivery: the rollout id is derived from the rollback id, and
 * ALREADY_EXISTS means "it was started".
 */
export function createExecutorHandler(
  deps: ExecutorDeps,
): (event: CloudEvent<typeof EventTypes.rollbackCommand | typeof EventTypes.rollbackValidate>) => Promise<ExecutorOutcome> {
  const { store, logger } = deps;
  const steps = createRollbackSteps(deps);
  const { now } = steps;
  const tracked = (record: RollbackRecord): ExecutorOutcome => {
    deps.onTracked?.();
    return { kind: 'tracking', record };
  };

  return async (event) => {
    const cmd = commandOf(event);
    const begun = await store.begin(cmd, now());
    let record = begun.record;

    if (isFinalStage(record.status)) {
      // Re-publish the outcome: if its first publish was lost, this delivery is the only one left to send it.
      await steps.publishProgress(cmd, record, record.status, lastDetail(record, record.status));
      logger.info(`rollback ${cmd.rollbackId} already ${record.status}; nothing to do`, {
        event: 'rollback_duplicate',
        rollbackId: cmd.rollbackId,
        service: cmd.service,
      });
      return { kind: 'duplicate', record };
    }
    /** The `accepted` progress, published while the rollback starts (nothing in the start waits for it); awaited before the command is done. */
    let accepted: Promise<void> = Promise.resolve();
    if (begun.created) {
      accepted = steps.publishProgress(cmd, record, 'accepted', `rollback of ${cmd.target} ordered: ${cmd.reason}`);
      // Never left unobserved while the start runs: its failure is thrown below, once the start has settled.
      accepted.catch(() => undefined);
    } else {
      record = await store.update(
        cmd.rollbackId,
        {},
        {
          stage: 'resumed',
          detail: record.tracking
            ? `redelivered in status ${record.status}; the tracker follows it`
            : `redelivered in status ${record.status}; resuming`,
        },
        now(),
      );
      if (isFinalStage(record.status)) return { kind: 'duplicate', record }; // finished meanwhile
      // Progress ids are deterministic (rollbackId.stage), so consumers drop the repeat of a publish that did go through.
      await steps.publishProgress(cmd, record, record.status, lastDetail(record, record.status));
    }

    // The tracker owns it (started, or waiting for a cancellation): this delivery has nothing left to do.
    if (record.tracking) return tracked(record);
    if (record.status === 'started') {
      // Started by an executor that tracked rollouts while holding the command: hand it to the tracker.
      return tracked(await store.update(cmd.rollbackId, { tracking: trackingDueIn(now(), 0) }, null, now()));
    }

    // Progress of one rollback shares an ordering key, so `accepted` still goes out before what the start publishes.
    // Either failing fails the delivery (nacked, redelivered: its progress is published again from the record).
    const starting = steps.start(COMMAND_DELIVERY, record);
    await Promise.allSettled([starting, accepted]);
    await accepted;
    record = await starting;
    return isFinalStage(record.status) ? { kind: 'finished', record } : tracked(record);
  };
}
