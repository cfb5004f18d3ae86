import { createHash } from 'node:crypto';
import {
  DeployMethods,
  type DeployMethod,
  type DeployRpcs,
  type DeploySeed,
  type Operation,
  type OperationMetadata,
  type Release,
  type Rollout,
  type RolloutState,
  type Timestamp,
} from './resources.js';
import { DeployState, laneOf, type DeployEvent, type LaneWork, type RolloutFailurePlan } from './state.js';
import { ApiErrorCodes, DeployApiError, apiErrorCodeOf, invalidArgument, notFound, type ApiErrorCode } from '../errors.js';
import { idOf, parsePipelineName, parseReleaseName, pipelineOf, timestampOf } from './resource-names.js';
import { packAny } from './protos.js';
import { RollbackFaults, type RollbackFault, type RollbackFaultFilter, type RollbackFaultSpec } from './rollback-faults.js';

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

interface OperationRecord {
  name: string;
  /** The resource the operation creates. */
  target: string;
  kind: 'release' | 'rollout';
  createTime: Timestamp;
  /** When a rollout operation is done (ms since the epoch); release operations are done when the render ends. */
  doneAt: number | null;
  done: Operation | null;
}

const ANY_METADATA = 'google.cloud.deploy.v1.OperationMetadata';

/**
 * DeployState plus time and test controls: answers the simulated RPCs
 * (`invoke`), records them, injects failures, keeps the long-running
 * operations, and moves releases and rollouts along on timers (`DeployTimings`).
 */
export class DeploySimulation implements DeploySim {
  private state: DeployState;
  /** Untyped inside; `calls`/`callsTo` present it as DeployCall (method and request always match). */
  private readonly callLog: Array<{
    method: DeployMethod;
    request: unknown;
    at: Date;
    code: number;
    status: 'OK' | ApiErrorCode;
    message: string | null;
  }> = [];
  private readonly rolloutListeners = new Set<RolloutListener>();
  private readonly eventListeners = new Set<DeployEventListener>();
  private readonly laneTimers = new Map<string, NodeJS.Timeout>();
  private readonly renderTimers = new Map<string, NodeJS.Timeout>();
  private readonly rollbackFailures = new Map<string, string[]>();
  private readonly rolloutFailures = new Map<string, RolloutFailurePlan[]>();
  private readonly renderFailures = new Map<string, string[]>();
  private readonly callFaults = new Map<DeployMethod, PendingFault[]>();
  private readonly rollbackFaultQueue: RollbackFaults;
  /** Rollouts that must fail, and how. */
  private readonly plannedFailures = new Map<string, RolloutFailurePlan>();
  private readonly operations = new Map<string, OperationRecord>();
  private currentTimings: DeployTimings;
  private stopped = false;
  private hold: ((rolloutName: string) => boolean) | null = null;
  private readonly released = new Set<string>();
  private readonly clock: () => Date;

  constructor(private readonly options: DeploySimulationOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.rollbackFaultQueue = new RollbackFaults(this.clock);
    this.currentTimings = { ...options.timings };
    this.state = this.freshState();
    this.pumpAll();
  }

  get calls(): readonly DeployCall[] {
    return this.callLog as DeployCall[];
  }

  get timings(): Readonly<DeployTimings> {
    return { ...this.currentTimings };
  }

  callsTo<M extends DeployMethod>(method: M): DeployCall<M>[] {
    return this.callLog.filter((call) => call.method === method) as DeployCall<M>[];
  }

  getRollout(name: string): Rollout | undefined {
    return this.state.findRollout(name);
  }

  getRelease(name: string): Release | undefined {
    return this.state.findRelease(name);
  }

  listRollouts(): Rollout[] {
    return this.state.allRollouts();
  }

  rolloutsOnTarget(target: string): Rollout[] {
    return this.state.rolloutsOnTarget(idOf(target));
  }

  waitForRollout(
    name: string,
    states: readonly RolloutState[] = ['SUCCEEDED', 'FAILED', 'APPROVAL_REJECTED', 'CANCELLED', 'HALTED'],
    timeoutMs = 10_000,
  ): Promise<Rollout> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const rollout = this.state.findRollout(name);
        if (!rollout || !states.includes(rollout.state)) return false;
        finish();
        resolve(rollout);
        return true;
      };
      const unsubscribe = this.onEvent(() => void check());
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(
            `rollout ${name} is ${this.state.findRollout(name)?.state ?? 'missing'}, not ${states.join('/')}, after ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      timer.unref();
      const finish = (): void => {
        clearTimeout(timer);
        unsubscribe();
      };
      check();
    });
  }

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

  holdRollouts(hold: (rolloutName: string) => boolean): void {
    this.hold = hold;
  }

  releaseRollout(name: string): void {
    this.released.add(name);
    this.pumpAll();
  }

  addRollbackFault(spec: RollbackFaultSpec): RollbackFault {
    const pipeline = this.state.getDeliveryPipeline({ name: spec.pipeline });
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

  setTimings(timings: Partial<DeployTimings>, options: { reschedule?: boolean } = {}): void {
    this.currentTimings = uniformTimings(0, { ...this.currentTimings, ...timings });
    if (options.reschedule) for (const lane of [...this.laneTimers.keys()]) this.clearLane(lane);
    this.pumpAll();
  }

  onRolloutChange(listener: RolloutListener): () => void {
    this.rolloutListeners.add(listener);
    return () => this.rolloutListeners.delete(listener);
  }

  onEvent(listener: DeployEventListener): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  flushNotifications(): Promise<void> {
    return this.options.notifier?.flush() ?? Promise.resolve();
  }

  reset(): void {
    this.clearTimers();
    this.callLog.length = 0;
    this.rollbackFailures.clear();
    this.rolloutFailures.clear();
    this.renderFailures.clear();
    this.callFaults.clear();
    this.plannedFailures.clear();
    this.rollbackFaultQueue.clear();
    this.operations.clear();
    this.hold = null;
    this.released.clear();
    this.state = this.freshState();
    this.pumpAll();
  }

  /** Stops moving releases and rollouts; the state stays readable. */
  stop(): void {
    this.stopped = true;
    this.clearTimers();
  }

  /**
   * Answers one RPC: records it, applies `fault` (by default the next injected
   * one; its latency is the caller's business), then runs it. Throws DeployApiError.
   */
  invoke<M extends DeployMethod>(
    method: M,
    request: DeployRpcs[M]['request'],
    fault: PendingFault | undefined = this.takeFault(method, request),
  ): DeployRpcs[M]['response'] {
    const call: (typeof this.callLog)[number] = {
      method,
      request: structuredClone(request),
      at: new Date(),
      code: 0,
      status: 'OK',
      message: null,
    };
    this.callLog.push(call);
    const injected = fault?.code ? new DeployApiError(fault.code, fault.message) : undefined;
    try {
      if (injected && !fault?.afterApplying) throw injected;
      const response = this.dispatch(method, request);
      if (injected) throw injected;
      return response;
    } catch (err) {
      if (err instanceof DeployApiError) {
        call.code = ApiErrorCodes[err.code];
        call.status = err.code;
        call.message = err.message;
      } else {
        call.code = ApiErrorCodes.INTERNAL;
        call.status = 'INTERNAL';
        call.message = String(err);
      }
      throw err;
    } finally {
      this.pumpAll();
    }
  }

  private dispatch<M extends DeployMethod>(method: M, request: DeployRpcs[M]['request']): DeployRpcs[M]['response'] {
    type Rq<K extends DeployMethod> = DeployRpcs[K]['request'];
    const m: DeployMethod = method;
    switch (m) {
      case DeployMethods.ListDeliveryPipelines:
        return this.state.listDeliveryPipelines(request as Rq<'ListDeliveryPipelines'>);
      case DeployMethods.GetDeliveryPipeline:
        return this.state.getDeliveryPipeline(request as Rq<'GetDeliveryPipeline'>);
      case DeployMethods.ListTargets:
        return this.state.listTargets(request as Rq<'ListTargets'>);
      case DeployMethods.GetTarget:
        return this.state.getTarget(request as Rq<'GetTarget'>);
      case DeployMethods.ListReleases:
        return this.state.listReleases(request as Rq<'ListReleases'>);
      case DeployMethods.GetRelease:
        return this.state.getRelease(request as Rq<'GetRelease'>);
      case DeployMethods.CreateRelease:
        return this.createRelease(request as Rq<'CreateRelease'>);
      case DeployMethods.AbandonRelease:
        this.state.abandonRelease(request as Rq<'AbandonRelease'>);
        return {};
      case DeployMethods.ListRollouts:
        return this.state.listRollouts(request as Rq<'ListRollouts'>);
      case DeployMethods.GetRollout:
        return this.state.getRollout(request as Rq<'GetRollout'>);
      case DeployMethods.CreateRollout:
        return this.createRollout(request as Rq<'CreateRollout'>);
      case DeployMethods.ApproveRollout:
        this.state.approveRollout(request as Rq<'ApproveRollout'>);
        return {};
      case DeployMethods.AdvanceRollout:
        this.state.advanceRollout(request as Rq<'AdvanceRollout'>);
        return {};
      case DeployMethods.CancelRollout: {
        const { rollout } = this.state.cancelRollout(request as Rq<'CancelRollout'>);
        // The step that was due on its lane no longer applies: cancelling takes cancelMs from now.
        this.clearLane(laneOf(rollout));
        return {};
      }
      case DeployMethods.RollbackTarget: {
        const rollback = request as Rq<'RollbackTarget'>;
        const refusal = this.rollbackFaultQueue.take('refused', rollback.name, rollback.targetId ?? '');
        if (refusal) {
          this.options.logger.info('rollback refused (rollback fault)', {
            fault: refusal.id,
            pipeline: rollback.name,
            target: rollback.targetId,
          });
          throw new DeployApiError(refusal.code ?? 'FAILED_PRECONDITION', refusal.reason);
        }
        return this.state.rollbackTarget(rollback).response;
      }
      case DeployMethods.GetOperation:
        return this.getOperation(request as Rq<'GetOperation'>);
      default: {
        const never: never = m;
        throw new DeployApiError('UNIMPLEMENTED', `method ${String(never)} is not simulated`);
      }
    }
  }

  // ---- long-running operations ----

  private createRelease(request: DeployRpcs['CreateRelease']['request']): Operation {
    const release = this.state.createRelease(request);
    const record = this.newOperation(request.parent, release.name, 'release');
    if (request.validateOnly) this.completeOperation(record, { typeName: 'google.cloud.deploy.v1.Release', value: release });
    return this.operationView(record, true);
  }

  private createRollout(request: DeployRpcs['CreateRollout']['request']): Operation {
    const rollout = this.state.createRollout(request);
    const record = this.newOperation(request.parent, rollout.name, 'rollout');
    if (request.validateOnly) this.completeOperation(record, { typeName: 'google.cloud.deploy.v1.Rollout', value: rollout });
    else record.doneAt = this.clock().getTime() + this.currentTimings.operationMs;
    return this.operationView(record, true);
  }

  private getOperation({ name }: DeployRpcs['GetOperation']['request']): Operation {
    const record = this.operations.get(name);
    if (!record) throw notFound(`Operation "${name}" not found`);
    if (!record.done && record.kind === 'rollout' && record.doneAt !== null && record.doneAt <= this.clock().getTime()) {
      const rollout = this.state.findRollout(record.target);
      this.completeOperation(
        record,
        rollout ? { typeName: 'google.cloud.deploy.v1.Rollout', value: rollout } : { error: `rollout ${record.target} is gone` },
      );
    }
    return this.operationView(record, false);
  }

  private newOperation(parent: string, target: string, kind: OperationRecord['kind']): OperationRecord {
    const ref = kind === 'release' ? parsePipelineName(parent, 'parent') : parseReleaseName(parent, 'parent');
    const now = this.clock();
    const id = `operation-${now.getTime()}-${createHash('sha256').update(`${target}\u0000${this.operations.size}`).digest('hex').slice(0, 24)}`;
    const record: OperationRecord = {
      name: `projects/${ref.project}/locations/${ref.location}/operations/${id}`,
      target,
      kind,
      createTime: timestampOf(now),
      doneAt: null,
      done: null,
    };
    this.operations.set(record.name, record);
    return record;
  }

  private completeOperation(record: OperationRecord, outcome: { typeName: string; value: object } | { error: string }): void {
    const base = this.operationView(record, false);
    const endTime = timestampOf(this.clock());
    record.done = {
      ...base,
      done: true,
      metadata: packAny(ANY_METADATA, this.metadataOf(record, endTime)),
      ...('error' in outcome
        ? { error: { code: ApiErrorCodes.INTERNAL, message: outcome.error, details: [] } }
        : { response: packAny(outcome.typeName, outcome.value) }),
    };
  }

  /**
   * The operation as the client sees it. The answer to the call that starts it
   * is never done, so the client always polls GetOperation (Cloud Deploy's
   * creates are asynchronous); what is done stays done.
   */
  private operationView(record: OperationRecord, starting: boolean): Operation {
    if (record.done && !starting) return record.done;
    return { name: record.name, done: false, metadata: packAny(ANY_METADATA, this.metadataOf(record)) };
  }

  private metadataOf(record: OperationRecord, endTime?: Timestamp): OperationMetadata {
    return {
      createTime: record.createTime,
      ...(endTime ? { endTime } : {}),
      target: record.target,
      verb: 'create',
      statusMessage: '',
      requestedCancellation: false,
      apiVersion: 'v1',
    };
  }

  // ---- events ----

  private freshState(): DeployState {
    return new DeployState(this.options.seed, this.clock, (event) => this.onStateEvent(event));
  }

  private onStateEvent(event: DeployEvent): void {
    if (event.type === 'rollout-created') this.planFailure(event.rollout);
    if (event.type === 'release-rendered') {
      for (const record of this.operations.values()) {
        if (record.kind === 'release' && record.target === event.release.name && !record.done) {
          this.completeOperation(record, { typeName: 'google.cloud.deploy.v1.Release', value: event.release });
        }
      }
    }
    this.log(event);
    const rolloutChange =
      event.type === 'rollout-created'
        ? { rollout: event.rollout, previousState: null }
        : event.type === 'rollout-state'
          ? { rollout: event.rollout, previousState: event.previousState }
          : undefined;
    if (rolloutChange) {
      for (const listener of this.rolloutListeners)
        this.safely(() => listener(structuredClone(rolloutChange.rollout), rolloutChange.previousState));
    }
    for (const listener of this.eventListeners) this.safely(() => listener(structuredClone(event)));
    this.safely(() => this.options.notifier?.notify(structuredClone(event)));
  }

  private planFailure(rollout: Rollout): void {
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

  private log(event: DeployEvent): void {
    const logger = this.options.logger;
    switch (event.type) {
      case 'rollout-state':
        logger.info('rollout state changed', { rollout: event.rollout.name, from: event.previousState, to: event.rollout.state });
        break;
      case 'rollout-created':
        logger.info('rollout created', {
          rollout: event.rollout.name,
          target: event.rollout.targetId,
          state: event.rollout.state,
          rollbackOfRollout: event.rollout.rollbackOfRollout || undefined,
          willFail: this.plannedFailures.has(event.rollout.name),
        });
        break;
      case 'release-created':
      case 'release-rendered':
      case 'release-abandoned':
        logger.info(event.type.replace('-', ' '), { release: event.release.name, renderState: event.release.renderState });
        break;
      case 'approval':
        logger.info(`approval ${event.action.toLowerCase()}`, { rollout: event.rollout.name });
        break;
      case 'advance':
        logger.info(`advance ${event.action.toLowerCase()}`, { rollout: event.rollout.name, phase: event.phaseId });
        break;
      case 'job-run':
        logger.info(`job run ${event.action.toLowerCase()}`, { rollout: event.rollout.name, phase: event.phaseId, job: event.jobId });
        break;
      default: {
        const never: never = event;
        throw new Error(`unknown event ${JSON.stringify(never)}`);
      }
    }
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // A broken listener must not stop the world from moving.
      this.options.logger.warn('a gcp-sim listener threw', { error: String(err) });
    }
  }

  // ---- time ----

  /** Schedules the next step of every lane and render that has one. */
  private pumpAll(): void {
    if (this.stopped) return;
    for (const lane of this.state.activeLanes()) this.pumpLane(lane);
    for (const release of this.state.rendering()) this.pumpRender(release);
  }

  private pumpLane(lane: string): void {
    if (this.laneTimers.has(lane)) return;
    const work = this.state.nextWork(lane, this.currentTimings.autoAdvance);
    if (!work) return;
    if (this.hold?.(work.rollout) && !this.released.has(work.rollout)) return;
    this.laneTimers.set(
      lane,
      this.timer(this.delayOf(work), () => {
        this.laneTimers.delete(lane);
        // What is due now, which a call since scheduling (approve, advance) may have changed.
        const due = this.state.nextWork(lane, this.currentTimings.autoAdvance);
        if (due) this.apply(due);
      }),
    );
  }

  private pumpRender(release: string): void {
    if (this.renderTimers.has(release)) return;
    this.renderTimers.set(
      release,
      this.timer(this.currentTimings.renderMs, () => {
        this.renderTimers.delete(release);
        const failure = this.renderFailures.get(idOf(release.slice(0, release.indexOf('/releases/'))))?.shift();
        this.state.finishRender(release, failure);
      }),
    );
  }

  private delayOf(work: LaneWork): number {
    const t = this.currentTimings;
    switch (work.kind) {
      case 'start':
      case 'advance':
        return t.startMs;
      case 'job':
        return work.jobId === 'verify' ? t.verifyMs : t.deployMs;
      case 'cancel':
        return t.cancelMs;
      default: {
        const never: never = work;
        throw new Error(`unknown work ${JSON.stringify(never)}`);
      }
    }
  }

  private apply(work: LaneWork): void {
    switch (work.kind) {
      case 'start':
        this.state.startRollout(work.rollout);
        return;
      case 'advance':
        this.state.advanceRollout({ name: work.rollout, phaseId: work.phaseId });
        return;
      case 'job': {
        const { failed } = this.state.stepRollout(work.rollout, this.plannedFailures.get(work.rollout));
        if (failed) this.plannedFailures.delete(work.rollout);
        return;
      }
      case 'cancel':
        this.state.finishCancel(work.rollout);
        return;
      default: {
        const never: never = work;
        throw new Error(`unknown work ${JSON.stringify(never)}`);
      }
    }
  }

  private timer(ms: number, step: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      try {
        step();
      } catch (err) {
        this.options.logger.warn('a gcp-sim step failed', { error: String(err) });
      }
      this.pumpAll();
    }, ms);
    // A simulator must never keep a test process (or the CLI) alive on its own.
    timer.unref();
    return timer;
  }

  private clearLane(lane: string): void {
    const timer = this.laneTimers.get(lane);
    if (timer) clearTimeout(timer);
    this.laneTimers.delete(lane);
  }

  private clearTimers(): void {
    for (const timer of [...this.laneTimers.values(), ...this.renderTimers.values()]) clearTimeout(timer);
    this.laneTimers.clear();
    this.renderTimers.clear();
  }
}
