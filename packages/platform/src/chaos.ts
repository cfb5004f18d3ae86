import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';

/**
 * The named points where a test may make a service kill itself (`npm run test:chaos`):
 * the step boundaries where a crash is the hardest for exactly-once.
 * - `decided-before-publish` (decider): the decision's transaction (decision,
 *   outbox) has committed; nothing of its outbox is published yet.
 * - `rollback-target-before-record` (executor): Cloud Deploy accepted
 *   `RollbackTarget`; `rollbacks/{id}` does not yet say `started`.
 * - `tracking-before-record` (executor's tracker): holding its lease, the
 *   tracker has read the rollback rollout's state and recorded nothing of it yet.
 */
export const CrashPoints = {
  archivedBeforePublish: 'archived-before-publish',
  decidedBeforePublish: 'decided-before-publish',
  rollbackTargetBeforeRecord: 'rollback-target-before-record',
  trackingBeforeRecord: 'tracking-before-record',
} as const;
export type CrashPoint = (typeof CrashPoints)[keyof typeof CrashPoints];
const CRASH_POINTS: readonly string[] = Object.values(CrashPoints);

/** Crash the `at`-th time this process reaches `point` (1 = the first time). */
export interface CrashPlan {
  point: CrashPoint;
  at: number;
}

/** Called at a crash point: returns at once unless this process was told to die there, this time. */
export type CrashHook = (point: CrashPoint, labels?: Record<string, string | undefined>) => void;

/** The hook of every process that was not told to crash (and of in-process tests). */
export const noCrash: CrashHook = () => undefined;

export const CHAOS_ENV = 'BURNBACK_CHAOS_CRASH_AT';

/**
 * Reads `BURNBACK_CHAOS_CRASH_AT`: comma-separated `point` or `point:n` (crash the
 * n-th time the point is reached; default the first). Unset or empty: no crash.
 * Throws a ConfigError naming the variable for an unknown point or a bad count.
 */
export function parseCrashPlans(raw: string | undefined): CrashPlan[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((part) => {
    const [point = '', count, ...rest] = part.trim().split(':');
    if (!CRASH_POINTS.includes(point))
      throw new ConfigError(CHAOS_ENV, `unknown crash point "${point}" (known: ${CRASH_POINTS.join(', ')})`);
    const at = count === undefined ? 1 : Number(count);
    if (rest.length > 0 || !Number.isInteger(at) || at < 1)
      throw new ConfigError(CHAOS_ENV, `"${part.trim()}": expected ${point} or ${point}:N with N a whole number of at least 1`);
    return { point: point as CrashPoint, at };
  });
}

/**
 * The crash hook of a process: `noCrash` without plans; otherwise it counts each
 * point reached and, on a planned count, logs `chaos_crash` and sends this process
 * SIGKILL (no drain, no shutdown hooks: what a machine failure or an OOM kill does).
 * Test-only: nothing sets BURNBACK_CHAOS_CRASH_AT in a deployment, and a process
 * with plans says so at start.
 */
export function createCrashHook(
  plans: readonly CrashPlan[],
  logger: Logger,
  kill: () => void = () => process.kill(process.pid, 'SIGKILL'),
): CrashHook {
  if (plans.length === 0) return noCrash;
  logger.warn(`chaos: this process kills itself at ${plans.map((p) => `${p.point} (time ${p.at})`).join(', ')}; tests only`, {
    event: 'chaos_armed',
    plans,
  });
  const reached = new Map<CrashPoint, number>();
  return (point, labels = {}) => {
    const count = (reached.get(point) ?? 0) + 1;
    reached.set(point, count);
    if (!plans.some((p) => p.point === point && p.at === count)) return;
    // Written synchronously (stdout is a pipe or a file), so the line is out before the signal lands.
    logger.error(`chaos: killing this process at ${point} (time ${count})`, { event: 'chaos_crash', point, time: count, ...labels });
    kill();
  };
}
