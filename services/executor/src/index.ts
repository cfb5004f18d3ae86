export { createExecutorHandler, type ExecutorDeps, type ExecutorOutcome } from './handler.js';
export { cloudDeployReasonOf, rolloutEndedReason, type RollbackStepsDeps } from './rollback-steps.js';
export { startRolloutTracker, type RolloutTracker, type RolloutTrackerDeps } from './tracker.js';
export { CloudDeployPort, type DeployPort, type RollbackRequest, type RolloutStatus } from './deploy.js';
export { RollbackStore, type ClaimedRollback, type RollbackChange } from './store.js';
export { startExecutorService, type ExecutorService } from './service.js';
