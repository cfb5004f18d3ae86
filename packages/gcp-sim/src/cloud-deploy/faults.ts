import { DeployMethods, type DeliveryPipeline, type DeployMethod, type Rollout } from './resources.js';
import type { RolloutFailurePlan } from './state-types.js';
import { ApiErrorCodes, apiErrorCodeOf, invalidArgument, type ApiErrorCode } from '../errors.js';
import { idOf, pipelineOf } from './resource-names.js';
import { RollbackFaults, type RollbackFault, type RollbackFaultFilter, type RollbackFaultSpec } from './rollback-faults.js';
import type { FailNextCallsOptions, PendingFault, RpcFault } from './sim-api.js';

/**
 * The failures a test (or the control endpoint) injected and not yet used:
 * faults for the next calls of an RPC, renders and rollouts (by target, by
 * name, rollbacks) that must fail, and the pipeline-scoped rollback faults.
 * The simulation takes from these queues as calls come and rollouts are created.
 */
export class DeployFaults {
  private readonly rollbackFailures = new Map<string, string[]>();
  private readonly rolloutFailures = new Map<string, RolloutFailurePlan[]>();
  private readonly renderFailures = new Map<string, string[]>();
  private readonly callFaults = new Map<DeployMethod, PendingFault[]>();
  private readonly rollbackFaultQueue: RollbackFaults;
  /** Rollouts that must fail, and how. */
  private readonly plannedFailures = new Map<string, RolloutFailurePlan>();

  constructor(clock: () => Date) {
    this.rollbackFaultQueue = new RollbackFaults(clock);
  }

  // ---- failed rollouts and renders ----

  failNextRollbacks(target: string, reason: string, count = 1): void {
    const queue = this.rollbackFailures.get(idOf(target)) ?? [];
    for (let i = 0; i < count; i++) queue.push(reason);
    this.rollbackFailures.set(idOf(target), queue);
  }

  failNextRollouts(target: string, plan: RolloutFailurePlan = {}, count = 1): void {
    const queue = this.rolloutFailures.get(idOf(target)) ?? [];
    for (let i = 0; i < count; i++) queue.push({ ...plan });
    this.rolloutFailures.set(idOf(target), queue);
  }

  failRollout(name: string, plan: RolloutFailurePlan = {}): void {
    this.plannedFailures.set(name, { ...plan });
  }

  /** A rollback fault on one of `pipeline`'s stages (the pipeline as DeployState has it). */
  addRollbackFault(spec: RollbackFaultSpec, pipeline: DeliveryPipeline): RollbackFault {
    const stages = (pipeline.serialPipeline?.stages ?? []).map((s) => s.targetId);
    if (!stages.includes(spec.targetId))
      throw invalidArgument(
        `target "${spec.targetId}" is not a stage of delivery pipeline "${spec.pipeline}" (stages: ${stages.join(', ')})`,
      );
    return this.rollbackFaultQueue.add(spec);
  }

  rollbackFaults(): RollbackFault[] {
    return this.rollbackFaultQueue.list();
  }

  clearRollbackFaults(filter: RollbackFaultFilter = {}): RollbackFault[] {
    return this.rollbackFaultQueue.clear(filter);
  }

  failNextRenders(pipeline: string, message: string, count = 1): void {
    const queue = this.renderFailures.get(idOf(pipeline)) ?? [];
    for (let i = 0; i < count; i++) queue.push(message);
    this.renderFailures.set(idOf(pipeline), queue);
  }

  /** The failure message of the render of `release` that just ended, taken off its pipeline's queue; undefined: it succeeds. */
  takeRenderFailure(release: string): string | undefined {
    return this.renderFailures.get(idOf(release.slice(0, release.indexOf('/releases/'))))?.shift();
  }

  /** The `refused` rollback fault this RollbackTarget call gets, taken off its queue. */
  takeRefusal(pipeline: string, targetId: string): RollbackFault | undefined {
    return this.rollbackFaultQueue.take('refused', pipeline, targetId);
  }

  /** A new rollout: whether (and how) it must fail, from the queues of its target and, for a rollback, its pipeline's target. */
  planFailure(rollout: Rollout): void {
    if (this.plannedFailures.has(rollout.name)) return;
    const rollbackReason = rollout.rollbackOfRollout ? this.rollbackFailures.get(rollout.targetId)?.shift() : undefined;
    const fault =
      rollbackReason === undefined && rollout.rollbackOfRollout
        ? this.rollbackFaultQueue.take('rollout', pipelineOf(rollout.name), rollout.targetId)
        : undefined;
    const plan: RolloutFailurePlan | undefined =
      rollbackReason !== undefined
        ? { reason: rollbackReason }
        : fault
          ? { reason: fault.reason, ...(fault.cause ? { cause: fault.cause } : {}) }
          : this.rolloutFailures.get(rollout.targetId)?.shift();
    if (plan) this.plannedFailures.set(rollout.name, plan);
  }

  /** How `rollout` must fail, if it must. */
  plannedFailure(rollout: string): RolloutFailurePlan | undefined {
    return this.plannedFailures.get(rollout);
  }

  /** The planned failure of `rollout` fired: it is used up. */
  failed(rollout: string): void {
    this.plannedFailures.delete(rollout);
  }

  // ---- failed and slow RPCs ----

  failNextCalls(method: DeployMethod, code: ApiErrorCode | number, count = 1, options: FailNextCallsOptions = {}): void {
    this.injectFault(method, { code, count, ...options });
  }

  delayNextCalls(method: DeployMethod, latencyMs: number, count = 1): void {
    this.injectFault(method, { latencyMs, count });
  }

  injectFault(method: DeployMethod, fault: RpcFault): void {
    if (!(method in DeployMethods)) throw new Error(`injectFault: ${String(method)} is not a simulated method`);
    let code: ApiErrorCode | null = null;
    if (fault.code !== undefined) {
      const name = typeof fault.code === 'number' ? apiErrorCodeOf(fault.code) : fault.code;
      if (name === undefined || !(name in ApiErrorCodes)) throw new Error(`failNextCalls: ${String(fault.code)} is not a gRPC error code`);
      code = name;
    }
    const latencyMs = fault.latencyMs ?? 0;
    if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`injectFault: latencyMs must be >= 0, got ${latencyMs}`);
    const queue = this.callFaults.get(method) ?? [];
    for (let i = 0; i < (fault.count ?? 1); i++) {
      queue.push({
        code,
        latencyMs,
        afterApplying: fault.afterApplying ?? false,
        message: fault.message ?? `injected ${code ?? 'latency'} (gcp-sim)`,
        ...(fault.when ? { when: fault.when } : {}),
      });
    }
    this.callFaults.set(method, queue);
  }

  /** The fault this call of `method` gets, taken off its queue (the gRPC layer applies the latency). */
  takeFault(method: DeployMethod, request: unknown = {}): PendingFault | undefined {
    const queue = this.callFaults.get(method);
    const at = queue?.findIndex((f) => !f.when || f.when(request as Record<string, unknown>)) ?? -1;
    return at < 0 ? undefined : queue!.splice(at, 1)[0];
  }

  /** Forgets every injected failure. */
  reset(): void {
    this.rollbackFailures.clear();
    this.rolloutFailures.clear();
    this.renderFailures.clear();
    this.callFaults.clear();
    this.plannedFailures.clear();
    this.rollbackFaultQueue.clear();
  }
}
