export { createKeyedSerializer, createSerializer, type KeyedSerializer, type Serializer } from './serializer.js';
export {
  createDeciderHandler,
  createDecisionCore,
  checkMonitoring,
  openOverItsBar,
  type DeciderDeps,
  type DeciderOutcome,
  type RedecideOutcome,
} from './handler.js';
export { createProgressHandler } from './progress-handler.js';
export { createDeployEventHandler, createTargetHistory, learnProjectNumbers } from './deploy-events.js';
export { startRedecider, type Redecider } from './redecider.js';
export { RedecisionStore } from './redecision-store.js';
export { DecisionStore, type DecisionSnapshot, type DecisionWrite, type ProgressWrite, type TargetIdentity } from './store.js';
export { startDeciderService, type DeciderService } from './service.js';
export { startBulkLane, BULK_BATCH_MAX, type BulkLane, type BulkLaneDeps } from './bulk-lane.js';
