import type { CloudRunMetadata, Job, Phase, Rollout, RolloutState, Stage, Target, Timestamp } from './resources.js';
import { phaseIdsOf, verifiesIn } from './rollout-phases.js';
import { idOf, stableId } from './resource-names.js';
import { normalizeRollout } from './resource-store.js';

/** States in which a rollout can still be cancelled. */
export const CANCELLABLE: ReadonlySet<RolloutState> = new Set<RolloutState>([
  'PENDING_RELEASE',
  'PENDING_APPROVAL',
  'PENDING',
  'IN_PROGRESS',
]);

/** What a new rollout is made of (CreateRollout or RollbackTarget). */
export interface RolloutSpec {
  name: string;
  target: Target;
  stage: Stage;
  startingPhaseId: string;
  rolledBack: string;
  config: Partial<Rollout> | null;
  service: CloudRunMetadata | undefined;
  rendering: boolean;
  /** The rollout's create_time. */
  now: Timestamp;
}

/**
 * A new rollout, created at `now`: its phases (those before `startingPhaseId`
 * SKIPPED) with their deploy and, when the strategy verifies, verify jobs, and
 * its first state (PENDING_RELEASE while the release renders, PENDING_APPROVAL
 * on a target that requires approval, else PENDING).
 */
export function buildRollout(spec: RolloutSpec): Rollout {
  const { name, target, stage, startingPhaseId, rolledBack, config, service, rendering, now } = spec;
  const verify = verifiesIn(stage.strategy);
  const phaseIds = phaseIdsOf(stage.strategy);
  const startAt = phaseIds.indexOf(startingPhaseId);
  const phases: Phase[] = phaseIds.map((id, i) => {
    if (i < startAt) return { id, state: 'SKIPPED', skipMessage: `the rollout starts at phase ${startingPhaseId}` };
    const job = (jobId: 'deploy' | 'verify'): Job =>
      jobId === 'deploy' ? { id: 'deploy', state: 'PENDING', deployJob: {} } : { id: 'verify', state: 'PENDING', verifyJob: {} };
    return {
      id,
      state: 'PENDING',
      deploymentJobs: { deployJob: job('deploy'), ...(verify ? { verifyJob: job('verify') } : {}) },
    };
  });
  const needsApproval = target.requireApproval === true;
  const state: RolloutState = rendering ? 'PENDING_RELEASE' : needsApproval ? 'PENDING_APPROVAL' : 'PENDING';
  return normalizeRollout({
    name,
    uid: stableId([name, now.seconds, String(now.nanos)]),
    description: config?.description ?? '',
    annotations: { ...(config?.annotations ?? {}) },
    labels: { ...(config?.labels ?? {}) },
    createTime: now,
    ...(state === 'PENDING' ? { enqueueTime: now } : {}),
    targetId: target.targetId ?? idOf(target.name),
    approvalState: needsApproval ? 'NEEDS_APPROVAL' : 'DOES_NOT_NEED_APPROVAL',
    state,
    phases,
    ...(service ? { metadata: { cloudRun: { service: service.service, serviceUrls: [...service.serviceUrls], revision: '' } } } : {}),
    rollbackOfRollout: rolledBack,
    rolledBackByRollouts: [],
  });
}

/** The jobs of a phase in the order they run. */
export function jobsOf(phase: Phase): Job[] {
  const jobs = phase.deploymentJobs ?? {};
  return [jobs.predeployJob, jobs.deployJob, jobs.verifyJob, jobs.postdeployJob].filter((j): j is Job => j !== undefined);
}

/** The phase an IN_PROGRESS rollout waits to be advanced to: none is running and one after a finished phase is pending. */
export function awaitingAdvance(rollout: Rollout): Phase | undefined {
  const phases = rollout.phases ?? [];
  if (phases.some((p) => p.state === 'IN_PROGRESS')) return undefined;
  const next = phases.findIndex((p) => p.state === 'PENDING');
  return next > 0 && phases.slice(0, next).some((p) => p.state === 'SUCCEEDED') ? phases[next] : undefined;
}

/** Everything not finished in a rollout stops: running and pending phases and jobs end ABORTED. Returns the jobs that were running. */
export function abortRemaining(rollout: Rollout): Array<{ phase: Phase; job: Job }> {
  const terminated: Array<{ phase: Phase; job: Job }> = [];
  for (const phase of rollout.phases ?? []) {
    if (phase.state !== 'IN_PROGRESS' && phase.state !== 'PENDING') continue;
    phase.state = 'ABORTED';
    for (const job of jobsOf(phase)) {
      if (job.state === 'IN_PROGRESS') terminated.push({ phase, job });
      if (job.state === 'IN_PROGRESS' || job.state === 'PENDING') job.state = 'ABORTED';
    }
  }
  return terminated;
}
