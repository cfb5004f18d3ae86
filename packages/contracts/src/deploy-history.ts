import { z } from 'zod';

/**
 * Cloud Deploy's history as Burnback reads it (ListRollouts, ListReleases,
 * GetRollout), reduced to what decides what serves a target and which release
 * a rollback returns to. The decider keeps what it read with each Cloud Deploy
 * notification it applied (`deployEvents/{id}.read`), so an export holds it and
 * a replay reads Cloud Deploy as the recording did. Times are milliseconds since
 * the epoch, 0 when Cloud Deploy left them unset.
 */

/** One phase of a rollout, with the state of its deploy job ('' when the phase has none, e.g. child rollouts). */
export const HistoryPhase = z.object({
  id: z.string(),
  state: z.string(),
  deployJobState: z.string(),
});
export type HistoryPhase = z.infer<typeof HistoryPhase>;

export const HistoryRollout = z.object({
  /** Full name: `{pipeline}/releases/{release}/rollouts/{rollout}`. */
  name: z.string(),
  releaseId: z.string(),
  targetId: z.string(),
  /** Rollout.State name, e.g. SUCCEEDED, IN_PROGRESS, PENDING_APPROVAL. */
  state: z.string(),
  createTime: z.number().nonnegative(),
  /** When the rollout started deploying (its first deploy job): 0 until it has. */
  deployStartTime: z.number().nonnegative(),
  /** When it finished deploying, or stopped (cancelled, failed): 0 until then. */
  deployEndTime: z.number().nonnegative(),
  phases: z.array(HistoryPhase),
  /** The rollout this one rolled back ('' when it is not a rollback). */
  rollbackOfRollout: z.string(),
  rolledBackByRollouts: z.array(z.string()),
  approvalState: z.string(),
});
export type HistoryRollout = z.infer<typeof HistoryRollout>;

export const HistoryRelease = z.object({ releaseId: z.string(), abandoned: z.boolean() });
export type HistoryRelease = z.infer<typeof HistoryRelease>;

/** A pipeline's history: every release and every rollout, on every target. */
export const DeployHistory = z.object({ releases: z.array(HistoryRelease), rollouts: z.array(HistoryRollout) });
export type DeployHistory = z.infer<typeof DeployHistory>;

/** Rollout states after which a rollout never changes again (GCP-NOTES: Rollout.State). */
export const TerminalRolloutStates: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'APPROVAL_REJECTED', 'CANCELLED', 'HALTED']);

/** The prefix of every rollout id Burnback derives for its rollbacks (ids.ts, rolloutIdFor). */
export const BURNBACK_ROLLOUT_PREFIX = 'burnback-rb-';
