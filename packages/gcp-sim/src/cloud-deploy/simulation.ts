import { DeployMethods, type DeployMethod, type DeployRpcs, type DeploySeed, type Rollout, type RolloutState } from './resources.js';
import { DeployState, type RolloutTransition } from './state.js';
import { ApiErrorCodes, DeployApiError, apiErrorCodeOf, type ApiErrorCode } from '../errors.js';
import { idOf, parseRolloutName, targetName } from './resource-names.js';

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

export interface FailNextCallsOptions {
  /** Apply the call, then answer the error anyway: the "it worked but the reply was lost" case. Default false. */
  afterApplying?: boolean;
  message?: string;
}

/** The Cloud Deploy part of the simulator, as tests drive and inspect it. */
export interface DeploySim {
  /** Every RPC received since start or the last reset, oldest first (the same array throughout). */
  readonly calls: readonly DeployCall[];
  /** The calls of one method, typed. */
  callsTo<M extends DeployMethod>(method: M): DeployCall<M>[];
  getRollout(name: string): Rollout | undefined;
  /** Every rollout, newest first. */
  listRollouts(): Rollout[];
  /** Rollouts on a target (id or full name), newest first. */
  rolloutsOnTarget(target: string): Rollout[];
  /** The next `count` rollback rollouts on `target` (id or full name) end FAILED with `reason` (deploy_failure_cause EXECUTION_FAILED). */
  failNextRollbacks(target: string, reason: string, count?: number): void;
  /** The next `count` calls of `method` answer this gRPC error (a code name, or its number) without being applied unless told. */
  failNextCalls(method: DeployMethod, code: ApiErrorCode | number, count?: number, options?: FailNextCallsOptions): void;
  /** Subscribes to rollout state changes; returns the unsubscribe. */
  onRolloutChange(listener: RolloutListener): () => void;
  /** Back to the seed: state, calls, injected failures and pending timers; listeners stay. */
  reset(): void;
}

export interface DeploySimulationOptions {
  seed: DeploySeed;
  rolloutStepMs: number;
  logger: SimLogger;
  clock?: () => Date;
}

interface InjectedCallFailure {
  code: ApiErrorCode;
  afterApplying: boolean;
  message: string;
}

/**
 * DeployState plus time and test controls: answers the simulated RPCs
 * (`invoke`), records them, injects failures, and moves rollouts
 * PENDING → IN_PROGRESS → SUCCEEDED/FAILED one `rolloutStepMs` per step.
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
  private readonly listeners = new Set<RolloutListener>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly rollbackFailures = new Map<string, string[]>();
  private readonly callFailures = new Map<DeployMethod, InjectedCallFailure[]>();
  /** Rollouts that must end FAILED, with the reason. */
  private readonly plannedFailures = new Map<string, string>();
  private stopped = false;

  constructor(private readonly options: DeploySimulationOptions) {
    this.state = new DeployState(options.seed, options.clock);
    this.resumeSeededRollouts();
  }

  get calls(): readonly DeployCall[] {
    return this.callLog as DeployCall[];
  }

  callsTo<M extends DeployMethod>(method: M): DeployCall<M>[] {
    return this.callLog.filter((call) => call.method === method) as DeployCall<M>[];
  }

  getRollout(name: string): Rollout | undefined {
    return this.state.findRollout(name);
  }

  listRollouts(): Rollout[] {
    return this.state.allRollouts();
  }

  rolloutsOnTarget(target: string): Rollout[] {
    return this.state.rolloutsOnTarget(idOf(target));
  }

  failNextRollbacks(target: string, reason: string, count = 1): void {
    const queue = this.rollbackFailures.get(idOf(target)) ?? [];
    for (let i = 0; i < count; i++) queue.push(reason);
    this.rollbackFailures.set(idOf(target), queue);
  }

  failNextCalls(method: DeployMethod, code: ApiErrorCode | number, count = 1, options: FailNextCallsOptions = {}): void {
    const name = typeof code === 'number' ? apiErrorCodeOf(code) : code;
    if (name === undefined || !(name in ApiErrorCodes)) throw new Error(`failNextCalls: ${String(code)} is not a gRPC error code`);
    const queue = this.callFailures.get(method) ?? [];
    for (let i = 0; i < count; i++) {
      queue.push({
        code: name,
        afterApplying: options.afterApplying ?? false,
        message: options.message ?? `injected ${name} (gcp-sim)`,
      });
    }
    this.callFailures.set(method, queue);
  }

  onRolloutChange(listener: RolloutListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  reset(): void {
    this.clearTimers();
    this.state = new DeployState(this.options.seed, this.options.clock);
    this.callLog.length = 0;
    this.rollbackFailures.clear();
    this.callFailures.clear();
    this.plannedFailures.clear();
    this.resumeSeededRollouts();
  }

  /** Stops moving rollouts; the state stays readable. */
  stop(): void {
    this.stopped = true;
    this.clearTimers();
  }

  /** Answers one RPC: records it, applies any injected failure, then runs it. Throws DeployApiError. */
  invoke<M extends DeployMethod>(method: M, request: DeployRpcs[M]['request']): DeployRpcs[M]['response'] {
    const call: (typeof this.callLog)[number] = {
      method,
      request: structuredClone(request),
      at: new Date(),
      code: 0,
      status: 'OK',
      message: null,
    };
    this.callLog.push(call);
    const injected = this.callFailures.get(method)?.shift();
    try {
      if (injected && !injected.afterApplying) throw new DeployApiError(injected.code, injected.message);
      const response = this.dispatch(method, request);
      if (injected) throw new DeployApiError(injected.code, injected.message);
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
    }
  }

  private dispatch<M extends DeployMethod>(method: M, request: DeployRpcs[M]['request']): DeployRpcs[M]['response'] {
    const m: DeployMethod = method;
    switch (m) {
      case DeployMethods.ListDeliveryPipelines:
        return this.state.listDeliveryPipelines(request as DeployRpcs['ListDeliveryPipelines']['request']);
      case DeployMethods.GetDeliveryPipeline:
        return this.state.getDeliveryPipeline(request as DeployRpcs['GetDeliveryPipeline']['request']);
      case DeployMethods.ListTargets:
        return this.state.listTargets(request as DeployRpcs['ListTargets']['request']);
      case DeployMethods.GetTarget:
        return this.state.getTarget(request as DeployRpcs['GetTarget']['request']);
      case DeployMethods.ListReleases:
        return this.state.listReleases(request as DeployRpcs['ListReleases']['request']);
      case DeployMethods.GetRelease:
        return this.state.getRelease(request as DeployRpcs['GetRelease']['request']);
      case DeployMethods.ListRollouts:
        return this.state.listRollouts(request as DeployRpcs['ListRollouts']['request']);
      case DeployMethods.GetRollout:
        return this.state.getRollout(request as DeployRpcs['GetRollout']['request']);
      case DeployMethods.RollbackTarget: {
        const result = this.state.rollbackTarget(request as DeployRpcs['RollbackTarget']['request']);
        if (result.created) this.onRollbackCreated(result.created);
        return result.response;
      }
      case DeployMethods.ApproveRollout: {
        const transition = this.state.approveRollout(request as DeployRpcs['ApproveRollout']['request']);
        this.announce(transition);
        this.pump(targetOf(transition.rollout));
        return {};
      }
      default: {
        const never: never = m;
        throw new DeployApiError('UNIMPLEMENTED', `method ${String(never)} is not simulated`);
      }
    }
  }

  private onRollbackCreated(rollout: Rollout): void {
    const reason = this.rollbackFailures.get(rollout.targetId)?.shift();
    if (reason !== undefined) this.plannedFailures.set(rollout.name, reason);
    this.options.logger.info('rollback rollout created', {
      rollout: rollout.name,
      target: rollout.targetId,
      rollbackOfRollout: rollout.rollbackOfRollout,
      willFail: reason !== undefined,
    });
    this.announce({ rollout, previousState: null });
    this.pump(targetOf(rollout));
  }

  // ---- rollout progress ----

  private resumeSeededRollouts(): void {
    for (const target of this.state.busyTargets()) this.pump(target);
  }

  /** Schedules the next step on a target: finish the running rollout, or start the oldest pending one. */
  private pump(fullTargetName: string): void {
    if (this.stopped) return;
    const { running, next } = this.state.queueOnTarget(fullTargetName);
    if (running) {
      this.schedule(running.name, () => this.finish(running.name, fullTargetName));
    } else if (next) {
      this.schedule(next.name, () => this.start(next.name, fullTargetName));
    }
  }

  private start(name: string, fullTargetName: string): void {
    this.announce(this.state.startRollout(name));
    this.pump(fullTargetName);
  }

  private finish(name: string, fullTargetName: string): void {
    const reason = this.plannedFailures.get(name);
    this.plannedFailures.delete(name);
    this.announce(this.state.finishRollout(name, reason));
    this.pump(fullTargetName);
  }

  private schedule(rolloutName: string, step: () => void): void {
    if (this.timers.has(rolloutName)) return;
    const timer = setTimeout(() => {
      this.timers.delete(rolloutName);
      try {
        step();
      } catch (err) {
        this.options.logger.warn('rollout step failed', { rollout: rolloutName, error: String(err) });
      }
    }, this.options.rolloutStepMs);
    // A simulator must never keep a test process (or the CLI) alive on its own.
    timer.unref();
    this.timers.set(rolloutName, timer);
  }

  private clearTimers(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private announce({ rollout, previousState }: RolloutTransition): void {
    if (previousState !== null) {
      this.options.logger.info('rollout state changed', {
        rollout: rollout.name,
        from: previousState,
        to: rollout.state,
      });
    }
    for (const listener of this.listeners) {
      try {
        listener(structuredClone(rollout), previousState);
      } catch (err) {
        // A broken listener must not stop rollouts from progressing.
        this.options.logger.warn('rollout listener threw', { rollout: rollout.name, error: String(err) });
      }
    }
  }
}

/** Full name of a rollout's target: target ids are per project and location, and shared by pipelines. */
const targetOf = (rollout: Rollout): string => targetName({ ...parseRolloutName(rollout.name), target: rollout.targetId });
