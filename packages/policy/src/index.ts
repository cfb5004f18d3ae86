export {
  decide,
  applyDecision,
  applyIncident,
  rollbackAttemptOf,
  withUnavailableSince,
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
  freezeEndsAt,
  freezeInForce,
  freezeVerdict,
  localTime,
  modeVerdict,
  pausedVerdict,
  supersedingControl,
  type CommandControls,
  type DecisionControls,
} from './controls.js';
export { mergeFleet, recordOnBreaker, releaseOnBreaker, BREAKER_KEEP_MS } from './controls.js';
export { approvableUntil, commandServingRollout } from './approval.js';
export {
  chooseReleases,
  isOwnSuccessfulRollback,
  latestRolloutOn,
  reachedTraffic,
  RUNNING_ROLLOUT_STATES,
  type ReleaseDecision,
} from './release-choice.js';
export {
  HISTORY_READ_KEPT,
  newestRolloutsOn,
  phaseOf,
  rebuildTarget,
  servingAt,
  servingOf,
  servingTimeline,
  shareOf,
  TIMELINE_KEPT,
  withSpan,
} from './serving.js';
export { laneOf, decideBulk, laneVerdict } from './lanes.js';
