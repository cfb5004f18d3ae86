import { protos, type CloudDeployClient } from '@google-cloud/deploy';
import type { DeployHistory, HistoryRollout } from '@burnback/contracts';

/**
 * Cloud Deploy's history of a pipeline, read through the real client: what both
 * the decider (what serves a target) and the executor (which release to leave
 * and which to return to) read. Leaves out everything that changes the world.
 */
export interface DeployHistoryReader {
  /** Every release and every rollout of the pipeline, all pages, without one call per release. */
  readHistory(pipelineName: string): Promise<DeployHistory>;
  /** Every rollout of the pipeline on one target, all pages (the releases are not read). */
  rolloutsOnTarget(pipelineName: string, targetId: string): Promise<HistoryRollout[]>;
  /**
   * The project number Cloud Deploy writes in the names of the pipeline's
   * resources (a release's pipeline and target snapshots), or null when they
   * carry the project id (or the pipeline has no release yet).
   */
  projectNumberOf(pipelineName: string): Promise<string | null>;
}

/** An int64 as the client decodes it: a string, a number, or a Long. */
type Int64 = string | number | { toString(): string } | null | undefined;
const int64 = (v: Int64): number => (v === null || v === undefined ? 0 : Number(typeof v === 'object' ? v.toString() : v));

/** Milliseconds of a protobuf Timestamp (0 when unset). */
export const millisOf = (t: { seconds?: Int64; nanos?: number | null } | null | undefined): number =>
  t ? int64(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;

/** An enum as a name: unary answers carry names, protobufjs messages (LRO results) numbers. */
export const enumName = (values: Record<string, number | string>, v: unknown, fallback: string): string =>
  typeof v === 'number' ? String((values as Record<number, string>)[v] ?? fallback) : typeof v === 'string' && v ? v : fallback;

const v1 = protos.google.cloud.deploy.v1;
const releaseIdOf = (name: string): string => name.split('/releases/')[1]?.split('/')[0] ?? '';

/** A Cloud Deploy Rollout as Burnback's history sees it. */
export function historyRollout(r: protos.google.cloud.deploy.v1.IRollout): HistoryRollout {
  const name = r.name ?? '';
  return {
    name,
    releaseId: releaseIdOf(name),
    targetId: r.targetId ?? '',
    state: enumName(v1.Rollout.State, r.state, 'STATE_UNSPECIFIED'),
    createTime: millisOf(r.createTime),
    deployStartTime: millisOf(r.deployStartTime),
    deployEndTime: millisOf(r.deployEndTime),
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

const PROJECT_NUMBER = /^projects\/(\d+)\//;

/**
 * The call options of the async listings: google-gax's async iterators fetch page after page themselves, and
 * its paging guide asks for `autoPaginate: false` with them (left at the client's default `true`, every
 * listing prints an AutopaginateTrueWarning: googleapis/gax-nodejs client-libraries.md, "Auto-pagination").
 */
const PAGED = { autoPaginate: false } as const;

/** The history through the real Cloud Deploy client (or gcp-sim, through the same client). */
export class CloudDeployHistory implements DeployHistoryReader {
  constructor(
    private readonly client: CloudDeployClient,
    private readonly options: { pageSize?: number } = {},
  ) {}

  /**
   * Two paginated reads: ListRollouts on `{pipeline}/releases/-` (AIP-159: the
   * rollouts of every release at once) and ListReleases for the abandoned flags.
   */
  async readHistory(pipelineName: string): Promise<DeployHistory> {
    const pageSize = this.options.pageSize ?? 1000;
    const rollouts: HistoryRollout[] = [];
    for await (const rollout of this.client.listRolloutsAsync({ parent: `${pipelineName}/releases/-`, pageSize }, PAGED)) {
      rollouts.push(historyRollout(rollout));
    }
    const releases: DeployHistory['releases'] = [];
    for await (const release of this.client.listReleasesAsync({ parent: pipelineName, pageSize }, PAGED)) {
      releases.push({ releaseId: (release.name ?? '').split('/').pop() ?? '', abandoned: release.abandoned === true });
    }
    return { releases, rollouts };
  }

  async rolloutsOnTarget(pipelineName: string, targetId: string): Promise<HistoryRollout[]> {
    const pageSize = this.options.pageSize ?? 1000;
    const rollouts: HistoryRollout[] = [];
    for await (const rollout of this.client.listRolloutsAsync({ parent: `${pipelineName}/releases/-`, pageSize }, PAGED)) {
      if (rollout.targetId === targetId) rollouts.push(historyRollout(rollout));
    }
    return rollouts;
  }

  async projectNumberOf(pipelineName: string): Promise<string | null> {
    for await (const release of this.client.listReleasesAsync({ parent: pipelineName, pageSize: 1 }, PAGED)) {
      const names = [release.deliveryPipelineSnapshot?.name ?? '', ...(release.targetSnapshots ?? []).map((t) => t.name ?? '')];
      for (const name of names) {
        const m = PROJECT_NUMBER.exec(name);
        if (m) return m[1]!;
      }
      return null;
    }
    return null;
  }
}
