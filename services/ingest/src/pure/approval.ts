/**
 * `POST /decisions/{id}/approve`, the parts that need no I/O: whether a recorded
 * decision may be approved now (the front door's refusal, with its status and
 * reason), the alert an approval publishes, and what an earlier approval of the
 * same recommendation came to. The decider judges the approval again (policy's
 * decideApproval); this only refuses early and clearly what it would refuse.
 */
import { DecisionActions, type AlertEvent, type DecisionRecord, type IncidentRecord } from '@burnback/contracts';
import { humanRequestAlert } from './human-request.js';

/** Decision ids are `dec-` and 24 hex digits (contracts' decisionIdFor). */
export const DECISION_ID = /^dec-[0-9a-f]{24}$/;

/** How many refused approvals of one recommendation may be followed by another (each a new attempt id). */
export const MAX_APPROVAL_ATTEMPTS = 5;

export interface ApprovalRefusal {
  status: 404 | 409 | 410;
  message: string;
}

/**
 * Why the decision `id` cannot be approved at `now`, or null: it does not exist
 * (404), is not a recommendation (409), its incident closed (409), or its time
 * to approve (approvableUntil, approvalTtlMinutes after it was decided) is over (410).
 */
export function approvalRefusal(
  id: string,
  decision: Pick<DecisionRecord, 'action' | 'approvableUntil' | 'incidentId'> | null,
  incident: Pick<IncidentRecord, 'state' | 'endedAt'> | null,
  now: Date,
): ApprovalRefusal | null {
  if (decision === null) return { status: 404, message: `no decision ${id}` };
  if (decision.action !== DecisionActions.recommend)
    return { status: 409, message: `decision ${id} is a ${decision.action}, not a recommend: only a recommendation can be approved` };
  if (incident?.state === 'closed')
    return {
      status: 409,
      message: `incident ${decision.incidentId} of decision ${id} closed${incident.endedAt ? ` at ${incident.endedAt}` : ''}: the service recovered, the recommendation no longer applies`,
    };
  if (!decision.approvableUntil)
    return { status: 409, message: `decision ${id} was recorded before recommendations could be approved: it has no time to approve` };
  if (now.getTime() >= Date.parse(decision.approvableUntil))
    return {
      status: 410,
      message: `recommendation ${id} could be approved until ${decision.approvableUntil} (approvalTtlMinutes): it expired; a new burn brings a new recommendation`,
    };
  return null;
}

/** Who approves, why, and with force or not. */
export interface Approver {
  by: string;
  reason: string;
  force: boolean;
}

/**
 * The alert an approval publishes on burnback-alerts: the recommendation's
 * incident (its one rollback, its closing), judged on who approved instead of a
 * burn, carrying the world the recommendation saw (the release it blamed, the
 * rollout that served) and until when it may be approved.
 */
export function approvalAlert(
  recommendation: Pick<DecisionRecord, 'decisionId' | 'incidentId' | 'service' | 'approvableUntil' | 'cause' | 'evidence'>,
  incident: Pick<IncidentRecord, 'startedAt'> | null,
  project: string,
  approver: Approver,
  notificationId: string,
  at: Date,
): AlertEvent {
  const now = at.toISOString();
  const evidence = recommendation.evidence;
  return humanRequestAlert({
    incidentId: recommendation.incidentId,
    service: recommendation.service,
    startedAt: incident?.startedAt ?? evidence?.alert.startedAt ?? now,
    at: now,
    project,
    notificationId,
    unsupportedReason: `an approval of recommendation ${recommendation.decisionId}, judged on who approved and why`,
    policyName: 'approval of a recommendation',
    manual: {
      requestedBy: approver.by,
      reason: approver.reason,
      force: approver.force,
      // A recommended manual request keeps the release it asked for.
      releaseId: evidence?.alert.manual?.releaseId ?? null,
      approves: {
        decisionId: recommendation.decisionId,
        until: recommendation.approvableUntil!,
        cause: recommendation.cause,
        servingRollout: evidence?.target?.serving?.rollout ?? null,
      },
    },
  });
}

/** What an earlier approval of a recommendation came to: still being decided, a rollback ordered, or refused. */
export type PriorApproval = 'deciding' | 'ordered' | 'refused';

/**
 * An earlier approval's outcome, from its decision (null: not decided yet) and
 * its rollback's status. Refused (held, escalated) or superseded before it rolled
 * anything back, a human may approve again; otherwise it is the one rollback.
 */
export function priorApproval(decision: Pick<DecisionRecord, 'action'> | null, rollbackStatus: string | null): PriorApproval {
  if (decision === null) return 'deciding';
  if (decision.action !== DecisionActions.rollback || rollbackStatus === 'superseded') return 'refused';
  return 'ordered';
}
