export { createExecutorHandler, type ExecutorDeps, type ExecutorOutcome } from './handler.js';
export { CloudDeployPort, TERMINAL_ROLLOUT_STATES, type DeployPort, type RolloutStatus, type ReleaseChoice } from './deploy.js';
export { RollbackStore } from './store.js';
export { startExecutorService, type ExecutorService } from './service.js';
