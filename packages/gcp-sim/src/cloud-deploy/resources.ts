/**
 * Cloud Deploy v1 resources and requests in @grpc/proto-loader's JSON shape
 * (keepCase: false, enums as strings, int64 as strings, Timestamp as {seconds, nanos}).
 * Only the fields the simulator reads or writes are typed; proto-loader fills
 * every other field with its default on the wire. Optional here means "may be
 * left out of a seed", not "optional in the proto".
 */

export interface Timestamp {
  seconds: string;
  nanos: number;
}

export type StringMap = Record<string, string>;

/** google.cloud.deploy.v1.Rollout.State */
export const RolloutStates = {
  STATE_UNSPECIFIED: 'STATE_UNSPECIFIED',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  IN_PROGRESS: 'IN_PROGRESS',
  PENDING_APPROVAL: 'PENDING_APPROVAL',
  APPROVAL_REJECTED: 'APPROVAL_REJECTED',
  PENDING: 'PENDING',
  PENDING_RELEASE: 'PENDING_RELEASE',
  CANCELLING: 'CANCELLING',
  CANCELLED: 'CANCELLED',
  HALTED: 'HALTED',
} as const;
export type RolloutState = keyof typeof RolloutStates;

/** google.cloud.deploy.v1.Rollout.ApprovalState */
export const ApprovalStates = {
  APPROVAL_STATE_UNSPECIFIED: 'APPROVAL_STATE_UNSPECIFIED',
  NEEDS_APPROVAL: 'NEEDS_APPROVAL',
  DOES_NOT_NEED_APPROVAL: 'DOES_NOT_NEED_APPROVAL',
  APPROVED: 'APPROVED',
  REJECTED: 'REJECTED',
} as const;
export type ApprovalState = keyof typeof ApprovalStates;

/** google.cloud.deploy.v1.Rollout.FailureCause */
export const RolloutFailureCauses = {
  FAILURE_CAUSE_UNSPECIFIED: 'FAILURE_CAUSE_UNSPECIFIED',
  CLOUD_BUILD_UNAVAILABLE: 'CLOUD_BUILD_UNAVAILABLE',
  EXECUTION_FAILED: 'EXECUTION_FAILED',
  DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED',
  RELEASE_FAILED: 'RELEASE_FAILED',
  RELEASE_ABANDONED: 'RELEASE_ABANDONED',
  VERIFICATION_CONFIG_NOT_FOUND: 'VERIFICATION_CONFIG_NOT_FOUND',
  CLOUD_BUILD_REQUEST_FAILED: 'CLOUD_BUILD_REQUEST_FAILED',
  OPERATION_FEATURE_NOT_SUPPORTED: 'OPERATION_FEATURE_NOT_SUPPORTED',
} as const;
export type RolloutFailureCause = keyof typeof RolloutFailureCauses;

/** google.cloud.deploy.v1.Phase.State */
export const PhaseStates = {
  STATE_UNSPECIFIED: 'STATE_UNSPECIFIED',
  PENDING: 'PENDING',
  IN_PROGRESS: 'IN_PROGRESS',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  ABORTED: 'ABORTED',
  SKIPPED: 'SKIPPED',
} as const;
export type PhaseState = keyof typeof PhaseStates;

/** google.cloud.deploy.v1.Job.State */
export const JobStates = {
  STATE_UNSPECIFIED: 'STATE_UNSPECIFIED',
  PENDING: 'PENDING',
  DISABLED: 'DISABLED',
  IN_PROGRESS: 'IN_PROGRESS',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  ABORTED: 'ABORTED',
  SKIPPED: 'SKIPPED',
  IGNORED: 'IGNORED',
} as const;
export type JobState = keyof typeof JobStates;

/** google.cloud.deploy.v1.Release.RenderState */
export const RenderStates = {
  RENDER_STATE_UNSPECIFIED: 'RENDER_STATE_UNSPECIFIED',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  IN_PROGRESS: 'IN_PROGRESS',
} as const;
export type RenderState = keyof typeof RenderStates;

/** Rollout states after which nothing more happens to a rollout. */
export const TERMINAL_ROLLOUT_STATES: ReadonlySet<RolloutState> = new Set<RolloutState>([
  'SUCCEEDED',
  'FAILED',
  'APPROVAL_REJECTED',
  'CANCELLED',
  'HALTED',
]);

export interface Predeploy {
  actions: string[];
}
export interface Postdeploy {
  actions: string[];
}

export interface Strategy {
  standard?: { verify?: boolean; predeploy?: Predeploy; postdeploy?: Postdeploy };
  canary?: {
    runtimeConfig?: {
      cloudRun?: {
        automaticTrafficControl?: boolean;
        canaryRevisionTags?: string[];
        priorRevisionTags?: string[];
        stableRevisionTags?: string[];
      };
    };
    /** `percentages` are the canary phases (each 0 <= n < 100); the 100 % step is the implicit `stable` phase. */
    canaryDeployment?: { percentages: number[]; verify?: boolean; predeploy?: Predeploy; postdeploy?: Postdeploy };
    customCanaryDeployment?: {
      phaseConfigs: { phaseId: string; percentage: number; profiles?: string[]; verify?: boolean }[];
    };
  };
}

export interface Stage {
  targetId: string;
  profiles?: string[];
  strategy?: Strategy;
}

export interface DeliveryPipeline {
  name: string;
  uid?: string;
  description?: string;
  annotations?: StringMap;
  labels?: StringMap;
  createTime?: Timestamp;
  updateTime?: Timestamp;
  serialPipeline?: { stages: Stage[] };
  etag?: string;
  suspended?: boolean;
}

export interface Target {
  name: string;
  targetId?: string;
  uid?: string;
  description?: string;
  annotations?: StringMap;
  labels?: StringMap;
  requireApproval?: boolean;
  createTime?: Timestamp;
  updateTime?: Timestamp;
  run?: { location: string };
  gke?: { cluster: string; internalIp?: boolean; proxyUrl?: string };
  multiTarget?: { targetIds: string[] };
  etag?: string;
  deployParameters?: StringMap;
}

export interface Release {
  name: string;
  uid?: string;
  description?: string;
  annotations?: StringMap;
  labels?: StringMap;
  abandoned?: boolean;
  createTime: Timestamp;
  renderStartTime?: Timestamp;
  renderEndTime?: Timestamp;
  skaffoldConfigUri?: string;
  skaffoldConfigPath?: string;
  buildArtifacts?: { image: string; tag: string }[];
  deliveryPipelineSnapshot?: DeliveryPipeline;
  targetSnapshots?: Target[];
  renderState?: RenderState;
  etag?: string;
  skaffoldVersion?: string;
  targetRenders?: Record<string, { renderingState: 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS'; failureMessage?: string }>;
}

export interface Job {
  id: string;
  state: JobState;
  skipMessage?: string;
  jobRun?: string;
  /** Exactly one of these marks the job type (proto `oneof job_type`). */
  deployJob?: Record<string, never>;
  verifyJob?: Record<string, never>;
  predeployJob?: { actions: string[] };
  postdeployJob?: { actions: string[] };
}

export interface Phase {
  id: string;
  state: PhaseState;
  skipMessage?: string;
  deploymentJobs?: { deployJob?: Job; verifyJob?: Job; predeployJob?: Job; postdeployJob?: Job };
}

export interface CloudRunMetadata {
  service: string;
  serviceUrls: string[];
  revision: string;
  job?: string;
}

export interface Rollout {
  name: string;
  uid?: string;
  description?: string;
  annotations?: StringMap;
  labels?: StringMap;
  createTime: Timestamp;
  approveTime?: Timestamp;
  enqueueTime?: Timestamp;
  deployStartTime?: Timestamp;
  deployEndTime?: Timestamp;
  targetId: string;
  approvalState?: ApprovalState;
  state: RolloutState;
  failureReason?: string;
  deployingBuild?: string;
  etag?: string;
  deployFailureCause?: RolloutFailureCause;
  phases?: Phase[];
  metadata?: { cloudRun?: CloudRunMetadata };
  controllerRollout?: string;
  rollbackOfRollout?: string;
  rolledBackByRollouts?: string[];
}

/** What the simulator starts from (and `reset()` returns to). */
export interface DeploySeed {
  pipelines: DeliveryPipeline[];
  targets: Target[];
  releases: Release[];
  rollouts: Rollout[];
}

// ---- Requests and responses (proto-loader decodes every field, with defaults) ----

export interface GetRequest {
  name: string;
}

export interface ListRequest {
  parent: string;
  pageSize?: number;
  pageToken?: string;
  filter?: string;
  orderBy?: string;
}

export interface RollbackTargetConfig {
  rollout?: Partial<Rollout> | null;
  startingPhaseId?: string;
}

export interface RollbackTargetRequest {
  name: string;
  targetId: string;
  rolloutId: string;
  releaseId?: string;
  rolloutToRollBack?: string;
  rollbackConfig?: RollbackTargetConfig | null;
  validateOnly?: boolean;
}

export interface RollbackTargetResponse {
  rollbackConfig: { rollout: Rollout; startingPhaseId: string };
}

export interface ApproveRolloutRequest {
  name: string;
  approved: boolean;
}

export interface AdvanceRolloutRequest {
  name: string;
  phaseId: string;
}

export interface CancelRolloutRequest {
  name: string;
}

export interface AbandonReleaseRequest {
  name: string;
}

export interface CreateReleaseRequest {
  parent: string;
  releaseId: string;
  release?: Partial<Release> | null;
  requestId?: string;
  validateOnly?: boolean;
}

export interface CreateRolloutRequest {
  parent: string;
  rolloutId: string;
  rollout?: Partial<Rollout> | null;
  requestId?: string;
  validateOnly?: boolean;
  startingPhaseId?: string;
}

export interface GetOperationRequest {
  name: string;
}

/** google.protobuf.Any as proto-loader reads and writes it. */
export interface AnyMessage {
  typeUrl: string;
  value: Uint8Array;
}

/** google.longrunning.Operation: `response` or `error` once `done`. */
export interface Operation {
  name: string;
  metadata: AnyMessage | null;
  done: boolean;
  response?: AnyMessage;
  error?: { code: number; message: string; details: AnyMessage[] };
}

/** google.cloud.deploy.v1.OperationMetadata */
export interface OperationMetadata {
  createTime: Timestamp;
  endTime?: Timestamp;
  target: string;
  verb: string;
  statusMessage: string;
  requestedCancellation: boolean;
  apiVersion: string;
}

export interface ListDeliveryPipelinesResponse {
  deliveryPipelines: DeliveryPipeline[];
  nextPageToken: string;
  unreachable: string[];
}
export interface ListTargetsResponse {
  targets: Target[];
  nextPageToken: string;
  unreachable: string[];
}
export interface ListReleasesResponse {
  releases: Release[];
  nextPageToken: string;
  unreachable: string[];
}
export interface ListRolloutsResponse {
  rollouts: Rollout[];
  nextPageToken: string;
  unreachable: string[];
}

/**
 * The RPCs the simulator answers (CloudDeploy's, plus google.longrunning.Operations/GetOperation,
 * which the client polls on the same endpoint); every other RPC answers UNIMPLEMENTED.
 */
export const DeployMethods = {
  ListDeliveryPipelines: 'ListDeliveryPipelines',
  GetDeliveryPipeline: 'GetDeliveryPipeline',
  ListTargets: 'ListTargets',
  GetTarget: 'GetTarget',
  ListReleases: 'ListReleases',
  GetRelease: 'GetRelease',
  CreateRelease: 'CreateRelease',
  AbandonRelease: 'AbandonRelease',
  ListRollouts: 'ListRollouts',
  GetRollout: 'GetRollout',
  CreateRollout: 'CreateRollout',
  ApproveRollout: 'ApproveRollout',
  AdvanceRollout: 'AdvanceRollout',
  CancelRollout: 'CancelRollout',
  RollbackTarget: 'RollbackTarget',
  GetOperation: 'GetOperation',
} as const;
export type DeployMethod = keyof typeof DeployMethods;

/** The methods served by google.longrunning.Operations rather than CloudDeploy. */
export const OPERATIONS_METHODS: ReadonlySet<DeployMethod> = new Set<DeployMethod>(['GetOperation']);

type Empty = Record<string, never>;

/** Request and response type of each simulated RPC. */
export interface DeployRpcs {
  ListDeliveryPipelines: { request: ListRequest; response: ListDeliveryPipelinesResponse };
  GetDeliveryPipeline: { request: GetRequest; response: DeliveryPipeline };
  ListTargets: { request: ListRequest; response: ListTargetsResponse };
  GetTarget: { request: GetRequest; response: Target };
  ListReleases: { request: ListRequest; response: ListReleasesResponse };
  GetRelease: { request: GetRequest; response: Release };
  CreateRelease: { request: CreateReleaseRequest; response: Operation };
  AbandonRelease: { request: AbandonReleaseRequest; response: Empty };
  ListRollouts: { request: ListRequest; response: ListRolloutsResponse };
  GetRollout: { request: GetRequest; response: Rollout };
  CreateRollout: { request: CreateRolloutRequest; response: Operation };
  ApproveRollout: { request: ApproveRolloutRequest; response: Empty };
  AdvanceRollout: { request: AdvanceRolloutRequest; response: Empty };
  CancelRollout: { request: CancelRolloutRequest; response: Empty };
  RollbackTarget: { request: RollbackTargetRequest; response: RollbackTargetResponse };
  GetOperation: { request: GetOperationRequest; response: Operation };
}
