import type { ApiErrorCode } from '../errors.js';
import type { RolloutFailureCause } from './resources.js';

/**
 * How a rollback fails: its rollout ends `FAILED` in the first deploy job it
 * runs (`rollout`), or `RollbackTarget` itself answers an error (`refused`).
 */
export const RollbackFaultKinds = { rollout: 'rollout', refused: 'refused' } as const;
export type RollbackFaultKind = keyof typeof RollbackFaultKinds;

/** What to fail: the next `count` rollbacks on one delivery pipeline's target. */
export interface RollbackFaultSpec {
  /** The delivery pipeline's full name (`projects/{p}/locations/{l}/deliveryPipelines/{id}`). */
  pipeline: string;
  targetId: string;
  kind: RollbackFaultKind;
  /** `rollout`: the rollout's failure_reason; `refused`: the error's message. */
  reason: string;
  /** Default 1. */
  count?: number;
  /** `rollout` only: the rollout's deploy_failure_cause. Default EXECUTION_FAILED. */
  cause?: RolloutFailureCause;
  /** `refused` only: the gRPC error RollbackTarget answers. Default FAILED_PRECONDITION. */
  code?: ApiErrorCode;
}

/** A fault waiting for the rollbacks it fails; `remaining` counts down as they come. */
export interface RollbackFault {
  id: string;
  pipeline: string;
  targetId: string;
  kind: RollbackFaultKind;
  reason: string;
  cause: RolloutFailureCause | null;
  code: ApiErrorCode | null;
  remaining: number;
  createdAt: string;
}

/** Which faults to clear; unset fields match every fault. */
export interface RollbackFaultFilter {
  id?: string;
  pipeline?: string;
  targetId?: string;
}

/**
 * The pending rollback faults, oldest first. A fault is scoped to one
 * pipeline's target (rollouts queue per pipeline and target, so two pipelines
 * that share a `production` target never take each other's faults) and is
 * dropped once it has failed `count` rollbacks.
 */
export class RollbackFaults {
  private readonly faults: RollbackFault[] = [];
  private created = 0;

  constructor(private readonly clock: () => Date) {}

  add(spec: RollbackFaultSpec): RollbackFault {
    const count = spec.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new Error(`a rollback fault's count must be a positive integer, got ${count}`);
    if (spec.kind === 'rollout' && spec.code !== undefined) throw new Error('code applies to refused rollbacks only');
    if (spec.kind === 'refused' && spec.cause !== undefined) throw new Error('cause applies to failed rollouts only');
    const fault: RollbackFault = {
      id: `fault-${++this.created}`,
      pipeline: spec.pipeline,
      targetId: spec.targetId,
      kind: spec.kind,
      reason: spec.reason,
      cause: spec.kind === 'rollout' ? (spec.cause ?? 'EXECUTION_FAILED') : null,
      code: spec.kind === 'refused' ? (spec.code ?? 'FAILED_PRECONDITION') : null,
      remaining: count,
      createdAt: this.clock().toISOString(),
    };
    this.faults.push(fault);
    return { ...fault };
  }

  /** Takes one use of the oldest fault of `kind` on the pipeline's target; the fault as it was before, or undefined. */
  take(kind: RollbackFaultKind, pipeline: string, targetId: string): RollbackFault | undefined {
    const at = this.faults.findIndex((f) => f.kind === kind && f.pipeline === pipeline && f.targetId === targetId);
    if (at < 0) return undefined;
    const fault = this.faults[at]!;
    const taken = { ...fault };
    fault.remaining -= 1;
    if (fault.remaining === 0) this.faults.splice(at, 1);
    return taken;
  }

  list(): RollbackFault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** Removes the faults that match; returns them. */
  clear(filter: RollbackFaultFilter = {}): RollbackFault[] {
    const matches = (f: RollbackFault) =>
      (filter.id === undefined || f.id === filter.id) &&
      (filter.pipeline === undefined || f.pipeline === filter.pipeline) &&
      (filter.targetId === undefined || f.targetId === filter.targetId);
    const cleared = this.faults.filter(matches);
    for (let i = this.faults.length - 1; i >= 0; i--) if (matches(this.faults[i]!)) this.faults.splice(i, 1);
    return cleared.map((f) => ({ ...f }));
  }
}
