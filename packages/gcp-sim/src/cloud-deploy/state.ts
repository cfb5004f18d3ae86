import type {
  AbandonReleaseRequest,
  AdvanceRolloutRequest,
  ApproveRolloutRequest,
  CancelRolloutRequest,
  CloudRunMetadata,
  CreateReleaseRequest,
  CreateRolloutRequest,
  DeliveryPipeline,
  DeploySeed,
  GetRequest,
  Job,
  ListDeliveryPipelinesResponse,
  ListReleasesResponse,
  ListRequest,
  ListRolloutsResponse,
  ListTargetsResponse,
  Phase,
  Release,
  Rollout,
  RollbackTargetRequest,
  RollbackTargetResponse,
  RolloutFailureCause,
  RolloutState,
  Stage,
  Target,
} from './resources.js';
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../errors.js';
import { paginate, type Listable } from './list-query.js';
import { phaseIdsOf, verifiesIn } from './rollout-phases.js';
import {
  RESOURCE_ID,
  WILDCARD,
  idOf,
  locationName,
  millisOf,
  parseLocationName,
  parsePipelineName,
  parseReleaseName,
  parseRolloutName,
  parseTargetName,
  pipelineOf,
  releaseOfRollout,
  revisionName,
  stableId,
  targetName,
  timestampOf,
} from './resource-names.js';

/** The phase a rollback starts at unless the caller says otherwise (Cloud Deploy's default). */
export const STABLE_PHASE_ID = 'stable';

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

/** States in which a rollout can still be cancelled. */
const CANCELLABLE: ReadonlySet<RolloutState> = new Set<RolloutState>(['PENDING_RELEASE', 'PENDING_APPROVAL', 'PENDING', 'IN_PROGRESS']);

const clone = <T>(value: T): T => structuredClone(value);

/**
 * Rollouts run one at a time per delivery pipeline and target (a "lane"): a
 * rollout created while another is in progress there waits PENDING. Cloud
 * Deploy documents PENDING as "waiting for an earlier Rollout(s) to complete on
 * this Target" (https://cloud.google.com/deploy/docs/api/reference/rest/v1/projects.locations.deliveryPipelines.releases.rollouts#State);
 * whether two pipelines sharing a target also wait for each other is not
 * documented, and gcp-sim keeps them apart (README.md).
 */
export const laneOf = (rollout: Pick<Rollout, 'name' | 'targetId'>): string => `${pipelineOf(rollout.name)}|${rollout.targetId}`;

/**
 * The in-memory Cloud Deploy: resources plus the semantics of the simulated
 * RPCs and of a rollout's life (phases, jobs, approval, queueing, cancel). No
 * gRPC and no timers: the simulator calls `nextWork` / `startRollout` /
 * `stepRollout` / `finishCancel` / `finishRender` when time has passed, so this
 * is testable on its own. Every value it returns is a copy; every change is
 * reported to `onEvent`.
 */
export class DeployState {
  private readonly pipelines = new Map<string, DeliveryPipeline>();
  private readonly targets = new Map<string, Target>();
  private readonly releases = new Map<string, Release>();
  private readonly rollouts = new Map<string, Rollout>();
  /** Insertion order of every resource: breaks create-time ties ("latest" must be well defined). */
  private readonly seqs = new Map<string, number>();
  private nextSeq = 0;

  constructor(
    seed: DeploySeed,
    private readonly clock: () => Date = () => new Date(),
    private readonly onEvent: (event: DeployEvent) => void = () => {},
  ) {
    for (const pipeline of seed.pipelines) this.insert(this.pipelines, normalizePipeline(pipeline));
    for (const target of seed.targets) this.insert(this.targets, normalizeTarget(target));
    for (const release of seed.releases) {
      parseReleaseName(release.name, 'seed release name');
      if (!this.pipelines.has(pipelineOf(release.name))) {
        throw new Error(`seed: release ${release.name} belongs to no seeded delivery pipeline`);
      }
      this.insert(this.releases, normalizeRelease(release));
    }
    for (const rollout of seed.rollouts) {
      const name = parseRolloutName(rollout.name, 'seed rollout name');
      if (!this.releases.has(releaseOfRollout(rollout.name))) {
        throw new Error(`seed: rollout ${rollout.name} belongs to no seeded release`);
      }
      if (!this.targets.has(targetName({ ...name, target: rollout.targetId }))) {
        throw new Error(`seed: rollout ${rollout.name} is on target ${rollout.targetId}, which is not seeded`);
      }
      this.insert(this.rollouts, normalizeRollout(rollout));
    }
  }

  // ---- Reads ----

  getDeliveryPipeline({ name }: GetRequest): DeliveryPipeline {
    parsePipelineName(name);
    return clone(this.requirePipeline(name));
  }

  getTarget({ name }: GetRequest): Target {
    parseTargetName(name);
    const target = this.targets.get(name);
    if (!target) throw notFound(`Target "${name}" not found`);
    return clone(target);
  }

  getRelease({ name }: GetRequest): Release {
    parseReleaseName(name);
    return clone(this.requireRelease(name));
  }

  getRollout({ name }: GetRequest): Rollout {
    parseRolloutName(name);
    return clone(this.requireRollout(name));
  }

  listDeliveryPipelines(request: ListRequest): ListDeliveryPipelinesResponse {
    const parent = locationName(parseLocationName(request.parent));
    const page = this.page(
      'ListDeliveryPipelines',
      request,
      [...this.pipelines.values()].filter((p) => p.name.startsWith(`${parent}/`)),
    );
    return { deliveryPipelines: page.items, nextPageToken: page.nextPageToken, unreachable: [] };
  }

  listTargets(request: ListRequest): ListTargetsResponse {
    const parent = locationName(parseLocationName(request.parent));
    const page = this.page(
      'ListTargets',
      request,
      [...this.targets.values()].filter((t) => t.name.startsWith(`${parent}/`)),
    );
    return { targets: page.items, nextPageToken: page.nextPageToken, unreachable: [] };
  }

  listReleases(request: ListRequest): ListReleasesResponse {
    parsePipelineName(request.parent, 'parent');
    this.requirePipeline(request.parent);
    const releases = [...this.releases.values()].filter((r) => pipelineOf(r.name) === request.parent);
    const page = this.page('ListReleases', request, releases);
    return { releases: page.items, nextPageToken: page.nextPageToken, unreachable: [] };
  }

  /** `parent` is a release, or `{pipeline}/releases/-` for the rollouts of every release (AIP-159). */
  listRollouts(request: ListRequest): ListRolloutsResponse {
    const parent = parseReleaseName(request.parent, 'parent');
    let rollouts: Rollout[];
    if (parent.release === WILDCARD) {
      const pipeline = pipelineOf(request.parent);
      this.requirePipeline(pipeline);
      rollouts = [...this.rollouts.values()].filter((r) => pipelineOf(r.name) === pipeline);
    } else {
      this.requireRelease(request.parent);
      rollouts = [...this.rollouts.values()].filter((r) => releaseOfRollout(r.name) === request.parent);
    }
    const page = this.page('ListRollouts', request, rollouts);
    return { rollouts: page.items, nextPageToken: page.nextPageToken, unreachable: [] };
  }

  /** Every rollout, newest first. */
  allRollouts(): Rollout[] {
    return this.newestFirst([...this.rollouts.values()]).map(clone);
  }

  /** Rollouts on a target (by id, in any pipeline), newest first. */
  rolloutsOnTarget(targetId: string): Rollout[] {
    return this.newestFirst([...this.rollouts.values()].filter((r) => r.targetId === targetId)).map(clone);
  }

  findRollout(name: string): Rollout | undefined {
    const rollout = this.rollouts.get(name);
    return rollout && clone(rollout);
  }

  findRelease(name: string): Release | undefined {
    const release = this.releases.get(name);
    return release && clone(release);
  }

  // ---- Releases ----

  /**
   * CreateRelease: the release starts rendering (render_state IN_PROGRESS) with
   * snapshots of its pipeline and targets; `finishRender` completes it.
   * validate_only checks everything and returns the release that would be created.
   */
  createRelease(request: CreateReleaseRequest): Release {
    parsePipelineName(request.parent, 'parent');
    const releaseId = request.releaseId ?? '';
    requireResourceId('release_id', releaseId);
    const pipeline = this.requirePipeline(request.parent);
    if (pipeline.suspended) throw failedPrecondition(`delivery pipeline "${request.parent}" is suspended`);
    const name = `${request.parent}/releases/${releaseId}`;
    if (this.releases.has(name)) throw alreadyExists(`Release "${name}" already exists`);
    const location = locationName(parsePipelineName(request.parent));
    const targetIds = (pipeline.serialPipeline?.stages ?? []).map((s) => s.targetId);
    const targetSnapshots = targetIds.flatMap((id) => {
      const target = this.targets.get(`${location}/targets/${id}`);
      return target ? [clone(target)] : [];
    });
    const now = timestampOf(this.clock());
    const given = request.release ?? {};
    const release = normalizeRelease({
      name,
      description: given.description ?? '',
      annotations: { ...(given.annotations ?? {}) },
      labels: { ...(given.labels ?? {}) },
      abandoned: false,
      createTime: now,
      renderStartTime: now,
      skaffoldConfigUri: given.skaffoldConfigUri ?? '',
      skaffoldConfigPath: given.skaffoldConfigPath ?? '',
      buildArtifacts: [...(given.buildArtifacts ?? [])].map((a) => ({ image: a.image ?? '', tag: a.tag ?? '' })),
      deliveryPipelineSnapshot: clone(pipeline),
      targetSnapshots,
      renderState: 'IN_PROGRESS',
      skaffoldVersion: given.skaffoldVersion || '2.13',
      targetRenders: Object.fromEntries(targetIds.map((id) => [id, { renderingState: 'IN_PROGRESS' as const }])),
    });
    if (request.validateOnly) return clone(release);
    this.insert(this.releases, release);
    this.emit({ type: 'release-created', release: clone(release) });
    return clone(release);
  }

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

  /**
   * AbandonRelease. "Rollouts from abandoned releases: ... any rollouts created
   * from that release that are in progress or queued continue to completion ...
   * you can't create new rollouts from an abandoned release", and you can't roll
   * back to one (https://cloud.google.com/deploy/docs/abandon-release).
   */
  abandonRelease(request: AbandonReleaseRequest): void {
    parseReleaseName(request.name);
    const release = this.requireRelease(request.name);
    if (release.abandoned) throw failedPrecondition(`release "${request.name}" is already abandoned`);
    release.abandoned = true;
    release.etag = stableId([release.name, 'abandoned'], 16);
    this.emit({ type: 'release-abandoned', release: clone(release) });
  }

  // ---- Rollouts ----

  /**
   * CreateRollout: a rollout of `parent` (a release) to `rollout.target_id`.
   * It waits PENDING_RELEASE while the release renders, PENDING_APPROVAL on a
   * target with require_approval, then PENDING until the lane is free.
   */
  createRollout(request: CreateRolloutRequest): Rollout {
    const ref = parseReleaseName(request.parent, 'parent');
    const rolloutId = request.rolloutId ?? '';
    requireResourceId('rollout_id', rolloutId);
    const release = this.requireRelease(request.parent);
    const pipelineName = pipelineOf(release.name);
    const pipeline = this.requirePipeline(pipelineName);
    const targetId = request.rollout?.targetId ?? '';
    if (targetId === '') throw invalidArgument('rollout.target_id is required');
    this.requireFreeRolloutId(pipelineName, rolloutId);
    if (release.abandoned) {
      throw failedPrecondition(`release "${release.name}" is abandoned: no new rollouts can be created from it`);
    }
    if (pipeline.suspended) throw failedPrecondition(`delivery pipeline "${pipelineName}" is suspended`);
    if (release.renderState === 'FAILED') throw failedPrecondition(`release "${release.name}" failed to render`);
    const stages = (release.deliveryPipelineSnapshot ?? pipeline).serialPipeline?.stages ?? [];
    const stage = stages.find((s) => s.targetId === targetId);
    if (!stage) throw invalidArgument(`target "${targetId}" is not a stage of delivery pipeline "${pipelineName}"`);
    const fullTargetName = targetName({ ...ref, target: targetId });
    const target = this.targets.get(fullTargetName);
    if (!target) throw notFound(`Target "${fullTargetName}" not found`);
    const phaseIds = phaseIdsOf(stage.strategy);
    const startingPhaseId = request.startingPhaseId || phaseIds[0]!;
    if (!phaseIds.includes(startingPhaseId)) {
      throw invalidArgument(
        `starting_phase_id "${startingPhaseId}" is not a phase of target "${targetId}" (phases: ${phaseIds.join(', ')})`,
      );
    }
    const rollout = this.buildRollout({
      name: `${release.name}/rollouts/${rolloutId}`,
      target,
      stage,
      startingPhaseId,
      rolledBack: '',
      config: request.rollout ?? null,
      service: this.serviceOf(pipelineName, targetId),
      rendering: release.renderState === 'IN_PROGRESS',
    });
    if (request.validateOnly) return clone(rollout);
    this.insert(this.rollouts, rollout);
    this.announceCreated(rollout);
    return clone(rollout);
  }

  // ---- RollbackTarget ----

  /**
   * Cloud Deploy's RollbackTarget. Checks run in this order: request shape,
   * pipeline, target, rollout id taken (ALREADY_EXISTS comes before the release
   * checks so a retried call reports the rollout it already created, even after
   * that rollout changed what is current), rollout_to_roll_back, release.
   * "By default, the rollback uses the last release with a successful rollout to
   * the indicated target" (https://cloud.google.com/deploy/docs/roll-back).
   * The rollback rollout is an ordinary rollout: while another rollout is in
   * progress on the target it waits PENDING behind it (see `laneOf`), and on a
   * target that requires approval it waits PENDING_APPROVAL.
   */
  rollbackTarget(request: RollbackTargetRequest): RollbackResult {
    const pipelineName = request.name;
    const pipelineRef = parsePipelineName(pipelineName);
    const targetId = request.targetId ?? '';
    const rolloutId = request.rolloutId ?? '';
    if (targetId === '') throw invalidArgument('target_id is required');
    if (rolloutId === '') throw invalidArgument('rollout_id is required');
    requireResourceId('rollout_id', rolloutId);
    const pipeline = this.requirePipeline(pipelineName);
    if (pipeline.suspended) throw failedPrecondition(`delivery pipeline "${pipelineName}" is suspended`);

    const fullTargetName = targetName({ ...pipelineRef, target: targetId });
    const target = this.targets.get(fullTargetName);
    if (!target) throw notFound(`Target "${fullTargetName}" not found`);
    const stage = pipeline.serialPipeline?.stages.find((s) => s.targetId === targetId);
    if (!stage) throw invalidArgument(`target "${targetId}" is not a stage of delivery pipeline "${pipelineName}"`);

    this.requireFreeRolloutId(pipelineName, rolloutId);

    const onTarget = this.newestFirst(
      [...this.rollouts.values()].filter((r) => pipelineOf(r.name) === pipelineName && r.targetId === targetId),
    );
    const latest = onTarget[0];
    const succeeded = this.lastSucceededFirst(onTarget.filter((r) => r.state === 'SUCCEEDED'));
    const current = succeeded[0];
    const currentRelease = current && releaseOfRollout(current.name);

    if (request.rolloutToRollBack && request.rolloutToRollBack !== latest?.name) {
      throw failedPrecondition(
        `rollout_to_roll_back "${request.rolloutToRollBack}" is not the latest rollout on target "${targetId}"` +
          (latest ? ` (the latest is "${latest.name}")` : ' (the target has no rollouts)'),
      );
    }

    let release: Release;
    if (request.releaseId) {
      const name = `${pipelineName}/releases/${request.releaseId}`;
      release = this.requireRelease(name);
      // Refused only when the release is what the target's latest rollout deployed, successfully. Rolling back
      // to the last release that succeeded is allowed once a later rollout (a canary cancelled mid-way, a
      // verify that failed after deploying) may have put another release in front of traffic (gcp-sim's choice).
      if (latest?.state === 'SUCCEEDED' && name === releaseOfRollout(latest.name)) {
        throw failedPrecondition(`release "${request.releaseId}" is already the current release on target "${targetId}"`);
      }
    } else {
      if (!current) {
        throw failedPrecondition(`no previous successful rollout on target "${targetId}": nothing has succeeded on it yet`);
      }
      // The rollback goes to the previous *release*: a redeploy of the current release is not a rollback
      // candidate, and neither is an abandoned release (it cannot be rolled back to).
      const previous = succeeded.find(
        (r) => releaseOfRollout(r.name) !== currentRelease && !this.releases.get(releaseOfRollout(r.name))?.abandoned,
      );
      if (!previous) {
        throw failedPrecondition(
          `no previous successful rollout on target "${targetId}" before the current release "${idOf(currentRelease!)}"`,
        );
      }
      release = this.requireRelease(releaseOfRollout(previous.name));
    }
    if (release.abandoned) throw failedPrecondition(`release "${release.name}" is abandoned: it cannot be rolled back to`);

    const startingPhaseId = request.rollbackConfig?.startingPhaseId || STABLE_PHASE_ID;
    const phaseIds = phaseIdsOf(stage.strategy);
    if (!phaseIds.includes(startingPhaseId)) {
      throw invalidArgument(
        `starting_phase_id "${startingPhaseId}" is not a phase of target "${targetId}" (phases: ${phaseIds.join(', ')})`,
      );
    }

    const rolledBack = request.rolloutToRollBack || latest?.name || '';
    const rollout = this.buildRollout({
      name: `${release.name}/rollouts/${rolloutId}`,
      target,
      stage,
      startingPhaseId,
      rolledBack,
      config: request.rollbackConfig?.rollout ?? null,
      service: this.serviceOf(pipelineName, targetId),
      rendering: false,
    });

    if (!request.validateOnly) {
      this.insert(this.rollouts, rollout);
      const previousRollout = this.rollouts.get(rolledBack);
      if (previousRollout) previousRollout.rolledBackByRollouts = [...(previousRollout.rolledBackByRollouts ?? []), rollout.name];
      this.announceCreated(rollout);
    }
    return {
      response: { rollbackConfig: { rollout: clone(rollout), startingPhaseId } },
      created: request.validateOnly ? null : clone(rollout),
    };
  }

  // ---- Approval, advance, cancel ----

  /** ApproveRollout: APPROVED queues the rollout (PENDING); REJECTED ends it APPROVAL_REJECTED. */
  approveRollout(request: ApproveRolloutRequest): RolloutTransition {
    parseRolloutName(request.name);
    const rollout = this.requireRollout(request.name);
    if (rollout.state !== 'PENDING_APPROVAL') {
      throw failedPrecondition(`rollout "${request.name}" is ${rollout.state}, not PENDING_APPROVAL`);
    }
    const now = timestampOf(this.clock());
    rollout.approveTime = now;
    if (request.approved) {
      rollout.approvalState = 'APPROVED';
      rollout.enqueueTime = now;
      this.emit({ type: 'approval', rollout: clone(rollout), action: 'Approved' });
      return this.transition(rollout, 'PENDING');
    }
    rollout.approvalState = 'REJECTED';
    abortRemaining(rollout);
    this.emit({ type: 'approval', rollout: clone(rollout), action: 'Rejected' });
    return this.transition(rollout, 'APPROVAL_REJECTED');
  }

  /** AdvanceRollout: starts `phase_id`, which must be the phase the rollout waits to be advanced to. */
  advanceRollout(request: AdvanceRolloutRequest): RolloutTransition {
    parseRolloutName(request.name);
    const rollout = this.requireRollout(request.name);
    const phases = rollout.phases ?? [];
    if (!phases.some((p) => p.id === request.phaseId)) {
      throw invalidArgument(
        `phase_id "${request.phaseId}" is not a phase of rollout "${request.name}" (phases: ${phases.map((p) => p.id).join(', ')})`,
      );
    }
    const waiting = rollout.state === 'IN_PROGRESS' ? awaitingAdvance(rollout) : undefined;
    if (!waiting) throw failedPrecondition(`rollout "${request.name}" is ${rollout.state} and not waiting to be advanced`);
    if (waiting.id !== request.phaseId) {
      throw failedPrecondition(`rollout "${request.name}" can only be advanced to phase "${waiting.id}", not "${request.phaseId}"`);
    }
    this.startPhase(rollout, waiting);
    this.emit({ type: 'advance', rollout: clone(rollout), phaseId: waiting.id, action: 'Advanced' });
    return { rollout: clone(rollout), previousState: rollout.state };
  }

  /** CancelRollout: CANCELLING now (running jobs abort), CANCELLED when `finishCancel` runs. */
  cancelRollout(request: CancelRolloutRequest): RolloutTransition {
    parseRolloutName(request.name);
    const rollout = this.requireRollout(request.name);
    if (!CANCELLABLE.has(rollout.state)) {
      throw failedPrecondition(`rollout "${request.name}" is ${rollout.state}; only a pending or in-progress rollout can be cancelled`);
    }
    for (const { phase, job } of abortRemaining(rollout)) this.emitJobRun(rollout, phase, job, 'Terminated');
    return this.transition(rollout, 'CANCELLING');
  }

  finishCancel(name: string): RolloutTransition {
    const rollout = this.requireRollout(name);
    if (rollout.state !== 'CANCELLING') throw failedPrecondition(`rollout "${name}" is ${rollout.state}, not CANCELLING`);
    if (rollout.deployStartTime) rollout.deployEndTime = timestampOf(this.clock());
    return this.transition(rollout, 'CANCELLED');
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

  // ---- internals ----

  private announceCreated(rollout: Rollout): void {
    this.emit({ type: 'rollout-created', rollout: clone(rollout) });
    if (rollout.state === 'PENDING_APPROVAL') this.emit({ type: 'approval', rollout: clone(rollout), action: 'Required' });
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

  private startPhase(rollout: Rollout, phase: Phase): void {
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
  private emitJobRun(rollout: Rollout, phase: Phase, job: Job, action: 'Start' | 'Succeed' | 'Failure' | 'Terminated'): void {
    if (!job.jobRun) return;
    this.emit({ type: 'job-run', rollout: clone(rollout), jobRun: job.jobRun, phaseId: phase.id, jobId: job.id ?? '', action });
  }

  private requireFreeRolloutId(pipelineName: string, rolloutId: string): void {
    const taken = [...this.rollouts.values()].find((r) => pipelineOf(r.name) === pipelineName && idOf(r.name) === rolloutId);
    if (taken) throw alreadyExists(`Rollout "${taken.name}" already exists`);
  }

  /** The Cloud Run service earlier rollouts on this pipeline's target deployed, if any. */
  private serviceOf(pipelineName: string, targetId: string): CloudRunMetadata | undefined {
    const onTarget = this.newestFirst(
      [...this.rollouts.values()].filter((r) => pipelineOf(r.name) === pipelineName && r.targetId === targetId),
    );
    return onTarget.find((r) => r.metadata?.cloudRun?.service)?.metadata?.cloudRun;
  }

  private buildRollout(args: {
    name: string;
    target: Target;
    stage: Stage;
    startingPhaseId: string;
    rolledBack: string;
    config: Partial<Rollout> | null;
    service: CloudRunMetadata | undefined;
    rendering: boolean;
  }): Rollout {
    const { name, target, stage, startingPhaseId, rolledBack, config, service, rendering } = args;
    const now = timestampOf(this.clock());
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

  private emit(event: DeployEvent): void {
    this.onEvent(event);
  }

  private transition(rollout: Rollout, state: RolloutState): RolloutTransition {
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

  private nextRevision(service: string): number {
    let highest = 0;
    for (const r of this.rollouts.values()) {
      const cloudRun = r.metadata?.cloudRun;
      if (cloudRun?.service !== service || !cloudRun.revision) continue;
      const n = Number(/-(\d{5})-[a-z]+$/.exec(cloudRun.revision)?.[1] ?? 0);
      highest = Math.max(highest, n);
    }
    return highest + 1;
  }

  private page<T extends { name: string; createTime?: { seconds: string; nanos: number } }>(
    method: string,
    request: ListRequest,
    items: T[],
  ): { items: T[]; nextPageToken: string } {
    const keyOf = (item: T): Listable => ({
      name: item.name,
      createdAt: millisOf(item.createTime),
      seq: this.seqs.get(item.name) ?? 0,
    });
    const page = paginate(items, keyOf, { method, ...request });
    return { items: page.items.map(clone), nextPageToken: page.nextPageToken };
  }

  private newestFirst(rollouts: Rollout[]): Rollout[] {
    return [...rollouts].sort((a, b) => millisOf(b.createTime) - millisOf(a.createTime) || this.seqOf(b) - this.seqOf(a));
  }

  /** Oldest first, by creation. */
  private inOrder(rollouts: Rollout[]): Rollout[] {
    return [...rollouts].sort((a, b) => millisOf(a.createTime) - millisOf(b.createTime) || this.seqOf(a) - this.seqOf(b));
  }

  /** Most recently completed first: what is "current" on a target is what finished deploying last. */
  private lastSucceededFirst(rollouts: Rollout[]): Rollout[] {
    const doneAt = (r: Rollout) => millisOf(r.deployEndTime ?? r.createTime);
    return [...rollouts].sort((a, b) => doneAt(b) - doneAt(a) || this.seqOf(b) - this.seqOf(a));
  }

  private seqOf(resource: { name: string }): number {
    return this.seqs.get(resource.name) ?? 0;
  }

  private insert<T extends { name: string }>(map: Map<string, T>, resource: T): void {
    if (map.has(resource.name)) throw new Error(`seed: ${resource.name} appears twice`);
    map.set(resource.name, resource);
    this.seqs.set(resource.name, this.nextSeq++);
  }

  private requirePipeline(name: string): DeliveryPipeline {
    const pipeline = this.pipelines.get(name);
    if (!pipeline) throw notFound(`DeliveryPipeline "${name}" not found`);
    return pipeline;
  }

  private requireRelease(name: string): Release {
    const release = this.releases.get(name);
    if (!release) throw notFound(`Release "${name}" not found`);
    return release;
  }

  private requireRollout(name: string): Rollout {
    const rollout = this.rollouts.get(name);
    if (!rollout) throw notFound(`Rollout "${name}" not found`);
    return rollout;
  }
}

function requireResourceId(field: string, id: string): void {
  if (id === '') throw invalidArgument(`${field} is required`);
  if (!RESOURCE_ID.test(id)) {
    throw invalidArgument(
      `${field} "${id}" is invalid: it must be 1 to 63 lowercase letters, digits or hyphens, start with a letter and not end with a hyphen (${RESOURCE_ID.source})`,
    );
  }
}

/** The jobs of a phase in the order they run. */
function jobsOf(phase: Phase): Job[] {
  const jobs = phase.deploymentJobs ?? {};
  return [jobs.predeployJob, jobs.deployJob, jobs.verifyJob, jobs.postdeployJob].filter((j): j is Job => j !== undefined);
}

/** The phase an IN_PROGRESS rollout waits to be advanced to: none is running and one after a finished phase is pending. */
function awaitingAdvance(rollout: Rollout): Phase | undefined {
  const phases = rollout.phases ?? [];
  if (phases.some((p) => p.state === 'IN_PROGRESS')) return undefined;
  const next = phases.findIndex((p) => p.state === 'PENDING');
  return next > 0 && phases.slice(0, next).some((p) => p.state === 'SUCCEEDED') ? phases[next] : undefined;
}

/** Everything not finished in a rollout stops: running and pending phases and jobs end ABORTED. Returns the jobs that were running. */
function abortRemaining(rollout: Rollout): Array<{ phase: Phase; job: Job }> {
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

function normalizePipeline(p: DeliveryPipeline): DeliveryPipeline {
  parsePipelineName(p.name, 'seed delivery pipeline name');
  return { uid: stableId([p.name]), etag: stableId([p.name, 'etag'], 16), ...clone(p) };
}

function normalizeTarget(t: Target): Target {
  parseTargetName(t.name, 'seed target name');
  return { targetId: idOf(t.name), uid: stableId([t.name]), etag: stableId([t.name, 'etag'], 16), ...clone(t) };
}

function normalizeRelease(r: Release): Release {
  return { uid: stableId([r.name]), etag: stableId([r.name, 'etag'], 16), renderState: 'SUCCEEDED', ...clone(r) };
}

function normalizeRollout(r: Rollout): Rollout {
  return {
    uid: stableId([r.name]),
    etag: stableId([r.name, 'etag'], 16),
    approvalState: 'DOES_NOT_NEED_APPROVAL',
    deployFailureCause: 'FAILURE_CAUSE_UNSPECIFIED',
    rolledBackByRollouts: [],
    phases: [],
    ...clone(r),
  };
}
