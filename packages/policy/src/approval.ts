/**
 * Approving a recommendation (mode recommend): the rules that judge a human's
 * approval again at approval time, and until when a recommendation may be
 * approved. Pure; `decide` puts them in order.
 */
import {
  DecisionActions,
  Modes,
  RuleNames,
  type AlertEvent,
  type DecisionAction,
  type PolicySettings,
  type RuleVerdict,
} from '@burnback/contracts';
import { modeVerdict } from './controls.js';
import type { IncidentView, TargetView } from './rule-verdicts.js';

const MINUTE_MS = 60_000;

/** The manual part of an approval's alert: who approved, why, with force or not, and what. */
export type ApprovalRequest = NonNullable<AlertEvent['manual']> & { approves: NonNullable<NonNullable<AlertEvent['manual']>['approves']> };

/** Until when a decision may be approved: a `recommend` decision, approvalTtlMinutes after it was evaluated; any other, never (null). */
export function approvableUntil(
  action: DecisionAction,
  evaluatedAt: string,
  policy: Pick<PolicySettings, 'approvalTtlMinutes'>,
): string | null {
  if (action !== DecisionActions.recommend) return null;
  return new Date(Date.parse(evaluatedAt) + policy.approvalTtlMinutes * MINUTE_MS).toISOString();
}

/**
 * The approval itself: who approved which recommendation and why, at the
 * event's time. Refused when it comes after the recommendation's time to
 * approve, and when it is being decided again (a rollback it ordered was
 * superseded): an approval is carried out once, never again on its own.
 */
export function approvalVerdict(event: AlertEvent, approval: ApprovalRequest, time: string): RuleVerdict {
  const rule = RuleNames.approval;
  const { approves, requestedBy: by } = approval;
  if (event.redecision)
    return {
      rule,
      passed: false,
      detail: `${by}'s approval of ${approves.decisionId} was decided once already: an approval is carried out once, never again on its own (a new burn brings a new recommendation to approve)`,
    };
  if (Date.parse(time) >= Date.parse(approves.until))
    return {
      rule,
      passed: false,
      detail: `${by} approved ${approves.decisionId} at ${time}, but it could be approved only until ${approves.until} (approvalTtlMinutes): too late, a new burn brings a new recommendation`,
    };
  return {
    rule,
    passed: true,
    detail: `${by} approved recommendation ${approves.decisionId}${approves.cause ? ` to roll back ${approves.cause.releaseId}` : ''}: ${approval.reason}${approval.force ? ' (force)' : ''}`,
  };
}

/** The incident is still open: a closed one (the service recovered) has nothing left to approve (hold). */
export function approvalIncidentVerdict(event: AlertEvent, incident: IncidentView | null): RuleVerdict {
  const rule = RuleNames.incidentOpen;
  if (incident?.state !== 'closed') return { rule, passed: true, detail: `incident ${event.incidentId} is open` };
  return {
    rule,
    passed: false,
    detail: `incident ${event.incidentId} closed${incident.endedAt ? ` at ${incident.endedAt}` : ''}: the service recovered, the recommendation no longer applies`,
  };
}

/**
 * The world the recommendation saw still serves: the same rollout on the target.
 * A newer one (a hotfix, a human's rollback, another release's canary) means the
 * approval would act on a world nobody approved (hold). When either side did not
 * record the rollout, the executor's own check (the command's servingRollout) decides.
 */
export function servingUnchangedVerdict(approval: ApprovalRequest, target: TargetView | null): RuleVerdict {
  const rule = RuleNames.servingUnchanged;
  const approved = approval.approves.servingRollout;
  const serving = target?.serving ?? null;
  if (approved === null || target === null || (serving !== null && serving.rollout === null))
    return { rule, passed: true, detail: 'the serving rollout is not on record: the executor checks it before it rolls back' };
  if (serving?.rollout === approved)
    return { rule, passed: true, detail: `rollout ${approved} still serves ${target.target}, as when it was recommended` };
  return {
    rule,
    passed: false,
    detail: `${serving ? `${serving.releaseId} serves ${target.target} now (rollout ${serving.rollout})` : `nothing serves ${target.target} now`}, not rollout ${approved} as when it was recommended: the world changed, the approval does not apply`,
  };
}

/** The mode, for an approval: the approval is the human step mode recommend asks for; observe still commands nothing. */
export function approvalModeVerdict(policy: PolicySettings, by: string): RuleVerdict {
  if (policy.mode !== Modes.recommend) return modeVerdict(policy);
  return { rule: RuleNames.mode, passed: true, detail: `mode recommend: ${by}'s approval is the human step it asks for` };
}
