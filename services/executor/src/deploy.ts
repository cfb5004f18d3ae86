import { protos, type CloudDeployClient } from '@google-cloud/deploy';
import type { DeployHistory, HistoryRollout } from './release-choice.js';

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
}

/** Rollout states after which nothing more happens (GCP-NOTES §2). */
export const TERMINAL_ROLLOUT_STATES = new Set(['SUCCEEDED', 'FAILED', 'APPROVAL_REJECTED', 'CANCELLED', 'HALTED']);

/** An int64 as the client decodes it: a string, a number, or a Long. */
type Int64 = string | number | { toString(): string } | null | undefined;
const int64 = (v: Int64): number => (v === null || v === undefined ? 0 : Number(typeof v === 'object' ? v.toString() : v));

/** Milliseconds of a protobuf Timestamp (0 when unset). */
const millis = (t: { seconds?: Int64; nanos?: number | null } | null | undefined): number =>
  t ? int64(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;

/** An enum as a name: unary answers carry names, protobufjs messages (LRO results) numbers. */
const enumName = (values: Record<string, number | string>, v: unknown, fallback: string): string =>
  typeof v === 'number' ? String((values as Record<number, string>)[v] ?? fallback) : typeof v === 'string' && v ? v : fallback;

const v1 = protos.google.cloud.deploy.v1;
const releaseIdOf = (name: string): string => name.split('/releases/')[1]?.split('/')[0] ?? '';

/** A Cloud Deploy Rollout as the executor's history sees it. */
export function historyRollout(r: protos.google.cloud.deploy.v1.IRollout): HistoryRollout {
  const name = r.name ?? '';
  return {
    name,
    releaseId: releaseIdOf(name),
    targetId: r.targetId ?? '',
    state: enumName(v1.Rollout.State, r.state, 'STATE_UNSPECIFIED'),
    createTime: millis(r.createTime),
    deployStartTime: millis(r.deployStartTime),
    deployEndTime: millis(r.deployEndTime),
    phases: (r.phases ?? []).map((p) => ({
      id: p.id ?? '',
      state: enumName(v1.Phase.State, p.state, 'STATE_UNSPECIFIED'),
      deployJobState: p.deploymentJobs?.deployJob ? enumName(v1.Job.State, p.deploymentJobs.deployJob.state, 'STATE_UNSPECIFIED') : '',
    })),
    rollbackOfRollout: r.rollbackOfRollout ?? '',
    rolledBackByRollouts: [...(r.rolledBackByRollouts ?? [])],
    approvalState: enumName(v1.Rollout.ApprovalState, r.approvalState, 'APPROVAL_STATE_UNSPECIFIED'),
  };
}

/** The real Cloud Deploy API (or gcp-sim, through the same client). */
export class CloudDeployPort implements DeployPort {
  constructor(
    private readonly client: CloudDeployClient,
    private readonly options: { pageSize?: number } = {},
  ) {}

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
    };
  }

  async cancelRollout(name: string): Promise<void> {
    await this.client.cancelRollout({ name });
  }

  /**
   * Two paginated reads: ListRollouts on `{pipeline}/releases/-` (AIP-159: the
   * rollouts of every release at once) and ListReleases for the abandoned flags.
   */
  async readHistory(pipelineName: string): Promise<DeployHistory> {
    const pageSize = this.options.pageSize ?? 1000;
    const rollouts: HistoryRollout[] = [];
    for await (const rollout of this.client.listRolloutsAsync({ parent: `${pipelineName}/releases/-`, pageSize })) {
      rollouts.push(historyRollout(rollout));
    }
    const releases: DeployHistory['releases'] = [];
    for await (const release of this.client.listReleasesAsync({ parent: pipelineName, pageSize })) {
      releases.push({ releaseId: (release.name ?? '').split('/').pop() ?? '', abandoned: release.abandoned === true });
    }
    return { releases, rollouts };
  }
}
