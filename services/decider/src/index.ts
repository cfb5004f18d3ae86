export { createDeciderHandler, createDeployEventHandler, createProgressHandler, type DeciderDeps, type DeciderOutcome } from './handler.js';
export { DecisionStore, type DecisionSnapshot, type DecisionWrite, type ProgressWrite, type TargetIdentity } from './store.js';
export { startDeciderService, type DeciderService } from './service.js';
