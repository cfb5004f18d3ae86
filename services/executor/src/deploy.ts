import { protos, type CloudDeployClient } from '@google-cloud/deploy';
import type { DeployHistory } from '@burnback/contracts';
import { CloudDeployHistory, enumName, millisOf } from '@burnback/platform';

/**
 * The subset of Cloud Deploy the executor uses. Leaves out approvals,
 * advancing, promotion and LRO admin on purpose: the executor only reads the
 * history, rolls back, cancels, and watches.
 */
export interface DeployPort {
  /**
   * Creates the rollback rollout (or, with validateOnly, only checks that it
   * could); throws the gRPC error (6 ALREADY_EXISTS when the id was used before,
   * 9 FAILED_PRECONDITION e.g. when rolloutToRollBack is no longer the latest).
   */
  rollbackTarget(req: RollbackRequest): Promise<{ rolloutName: string }>;
  /** Throws the gRPC error (5 NOT_FOUND when there is no such rollout). */
  getRollout(name: string): Promise<RolloutStatus>;
  /** Throws the gRPC error (9 FAILED_PRECONDITION when the rollout is no longer cancellable). */
  cancelRollout(name: string): Promise<void>;
  /** Every release and every rollout of the pipeline, all pages, without one call per release. */
  readHistory(pipelineName: string): Promise<DeployHistory>;
}

export interface RollbackRequest {
  pipelineName: string;
  targetId: string;
  rolloutId: string;
  releaseId: string;
  /** Must be the target's latest rollout, or Cloud Deploy refuses: a newer rollout makes the command stale. */
  rolloutToRollBack: string;
  validateOnly?: boolean;
}

export interface RolloutStatus {
  name: string;
  state: string;
  failureReason: string;
  /** When it started deploying (0 until it has): from then its release serves the target. */
  deployStartTime: number;
}

const v1 = protos.google.cloud.deploy.v1;

/** The real Cloud Deploy API (or gcp-sim, through the same client). */
export class CloudDeployPort implements DeployPort {
  private readonly history: CloudDeployHistory;
  constructor(
    private readonly client: CloudDeployClient,
    options: { pageSize?: number } = {},
  ) {
    this.history = new CloudDeployHistory(client, options);
  }

  async rollbackTarget(req: RollbackRequest) {
    const [response] = await this.client.rollbackTarget({
      name: req.pipelineName,
      targetId: req.targetId,
      rolloutId: req.rolloutId,
      releaseId: req.releaseId,
      rolloutToRollBack: req.rolloutToRollBack,
      validateOnly: req.validateOnly ?? false,
    });
    const rolloutName = response.rollbackConfig?.rollout?.name || `${req.pipelineName}/releases/${req.releaseId}/rollouts/${req.rolloutId}`;
    return { rolloutName };
  }

  async getRollout(name: string): Promise<RolloutStatus> {
    const [rollout] = await this.client.getRollout({ name });
    return {
      name: rollout.name ?? name,
      state: enumName(v1.Rollout.State, rollout.state, 'STATE_UNSPECIFIED'),
      failureReason: rollout.failureReason ?? '',
      deployStartTime: millisOf(rollout.deployStartTime),
    };
  }

  async cancelRollout(name: string): Promise<void> {
    await this.client.cancelRollout({ name });
  }

  readHistory(pipelineName: string): Promise<DeployHistory> {
    return this.history.readHistory(pipelineName);
  }
}
