/** The steps of one rollback that the command handler and the tracker share, put together from their modules (and re-exported from here). */
import { createRolloutCheck } from './check-rollout.js';
import { createDeployCalls } from './deploy-calls.js';
import { createRollbackRecords } from './rollback-records.js';
import { stepTimingsOf, type RollbackStepsDeps } from './step-deps.js';
import { createStartStep } from './start-rollback.js';

export { type RollbackStepsDeps } from './step-deps.js';
export { CallPermissions, deniedPermission, DeployPermissionDenied, DeployRefusal } from './deploy-calls.js';
export { COMMAND_DELIVERY, LeaseLostError, type StepContext } from './rollback-records.js';
export { cloudDeployReasonOf, commandOf, lastDetail, pipelineNameOf, rolloutEndedReason } from './pure/rollback-facts.js';

/**
 * The steps of one rollback, none of which waits for Cloud Deploy to move:
 * starting it (choose both releases, check, cancel the serving rollout, create
 * the rollback rollout) and checking its rollout once. Each either ends the
 * rollback, or leaves it with a tracking schedule for the tracker's next look.
 * Written for at-least-once: every write is conditional (store.update never goes
 * backwards; a tracker's writes need its lease), and progress ids are `rollbackId.stage`.
 */
export function createRollbackSteps(deps: RollbackStepsDeps) {
  const timings = stepTimingsOf(deps);
  const { now, pollIntervalMs, maxPollIntervalMs, nextCheckInMs } = timings;
  const records = createRollbackRecords(deps, timings);
  const calls = createDeployCalls(deps);
  const start = createStartStep(deps, timings, records, calls);
  const checkRollout = createRolloutCheck(deps, timings, records, calls);
  const { publishProgress, republish, write } = records;

  return { publishProgress, republish, write, start, checkRollout, nextCheckInMs, pollIntervalMs, maxPollIntervalMs, now };
}
