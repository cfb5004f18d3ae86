/** What the rollback steps are given (RollbackStepsDeps), and the clock and timings resolved from it, defaults applied. */
import type { Acknowledgement, Pause, PolicySettings, RollbackCommand } from '@burnback/contracts';
import type { CrashHook, Logger, Metrics, Publisher } from '@burnback/platform';
import type { DeployPort } from './deploy.js';
import type { RollbackStore } from './store.js';

/** What the command handler and the tracker share: the clients, the clock and the timings. */
export interface RollbackStepsDeps {
  store: RollbackStore;
  deploy: DeployPort;
  publisher: Publisher;
  logger: Logger;
  metrics?: Metrics;
  now?: () => Date;
  /** The first check of a rollout comes this long after it started; each check that sees no change doubles the wait. */
  pollIntervalMs?: number;
  /** The longest wait between two checks of one rollout (default 15 poll intervals, at most 30 s). */
  maxPollIntervalMs?: number;
  /**
   * After this long since the rollback was ordered, a rollout still not finished is reported failed (default 24 h);
   * one that never started (waiting for approval, or queued) is cancelled first, so it cannot deploy an old release later.
   * A serving rollout whose cancellation has not ended by then fails the rollback too (nothing was rolled back).
   */
  maxTrackingMs?: number;
  /** Aborted on shutdown: Cloud Deploy calls stop retrying. */
  signal?: AbortSignal;
  /** Retry settings for Cloud Deploy calls (tests shorten them). */
  retry?: { retries?: number; minTimeout?: number; maxTimeout?: number };
  /** Test-only fault injection (`npm run test:chaos`): may kill the process between a Cloud Deploy call and its record. */
  crash?: CrashHook;
  /**
   * The operator's controls of a command's service and incident, re-read right before the executor cancels anything
   * and right before RollbackTarget: a pause, an acknowledgement, a freeze or a mode set since the decision supersedes it.
   */
  controls?: (command: RollbackCommand) => Promise<{ pause: Pause | null; acknowledgement: Acknowledgement | null }>;
  /** Each service's policy (mode, freeze windows), from the same config as the decider's; a service not in it is checked for pause and acknowledgement only. */
  policies?: ReadonlyMap<string, PolicySettings>;
  /**
   * How long Cloud Deploy's PERMISSION_DENIED or UNAUTHENTICATED is waited out (an IAM grant still propagating) before
   * the rollback fails naming the permission (default 10 min, counted from when the rollback was ordered).
   */
  permissionWaitMs?: number;
}

/** The clock and the timings of RollbackStepsDeps, with their defaults applied. */
export interface StepTimings {
  now: () => Date;
  pollIntervalMs: number;
  maxPollIntervalMs: number;
  maxTrackingMs: number;
  permissionWaitMs: number;
  /** How long after a check that saw no change for `unchanged` checks in a row the next one comes. */
  nextCheckInMs: (unchanged: number) => number;
}

export function stepTimingsOf(deps: RollbackStepsDeps): StepTimings {
  const now = deps.now ?? (() => new Date());
  const pollIntervalMs = deps.pollIntervalMs ?? 2_000;
  const maxPollIntervalMs = Math.max(pollIntervalMs, deps.maxPollIntervalMs ?? Math.min(15 * pollIntervalMs, 30_000));
  const maxTrackingMs = deps.maxTrackingMs ?? 24 * 3_600_000;
  const permissionWaitMs = deps.permissionWaitMs ?? 10 * 60_000;

  /** How long after a check that saw no change for `unchanged` checks in a row the next one comes. */
  const nextCheckInMs = (unchanged: number): number => Math.min(pollIntervalMs * 2 ** Math.min(unchanged, 20), maxPollIntervalMs);

  return { now, pollIntervalMs, maxPollIntervalMs, maxTrackingMs, permissionWaitMs, nextCheckInMs };
}
