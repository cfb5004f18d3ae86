export { decide, applyDecision, initialServiceState, errorRatioOf, type Decision } from './decide.js';
