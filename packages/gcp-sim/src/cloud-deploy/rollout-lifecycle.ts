import type { DeploySeed, Job, Phase, Release, Rollout, RolloutState } from './resources.js';
import { failedPrecondition } from '../errors.js';
import { idOf, millisOf, parseRolloutName, releaseOfRollout, revisionName, stableId, targetName, timestampOf } from './resource-names.js';
import { DeployResources, clone } from './resource-store.js';
import { abortRemaining, awaitingAdvance, jobsOf } from './rollout-build.js';
import { laneOf, type DeployEvent, type LaneWork, type RolloutFailurePlan, type RolloutTransition } from './state-types.js';

/**
 * How the world moves when time passes: renders end, each lane (`laneOf`) starts
 * its next rollout, runs its jobs one by one, and finishes cancelling. No
 * timers: the simulator calls `nextWork` / `startRollout` / `stepRollout` /
 * `finishCancel` / `finishRender` when time has passed. Also the changes every
 * mutation goes through (`transition`, `emit`, job runs), each reported to `onEvent`.
 */
export class RolloutLifecycle extends DeployResources {
  constructor(
    seed: DeploySeed,
    protected readonly clock: () => Date = () => new Date(),
    private readonly onEvent: (event: DeployEvent) => void = () => {},
  ) {
    super(seed);
  }

  // ---- Renders (driven by the simulator's timers) ----

  /** Releases still rendering, oldest first. */
  rendering(): string[] {
    return [...this.releases.values()].filter((r) => r.renderState === 'IN_PROGRESS').map((r) => r.name);
  }

  /** Ends a release's render; its PENDING_RELEASE rollouts then queue (or fail with RELEASE_FAILED). */
  finishRender(name: string, failureMessage?: string): Release {
    const release = this.requireRelease(name);
    if (release.renderState !== 'IN_PROGRESS') throw failedPrecondition(`release "${name}" is not rendering`);
    release.renderState = failureMessage === undefined ? 'SUCCEEDED' : 'FAILED';
    release.renderEndTime = timestampOf(this.clock());
    for (const render of Object.values(release.targetRenders ?? {})) {
      render.renderingState = release.renderState;
      if (failureMessage !== undefined) render.failureMessage = failureMessage;
    }
    release.etag = stableId([name, release.renderState], 16);
    this.emit({ type: 'release-rendered', release: clone(release) });
    for (const rollout of this.inOrder([...this.rollouts.values()].filter((r) => releaseOfRollout(r.name) === name))) {
      if (rollout.state !== 'PENDING_RELEASE') continue;
      if (failureMessage !== undefined) {
        rollout.failureReason = `release render failed: ${failureMessage}`;
        rollout.deployFailureCause = 'RELEASE_FAILED';
        abortRemaining(rollout);
        this.transition(rollout, 'FAILED');
      } else {
        this.admit(rollout);
      }
    }
    return clone(release);
  }

  // ---- Rollout lifecycle (driven by the simulator's timers) ----

  /** Lanes (`laneOf`) that have a rollout pending, running or cancelling. */
  activeLanes(): string[] {
    const lanes = new Set<string>();
    for (const r of this.rollouts.values()) {
      if (r.state === 'PENDING' || r.state === 'IN_PROGRESS' || r.state === 'CANCELLING') lanes.add(laneOf(r));
    }
    return [...lanes];
  }

  /**
   * What happens next on a lane: finish cancelling the running rollout, run its
   * current job, or start the oldest pending one. `null` when nothing can move:
   * the lane is idle, or its rollout waits for AdvanceRollout (unless `autoAdvance`).
   */
  nextWork(lane: string, autoAdvance = false): LaneWork | null {
    const onLane = this.inOrder([...this.rollouts.values()].filter((r) => laneOf(r) === lane));
    const running = onLane.find((r) => r.state === 'IN_PROGRESS' || r.state === 'CANCELLING');
    if (running?.state === 'CANCELLING') return { kind: 'cancel', rollout: running.name };
    if (running) {
      const phase = (running.phases ?? []).find((p) => p.state === 'IN_PROGRESS');
      if (!phase) {
        // Between phases: it waits for AdvanceRollout (or, with autoAdvance, advances itself).
        const waiting = awaitingAdvance(running);
        return waiting && autoAdvance ? { kind: 'advance', rollout: running.name, phaseId: waiting.id } : null;
      }
      const job = jobsOf(phase).find((j) => j.state === 'IN_PROGRESS');
      return { kind: 'job', rollout: running.name, jobId: job?.id === 'verify' ? 'verify' : 'deploy' };
    }
    const next = onLane
      .filter((r) => r.state === 'PENDING')
      .sort(
        (a, b) => millisOf(a.enqueueTime ?? a.createTime) - millisOf(b.enqueueTime ?? b.createTime) || this.seqOf(a) - this.seqOf(b),
      )[0];
    return next ? { kind: 'start', rollout: next.name } : null;
  }

  /** PENDING → IN_PROGRESS: the first phase that is not skipped starts with its deploy job. */
  startRollout(name: string): RolloutTransition {
    const rollout = this.requireRollout(name);
    if (rollout.state !== 'PENDING') throw failedPrecondition(`rollout "${name}" is ${rollout.state}, not PENDING`);
    rollout.deployStartTime = timestampOf(this.clock());
    const transition = this.transition(rollout, 'IN_PROGRESS');
    const phase = (rollout.phases ?? []).find((p) => p.state === 'PENDING');
    if (phase) this.startPhase(rollout, phase);
    return { ...transition, rollout: clone(rollout) };
  }

  /**
   * Finishes the running job of an IN_PROGRESS rollout: it succeeds, or fails
   * when `failure` matches it (then the rollout ends FAILED). After the last job
   * of a phase the next phase starts, except that the phases after the first
   * one that ran wait for AdvanceRollout (phases and jobs:
   * https://cloud.google.com/deploy/docs/deployment-strategies/manage-rollout;
   * the wait itself is how third-party guides describe canaries, see README.md);
   * after the last phase the rollout SUCCEEDED.
   * Returns whether `failure` fired.
   */
  stepRollout(name: string, failure?: RolloutFailurePlan): { transition: RolloutTransition; failed: boolean } {
    const rollout = this.requireRollout(name);
    if (rollout.state !== 'IN_PROGRESS') throw failedPrecondition(`rollout "${name}" is ${rollout.state}, not IN_PROGRESS`);
    const phases = rollout.phases ?? [];
    const phase = phases.find((p) => p.state === 'IN_PROGRESS');
    if (!phase) throw failedPrecondition(`rollout "${name}" has no phase in progress`);
    const jobs = jobsOf(phase);
    const job = jobs.find((j) => j.state === 'IN_PROGRESS');
    if (!job) throw failedPrecondition(`rollout "${name}" has no job in progress in phase "${phase.id}"`);

    if (failure && (failure.phaseId === undefined || failure.phaseId === phase.id) && (failure.jobId ?? 'deploy') === job.id) {
      job.state = 'FAILED';
      this.emitJobRun(rollout, phase, job, 'Failure');
      for (const other of jobs) if (other.state === 'PENDING') other.state = 'ABORTED';
      phase.state = 'FAILED';
      abortRemaining(rollout);
      rollout.failureReason = failure.reason ?? `${job.id} job of phase ${phase.id} failed (gcp-sim)`;
      rollout.deployFailureCause = failure.cause ?? 'EXECUTION_FAILED';
      rollout.deployEndTime = timestampOf(this.clock());
      return { transition: this.transition(rollout, 'FAILED'), failed: true };
    }

    job.state = 'SUCCEEDED';
    this.emitJobRun(rollout, phase, job, 'Succeed');
    const nextJob = jobs.find((j) => j.state === 'PENDING');
    if (nextJob) {
      this.startJob(rollout, phase, nextJob);
      return { transition: this.unchanged(rollout), failed: false };
    }
    phase.state = 'SUCCEEDED';
    const nextPhase = phases.find((p) => p.state === 'PENDING');
    if (!nextPhase) {
      rollout.deployEndTime = timestampOf(this.clock());
      const cloudRun = rollout.metadata?.cloudRun;
      if (cloudRun?.service) cloudRun.revision = revisionName(idOf(cloudRun.service), this.nextRevision(cloudRun.service), name);
      return { transition: this.transition(rollout, 'SUCCEEDED'), failed: false };
    }
    this.emit({ type: 'advance', rollout: clone(rollout), phaseId: nextPhase.id, action: 'Required' });
    return { transition: this.unchanged(rollout), failed: false };
  }

  /** CANCELLING → CANCELLED: the end of a CancelRollout, `cancelMs` after it. */
  finishCancel(name: string): RolloutTransition {
    const rollout = this.requireRollout(name);
    if (rollout.state !== 'CANCELLING') throw failedPrecondition(`rollout "${name}" is ${rollout.state}, not CANCELLING`);
    if (rollout.deployStartTime) rollout.deployEndTime = timestampOf(this.clock());
    return this.transition(rollout, 'CANCELLED');
  }

  // ---- changes ----

  protected emit(event: DeployEvent): void {
    this.onEvent(event);
  }

  protected transition(rollout: Rollout, state: RolloutState): RolloutTransition {
    const previousState = rollout.state;
    rollout.state = state;
    rollout.etag = stableId([rollout.name, state, rollout.etag ?? ''], 16);
    this.emit({ type: 'rollout-state', rollout: clone(rollout), previousState });
    return { rollout: clone(rollout), previousState };
  }

  /** A change inside a rollout (a job, a phase) that leaves its state as it was. */
  private unchanged(rollout: Rollout): RolloutTransition {
    rollout.etag = stableId([rollout.name, rollout.etag ?? '', 'step'], 16);
    return { rollout: clone(rollout), previousState: rollout.state };
  }

  /** A rollout whose release has rendered: to approval, or straight into the queue. */
  private admit(rollout: Rollout): void {
    const target = this.targets.get(targetName({ ...parseRolloutName(rollout.name), target: rollout.targetId }));
    if (target?.requireApproval) {
      rollout.approvalState = 'NEEDS_APPROVAL';
      this.transition(rollout, 'PENDING_APPROVAL');
      this.emit({ type: 'approval', rollout: clone(rollout), action: 'Required' });
    } else {
      rollout.enqueueTime = timestampOf(this.clock());
      this.transition(rollout, 'PENDING');
    }
  }

  protected startPhase(rollout: Rollout, phase: Phase): void {
    phase.state = 'IN_PROGRESS';
    const first = jobsOf(phase).find((j) => j.state === 'PENDING');
    if (first) this.startJob(rollout, phase, first);
  }

  private startJob(rollout: Rollout, phase: Phase, job: Job): void {
    job.state = 'IN_PROGRESS';
    job.jobRun = `${rollout.name}/jobRuns/${stableId([rollout.name, phase.id, job.id, 'run'], 36)}`;
    this.emitJobRun(rollout, phase, job, 'Start');
  }

  /** Cloud Deploy reports each job run's start and end on clouddeploy-operations (ResourceType JobRun). */
  protected emitJobRun(rollout: Rollout, phase: Phase, job: Job, action: 'Start' | 'Succeed' | 'Failure' | 'Terminated'): void {
    if (!job.jobRun) return;
    this.emit({ type: 'job-run', rollout: clone(rollout), jobRun: job.jobRun, phaseId: phase.id, jobId: job.id ?? '', action });
  }
}
