/** The progress event of a rollback's status: published (its id `rollbackId.stage`, so a repeat is dropped), counted and logged. */
import {
  EventTypes,
  progressSequence,
  Topics,
  type ProgressStage,
  type RollbackCommand,
  type RollbackProgress,
  type RollbackRecord,
} from '@burnback/contracts';
import { lastDetail } from './pure/rollback-facts.js';
import type { RollbackStepsDeps } from './step-deps.js';

/** Publishes a rollback's progress with `deps`' publisher, and counts and logs it. */
export function createProgressReport(deps: Pick<RollbackStepsDeps, 'publisher' | 'logger' | 'metrics'>, now: () => Date) {
  const { publisher, logger } = deps;

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

  return { publishProgress, republish };
}
