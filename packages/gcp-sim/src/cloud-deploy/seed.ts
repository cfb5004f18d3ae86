import type {
  DeliveryPipeline,
  DeploySeed,
  Job,
  Phase,
  PhaseState,
  Release,
  Rollout,
  RolloutFailureCause,
  RolloutState,
  Strategy,
  Target,
} from './resources.js';
import { revisionName, stableId, timestampOf } from './resource-names.js';
import { phaseIdsOf, verifiesIn } from './rollout-phases.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const DEFAULT_PIPELINE_ID = 'api-backend-pipeline';

export const STANDARD_STRATEGY: Strategy = { standard: { verify: false } };
/** Canary 25 % → 50 % → 100 %: the proto lists only the canary percentages; 100 % is the `stable` phase. */
export const CANARY_STRATEGY: Strategy = {
  canary: {
    runtimeConfig: { cloudRun: { automaticTrafficControl: true } },
    canaryDeployment: { percentages: [25, 50], verify: true },
  },
};

/** Builds resources of one project and region, with names, uids and etags derived from their ids. */
export class SeedBuilder {
  readonly location: string;
  private readonly revisions: Record<string, number> = {};

  constructor(
    readonly projectId: string,
    readonly region: string,
    /** Creation times are this many ms before `anchor` (whole seconds). */
    private readonly anchor: Date = new Date(),
  ) {
    this.location = `projects/${projectId}/locations/${region}`;
  }

  at(agoMs: number): ReturnType<typeof timestampOf> {
    return timestampOf(new Date(Math.floor(this.anchor.getTime() / 1000) * 1000 - agoMs));
  }

  target(targetId: string, options: { description?: string; requireApproval?: boolean; labels?: Record<string, string> } = {}): Target {
    const name = `${this.location}/targets/${targetId}`;
    return {
      name,
      targetId,
      uid: stableId([name]),
      description: options.description ?? `${targetId} (Cloud Run)`,
      annotations: {},
      labels: options.labels ?? {},
      requireApproval: options.requireApproval ?? false,
      createTime: this.at(30 * DAY),
      updateTime: this.at(30 * DAY),
      run: { location: this.location },
      etag: stableId([name, 'etag'], 16),
      deployParameters: {},
    };
  }

  pipeline(
    pipelineId: string,
    stages: Array<{ targetId: string; strategy: Strategy }>,
    options: { app?: string; description?: string; suspended?: boolean } = {},
  ): DeliveryPipeline {
    const name = `${this.location}/deliveryPipelines/${pipelineId}`;
    return {
      name,
      uid: stableId([name]),
      description: options.description ?? `${options.app ?? pipelineId}: ${stages.map((s) => s.targetId).join(', then ')}`,
      annotations: {},
      labels: options.app ? { app: options.app } : {},
      createTime: this.at(30 * DAY),
      updateTime: this.at(30 * DAY),
      serialPipeline: { stages: stages.map((s) => ({ targetId: s.targetId, profiles: [s.targetId], strategy: s.strategy })) },
      etag: stableId([name, 'etag'], 16),
      suspended: options.suspended ?? false,
    };
  }

  release(
    pipeline: DeliveryPipeline,
    targets: Target[],
    releaseId: string,
    createdAgo: number,
    options: { app?: string; abandoned?: boolean } = {},
  ): Release {
    const name = `${pipeline.name}/releases/${releaseId}`;
    const app = options.app ?? pipeline.labels?.app ?? releaseId;
    const commit = stableId([name, 'commit'], 7);
    const stageTargets = pipeline.serialPipeline?.stages.map((s) => s.targetId) ?? [];
    return {
      name,
      uid: stableId([name]),
      description: `${app} at ${commit}`,
      annotations: { commitId: commit },
      labels: { app },
      abandoned: options.abandoned ?? false,
      createTime: this.at(createdAgo),
      renderStartTime: this.at(createdAgo - 10_000),
      renderEndTime: this.at(createdAgo - MINUTE),
      skaffoldConfigUri: `gs://${this.projectId}_clouddeploy/source/${releaseId}.tgz`,
      skaffoldConfigPath: 'skaffold.yaml',
      buildArtifacts: [{ image: app, tag: `${this.region}-docker.pkg.dev/${this.projectId}/apps/${app}:${commit}` }],
      deliveryPipelineSnapshot: pipeline,
      targetSnapshots: targets.filter((t) => stageTargets.includes(t.targetId ?? '')),
      renderState: 'SUCCEEDED',
      etag: stableId([name, 'etag'], 16),
      skaffoldVersion: '2.13',
      targetRenders: Object.fromEntries(stageTargets.map((t) => [t, { renderingState: 'SUCCEEDED' as const }])),
    };
  }

  /**
   * A rollout of `release` to `targetId` in `state`, created `createdAgo` ms ago
   * and (if it ran to the end) done `durationMs` later. `phaseId` is the phase
   * an unfinished rollout is in (or failed in, or is waiting to be advanced to).
   */
  rollout(args: {
    release: Release;
    rolloutId: string;
    targetId: string;
    strategy: Strategy;
    state: RolloutState;
    createdAgo: number;
    durationMs?: number;
    service?: string;
    phaseId?: string;
    awaitingAdvance?: boolean;
    failedJob?: 'deploy' | 'verify';
    failureCause?: RolloutFailureCause;
    failureReason?: string;
    requireApproval?: boolean;
  }): Rollout {
    const { release, rolloutId, targetId, strategy, state, createdAgo } = args;
    const name = `${release.name}/rollouts/${rolloutId}`;
    const durationMs = args.durationMs ?? 10 * MINUTE;
    const service = args.service;
    const ran = !['PENDING', 'PENDING_APPROVAL', 'PENDING_RELEASE', 'APPROVAL_REJECTED'].includes(state);
    const ended = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'HALTED'].includes(state);
    let revision = '';
    if (service && state === 'SUCCEEDED') {
      revision = revisionName(service, (this.revisions[service] = (this.revisions[service] ?? 0) + 1), name);
    }
    const failed = state === 'FAILED';
    return {
      name,
      uid: stableId([name]),
      description: '',
      annotations: {},
      labels: {},
      createTime: this.at(createdAgo),
      ...(state === 'PENDING_APPROVAL' || state === 'APPROVAL_REJECTED' ? {} : { enqueueTime: this.at(createdAgo - 1_000) }),
      ...(args.requireApproval && state !== 'PENDING_APPROVAL' && state !== 'APPROVAL_REJECTED'
        ? { approveTime: this.at(createdAgo - 500) }
        : {}),
      ...(ran ? { deployStartTime: this.at(createdAgo - 5_000) } : {}),
      ...(ended ? { deployEndTime: this.at(createdAgo - durationMs) } : {}),
      targetId,
      approvalState: args.requireApproval
        ? state === 'PENDING_APPROVAL'
          ? 'NEEDS_APPROVAL'
          : state === 'APPROVAL_REJECTED'
            ? 'REJECTED'
            : 'APPROVED'
        : 'DOES_NOT_NEED_APPROVAL',
      state,
      failureReason: failed ? (args.failureReason ?? 'deploy failed') : '',
      deployingBuild: ran ? `projects/${this.projectId}/locations/${this.region}/builds/${stableId([name, 'build'], 36)}` : '',
      etag: stableId([name, 'etag'], 16),
      deployFailureCause: failed ? (args.failureCause ?? 'EXECUTION_FAILED') : 'FAILURE_CAUSE_UNSPECIFIED',
      phases: phasesFor(name, strategy, state, args.phaseId, args.awaitingAdvance ?? false, args.failedJob ?? 'deploy'),
      ...(service
        ? {
            metadata: {
              cloudRun: {
                service: `${this.location}/services/${service}`,
                serviceUrls: [`https://${service}-${stableId([this.projectId], 10)}-uc.a.run.app`],
                revision,
              },
            },
          }
        : {}),
      controllerRollout: '',
      rollbackOfRollout: '',
      rolledBackByRollouts: [],
    };
  }
}

/** Phases of a seeded rollout in `state`: before `phaseId` done, `phaseId` where it stands, after it pending or aborted. */
function phasesFor(
  rolloutName: string,
  strategy: Strategy,
  state: RolloutState,
  phaseId: string | undefined,
  awaitingAdvance: boolean,
  failedJob: 'deploy' | 'verify',
): Phase[] {
  const verify = verifiesIn(strategy);
  const ids = phaseIdsOf(strategy);
  const current = phaseId === undefined ? (state === 'FAILED' ? ids.length - 1 : 0) : Math.max(0, ids.indexOf(phaseId));
  const jobRun = (phase: string, job: string) => `${rolloutName}/jobRuns/${stableId([rolloutName, phase, job], 36)}`;
  const phase = (id: string, phaseState: PhaseState, jobStates: { deploy: Job['state']; verify: Job['state'] }): Phase => ({
    id,
    state: phaseState,
    deploymentJobs: {
      deployJob: {
        id: 'deploy',
        state: jobStates.deploy,
        ...(jobStates.deploy === 'PENDING' || jobStates.deploy === 'ABORTED' ? {} : { jobRun: jobRun(id, 'deploy') }),
        deployJob: {},
      },
      ...(verify
        ? {
            verifyJob: {
              id: 'verify',
              state: jobStates.verify,
              ...(jobStates.verify === 'PENDING' || jobStates.verify === 'ABORTED' ? {} : { jobRun: jobRun(id, 'verify') }),
              verifyJob: {},
            },
          }
        : {}),
    },
  });
  const done = { deploy: 'SUCCEEDED', verify: 'SUCCEEDED' } as const;
  const pending = { deploy: 'PENDING', verify: 'PENDING' } as const;
  const aborted = { deploy: 'ABORTED', verify: 'ABORTED' } as const;
  return ids.map((id, i) => {
    switch (state) {
      case 'SUCCEEDED':
        return phase(id, 'SUCCEEDED', done);
      case 'IN_PROGRESS':
        if (i < current) return phase(id, 'SUCCEEDED', done);
        if (i === current && !awaitingAdvance) return phase(id, 'IN_PROGRESS', { deploy: 'IN_PROGRESS', verify: 'PENDING' });
        return phase(id, 'PENDING', pending);
      case 'FAILED':
        if (i < current) return phase(id, 'SUCCEEDED', done);
        if (i === current)
          return phase(
            id,
            'FAILED',
            failedJob === 'verify' && verify ? { deploy: 'SUCCEEDED', verify: 'FAILED' } : { deploy: 'FAILED', verify: 'ABORTED' },
          );
        return phase(id, 'ABORTED', aborted);
      case 'CANCELLED':
      case 'HALTED':
        return i < current ? phase(id, 'SUCCEEDED', done) : phase(id, 'ABORTED', aborted);
      case 'APPROVAL_REJECTED':
        return phase(id, 'ABORTED', aborted);
      default:
        return phase(id, 'PENDING', pending);
    }
  });
}

/**
 * One pipeline's world: the pipeline over `targets` (in order), two releases
 * `rel-001` (succeeded everywhere) and `rel-002` (succeeded everywhere later,
 * so it is current and `rel-001` is the rollback target). `app` names the
 * Cloud Run service (`{app}` on the last target, `{app}-{target}` on the others).
 */
export function pipelineWorld(builder: SeedBuilder, pipelineId: string, app: string, targets: Target[]): DeploySeed {
  const stages = targets.map((t, i) => ({
    targetId: t.targetId!,
    strategy: i === targets.length - 1 && targets.length > 1 ? CANARY_STRATEGY : STANDARD_STRATEGY,
  }));
  const pipeline = builder.pipeline(pipelineId, stages, {
    app,
    description: `${app}: ${stages.map((s) => s.targetId).join(', then ')}${stages.length > 1 ? ' with a canary' : ''}`,
  });
  const releases = [
    builder.release(pipeline, targets, 'rel-001', 3 * DAY, { app }),
    builder.release(pipeline, targets, 'rel-002', 1 * DAY, { app }),
  ];
  const serviceOn = (targetId: string, i: number) => (i === stages.length - 1 ? app : `${app}-${targetId}`);
  const rollouts: Rollout[] = [];
  for (const [r, release] of releases.entries()) {
    const base = r === 0 ? 3 * DAY : 1 * DAY;
    stages.forEach((stage, i) => {
      const last = i === stages.length - 1;
      rollouts.push(
        builder.rollout({
          release,
          rolloutId: `${release.name.split('/').pop()}-to-${stage.targetId}-0001`,
          targetId: stage.targetId,
          strategy: stage.strategy,
          state: 'SUCCEEDED',
          // The last stage goes out well after the first: a day later for rel-001; for rel-002, its canary started
          // deploying 20 minutes before the world's anchor (a release shipped just before Burnback started watching,
          // which Burnback reads from Cloud Deploy's history at start) and finished 5 minutes before it.
          createdAgo: last && stages.length > 1 ? (r === 0 ? 2 * DAY : 20 * MINUTE) : base - 2 * MINUTE - i * MINUTE,
          durationMs: last && stages.length > 1 ? 15 * MINUTE : 4 * MINUTE,
          service: serviceOn(stage.targetId, i),
        }),
      );
    });
  }
  return { pipelines: [pipeline], targets, releases, rollouts };
}

/**
 * The default world: pipeline `api-backend-pipeline` (staging → production,
 * production canary 25/50/100 with verify), Cloud Run targets `staging` and
 * `production`, release `rel-001` (succeeded on both) and `rel-002` (succeeded on
 * both later, so it is current everywhere and `rel-001` is the rollback target).
 * Times are relative to `anchor` (whole seconds), all in the past, in a fixed order.
 */
export function defaultDeploySeed(projectId: string, region: string, anchor: Date = new Date()): DeploySeed {
  const builder = new SeedBuilder(projectId, region, anchor);
  const labels = { app: 'api-backend' };
  return pipelineWorld(builder, DEFAULT_PIPELINE_ID, 'api-backend', [
    builder.target('staging', { description: 'Staging Cloud Run', labels }),
    builder.target('production', { description: 'Production Cloud Run', labels }),
  ]);
}

/** Several seeds as one world; a target shared by pipelines (same name) appears once. */
export function mergeSeeds(seeds: DeploySeed[]): DeploySeed {
  const unique = <T extends { name: string }>(items: T[]) => [...new Map(items.map((i) => [i.name, i])).values()];
  return {
    pipelines: seeds.flatMap((s) => s.pipelines),
    targets: unique(seeds.flatMap((s) => s.targets)),
    releases: seeds.flatMap((s) => s.releases),
    rollouts: seeds.flatMap((s) => s.rollouts),
  };
}
