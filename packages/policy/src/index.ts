export {
  decide,
  applyDecision,
  applyIncident,
  initialServiceState,
  errorRatioOf,
  measuredValue,
  thresholdFor,
  cooldownStartOf,
  type Decision,
  type IncidentView,
  type TargetView,
} from './decide.js';
export {
  recordOutcomeOnService,
  recordProgressOnIncident,
  recordOutcomeOnTarget,
  recordServingOnTarget,
  recordFailedRolloutOnTarget,
  recordBurnOnTarget,
  initialTargetRecord,
} from './outcome.js';
export {
  confidenceOf,
  blameWindowSeconds,
  burnPolicyOf,
  confirmationWindows,
  ConfidenceWeights,
  type ConfidenceTarget,
  type ConfirmationWindows,
} from './confidence.js';
export {
  acknowledgedVerdict,
  describeFreeze,
  fleetBreakerVerdict,
  freezeInForce,
  freezeVerdict,
  localTime,
  modeVerdict,
  pausedVerdict,
  type DecisionControls,
} from './controls.js';
export { mergeFleet, recordOnBreaker, releaseOnBreaker, BREAKER_KEEP_MS } from './controls.js';
