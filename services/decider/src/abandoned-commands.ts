import type { Firestore } from '@google-cloud/firestore';
import {
  Collections,
  EventTypes,
  progressSequence,
  RollbackCommand,
  Topics,
  type OutboxEntry,
  type RollbackRecord,
} from '@burnback/contracts';
import { systemClock, toFirestoreData, type Clock, type Logger, type Publisher } from '@burnback/platform';

/**
 * The relay gave up on a command: sent MAX_COMMAND_SENDS times, and no executor
 * ever said it took it. Its rollback is failed explicitly, so its incident
 * escalates (the progress below reaches the decider's own progress handler,
 * which decides the open incident again) instead of holding on an ordered
 * rollback forever. The failure is written where the executor keeps its
 * rollbacks, created only if the executor never made it: an executor that
 * receives the command later finds it failed and does nothing (the one
 * document the decider writes in the executor's collection, and only to close
 * it). If the executor did take it, it owns the rollback and nothing is written.
 */
export async function failAbandonedCommand(
  deps: { db: Firestore; publisher: Publisher; logger: Logger; clock?: Clock },
  entry: OutboxEntry,
): Promise<void> {
  if (entry.eventType === EventTypes.decision) return;
  const command = RollbackCommand.parse(entry.data);
  const clock = deps.clock ?? systemClock;
  const at = clock.now().toISOString();
  const reason = `the command was sent ${entry.attempts} times (last at ${entry.sentAt}) and no executor took it: nothing was rolled back; look at the executor and its subscription ${Topics.commands}`;
  const ref = deps.db.collection(Collections.rollbacks).doc(command.rollbackId);
  const created = await deps.db.runTransaction(async (tx) => {
    if ((await tx.get(ref)).exists) return false;
    const record: RollbackRecord = {
      rollbackId: command.rollbackId,
      command,
      status: 'failed',
      releaseId: command.releaseId,
      leaving: null,
      rolloutToRollBack: null,
      rolloutName: null,
      rolloutState: null,
      failureReason: reason,
      audit: [{ at, stage: 'failed', detail: reason }],
      createdAt: at,
      updatedAt: at,
      tracking: null,
      servingSince: null,
      supersededBy: null,
    };
    tx.create(ref, toFirestoreData(record));
    return true;
  });
  if (!created) {
    deps.logger.warn(`command ${command.rollbackId} was never confirmed, but the executor has its rollback: it stays the executor's`, {
      event: 'outbox_given_up_owned',
      rollbackId: command.rollbackId,
    });
    return;
  }
  await deps.publisher.publishEvent(
    Topics.progress,
    {
      id: `${command.rollbackId}.failed`,
      type: EventTypes.rollbackProgress,
      source: '//burnback/decider',
      subject: `services/${command.service}/rollbacks/${command.rollbackId}`,
      time: at,
      data: {
        rollbackId: command.rollbackId,
        decisionId: command.decisionId,
        incidentId: command.incidentId,
        service: command.service,
        target: command.target,
        stage: 'failed',
        sequence: progressSequence.failed,
        rolloutName: null,
        releaseId: null,
        fromReleaseId: null,
        detail: reason,
        at,
        ...(command.validateOnly ? { validateOnly: true } : {}),
      },
    },
    command.service,
  );
}
