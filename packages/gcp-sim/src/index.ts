/**
 * @burnback/gcp-sim: a local simulator of the Google APIs that have no emulator.
 * For now the Cloud Deploy v1 API (google.cloud.deploy.v1.CloudDeploy over
 * insecure gRPC), which the real CloudDeployClient of @google-cloud/deploy talks to.
 */
export { startGcpSim, cloudDeployClientOptions, type GcpSim, type GcpSimOptions } from './server/gcp-sim.js';
export { defaultDeploySeed, DEFAULT_PIPELINE_ID } from './cloud-deploy/seed.js';
export type { DeploySim, DeployCall, RolloutListener, FailNextCallsOptions, SimLogger } from './cloud-deploy/simulation.js';
export { DeployState, STABLE_PHASE_ID, type RollbackResult, type RolloutTransition } from './cloud-deploy/state.js';
export { ApiErrorCodes, DeployApiError, type ApiErrorCode } from './errors.js';
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
  type RollbackTargetRequest,
  type RollbackTargetResponse,
} from './cloud-deploy/resources.js';
