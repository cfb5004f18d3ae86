import type { DeployState, LaneWork } from './state.js';
import type { DeployFaults } from './faults.js';
import { uniformTimings, type DeployTimings, type SimLogger } from './sim-api.js';

/**
 * Time in the simulated world: each lane's next step (start, job, advance,
 * cancel) and each release's render run on a timer, with the current
 * `DeployTimings`; held rollouts (`holdRollouts`) take no step until released.
 * The state is read through `state()` because a reset replaces it.
 */
export class DeployScheduler {
  private readonly laneTimers = new Map<string, NodeJS.Timeout>();
  private readonly renderTimers = new Map<string, NodeJS.Timeout>();
  private currentTimings: DeployTimings;
  private stopped = false;
  private hold: ((rolloutName: string) => boolean) | null = null;
  private readonly released = new Set<string>();

  constructor(
    timings: DeployTimings,
    private readonly state: () => DeployState,
    private readonly faults: DeployFaults,
    private readonly logger: SimLogger,
  ) {
    this.currentTimings = { ...timings };
  }

  get timings(): Readonly<DeployTimings> {
    return { ...this.currentTimings };
  }

  /** Changes timings from now on; with `reschedule`, every pending lane step is scheduled again. */
  setTimings(timings: Partial<DeployTimings>, options: { reschedule?: boolean } = {}): void {
    this.currentTimings = uniformTimings(0, { ...this.currentTimings, ...timings });
    if (options.reschedule) for (const lane of [...this.laneTimers.keys()]) this.clearLane(lane);
    this.pumpAll();
  }

  holdRollouts(hold: (rolloutName: string) => boolean): void {
    this.hold = hold;
  }

  releaseRollout(name: string): void {
    this.released.add(name);
    this.pumpAll();
  }

  /** Drops every pending step and every hold (a reset). */
  reset(): void {
    this.clearTimers();
    this.hold = null;
    this.released.clear();
  }

  /** Stops moving releases and rollouts; the state stays readable. */
  stop(): void {
    this.stopped = true;
    this.clearTimers();
  }

  /** Schedules the next step of every lane and render that has one. */
  pumpAll(): void {
    if (this.stopped) return;
    for (const lane of this.state().activeLanes()) this.pumpLane(lane);
    for (const release of this.state().rendering()) this.pumpRender(release);
  }

  /** The step that was due on `lane` no longer applies (the next one is scheduled on the next pump). */
  clearLane(lane: string): void {
    const timer = this.laneTimers.get(lane);
    if (timer) clearTimeout(timer);
    this.laneTimers.delete(lane);
  }

  private pumpLane(lane: string): void {
    if (this.laneTimers.has(lane)) return;
    const work = this.state().nextWork(lane, this.currentTimings.autoAdvance);
    if (!work) return;
    if (this.hold?.(work.rollout) && !this.released.has(work.rollout)) return;
    this.laneTimers.set(
      lane,
      this.timer(this.delayOf(work), () => {
        this.laneTimers.delete(lane);
        // What is due now, which a call since scheduling (approve, advance) may have changed.
        const due = this.state().nextWork(lane, this.currentTimings.autoAdvance);
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
        this.state().finishRender(release, this.faults.takeRenderFailure(release));
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
        this.state().startRollout(work.rollout);
        return;
      case 'advance':
        this.state().advanceRollout({ name: work.rollout, phaseId: work.phaseId });
        return;
      case 'job': {
        const { failed } = this.state().stepRollout(work.rollout, this.faults.plannedFailure(work.rollout));
        if (failed) this.faults.failed(work.rollout);
        return;
      }
      case 'cancel':
        this.state().finishCancel(work.rollout);
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
        this.logger.warn('a gcp-sim step failed', { error: String(err) });
      }
      this.pumpAll();
    }, ms);
    // A simulator must never keep a test process (or the CLI) alive on its own.
    timer.unref();
    return timer;
  }

  private clearTimers(): void {
    for (const timer of [...this.laneTimers.values(), ...this.renderTimers.values()]) clearTimeout(timer);
    this.laneTimers.clear();
    this.renderTimers.clear();
  }
}
