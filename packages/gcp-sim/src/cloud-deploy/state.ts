import type {
  AbandonReleaseRequest,
  AdvanceRolloutRequest,
  ApproveRolloutRequest,
  CancelRolloutRequest,
  CreateReleaseRequest,
  CreateRolloutRequest,
  Release,
  Rollout,
  RollbackTargetRequest,
} from './resources.js';
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../errors.js';
import { phaseIdsOf } from './rollout-phases.js';
import {
  idOf,
  locationName,
  parsePipelineName,
  parseReleaseName,
  parseRolloutName,
  pipelineOf,
  releaseOfRollout,
  stableId,
  targetName,
  timestampOf,
} from './resource-names.js';
import { clone, normalizeRelease, requireResourceId } from './resource-store.js';
import { CANCELLABLE, abortRemaining, awaitingAdvance, buildRollout } from './rollout-build.js';
import { RolloutLifecycle } from './rollout-lifecycle.js';
import type { RollbackResult, RolloutTransition } from './state-types.js';

export {
  laneOf,
  type DeployEvent,
  type LaneWork,
  type RollbackResult,
  type RolloutFailurePlan,
  type RolloutTransition,
} from './state-types.js';

/** The phase a rollback starts at unless the caller says otherwise (Cloud Deploy's default). */
export const STABLE_PHASE_ID = 'stable';

/**
 * The in-memory Cloud Deploy: resources plus the semantics of the simulated
 * RPCs and of a rollout's life (phases, jobs, approval, queueing, cancel). No
 * gRPC and no timers: the simulator calls `nextWork` / `startRollout` /
 * `stepRollout` / `finishCancel` / `finishRender` when time has passed, so this
 * is testable on its own. Every value it returns is a copy; every change is
 * reported to `onEvent`.
 *
 * In layers: the resources and the read RPCs (`DeployResources`,
 * resource-store.ts), what happens when time passes (`RolloutLifecycle`,
 * rollout-lifecycle.ts), and here the RPCs that change the world.
 */
export class DeployState extends RolloutLifecycle {
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
    const rollout = buildRollout({
      name: `${release.name}/rollouts/${rolloutId}`,
      target,
      stage,
      startingPhaseId,
      rolledBack: '',
      config: request.rollout ?? null,
      service: this.serviceOf(pipelineName, targetId),
      rendering: release.renderState === 'IN_PROGRESS',
      now: timestampOf(this.clock()),
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
    const rollout = buildRollout({
      name: `${release.name}/rollouts/${rolloutId}`,
      target,
      stage,
      startingPhaseId,
      rolledBack,
      config: request.rollbackConfig?.rollout ?? null,
      service: this.serviceOf(pipelineName, targetId),
      rendering: false,
      now: timestampOf(this.clock()),
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

  // ---- internals ----

  private announceCreated(rollout: Rollout): void {
    this.emit({ type: 'rollout-created', rollout: clone(rollout) });
    if (rollout.state === 'PENDING_APPROVAL') this.emit({ type: 'approval', rollout: clone(rollout), action: 'Required' });
  }
}
