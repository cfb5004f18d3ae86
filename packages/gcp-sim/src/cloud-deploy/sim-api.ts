import type { DeployMethod, DeployRpcs, DeploySeed, Release, Rollout, RolloutState } from './resources.js';
import type { DeployEvent, RolloutFailurePlan } from './state-types.js';
import type { ApiErrorCode } from '../errors.js';
import type { RollbackFault, RollbackFaultFilter, RollbackFaultSpec } from './rollback-faults.js';

/** What the simulator logs through (a library never writes to stdout itself). */
export interface SimLogger {
  info(message: string, meta?: object): void;
  warn(message: string, meta?: object): void;
}

export const silentLogger: SimLogger = { info: () => {}, warn: () => {} };

/** One RPC as the simulator received and answered it. */
export type DeployCall<M extends DeployMethod = DeployMethod> = {
  [K in M]: {
    method: K;
    /** The request as proto-loader decoded it (every field present, with defaults). */
    request: DeployRpcs[K]['request'];
    at: Date;
    /** gRPC status code of the answer (0 = OK). */
    code: number;
    status: 'OK' | ApiErrorCode;
    message: string | null;
  };
}[M];

/** Called on every rollout state change, including creation (`previousState` null). Seeded rollouts are not announced. */
export type RolloutListener = (rollout: Rollout, previousState: RolloutState | null) => void;

/** Called on every change in the world (releases, rollouts, approvals, phase advances). */
export type DeployEventListener = (event: DeployEvent) => void;

/** Where the simulator's changes go besides listeners: Cloud Deploy's Pub/Sub notifications (see notifications.ts). */
export interface DeployNotifier {
  notify(event: DeployEvent): void;
  /** Resolves once every notification so far was published (or given up on). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface FailNextCallsOptions {
  /** Apply the call, then answer the error anyway: the "it worked but the reply was lost" case. Default false. */
  afterApplying?: boolean;
  message?: string;
  /** Only calls whose request matches count (e.g. RollbackTarget without validate_only); others pass untouched. */
  when?: (request: Record<string, unknown>) => boolean;
}

/** A fault for the next `count` calls of one RPC: a delay, an error, or both. */
export interface RpcFault {
  /** gRPC error to answer (a code name or its number); none = answer normally (after `latencyMs`). */
  code?: ApiErrorCode | number;
  /** Wait this long before answering (applied by the gRPC layer). Default 0. */
  latencyMs?: number;
  /** Default 1. */
  count?: number;
  /** Apply the call, then answer the error anyway. Default false. */
  afterApplying?: boolean;
  message?: string;
  /** Only calls whose request matches count; others pass untouched. Default: every call. */
  when?: (request: Record<string, unknown>) => boolean;
}

/** One fault, ready to apply to one call. */
export interface PendingFault {
  code: ApiErrorCode | null;
  latencyMs: number;
  afterApplying: boolean;
  message: string;
  when?: (request: Record<string, unknown>) => boolean;
}

/** How long each thing takes in the simulated world. */
export interface DeployTimings {
  /** A PENDING rollout starts (IN_PROGRESS) this long after its target is free. */
  startMs: number;
  /** Each deploy job. */
  deployMs: number;
  /** Each verify job. */
  verifyMs: number;
  /** A release renders (CreateRelease's operation is done when it has). */
  renderMs: number;
  /** CANCELLING → CANCELLED. */
  cancelMs: number;
  /** CreateRollout's operation answers done:false until this long after the call. */
  operationMs: number;
  /** Start each next canary phase without AdvanceRollout. Cloud Deploy waits for AdvanceRollout; default false. */
  autoAdvance: boolean;
}

/** Every duration `stepMs`, operations done at once, no auto-advance. */
export function uniformTimings(stepMs: number, overrides: Partial<DeployTimings> = {}): DeployTimings {
  const timings: DeployTimings = {
    startMs: stepMs,
    deployMs: stepMs,
    verifyMs: stepMs,
    renderMs: stepMs,
    cancelMs: stepMs,
    operationMs: 0,
    autoAdvance: false,
    ...overrides,
  };
  for (const [key, value] of Object.entries(timings)) {
    if (typeof value === 'number' && (!Number.isFinite(value) || value < 0)) throw new Error(`timings.${key} must be >= 0, got ${value}`);
  }
  return timings;
}

/** The Cloud Deploy part of the simulator, as tests drive and inspect it. */
export interface DeploySim {
  /** Every RPC received since start or the last reset, oldest first (the same array throughout). */
  readonly calls: readonly DeployCall[];
  /** The calls of one method, typed. */
  callsTo<M extends DeployMethod>(method: M): DeployCall<M>[];
  getRollout(name: string): Rollout | undefined;
  getRelease(name: string): Release | undefined;
  /** Every rollout, newest first. */
  listRollouts(): Rollout[];
  /** Rollouts on a target (id or full name), newest first. */
  rolloutsOnTarget(target: string): Rollout[];
  /** Resolves with the rollout once it is in one of `states` (default: any terminal state); rejects after `timeoutMs`. */
  waitForRollout(name: string, states?: readonly RolloutState[], timeoutMs?: number): Promise<Rollout>;
  /** The next `count` rollback rollouts on `target` (id or full name) fail in their first deploy job with `reason` (EXECUTION_FAILED). */
  failNextRollbacks(target: string, reason: string, count?: number): void;
  /** The next `count` rollouts created on `target` (CreateRollout or RollbackTarget) fail as `plan` says. */
  failNextRollouts(target: string, plan?: RolloutFailurePlan, count?: number): void;
  /** The rollout of this full name (existing, or created later) fails as `plan` says. */
  failRollout(name: string, plan?: RolloutFailurePlan): void;
  /**
   * The next `count` rollbacks on one pipeline's target fail: their rollout ends
   * FAILED (`kind: 'rollout'`), or RollbackTarget answers an error (`'refused'`;
   * every call counts, validate_only ones too, since Cloud Deploy's check would
   * refuse as well). Throws NOT_FOUND for an unknown pipeline, INVALID_ARGUMENT
   * for a target that is not one of its stages. What gcp-sim's control endpoint sets.
   */
  addRollbackFault(spec: RollbackFaultSpec): RollbackFault;
  /**
   * Rollouts whose full name `hold` matches (existing, or created later) take no
   * step until released: they wait where they are (PENDING when not yet
   * started). How a replay keeps a rollout from finishing before the recording
   * says it did. A later call replaces the predicate.
   */
  holdRollouts(hold: (rolloutName: string) => boolean): void;
  /** A held rollout goes on from where it waits. */
  releaseRollout(name: string): void;
  /** The rollback faults still pending, oldest first. */
  rollbackFaults(): RollbackFault[];
  /** Removes the pending rollback faults that match (all without a filter); returns them. */
  clearRollbackFaults(filter?: RollbackFaultFilter): RollbackFault[];
  /** The next `count` renders of releases in `pipeline` (id or full name) fail: render_state FAILED. */
  failNextRenders(pipeline: string, message: string, count?: number): void;
  /** The next `count` calls of `method` answer this gRPC error (a code name, or its number) without being applied unless told. */
  failNextCalls(method: DeployMethod, code: ApiErrorCode | number, count?: number, options?: FailNextCallsOptions): void;
  /** The next `count` calls of `method` answer `latencyMs` late. */
  delayNextCalls(method: DeployMethod, latencyMs: number, count?: number): void;
  /** The general form of failNextCalls / delayNextCalls. */
  injectFault(method: DeployMethod, fault: RpcFault): void;
  readonly timings: Readonly<DeployTimings>;
  /**
   * Changes timings from now on. A step already scheduled keeps its delay, unless
   * `reschedule`: then every pending step is scheduled again with the new timings,
   * counted from now (e.g. rollouts held IN_PROGRESS by an hour-long deployMs finish soon).
   */
  setTimings(timings: Partial<DeployTimings>, options?: { reschedule?: boolean }): void;
  /** Subscribes to rollout state changes; returns the unsubscribe. */
  onRolloutChange(listener: RolloutListener): () => void;
  /** Subscribes to every change; returns the unsubscribe. */
  onEvent(listener: DeployEventListener): () => void;
  /** Resolves once every Pub/Sub notification so far was published. */
  flushNotifications(): Promise<void>;
  /** Back to the seed: state, calls, operations, injected failures and pending timers; listeners and timings stay. */
  reset(): void;
}

export interface DeploySimulationOptions {
  seed: DeploySeed;
  timings: DeployTimings;
  logger: SimLogger;
  clock?: () => Date;
  notifier?: DeployNotifier;
}
