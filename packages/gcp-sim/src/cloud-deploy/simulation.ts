import {
  DeployMethods,
  type DeployMethod,
  type DeployRpcs,
  type Operation,
  type Release,
  type Rollout,
  type RolloutState,
} from './resources.js';
import { DeployState, laneOf, type DeployEvent, type RolloutFailurePlan } from './state.js';
import { ApiErrorCodes, DeployApiError, type ApiErrorCode } from '../errors.js';
import { idOf } from './resource-names.js';
import type { RollbackFault, RollbackFaultFilter, RollbackFaultSpec } from './rollback-faults.js';
import { DeployOperations } from './operations.js';
import { DeployFaults } from './faults.js';
import { DeployScheduler } from './scheduler.js';
import { logDeployEvent } from './event-log.js';
import type {
  DeployCall,
  DeployEventListener,
  DeploySim,
  DeploySimulationOptions,
  DeployTimings,
  FailNextCallsOptions,
  PendingFault,
  RolloutListener,
  RpcFault,
} from './sim-api.js';

export {
  silentLogger,
  uniformTimings,
  type DeployCall,
  type DeployEventListener,
  type DeployNotifier,
  type DeploySim,
  type DeploySimulationOptions,
  type DeployTimings,
  type FailNextCallsOptions,
  type PendingFault,
  type RolloutListener,
  type RpcFault,
  type SimLogger,
} from './sim-api.js';

/**
 * DeployState plus time and test controls: answers the simulated RPCs
 * (`invoke`), records them, injects failures (`DeployFaults`, faults.ts), keeps
 * the long-running operations (`DeployOperations`, operations.ts), and moves
 * releases and rollouts along on timers (`DeployTimings`).
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
  private readonly faults: DeployFaults;
  private readonly operations: DeployOperations;
  private readonly scheduler: DeployScheduler;
  private readonly clock: () => Date;

  constructor(private readonly options: DeploySimulationOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.faults = new DeployFaults(this.clock);
    this.operations = new DeployOperations(this.clock, (name) => this.state.findRollout(name));
    this.scheduler = new DeployScheduler(options.timings, () => this.state, this.faults, options.logger);
    this.state = this.freshState();
    this.scheduler.pumpAll();
  }

  get calls(): readonly DeployCall[] {
    return this.callLog as DeployCall[];
  }

  get timings(): Readonly<DeployTimings> {
    return this.scheduler.timings;
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
    this.faults.failNextRollbacks(target, reason, count);
  }

  failNextRollouts(target: string, plan: RolloutFailurePlan = {}, count = 1): void {
    this.faults.failNextRollouts(target, plan, count);
  }

  failRollout(name: string, plan: RolloutFailurePlan = {}): void {
    this.faults.failRollout(name, plan);
  }

  holdRollouts(hold: (rolloutName: string) => boolean): void {
    this.scheduler.holdRollouts(hold);
  }

  releaseRollout(name: string): void {
    this.scheduler.releaseRollout(name);
  }

  addRollbackFault(spec: RollbackFaultSpec): RollbackFault {
    return this.faults.addRollbackFault(spec, this.state.getDeliveryPipeline({ name: spec.pipeline }));
  }

  rollbackFaults(): RollbackFault[] {
    return this.faults.rollbackFaults();
  }

  clearRollbackFaults(filter: RollbackFaultFilter = {}): RollbackFault[] {
    return this.faults.clearRollbackFaults(filter);
  }

  failNextRenders(pipeline: string, message: string, count = 1): void {
    this.faults.failNextRenders(pipeline, message, count);
  }

  failNextCalls(method: DeployMethod, code: ApiErrorCode | number, count = 1, options: FailNextCallsOptions = {}): void {
    this.faults.failNextCalls(method, code, count, options);
  }

  delayNextCalls(method: DeployMethod, latencyMs: number, count = 1): void {
    this.faults.delayNextCalls(method, latencyMs, count);
  }

  injectFault(method: DeployMethod, fault: RpcFault): void {
    this.faults.injectFault(method, fault);
  }

  /** The fault this call of `method` gets, taken off its queue (the gRPC layer applies the latency). */
  takeFault(method: DeployMethod, request: unknown = {}): PendingFault | undefined {
    return this.faults.takeFault(method, request);
  }

  setTimings(timings: Partial<DeployTimings>, options: { reschedule?: boolean } = {}): void {
    this.scheduler.setTimings(timings, options);
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
    this.scheduler.reset();
    this.callLog.length = 0;
    this.faults.reset();
    this.operations.clear();
    this.state = this.freshState();
    this.scheduler.pumpAll();
  }

  /** Stops moving releases and rollouts; the state stays readable. */
  stop(): void {
    this.scheduler.stop();
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
      this.scheduler.pumpAll();
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
        this.scheduler.clearLane(laneOf(rollout));
        return {};
      }
      case DeployMethods.RollbackTarget: {
        const rollback = request as Rq<'RollbackTarget'>;
        const refusal = this.faults.takeRefusal(rollback.name, rollback.targetId ?? '');
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
        return this.operations.getOperation(request as Rq<'GetOperation'>);
      default: {
        const never: never = m;
        throw new DeployApiError('UNIMPLEMENTED', `method ${String(never)} is not simulated`);
      }
    }
  }

  // ---- long-running operations ----

  private createRelease(request: DeployRpcs['CreateRelease']['request']): Operation {
    const release = this.state.createRelease(request);
    return this.operations.startRelease(request.parent, release, request.validateOnly);
  }

  private createRollout(request: DeployRpcs['CreateRollout']['request']): Operation {
    const rollout = this.state.createRollout(request);
    return this.operations.startRollout(request.parent, rollout, request.validateOnly, this.scheduler.timings.operationMs);
  }

  // ---- events ----

  private freshState(): DeployState {
    return new DeployState(this.options.seed, this.clock, (event) => this.onStateEvent(event));
  }

  private onStateEvent(event: DeployEvent): void {
    if (event.type === 'rollout-created') this.faults.planFailure(event.rollout);
    if (event.type === 'release-rendered') this.operations.releaseRendered(event.release);
    logDeployEvent(this.options.logger, event, (rollout) => this.faults.plannedFailure(rollout) !== undefined);
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

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // A broken listener must not stop the world from moving.
      this.options.logger.warn('a gcp-sim listener threw', { error: String(err) });
    }
  }
}
