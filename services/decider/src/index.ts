export { createDeciderHandler, type DeciderDeps, type DeciderOutcome } from './handler.js';
export { DecisionStore, type DecisionSnapshot, type DecisionWrite } from './store.js';
export { startDeciderService, type DeciderService } from './service.js';
