export { decide, applyDecision, initialServiceState, errorRatioOf, measuredValue, thresholdFor, type Decision } from './decide.js';
