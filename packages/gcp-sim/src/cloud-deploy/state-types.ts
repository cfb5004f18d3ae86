import type { Release, Rollout, RollbackTargetResponse, RolloutFailureCause, RolloutState } from './resources.js';
import { pipelineOf } from './resource-names.js';

/** A rollout's state before and after one change. */
export interface RolloutTransition {
  rollout: Rollout;
  /** `null` when the rollout was just created. */
  previousState: RolloutState | null;
}

/** What RollbackTarget did (or, with validate_only, would do). */
export interface RollbackResult {
  response: RollbackTargetResponse;
  /** The created rollout; `null` for validate_only. */
  created: Rollout | null;
}

/** Where and how a rollout fails (failure injection). Unset fields match anything. */
export interface RolloutFailurePlan {
  /** The phase to fail in (e.g. `canary-25`, `stable`); default: the first phase that runs. */
  phaseId?: string;
  /** The job to fail; default `deploy`. A plan for `verify` on a phase without verify never fires. */
  jobId?: 'deploy' | 'verify';
  /** Default EXECUTION_FAILED. */
  cause?: RolloutFailureCause;
  /** The rollout's failure_reason; default a sentence naming the phase and job. */
  reason?: string;
}

/** Everything that changes in the world, in order; the simulator turns these into listener calls and Pub/Sub notifications. */
export type DeployEvent =
  | { type: 'release-created'; release: Release }
  | { type: 'release-rendered'; release: Release }
  | { type: 'release-abandoned'; release: Release }
  | { type: 'rollout-created'; rollout: Rollout }
  | { type: 'rollout-state'; rollout: Rollout; previousState: RolloutState }
  | { type: 'approval'; rollout: Rollout; action: 'Required' | 'Approved' | 'Rejected' }
  | { type: 'advance'; rollout: Rollout; phaseId: string; action: 'Required' | 'Advanced' }
  /** A job run of a rollout started, succeeded, failed, or was terminated (its rollout cancelled or failed elsewhere). */
  | {
      type: 'job-run';
      rollout: Rollout;
      jobRun: string;
      phaseId: string;
      jobId: string;
      action: 'Start' | 'Succeed' | 'Failure' | 'Terminated';
    };

/** The next thing that happens on a pipeline's target, and what it waits for. */
export type LaneWork =
  | { kind: 'start'; rollout: string }
  | { kind: 'job'; rollout: string; jobId: 'deploy' | 'verify' }
  | { kind: 'advance'; rollout: string; phaseId: string }
  | { kind: 'cancel'; rollout: string };

/**
 * Rollouts run one at a time per delivery pipeline and target (a "lane"): a
 * rollout created while another is in progress there waits PENDING. Cloud
 * Deploy documents PENDING as "waiting for an earlier Rollout(s) to complete on
 * this Target" (https://cloud.google.com/deploy/docs/api/reference/rest/v1/projects.locations.deliveryPipelines.releases.rollouts#State);
 * whether two pipelines sharing a target also wait for each other is not
 * documented, and gcp-sim keeps them apart (README.md).
 */
export const laneOf = (rollout: Pick<Rollout, 'name' | 'targetId'>): string => `${pipelineOf(rollout.name)}|${rollout.targetId}`;
