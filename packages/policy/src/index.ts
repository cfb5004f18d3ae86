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
  initialTargetRecord,
} from './outcome.js';
