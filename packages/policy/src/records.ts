/**
 * What a decision leaves behind: the service's recent rollbacks and the
 * incident's record, folded forward (idempotent, times only move forward). Pure.
 */
import {
  DecisionActions,
  type AlertEvent,
  type IncidentRecord,
  type MonitoringCheck,
  type PolicySettings,
  type RecentRollback,
  type ServiceState,
} from '@burnback/contracts';
import type { Decision } from './decide.js';

/**
 * How many recent rollbacks a service's state keeps (one more than the hourly
 * limit when that is higher): the rate limit needs the newest `limit` of them,
 * and the cooldown the newest finish. An older rollback could only hold that if
 * it ran longer than the cooldowns of the five ordered after it (by default
 * 2.5 h, far beyond how long the executor tracks a rollout). Every decision
 * reads them all, so fewer is faster (see `npm run bench`).
 */
const REMEMBERED_ROLLBACKS = 5;

/**
 * The service state after a decision: the most recent rollbacks are remembered,
 * newest last. The list is bounded by count, never pruned by the event's time:
 * one notification with a clock far ahead must not erase the history that the
 * rate limit and the cooldown read.
 */
export function applyDecision(
  state: ServiceState,
  decision: Decision,
  decisionId: string,
  rollbackId: string | null,
  policy: PolicySettings,
): ServiceState {
  const all =
    decision.action === DecisionActions.rollback && rollbackId !== null
      ? [...state.recentRollbacks, { rollbackId, decidedAt: decision.decidedAt, outcome: null, finishedAt: null }]
      : state.recentRollbacks;
  const keep = Math.max(REMEMBERED_ROLLBACKS, policy.maxRollbacksPerHour + 1);
  const recentRollbacks = (isSorted(all) ? all : [...all].sort((a, b) => Date.parse(a.decidedAt) - Date.parse(b.decidedAt))).slice(-keep);
  return {
    service: state.service,
    recentRollbacks,
    lastDecisionId: decisionId,
    updatedAt: decision.decidedAt,
    // The breaker's stamps are the decider's clock, which its fleet query compares them with.
    lastBurnAt: decision.burnStartedAt !== null ? decision.evaluatedAt : state.lastBurnAt,
    inFlightSince: decision.action === DecisionActions.rollback && rollbackId !== null ? decision.evaluatedAt : state.inFlightSince,
  };
}

/** Whether rollbacks are oldest first already (they are, unless stored by something else): then no sort is needed. */
function isSorted(rollbacks: readonly RecentRollback[]): boolean {
  for (let i = 1; i < rollbacks.length; i++)
    if (Date.parse(rollbacks[i - 1]!.decidedAt) > Date.parse(rollbacks[i]!.decidedAt)) return false;
  return true;
}

/** The state of a service nothing has been decided for yet. */
export function initialServiceState(service: string): ServiceState {
  return { service, recentRollbacks: [], lastDecisionId: null, updatedAt: null, lastBurnAt: null, inFlightSince: null };
}

/**
 * The incident after a decision on one of its notifications: closed is final,
 * times only move forward, and a rollback, once ordered, is remembered with
 * whatever progress has since been recorded.
 */
export function applyIncident(
  known: IncidentRecord | null,
  event: AlertEvent,
  decision: Decision,
  decisionId: string,
  rollbackId: string | null,
  monitoring: MonitoringCheck | null = null,
): IncidentRecord {
  const closed = known?.state === 'closed' || event.state === 'closed';
  const ordered =
    decision.action === DecisionActions.rollback && rollbackId !== null
      ? { rollbackId, decisionId, stage: null, finishedAt: null, releaseId: null, fromReleaseId: null, detail: null }
      : null;
  const previous = known?.rollback ?? null;
  // A rollback superseded before it rolled anything back gives way to the incident's next one; it is remembered, so
  // the next rollback's id is a new attempt.
  const replaces = previous !== null && previous.stage === 'superseded' && ordered !== null;
  const superseded = known?.supersededRollbacks ?? [];
  return {
    incidentId: event.incidentId,
    service: event.service,
    state: closed ? 'closed' : 'open',
    startedAt: known?.startedAt ?? event.startedAt,
    endedAt: known?.endedAt ?? event.endedAt,
    observedAt: known && Date.parse(known.observedAt) > Date.parse(decision.decidedAt) ? known.observedAt : decision.decidedAt,
    lastDecisionId: decisionId,
    decisionIds: [...(known?.decisionIds ?? []), decisionId],
    rollback: replaces ? ordered : (previous ?? ordered),
    supersededRollbacks: replaces ? [...superseded, previous.rollbackId] : superseded,
    // Cloud Monitoring not answering counts from the first time; an answer ends it; not asking leaves it as it was.
    monitoringUnavailableSince:
      monitoring === null
        ? (known?.monitoringUnavailableSince ?? null)
        : monitoring.status === 'unavailable'
          ? (known?.monitoringUnavailableSince ?? monitoring.since ?? decision.evaluatedAt)
          : null,
  };
}

/**
 * Which attempt the incident's next rollback is (ids.ts, rollbackIdFor): one
 * more than the rollbacks of it that were superseded before rolling anything back.
 */
export function rollbackAttemptOf(incident: Pick<IncidentRecord, 'rollback' | 'supersededRollbacks'> | null): number {
  if (incident === null) return 0;
  return incident.supersededRollbacks.length + (incident.rollback?.stage === 'superseded' ? 1 : 0);
}

/**
 * A Cloud Monitoring reading as the decision weighs it: when Monitoring could not
 * answer, since when it has not for this incident (the first time, or now), so
 * the retry window counts from there.
 */
export function withUnavailableSince(
  check: MonitoringCheck | null,
  incident: Pick<IncidentRecord, 'monitoringUnavailableSince'> | null,
  evaluatedAt: string,
): MonitoringCheck | null {
  if (check === null || check.status !== 'unavailable') return check;
  return { ...check, since: incident?.monitoringUnavailableSince ?? check.since ?? evaluatedAt };
}
