import type { CloudDeployClient } from '@google-cloud/deploy';

/** The subset of Cloud Deploy the executor uses. Leaves out approvals, promotion and LRO admin on purpose. */
export interface DeployPort {
  /** Creates the rollback rollout; throws the gRPC error (code 6 ALREADY_EXISTS when the id was used before). */
  rollbackTarget(req: { pipelineName: string; targetId: string; rolloutId: string; releaseId: string }): Promise<{ rolloutName: string }>;
  getRollout(name: string): Promise<RolloutStatus>;
  /** The release to roll back to: the last one that succeeded on the target before the current one. */
  lastKnownGoodRelease(pipelineName: string, targetId: string): Promise<ReleaseChoice | null>;
}

export interface RolloutStatus {
  name: string;
  state: string;
  failureReason: string;
}

export interface ReleaseChoice {
  releaseId: string;
  currentReleaseId: string;
  currentRolloutName: string;
}

/** Rollout states after which nothing more happens (GCP-NOTES §2). */
export const TERMINAL_ROLLOUT_STATES = new Set(['SUCCEEDED', 'FAILED', 'APPROVAL_REJECTED', 'CANCELLED', 'HALTED']);

/** An int64 as the client decodes it: a string, a number, or a Long. */
type Int64 = string | number | { toString(): string } | null | undefined;
const int64 = (v: Int64): number => (v === null || v === undefined ? 0 : Number(typeof v === 'object' ? v.toString() : v));

/** Milliseconds of a protobuf Timestamp. */
const millis = (t: { seconds?: Int64; nanos?: number | null } | null | undefined): number =>
  t ? int64(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;

const releaseIdOf = (rolloutName: string): string => rolloutName.split('/releases/')[1]?.split('/')[0] ?? '';

/** The real Cloud Deploy API (or gcp-sim, through the same client). */
export class CloudDeployPort implements DeployPort {
  constructor(
    private readonly client: CloudDeployClient,
    private readonly options: { maxReleases?: number } = {},
  ) {}

  async rollbackTarget(req: { pipelineName: string; targetId: string; rolloutId: string; releaseId: string }) {
    const [response] = await this.client.rollbackTarget({
      name: req.pipelineName,
      targetId: req.targetId,
      rolloutId: req.rolloutId,
      releaseId: req.releaseId,
    });
    const rolloutName = response.rollbackConfig?.rollout?.name || `${req.pipelineName}/releases/${req.releaseId}/rollouts/${req.rolloutId}`;
    return { rolloutName };
  }

  async getRollout(name: string): Promise<RolloutStatus> {
    const [rollout] = await this.client.getRollout({ name });
    return { name: rollout.name ?? name, state: String(rollout.state ?? 'STATE_UNSPECIFIED'), failureReason: rollout.failureReason ?? '' };
  }

  async lastKnownGoodRelease(pipelineName: string, targetId: string): Promise<ReleaseChoice | null> {
    const releases = [];
    for await (const release of this.client.listReleasesAsync({ parent: pipelineName }, { autoPaginate: false })) {
      releases.push(release);
      if (releases.length >= (this.options.maxReleases ?? 50)) break;
    }
    const succeeded = [];
    for (const release of releases) {
      if (!release.name) continue;
      for await (const rollout of this.client.listRolloutsAsync({ parent: release.name }, { autoPaginate: false })) {
        if (rollout.targetId === targetId && String(rollout.state) === 'SUCCEEDED' && rollout.name) {
          succeeded.push({ name: rollout.name, at: millis(rollout.deployEndTime) || millis(rollout.createTime) });
        }
      }
    }
    succeeded.sort((a, b) => b.at - a.at);
    const current = succeeded[0];
    if (!current) return null;
    const currentReleaseId = releaseIdOf(current.name);
    const previous = succeeded.find((r) => releaseIdOf(r.name) !== currentReleaseId);
    return previous ? { releaseId: releaseIdOf(previous.name), currentReleaseId, currentRolloutName: current.name } : null;
  }
}
