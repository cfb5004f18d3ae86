/** What a rollback's command and record say, and how an ended rollout is worded in its failure reason: pure, no I/O and no clock. */
import {
  EventTypes,
  type AuditStage,
  type CloudEvent,
  type ProgressStage,
  type RollbackCommand,
  type RollbackRecord,
} from '@burnback/contracts';

/** The command an event carries; one of the validate-only type is validate-only whatever its data says. */
export function commandOf(event: CloudEvent<typeof EventTypes.rollbackCommand | typeof EventTypes.rollbackValidate>): RollbackCommand {
  return event.type === EventTypes.rollbackValidate ? { ...event.data, validateOnly: true } : event.data;
}

export const pipelineNameOf = (cmd: RollbackCommand): string =>
  `projects/${cmd.project}/locations/${cmd.region}/deliveryPipelines/${cmd.pipeline}`;

/** The detail of the record's latest audit line of `stage`, for re-publishing that stage. */
export const lastDetail = (record: RollbackRecord, stage: ProgressStage): string =>
  [...record.audit].reverse().find((a) => a.stage === stage)?.detail ?? stage;

export const hasAudit = (record: RollbackRecord, stage: AuditStage) => record.audit.some((a) => a.stage === stage);

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
