/**
 * @burnback/gcp-sim: a local simulator of the Google APIs that have no emulator,
 * served on one insecure gRPC port so the real client libraries talk to it.
 * Cloud Deploy v1 (google.cloud.deploy.v1.CloudDeploy plus
 * google.longrunning.Operations for its long-running operations), with Cloud
 * Deploy's Pub/Sub notifications, and Cloud Monitoring's
 * MetricService.ListTimeSeries for SLO burn rates and its incident notifications
 * (openIncident, closedIncident: what `burnback simulate` publishes; also the
 * entry `@burnback/gcp-sim/notifications`, which loads no client); each simulated API lives in a
 * folder of its own (src/cloud-deploy/, src/cloud-monitoring/), the gRPC plumbing in src/server/.
 */
export {
  startGcpSim,
  cloudDeployClientOptions,
  monitoringClientOptions,
  type GcpSim,
  type GcpSimOptions,
  type LocalClientOptions,
} from './server/gcp-sim.js';
export {
  MonitoringMethods,
  lookbackSecondsOf,
  type MonitoringSim,
  type MonitoringMethod,
  type MonitoringCall,
  type MonitoringFault,
  type ListTimeSeriesRequest,
} from './cloud-monitoring/simulation.js';
export { BurnRates, type BurnPoint, type BurnSeed } from './cloud-monitoring/burn-rates.js';
export { MonitoringScenario, burnSeedFromScenario } from './cloud-monitoring/scenario.js';
export {
  openIncident,
  closedIncident,
  notificationBytes,
  INCIDENT_DEFAULTS,
  type IncidentFixtureOptions,
} from './cloud-monitoring/notifications.js';
export {
  defaultDeploySeed,
  mergeSeeds,
  pipelineWorld,
  SeedBuilder,
  DEFAULT_PIPELINE_ID,
  CANARY_STRATEGY,
  STANDARD_STRATEGY,
} from './cloud-deploy/seed.js';
export {
  worldFromServices,
  worldFromHistory,
  servicesFromConfigFile,
  type ServedRelease,
  type WorldService,
} from './cloud-deploy/world.js';
export { Scenario, parseScenario, loadScenarioFile, seedFromScenario } from './cloud-deploy/scenario.js';
export {
  uniformTimings,
  type DeploySim,
  type DeployCall,
  type DeployTimings,
  type DeployEventListener,
  type DeployNotifier,
  type RolloutListener,
  type FailNextCallsOptions,
  type RpcFault,
  type SimLogger,
} from './cloud-deploy/simulation.js';
export {
  DeployState,
  STABLE_PHASE_ID,
  laneOf,
  type DeployEvent,
  type RolloutFailurePlan,
  type RollbackResult,
  type RolloutTransition,
} from './cloud-deploy/state.js';
export {
  DeployNotificationTopics,
  DeployActions,
  notificationsOf,
  projectNumberOf,
  type DeployNotification,
  type DeployAction,
} from './cloud-deploy/notifications.js';
export { ApiErrorCodes, DeployApiError, ScenarioError, type ApiErrorCode } from './errors.js';
export {
  RollbackFaultKinds,
  type RollbackFault,
  type RollbackFaultFilter,
  type RollbackFaultKind,
  type RollbackFaultSpec,
} from './cloud-deploy/rollback-faults.js';
export { CONTROL_HOST } from './control/server.js';
export { GcpSimControl, ControlError } from './control/client.js';
export { RollbackFaultRequest, type RollbackFaultRequestInput, type RollbackFaultView, type ControlErrorBody } from './control/schema.js';
export { RESOURCE_ID } from './cloud-deploy/resource-names.js';
export {
  DeployMethods,
  RolloutStates,
  ApprovalStates,
  RolloutFailureCauses,
  PhaseStates,
  JobStates,
  TERMINAL_ROLLOUT_STATES,
  type DeployMethod,
  type DeployRpcs,
  type DeploySeed,
  type DeliveryPipeline,
  type Target,
  type Release,
  type Rollout,
  type RolloutState,
  type ApprovalState,
  type RolloutFailureCause,
  type Phase,
  type Job,
  type Stage,
  type Strategy,
  type Timestamp,
  type Operation,
  type RollbackTargetRequest,
  type RollbackTargetResponse,
} from './cloud-deploy/resources.js';
