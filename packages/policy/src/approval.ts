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
 * The approval itself: who approved which recommendation and why. Refused when
 * it is decided at or after the recommendation's time to approve — judged at the
 * decider's clock (`evaluatedAt`), not only at the approval's own (ingest's)
 * time, so an approval that waited in a backlog past `until` is not carried out
 * — and when it is being decided again (a rollback it ordered was superseded):
 * an approval is carried out once, never again on its own.
 */
export function approvalVerdict(event: AlertEvent, approval: ApprovalRequest, time: string, evaluatedAt: string = time): RuleVerdict {
  const rule = RuleNames.approval;
  const { approves, requestedBy: by } = approval;
  if (event.redecision)
    return {
      rule,
      passed: false,
      detail: `${by}'s approval of ${approves.decisionId} was decided once already: an approval is carried out once, never again on its own (a new burn brings a new recommendation to approve)`,
    };
  // The later of the two clocks: a decider clock behind ingest's never extends the time to approve.
  if (Math.max(Date.parse(time), Date.parse(evaluatedAt)) >= Date.parse(approves.until))
    return {
      rule,
      passed: false,
      detail: `${by} approved ${approves.decisionId} at ${time}${evaluatedAt === time ? '' : `, decided at ${evaluatedAt}`}, but it could be approved only until ${approves.until} (approvalTtlMinutes): too late, a new burn brings a new recommendation`,
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
 * approval would act on a world nobody approved (hold). When today's rollout is
 * not on record, the executor checks the approved rollout before it rolls back
 * (the command carries it). When the recommendation recorded no rollout, the
 * release it blamed must still serve, in the stretch it was blamed in (serving
 * since then or earlier: a redeploy keeps its first serving time, a return to it
 * after another release does not); anything else, or nothing to compare, holds.
 */
export function servingUnchangedVerdict(approval: ApprovalRequest, target: TargetView | null): RuleVerdict {
  const rule = RuleNames.servingUnchanged;
  const approved = approval.approves.servingRollout;
  if (approved === null) return blamedReleaseServesVerdict(approval.approves.cause, target);
  const serving = target?.serving ?? null;
  if (target === null || (serving !== null && serving.rollout === null))
    return {
      rule,
      passed: true,
      detail: `the rollout serving now is not on record: the executor checks that rollout ${approved}, the one approved, still serves before it rolls back`,
    };
  if (serving?.rollout === approved)
    return { rule, passed: true, detail: `rollout ${approved} still serves ${target.target}, as when it was recommended` };
  return {
    rule,
    passed: false,
    detail: `${serving ? `${serving.releaseId} serves ${target.target} now (rollout ${serving.rollout})` : `nothing serves ${target.target} now`}, not rollout ${approved} as when it was recommended: the world changed, the approval does not apply`,
  };
}

/** serving-unchanged for a recommendation that recorded no serving rollout: only the release it blamed, still serving since it was blamed, passes. */
function blamedReleaseServesVerdict(cause: ApprovalRequest['approves']['cause'], target: TargetView | null): RuleVerdict {
  const rule = RuleNames.servingUnchanged;
  const name = target?.target ?? 'the target';
  const held = (detail: string): RuleVerdict => ({ rule, passed: false, detail });
  const changed = 'the world changed, the approval does not apply';
  if (cause === null)
    return held(
      `the recommendation recorded neither the rollout serving ${name} nor a release it blamed: what serves now cannot be matched to what was approved, the approval does not apply`,
    );
  const blamed = cause.releaseId;
  const unrecorded = 'it recorded no rollout';
  if (target === null)
    return held(
      `what serves now is not on record: nothing shows that ${blamed}, the release the recommendation blamed (${unrecorded}), still serves, the approval does not apply`,
    );
  const serving = target.serving;
  if (serving === null) return held(`nothing serves ${name} now, not ${blamed} as when it was recommended (${unrecorded}): ${changed}`);
  if (serving.releaseId !== blamed)
    return held(
      `${serving.releaseId} serves ${name} now${serving.rollout ? ` (rollout ${serving.rollout})` : ''}, not ${blamed} as when it was recommended (${unrecorded}): ${changed}`,
    );
  if (Date.parse(serving.since) > Date.parse(cause.servingSince))
    return held(
      `${blamed} serves ${name} again since ${serving.since}, not since ${cause.servingSince} as when it was recommended (${unrecorded}): another release served in between, ${changed}`,
    );
  return {
    rule,
    passed: true,
    detail: `${blamed}, the release the recommendation blamed, still serves ${name} since ${serving.since} (${unrecorded}): the executor checks that ${blamed} still serves before it rolls back`,
  };
}

/**
 * The rollout a rollback command is to find serving its target, or the executor
 * ends it superseded. An approval carries what its recommendation recorded, null
 * included (then the executor checks the blamed release): never today's rollout,
 * which would make the approved world whatever serves when it is decided. Any
 * other decision carries the rollout serving when it was decided.
 */
export function commandServingRollout(event: AlertEvent, target: Pick<TargetView, 'serving'> | null): string | null {
  const approves = event.manual?.approves;
  if (approves) return approves.servingRollout;
  return target?.serving?.rollout ?? null;
}

/** The mode, for an approval: the approval is the human step mode recommend asks for; observe still commands nothing. */
export function approvalModeVerdict(policy: PolicySettings, by: string): RuleVerdict {
  if (policy.mode !== Modes.recommend) return modeVerdict(policy);
  return { rule: RuleNames.mode, passed: true, detail: `mode recommend: ${by}'s approval is the human step it asks for` };
}
