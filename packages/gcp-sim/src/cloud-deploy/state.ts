import type {
  ApproveRolloutRequest,
  CloudRunMetadata,
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

const clone = <T>(value: T): T => structuredClone(value);

/**
 * The in-memory Cloud Deploy: resources plus the semantics of the simulated
 * RPCs. No gRPC and no timers (the simulator drives rollouts through
 * `startRollout`/`finishRollout`), so it is testable on its own. Every value it
 * returns is a copy.
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

  // ---- RollbackTarget ----

  /**
   * Cloud Deploy's RollbackTarget. Checks run in this order: request shape,
   * pipeline, target, rollout id taken (ALREADY_EXISTS comes before the release
   * checks so a retried call reports the rollout it already created, even after
   * that rollout changed what is current), rollout_to_roll_back, release.
   */
  rollbackTarget(request: RollbackTargetRequest): RollbackResult {
    const pipelineName = request.name;
    const pipelineRef = parsePipelineName(pipelineName);
    const targetId = request.targetId ?? '';
    const rolloutId = request.rolloutId ?? '';
    if (targetId === '') throw invalidArgument('target_id is required');
    if (rolloutId === '') throw invalidArgument('rollout_id is required');
    if (!RESOURCE_ID.test(rolloutId)) {
      throw invalidArgument(
        `rollout_id "${rolloutId}" is invalid: it must be 1 to 63 lowercase letters, digits or hyphens, start with a letter and not end with a hyphen (${RESOURCE_ID.source})`,
      );
    }
    const pipeline = this.requirePipeline(pipelineName);
    if (pipeline.suspended) throw failedPrecondition(`delivery pipeline "${pipelineName}" is suspended`);

    const fullTargetName = targetName({ ...pipelineRef, target: targetId });
    const target = this.targets.get(fullTargetName);
    if (!target) throw notFound(`Target "${fullTargetName}" not found`);
    const stage = pipeline.serialPipeline?.stages.find((s) => s.targetId === targetId);
    if (!stage) throw invalidArgument(`target "${targetId}" is not a stage of delivery pipeline "${pipelineName}"`);

    const taken = [...this.rollouts.values()].find((r) => pipelineOf(r.name) === pipelineName && idOf(r.name) === rolloutId);
    if (taken) throw alreadyExists(`Rollout "${taken.name}" already exists`);

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
      if (name === currentRelease) {
        throw failedPrecondition(`release "${request.releaseId}" is already the current release on target "${targetId}"`);
      }
    } else {
      if (!current) {
        throw failedPrecondition(`no previous successful rollout on target "${targetId}": nothing has succeeded on it yet`);
      }
      // The rollback goes to the previous *release*: a redeploy of the current release is not a rollback candidate.
      const previous = succeeded.find((r) => releaseOfRollout(r.name) !== currentRelease);
      if (!previous) {
        throw failedPrecondition(
          `no previous successful rollout on target "${targetId}" before the current release "${idOf(currentRelease!)}"`,
        );
      }
      release = this.requireRelease(releaseOfRollout(previous.name));
    }
    if (release.abandoned) throw failedPrecondition(`release "${release.name}" is abandoned`);

    const startingPhaseId = request.rollbackConfig?.startingPhaseId || STABLE_PHASE_ID;
    const phaseIds = phaseIdsOf(stage.strategy);
    if (!phaseIds.includes(startingPhaseId)) {
      throw invalidArgument(
        `starting_phase_id "${startingPhaseId}" is not a phase of target "${targetId}" (phases: ${phaseIds.join(', ')})`,
      );
    }
    if (startingPhaseId !== STABLE_PHASE_ID) {
      // Canary phases wait for AdvanceRollout, which the simulator does not implement.
      throw invalidArgument(`gcp-sim only starts rollbacks at phase "${STABLE_PHASE_ID}", not "${startingPhaseId}"`);
    }

    const rolledBack = request.rolloutToRollBack || latest?.name || '';
    const rollout = this.buildRollbackRollout({
      name: `${release.name}/rollouts/${rolloutId}`,
      target,
      stage,
      startingPhaseId,
      rolledBack,
      config: request.rollbackConfig?.rollout ?? null,
      service: onTarget.find((r) => r.metadata?.cloudRun?.service)?.metadata?.cloudRun,
    });

    if (!request.validateOnly) {
      this.insert(this.rollouts, rollout);
      const previousRollout = this.rollouts.get(rolledBack);
      if (previousRollout) previousRollout.rolledBackByRollouts = [...(previousRollout.rolledBackByRollouts ?? []), rollout.name];
    }
    return {
      response: { rollbackConfig: { rollout: clone(rollout), startingPhaseId } },
      created: request.validateOnly ? null : clone(rollout),
    };
  }

  // ---- ApproveRollout ----

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
      return this.transition(rollout, 'PENDING');
    }
    rollout.approvalState = 'REJECTED';
    for (const phase of rollout.phases ?? []) if (phase.state === 'PENDING') setPhase(phase, 'ABORTED', 'ABORTED');
    return this.transition(rollout, 'APPROVAL_REJECTED');
  }

  // ---- Rollout lifecycle (driven by the simulator's timers) ----

  /** The rollout running on a target and the next one waiting for it: Cloud Deploy runs one rollout per target at a time. */
  queueOnTarget(fullTargetName: string): { running: Rollout | undefined; next: Rollout | undefined } {
    const onTarget = [...this.rollouts.values()]
      .filter((r) => targetName({ ...parseRolloutName(r.name), target: r.targetId }) === fullTargetName)
      .sort((a, b) => this.seqOf(a) - this.seqOf(b));
    const running = onTarget.find((r) => r.state === 'IN_PROGRESS');
    const next = onTarget.find((r) => r.state === 'PENDING');
    return { running: running && clone(running), next: next && clone(next) };
  }

  /** Full names of the targets that have a PENDING or IN_PROGRESS rollout. */
  busyTargets(): string[] {
    const names = new Set<string>();
    for (const r of this.rollouts.values()) {
      if (r.state === 'PENDING' || r.state === 'IN_PROGRESS') names.add(targetName({ ...parseRolloutName(r.name), target: r.targetId }));
    }
    return [...names];
  }

  /** PENDING → IN_PROGRESS: the first phase that is not skipped starts with its deploy job. */
  startRollout(name: string): RolloutTransition {
    const rollout = this.requireRollout(name);
    if (rollout.state !== 'PENDING') throw failedPrecondition(`rollout "${name}" is ${rollout.state}, not PENDING`);
    rollout.deployStartTime = timestampOf(this.clock());
    const phase = (rollout.phases ?? []).find((p) => p.state === 'PENDING');
    if (phase) {
      phase.state = 'IN_PROGRESS';
      const deployJob = phase.deploymentJobs?.deployJob;
      if (deployJob) {
        deployJob.state = 'IN_PROGRESS';
        deployJob.jobRun = `${name}/jobRuns/${stableId([name, phase.id, 'deploy', 'run'], 36)}`;
      }
    }
    return this.transition(rollout, 'IN_PROGRESS');
  }

  /** IN_PROGRESS → SUCCEEDED, or FAILED with `failureReason` (deploy_failure_cause EXECUTION_FAILED). */
  finishRollout(name: string, failureReason?: string): RolloutTransition {
    const rollout = this.requireRollout(name);
    if (rollout.state !== 'IN_PROGRESS') throw failedPrecondition(`rollout "${name}" is ${rollout.state}, not IN_PROGRESS`);
    rollout.deployEndTime = timestampOf(this.clock());
    const phases = rollout.phases ?? [];
    if (failureReason === undefined) {
      for (const phase of phases) if (phase.state !== 'SKIPPED') setPhase(phase, 'SUCCEEDED', 'SUCCEEDED', name);
      const cloudRun = rollout.metadata?.cloudRun;
      if (cloudRun?.service) cloudRun.revision = revisionName(idOf(cloudRun.service), this.nextRevision(cloudRun.service), name);
      return this.transition(rollout, 'SUCCEEDED');
    }
    for (const phase of phases) {
      if (phase.state === 'IN_PROGRESS') {
        phase.state = 'FAILED';
        const jobs = phase.deploymentJobs ?? {};
        if (jobs.deployJob) jobs.deployJob.state = 'FAILED';
        for (const job of [jobs.verifyJob, jobs.predeployJob, jobs.postdeployJob]) if (job?.state === 'PENDING') job.state = 'ABORTED';
      } else if (phase.state === 'PENDING') {
        setPhase(phase, 'ABORTED', 'ABORTED');
      }
    }
    rollout.failureReason = failureReason;
    rollout.deployFailureCause = 'EXECUTION_FAILED';
    return this.transition(rollout, 'FAILED');
  }

  // ---- internals ----

  private buildRollbackRollout(args: {
    name: string;
    target: Target;
    stage: Stage;
    startingPhaseId: string;
    rolledBack: string;
    config: Partial<Rollout> | null;
    service: CloudRunMetadata | undefined;
  }): Rollout {
    const { name, target, stage, startingPhaseId, rolledBack, config, service } = args;
    const now = timestampOf(this.clock());
    const verify = verifiesIn(stage.strategy);
    const phaseIds = phaseIdsOf(stage.strategy);
    const startAt = phaseIds.indexOf(startingPhaseId);
    const phases: Phase[] = phaseIds.map((id, i) => {
      if (i < startAt) return { id, state: 'SKIPPED', skipMessage: `rollback starts at phase ${startingPhaseId}` };
      const job = (jobId: 'deploy' | 'verify'): Job =>
        jobId === 'deploy' ? { id: 'deploy', state: 'PENDING', deployJob: {} } : { id: 'verify', state: 'PENDING', verifyJob: {} };
      return {
        id,
        state: 'PENDING',
        deploymentJobs: { deployJob: job('deploy'), ...(verify ? { verifyJob: job('verify') } : {}) },
      };
    });
    const needsApproval = target.requireApproval === true;
    return normalizeRollout({
      name,
      uid: stableId([name, now.seconds, String(now.nanos)]),
      description: config?.description ?? '',
      annotations: { ...(config?.annotations ?? {}) },
      labels: { ...(config?.labels ?? {}) },
      createTime: now,
      ...(needsApproval ? {} : { enqueueTime: now }),
      targetId: target.targetId ?? idOf(target.name),
      approvalState: needsApproval ? 'NEEDS_APPROVAL' : 'DOES_NOT_NEED_APPROVAL',
      state: needsApproval ? 'PENDING_APPROVAL' : 'PENDING',
      phases,
      ...(service ? { metadata: { cloudRun: { service: service.service, serviceUrls: [...service.serviceUrls], revision: '' } } } : {}),
      rollbackOfRollout: rolledBack,
      rolledBackByRollouts: [],
    });
  }

  private transition(rollout: Rollout, state: RolloutState): RolloutTransition {
    const previousState = rollout.state;
    rollout.state = state;
    rollout.etag = stableId([rollout.name, state, rollout.etag ?? ''], 16);
    return { rollout: clone(rollout), previousState };
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

function setPhase(phase: Phase, state: Phase['state'], jobState: Job['state'], rolloutName?: string): void {
  phase.state = state;
  for (const job of Object.values(phase.deploymentJobs ?? {})) {
    if (!job || job.state === 'SKIPPED' || job.state === 'DISABLED') continue;
    job.state = jobState;
    if (rolloutName && !job.jobRun) job.jobRun = `${rolloutName}/jobRuns/${stableId([rolloutName, phase.id, job.id, 'run'], 36)}`;
  }
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
