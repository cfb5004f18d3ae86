export { createExecutorHandler, type ExecutorDeps, type ExecutorOutcome } from './handler.js';
export { cloudDeployReasonOf, rolloutEndedReason, type RollbackStepsDeps } from './rollback-steps.js';
export { startRolloutTracker, type RolloutTracker, type RolloutTrackerDeps } from './tracker.js';
export {
  CloudDeployPort,
  historyRollout,
  TERMINAL_ROLLOUT_STATES,
  type DeployPort,
  type RollbackRequest,
  type RolloutStatus,
} from './deploy.js';
export {
  chooseReleases,
  latestRolloutOn,
  reachedTraffic,
  type DeployHistory,
  type HistoryRelease,
  type HistoryRollout,
  type ReleaseDecision,
} from './release-choice.js';
export { RollbackStore, type ClaimedRollback, type RollbackChange } from './store.js';
export { startExecutorService, type ExecutorService } from './service.js';
