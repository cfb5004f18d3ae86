import {
  progressSequence,
  RollbackOutcome,
  type IncidentRecord,
  type RollbackProgress,
  type ServiceState,
  type TargetRecord,
} from '@burnback/contracts';

/** The final stage of a progress event, or null while the rollback is still under way. */
function outcomeOf(progress: RollbackProgress): RollbackOutcome | null {
  // A validate-only command (mode recommend) rolled nothing back: it has no outcome for the service or the target,
  // and neither has a `validated` stage, however it arrives.
  if (progress.validateOnly) return null;
  const parsed = RollbackOutcome.safeParse(progress.stage);
  return parsed.success ? parsed.data : null;
}

/**
 * The service state once a rollback's outcome is known: the rollback records
 * its outcome and finish time, from which the cooldown then counts. The first
 * final stage wins; a repeated or late progress event changes nothing.
 */
export function recordOutcomeOnService(state: ServiceState, progress: RollbackProgress): ServiceState {
  const outcome = outcomeOf(progress);
  if (outcome === null) return state;
  const index = state.recentRollbacks.findIndex((r) => r.rollbackId === progress.rollbackId && r.outcome === null);
  if (index < 0) return state;
  const recentRollbacks = state.recentRollbacks.map((r, i) => (i === index ? { ...r, outcome, finishedAt: progress.at } : r));
  // No rollback of the service is waiting for its outcome any more: none is in flight (for the fleet breaker).
  const waiting = recentRollbacks.some((r) => r.outcome === null);
  return { ...state, recentRollbacks, inFlightSince: waiting ? state.inFlightSince : null };
}

/**
 * The incident once its rollback made progress. Stages only move forward (by
 * their sequence), and a final stage is never replaced, so redelivered or
 * reordered progress changes nothing.
 */
export function recordProgressOnIncident(incident: IncidentRecord, progress: RollbackProgress): IncidentRecord {
  if (progress.validateOnly) return incident;
  const known = incident.rollback;
  if (known && known.rollbackId !== progress.rollbackId) return incident;
  if (known?.stage && progressSequence[progress.stage] <= progressSequence[known.stage]) return incident;
  return {
    ...incident,
    rollback: {
      rollbackId: progress.rollbackId,
      decisionId: progress.decisionId,
      stage: progress.stage,
      finishedAt: outcomeOf(progress) === null ? null : progress.at,
      releaseId: progress.releaseId ?? known?.releaseId ?? null,
      fromReleaseId: progress.fromReleaseId ?? known?.fromReleaseId ?? null,
      detail: progress.detail,
    },
  };
}

/**
 * How many quarantined releases a target remembers, newest last: enough for
 * every release a rollback could return to, and a bounded document (a target
 * rolled back every day for years would otherwise outgrow Firestore's 1 MiB).
 */
export const QUARANTINE_KEPT = 20;

/** A target nothing has been recorded for yet. */
export function initialTargetRecord(target: Pick<TargetRecord, 'project' | 'region' | 'pipeline' | 'target'>, at: string): TargetRecord {
  return { ...target, quarantined: [], returnedTo: null, serving: null, previous: null, lastRollout: null, updatedAt: at };
}

/**
 * The target once a rollback of it finished. Succeeded: the release it left is
 * quarantined, and the release it returned to is serving and remembered as
 * Burnback's own (a burn on it escalates instead of rolling back again),
 * unless a later rollout is already recorded as serving.
 * Superseded: someone else's rollout is serving now, so Burnback no longer
 * knows what serves. Failed: nothing changed on the target.
 */
export function recordOutcomeOnTarget(target: TargetRecord, progress: RollbackProgress): TargetRecord {
  if (progress.validateOnly) return target;
  switch (progress.stage) {
    case 'succeeded': {
      if (progress.releaseId === null || target.returnedTo?.rollbackId === progress.rollbackId) return target;
      const mark = { rollbackId: progress.rollbackId, incidentId: progress.incidentId, at: progress.at };
      const leaving = progress.fromReleaseId ?? null;
      const quarantined =
        leaving === null || leaving === progress.releaseId || target.quarantined.some((q) => q.releaseId === leaving)
          ? target.quarantined
          : [...target.quarantined, { releaseId: leaving, ...mark }].slice(-QUARANTINE_KEPT);
      // Progress and Cloud Deploy's notifications come on different subscriptions: a rollout reported later
      // than this rollback's finish (a release shipped since) keeps serving.
      const stale = target.serving !== null && Date.parse(target.serving.since) > Date.parse(progress.at);
      if (stale && target.serving!.releaseId === progress.releaseId && servedBefore(target, progress.at))
        // Cloud Deploy's own notification of this rollback (or a rollout of the same release since) came first: the
        // release returned to has served since the rollback finished, whichever of the two reports arrives first.
        return { ...servingEarlier(target, progress.at), quarantined, returnedTo: { releaseId: progress.releaseId, ...mark } };
      // Stale: the release returned to served from the rollback's finish until that rollout, so it is the previous one
      // (unless what is recorded as previous began serving later still).
      const returnedServedBefore =
        stale && (target.previous === null || Date.parse(target.previous.since) < Date.parse(progress.at))
          ? { previous: { releaseId: progress.releaseId, since: progress.at, until: target.serving!.since, burnedAt: null } }
          : {};
      return {
        ...(stale ? { ...target, ...returnedServedBefore } : handOver(target, progress.releaseId, progress.at)),
        quarantined,
        returnedTo: { releaseId: progress.releaseId, ...mark },
        updatedAt: progress.at,
      };
    }
    case 'superseded':
      if (target.serving === null || Date.parse(target.serving.since) >= Date.parse(progress.at)) return target;
      return { ...target, serving: null, updatedAt: progress.at };
    case 'accepted':
    case 'started':
    case 'failed':
    case 'validated':
      return target;
    default: {
      const never: never = progress.stage;
      // Stryker disable next-line StringLiteral: unreachable; the compiler proves the switch exhaustive
      throw new Error(`unknown stage ${String(never)}`);
    }
  }
}

/**
 * `releaseId` serves from `at`: the release serving until then becomes the
 * previous one (with whether it burned). A rollout of the release already
 * serving changes nothing: it has served since its first rollout.
 */
function handOver(target: TargetRecord, releaseId: string, at: string): TargetRecord {
  const current = target.serving;
  if (current?.releaseId === releaseId) return target;
  return {
    ...target,
    serving: { releaseId, since: at, burnedAt: null },
    previous: current === null ? target.previous : { ...current, until: at },
  };
}

/**
 * The target once Cloud Deploy reports a rollout to it succeeded: that release
 * serves now (whoever shipped it), and the one before becomes the previous
 * release; unless a later report is already recorded. `rollout` is the
 * rollout's resource name.
 */
export function recordServingOnTarget(target: TargetRecord, releaseId: string, since: string, rollout: string): TargetRecord {
  if (target.lastRollout !== null && Date.parse(target.lastRollout.at) > Date.parse(since)) return target;
  const lastRollout = { releaseId, rollout, outcome: 'succeeded' as const, at: since };
  if (target.serving !== null && Date.parse(target.serving.since) > Date.parse(since)) {
    // The same release, recorded as serving from later (a rollback's progress came first, stamped with when the executor
    // saw it finish): it has served since this report, as if the reports had come the other way round.
    if (target.serving.releaseId !== releaseId || !servedBefore(target, since)) return target;
    return { ...servingEarlier(target, since), lastRollout };
  }
  if (target.lastRollout?.rollout === rollout && target.lastRollout.outcome === 'succeeded') return target;
  return { ...handOver(target, releaseId, since), lastRollout, updatedAt: since };
}

/** Whether the release recorded as previous began serving before `at`, so the serving one can have served since then. */
function servedBefore(target: TargetRecord, at: string): boolean {
  return target.previous === null || Date.parse(target.previous.since) < Date.parse(at);
}

/**
 * The serving release has served since `at`, earlier than recorded; the release
 * before it served until then. The record was updated later than `at`, so its
 * update time stays.
 */
function servingEarlier(target: TargetRecord, at: string): TargetRecord {
  const serving = target.serving!;
  const previous =
    target.previous !== null && target.previous.until === serving.since ? { ...target.previous, until: at } : target.previous;
  return { ...target, serving: { ...serving, since: at }, previous };
}

/** The target once Cloud Deploy reports a rollout to it failed: what serves is unchanged; the attempt is recorded. */
export function recordFailedRolloutOnTarget(target: TargetRecord, releaseId: string, at: string, rollout: string): TargetRecord {
  if (target.lastRollout !== null && Date.parse(target.lastRollout.at) >= Date.parse(at)) return target;
  return { ...target, lastRollout: { releaseId, rollout, outcome: 'failed', at }, updatedAt: at };
}

/**
 * The target once a decision saw an open burn over its bar that started at
 * `startedAt`: the release serving then is marked as having burned (the
 * earliest start wins), so it never counts as a good release to return to.
 */
export function recordBurnOnTarget(target: TargetRecord, startedAt: string): TargetRecord {
  const start = Date.parse(startedAt);
  const earlier = (known: string | null): string => (known !== null && Date.parse(known) <= start ? known : startedAt);
  const { serving, previous } = target;
  if (serving !== null && start >= Date.parse(serving.since)) {
    const burnedAt = earlier(serving.burnedAt);
    return burnedAt === serving.burnedAt ? target : { ...target, serving: { ...serving, burnedAt } };
  }
  if (previous !== null && start >= Date.parse(previous.since) && start < Date.parse(previous.until)) {
    const burnedAt = earlier(previous.burnedAt);
    return burnedAt === previous.burnedAt ? target : { ...target, previous: { ...previous, burnedAt } };
  }
  return target;
}
