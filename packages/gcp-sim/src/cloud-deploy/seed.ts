import type { DeliveryPipeline, DeploySeed, Phase, Release, Rollout, Strategy, Target } from './resources.js';
import { revisionName, stableId, timestampOf } from './resource-names.js';
import { phaseIdsOf, verifiesIn } from './rollout-phases.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const DEFAULT_PIPELINE_ID = 'api-backend-pipeline';

/** The Cloud Run service each seeded target runs (one project, so the names differ per target). */
const SERVICE_BY_TARGET: Record<string, string> = { staging: 'api-backend-staging', production: 'api-backend' };

const STAGING_STRATEGY: Strategy = { standard: { verify: false } };
/** Canary 25 % → 50 % → 100 %: the proto lists only the canary percentages; 100 % is the `stable` phase. */
const PRODUCTION_STRATEGY: Strategy = {
  canary: {
    runtimeConfig: { cloudRun: { automaticTrafficControl: true } },
    canaryDeployment: { percentages: [25, 50], verify: true },
  },
};

/**
 * The default world: pipeline `api-backend-pipeline` (staging → production,
 * production canary 25/50/100 with verify), Cloud Run targets `staging` and
 * `production`, release `rel-001` (succeeded on both) and `rel-002` (succeeded on
 * both later, so it is current everywhere and `rel-001` is the rollback target).
 * Times are relative to `anchor` (whole seconds), all in the past, in a fixed order.
 */
export function defaultDeploySeed(projectId: string, region: string, anchor: Date = new Date()): DeploySeed {
  const base = Math.floor(anchor.getTime() / 1000) * 1000;
  const at = (offsetMs: number) => timestampOf(new Date(base - offsetMs));
  const location = `projects/${projectId}/locations/${region}`;
  const pipelineName = `${location}/deliveryPipelines/${DEFAULT_PIPELINE_ID}`;

  const target = (targetId: string, description: string): Target => {
    const name = `${location}/targets/${targetId}`;
    return {
      name,
      targetId,
      uid: stableId([name]),
      description,
      annotations: {},
      labels: { app: 'api-backend' },
      requireApproval: false,
      createTime: at(30 * DAY),
      updateTime: at(30 * DAY),
      run: { location },
      etag: stableId([name, 'etag'], 16),
      deployParameters: {},
    };
  };
  const targets = [target('staging', 'Staging Cloud Run'), target('production', 'Production Cloud Run')];

  const pipeline: DeliveryPipeline = {
    name: pipelineName,
    uid: stableId([pipelineName]),
    description: 'api-backend: staging, then production with a canary',
    annotations: {},
    labels: { app: 'api-backend' },
    createTime: at(30 * DAY),
    updateTime: at(30 * DAY),
    serialPipeline: {
      stages: [
        { targetId: 'staging', profiles: ['staging'], strategy: STAGING_STRATEGY },
        { targetId: 'production', profiles: ['production'], strategy: PRODUCTION_STRATEGY },
      ],
    },
    etag: stableId([pipelineName, 'etag'], 16),
    suspended: false,
  };

  const release = (releaseId: string, commit: string, createdAgo: number): Release => {
    const name = `${pipelineName}/releases/${releaseId}`;
    return {
      name,
      uid: stableId([name]),
      description: `api-backend at ${commit}`,
      annotations: { commitId: commit },
      labels: { app: 'api-backend' },
      abandoned: false,
      createTime: at(createdAgo),
      renderStartTime: at(createdAgo - 10_000),
      renderEndTime: at(createdAgo - MINUTE),
      skaffoldConfigUri: `gs://${projectId}_clouddeploy/source/${releaseId}.tgz`,
      skaffoldConfigPath: 'skaffold.yaml',
      buildArtifacts: [{ image: 'api-backend', tag: `${region}-docker.pkg.dev/${projectId}/apps/api-backend:${commit}` }],
      deliveryPipelineSnapshot: pipeline,
      targetSnapshots: targets,
      renderState: 'SUCCEEDED',
      etag: stableId([name, 'etag'], 16),
      skaffoldVersion: '2.13',
      targetRenders: { staging: { renderingState: 'SUCCEEDED' }, production: { renderingState: 'SUCCEEDED' } },
    };
  };
  const releases = [release('rel-001', '3f2a9c1', 3 * DAY), release('rel-002', '8d41be7', 1 * DAY)];

  const revisions: Record<string, number> = {};
  const rollout = (releaseId: string, targetId: string, createdAgo: number, durationMs: number): Rollout => {
    const name = `${pipelineName}/releases/${releaseId}/rollouts/${releaseId}-to-${targetId}-0001`;
    const service = SERVICE_BY_TARGET[targetId]!;
    const revision = (revisions[service] = (revisions[service] ?? 0) + 1);
    const strategy = targetId === 'production' ? PRODUCTION_STRATEGY : STAGING_STRATEGY;
    return {
      name,
      uid: stableId([name]),
      description: '',
      annotations: {},
      labels: {},
      createTime: at(createdAgo),
      enqueueTime: at(createdAgo - 1_000),
      deployStartTime: at(createdAgo - 5_000),
      deployEndTime: at(createdAgo - durationMs),
      targetId,
      approvalState: 'DOES_NOT_NEED_APPROVAL',
      state: 'SUCCEEDED',
      failureReason: '',
      deployingBuild: `projects/${projectId}/locations/${region}/builds/${stableId([name, 'build'], 36)}`,
      etag: stableId([name, 'etag'], 16),
      deployFailureCause: 'FAILURE_CAUSE_UNSPECIFIED',
      phases: succeededPhases(name, strategy),
      metadata: {
        cloudRun: {
          service: `projects/${projectId}/locations/${region}/services/${service}`,
          serviceUrls: [`https://${service}-${stableId([projectId], 10)}-uc.a.run.app`],
          revision: revisionName(service, revision, name),
        },
      },
      controllerRollout: '',
      rollbackOfRollout: '',
      rolledBackByRollouts: [],
    };
  };
  const rollouts = [
    rollout('rel-001', 'staging', 3 * DAY - 2 * MINUTE, 4 * MINUTE),
    rollout('rel-001', 'production', 2 * DAY, 15 * MINUTE),
    rollout('rel-002', 'staging', 1 * DAY - 2 * MINUTE, 4 * MINUTE),
    rollout('rel-002', 'production', 2 * HOUR, 15 * MINUTE),
  ];

  return { pipelines: [pipeline], targets, releases, rollouts };
}

function succeededPhases(rolloutName: string, strategy: Strategy): Phase[] {
  const verify = verifiesIn(strategy);
  return phaseIdsOf(strategy).map((id) => ({
    id,
    state: 'SUCCEEDED',
    deploymentJobs: {
      deployJob: {
        id: 'deploy',
        state: 'SUCCEEDED',
        jobRun: `${rolloutName}/jobRuns/${stableId([rolloutName, id, 'deploy'], 36)}`,
        deployJob: {},
      },
      ...(verify
        ? {
            verifyJob: {
              id: 'verify',
              state: 'SUCCEEDED',
              jobRun: `${rolloutName}/jobRuns/${stableId([rolloutName, id, 'verify'], 36)}`,
              verifyJob: {},
            },
          }
        : {}),
    },
  }));
}
