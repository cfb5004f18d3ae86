export { decide, applyDecision, initialServiceState, errorRatioOf, thresholdFor, type Decision } from './decide.js';
