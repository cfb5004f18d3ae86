import {
  progressSequence,
  RollbackOutcome,
  type IncidentRecord,
  type RollbackProgress,
  type ServiceState,
  type TargetRecord,
} from '@burnback/contracts';
import { servingAt, servingOf, withSpan } from './serving.js';

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
  return {
    ...target,
    quarantined: [],
    returnedTo: null,
    serving: null,
    previous: null,
    timeline: [],
    latestRollout: null,
    historyReadAt: null,
    updatedAt: at,
  };
}

/**
 * The target once a rollback of it finished. Succeeded: the release it left is
 * quarantined, and the release it returned to serves from the rollback
 * rollout's first deploy job and is remembered as Burnback's own (a burn on it
 * escalates instead of rolling back again). Cloud Deploy's history says the
 * same when it is read, from the same deploy start time, whichever comes first.
 * Failed or superseded: nothing changed on the target (what serves comes from
 * Cloud Deploy's history, which the notification of any newer rollout brings).
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
      const timeline =
        progress.rolloutName === null
          ? target.timeline
          : withSpan(target.timeline, {
              releaseId: progress.releaseId,
              rollout: progress.rolloutName,
              from: progress.servingSince ?? progress.at,
              stoppedAt: null,
              state: 'SUCCEEDED',
              phase: null,
              rollback: true,
              burnedAt: null,
            });
      return {
        ...target,
        timeline,
        ...(timeline.length > 0 ? servingOf(timeline) : legacyHandOver(target, progress.releaseId, progress.at)),
        quarantined,
        returnedTo: { releaseId: progress.releaseId, ...mark },
        updatedAt: Date.parse(progress.at) > Date.parse(target.updatedAt) ? progress.at : target.updatedAt,
      };
    }
    case 'accepted':
    case 'started':
    case 'failed':
    case 'superseded':
    case 'validated':
      return target;
    default: {
      const never: never = progress.stage;
      // Stryker disable next-line StringLiteral: unreachable; the compiler proves the switch exhaustive
      throw new Error(`unknown stage ${String(never)}`);
    }
  }
}

/** A record that has no timeline (written before it was kept, or before any history was read): the release serves from `at`. */
function legacyHandOver(target: TargetRecord, releaseId: string, at: string): Pick<TargetRecord, 'serving' | 'previous'> {
  const current = target.serving;
  if (current?.releaseId === releaseId) return { serving: current, previous: target.previous };
  return {
    serving: { releaseId, since: at, burnedAt: null, rollout: null, phase: null },
    previous: current === null ? target.previous : { ...current, until: at },
  };
}

/**
 * The target once a decision saw an open burn over its bar that started at
 * `startedAt`: the release serving then is marked as having burned (the
 * earliest start wins), so it never counts as a good release to return to.
 */
export function recordBurnOnTarget(target: TargetRecord, startedAt: string): TargetRecord {
  const start = Date.parse(startedAt);
  const earlier = (known: string | null): string => (known !== null && Date.parse(known) <= start ? known : startedAt);
  if (target.timeline.length > 0) {
    const span = servingAt(target.timeline, start);
    if (span === null) return target;
    const burnedAt = earlier(span.burnedAt);
    if (burnedAt === span.burnedAt) return target;
    const timeline = target.timeline.map((s) => (s === span ? { ...s, burnedAt } : s));
    return { ...target, timeline, ...servingOf(timeline) };
  }
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
