import {
  DecisionActions,
  isFinalStage,
  RuleNames,
  type AlertEvent,
  type Cause,
  type Confidence,
  type DecisionAction,
  type MonitoringCheck,
  Modes,
  type PolicySettings,
  type RedecideAt,
  type RuleVerdict,
  type ServiceState,
} from '@burnback/contracts';
import {
  approvableUntil,
  approvalIncidentVerdict,
  approvalModeVerdict,
  approvalVerdict,
  servingUnchangedVerdict,
  type ApprovalRequest,
} from './approval.js';
import { confidenceOf } from './confidence.js';
import { acknowledgedVerdict, type DecisionControls } from './controls.js';
import { controlVerdicts } from './limits.js';
import { describeSignal, errorRatioOf, measuredValue, notABurn, thresholdFor } from './measure.js';
import {
  burningNowVerdict,
  enabledVerdict,
  eventTimeVerdict,
  incidentRollbackVerdict,
  returnedReleaseVerdict,
  type IncidentView,
  type TargetView,
} from './rule-verdicts.js';

export { applyDecision, applyIncident, initialServiceState, rollbackAttemptOf, withUnavailableSince } from './records.js';
export { cooldownStartOf } from './limits.js';
export { errorRatioOf, measuredValue, thresholdFor } from './measure.js';
export { MAX_SUPERSEDED_ROLLBACKS, type IncidentView, type TargetView } from './rule-verdicts.js';

/** What `decide` returns: the action, the one-line reason, and every rule's verdict. */
export interface Decision {
  action: DecisionAction;
  reason: string;
  verdicts: RuleVerdict[];
  /** The event's own time (clamped to its receipt time); decisions never read the wall clock. */
  decidedAt: string;
  /** The error ratio the decision was based on (a burn rate is converted with the SLO goal). */
  errorRatio: number | null;
  /** How sure the decision is that the serving release caused the burn; null when there is no burn to blame. */
  confidence: Confidence | null;
  /** The release blamed: the one serving when the burn started; null when none can be. */
  cause: Cause | null;
  /** The incident's start when this alert shows an open burn over its bar (the serving release is then marked as burned), else null. */
  burnStartedAt: string | null;
  /** When the decider evaluated it (controls.evaluatedAt, else decidedAt): the time the breaker's stamps carry. */
  evaluatedAt: string;
  /**
   * When the incident is to be decided again: the cause of this hold or
   * escalation lapses then (a pause ends, a cooldown or rate-limit hour runs
   * out, a freeze or the breaker clears, Cloud Monitoring is asked again). Null
   * when nothing that can lapse refused it, or the incident is closed.
   */
  redecideAt: RedecideAt | null;
  /** A `recommend` decision: until when a human may approve it (approvalTtlMinutes after evaluatedAt); null otherwise. */
  approvableUntil: string | null;
}

/**
 * Decides what to do about one alert for one service. Pure: a function of
 * (state, event, policy, incident, target) only, so replaying recorded events
 * reproduces every decision. Every rule is evaluated and kept in the trace, even
 * after one fails; the first failing rule is the reason, and says whether to hold
 * or escalate. `incident` is what was already known of this incident: a closed
 * incident stays closed, so an "open" notification delivered after its "closed"
 * one is late, not news; and its one rollback, once ordered, is never followed
 * by another. `target` is what Burnback knows of the Cloud Deploy target (what
 * serves it since when, what served before, what Burnback did to it).
 * `monitoring` is Cloud Monitoring's reading of the SLO, null when the service
 * names none. A rollback needs a confidence of at least policy.minConfidence
 * that the serving release caused the burn (see confidence.ts); below it, escalate.
 */
export function decide(
  state: ServiceState,
  event: AlertEvent,
  policy: PolicySettings,
  incident: IncidentView | null = null,
  target: TargetView | null = null,
  monitoring: MonitoringCheck | null = null,
  controls: DecisionControls = {},
): Decision {
  const approves = event.manual?.approves;
  if (event.manual && approves) return decideApproval(state, event, { ...event.manual, approves }, policy, incident, target, controls);
  if (event.manual) return decideManual(state, event, event.manual, policy, incident, controls);
  const time = eventTimeVerdict(event);
  const now = Date.parse(time.time);
  const ratio = errorRatioOf(event, policy);
  const verdicts: RuleVerdict[] = [time.verdict, enabledVerdict(policy)];

  const closedBefore = incident?.state === 'closed';
  const open = event.state === 'open' && !closedBefore;
  verdicts.push({
    rule: RuleNames.incidentOpen,
    passed: open,
    detail: open
      ? `incident ${event.incidentId} is open`
      : event.state === 'open'
        ? `incident ${event.incidentId} already closed${incident?.endedAt ? ` at ${incident.endedAt}` : ''}: this open notification arrived late`
        : `incident ${event.incidentId} is closed: the service recovered`,
  });

  const bar = thresholdFor(event, policy);
  const measured = measuredValue(event);
  const overThreshold = bar !== null && measured !== null && measured > bar.value;
  const burnVerdict: RuleVerdict = {
    rule: RuleNames.errorRatio,
    passed: overThreshold,
    detail:
      bar === null
        ? notABurn(event)
        : ratio === null
          ? 'the alert carries no observed value, so the error budget burn cannot be confirmed'
          : `${describeSignal(event, ratio)} ${overThreshold ? 'exceeds' : 'does not exceed'} ${bar.text}`,
  };
  // A human has taken over: an acknowledged incident or a paused service holds, before any judgement that
  // would page (escalate); every later verdict is still evaluated and kept in the trace.
  const tail = controlVerdicts(state, event, policy, controls, now, null);
  verdicts.push(burnVerdict, acknowledgedVerdict(event, controls.acknowledgement), tail.paused);

  const incidentVerdict = incidentRollbackVerdict(event, incident);
  const targetVerdict = returnedReleaseVerdict(target);
  const evaluatedAt = controls.evaluatedAt ? Date.parse(controls.evaluatedAt) : now;
  const burningNow = burningNowVerdict(event, monitoring, policy, overThreshold && open, evaluatedAt);
  verdicts.push(incidentVerdict, targetVerdict, burningNow.verdict);

  const blame = bar !== null && measured !== null ? confidenceOf(event, policy, bar, measured, target, monitoring) : null;
  const confident = blame !== null && blame.confidence.value >= policy.minConfidence;
  const confidenceVerdict: RuleVerdict = {
    rule: RuleNames.confidence,
    passed: confident,
    detail:
      blame === null
        ? 'there is no burn to blame on a release'
        : `confidence ${blame.confidence.value} ${confident ? 'reaches' : 'is below'} ${policy.minConfidence} that ${blame.cause ? blame.cause.releaseId : 'the serving release'} caused the burn (${blame.confidence.factors.map((f) => `${f.name} ${f.value}`).join(', ')})`,
  };
  verdicts.push(confidenceVerdict, ...tail.verdicts);
  // Refusals that need a human: the incident's rollback has finished and it still burns, rolling back would
  // ping-pong, the burn cannot be blamed on the serving release with enough confidence, a freeze, or the breaker.
  const stage = incident?.rollback?.stage;
  const escalating = new Set<RuleVerdict>([
    targetVerdict,
    confidenceVerdict,
    ...tail.escalating,
    ...(burningNow.escalates ? [burningNow.verdict] : []),
    ...(stage && isFinalStage(stage) ? [incidentVerdict] : []),
  ]);

  const failed = verdicts.find((v) => !v.passed);
  // An alert that measures no burn (unsupported, or an SLO budget signal) is recorded and ignored, never acted on.
  const ignored = failed === burnVerdict && bar === null;
  const wouldRollBack = `${burnVerdict.detail}; ${blame?.cause ? `caused by ${blame.cause.releaseId}` : 'no release to blame'} (confidence ${blame?.confidence.value}); rate limit and cooldown clear`;
  const { action, reason } = verdictOutcome(failed, tail.mode, escalating, ignored, wouldRollBack);
  // A hold or escalation whose cause lapses is decided again then, while the incident is open.
  const lapses = new Map<RuleVerdict, number | null>([...tail.lapses, [burningNow.verdict, burningNow.lapsesAt]]);
  const lapsesAt = failed && open && action !== DecisionActions.ignore ? (lapses.get(failed) ?? null) : null;
  return {
    action,
    reason,
    verdicts,
    decidedAt: time.time,
    errorRatio: ratio,
    confidence: blame?.confidence ?? null,
    cause: blame?.cause ?? null,
    burnStartedAt: overThreshold && open ? event.startedAt : null,
    evaluatedAt: controls.evaluatedAt ?? time.time,
    redecideAt: lapsesAt === null ? null : redecideAt(failed!, lapsesAt),
    approvableUntil: approvableUntil(action, controls.evaluatedAt ?? time.time, policy),
  };
}

/** When and why an incident is decided again: the failed rule, and the moment its cause lapses (never before it was decided). */
function redecideAt(failed: RuleVerdict, at: number): RedecideAt {
  return { at: new Date(at).toISOString(), rule: failed.rule, detail: failed.detail };
}

/**
 * The action and one-line reason from the first failing verdict: none fails,
 * roll back; only the mode fails, recommend (mode recommend) or hold saying
 * what would have been done (mode observe); otherwise ignore, escalate or hold.
 */
function verdictOutcome(
  failed: RuleVerdict | undefined,
  mode: RuleVerdict,
  escalating: Set<RuleVerdict>,
  ignored: boolean,
  wouldRollBack: string,
): { action: DecisionAction; reason: string } {
  if (!failed) return { action: DecisionActions.rollback, reason: `roll back: ${wouldRollBack}` };
  if (failed === mode)
    return mode.detail.startsWith(`mode ${Modes.recommend}`)
      ? { action: DecisionActions.recommend, reason: `recommend a rollback (validate only): ${wouldRollBack}` }
      : { action: DecisionActions.hold, reason: `no rollback (mode observe), would roll back: ${wouldRollBack}` };
  const action = ignored ? DecisionActions.ignore : escalating.has(failed) ? DecisionActions.escalate : DecisionActions.hold;
  const word = action === DecisionActions.escalate ? 'escalate' : action === DecisionActions.ignore ? 'ignore' : 'no rollback';
  return { action, reason: `${word}: ${failed.detail}` };
}

/**
 * A manual rollback request (`POST /rollback/manual/{service}`): judged on who
 * asked and why instead of a burn, under the same controls, rate limit and
 * cooldown (which `force` bypasses, saying so), and at most one rollback per
 * request (its incident). The mode still applies: observe commands nothing.
 */
function decideManual(
  state: ServiceState,
  event: AlertEvent,
  manual: NonNullable<AlertEvent['manual']>,
  policy: PolicySettings,
  incident: IncidentView | null,
  controls: DecisionControls,
): Decision {
  const time = eventTimeVerdict(event);
  const now = Date.parse(time.time);
  const request: RuleVerdict = {
    rule: RuleNames.manualRequest,
    passed: true,
    detail: `${manual.requestedBy} asked to roll ${state.service} back${manual.releaseId ? ` to ${manual.releaseId}` : ''}: ${manual.reason}${manual.force ? ' (force)' : ''}`,
  };
  const incidentVerdict = incidentRollbackVerdict(event, incident);
  const tail = controlVerdicts(state, event, policy, controls, now, manual.force ? manual.reason : null);
  const verdicts = [time.verdict, enabledVerdict(policy), request, incidentVerdict, tail.paused, ...tail.verdicts];
  const failed = verdicts.find((v) => !v.passed);
  const stage = incident?.rollback?.stage;
  const escalating = new Set<RuleVerdict>([...tail.escalating, ...(stage && isFinalStage(stage) ? [incidentVerdict] : [])]);
  const { action, reason } = verdictOutcome(failed, tail.mode, escalating, false, `manual request: ${request.detail}`);
  return {
    action,
    reason,
    verdicts,
    decidedAt: time.time,
    errorRatio: null,
    confidence: null,
    cause: null,
    burnStartedAt: null,
    evaluatedAt: controls.evaluatedAt ?? time.time,
    // A held request is not carried out later on its own: the person who asked hears why, and asks again (or forces).
    redecideAt: null,
    approvableUntil: approvableUntil(action, controls.evaluatedAt ?? time.time, policy),
  };
}

/**
 * A human's approval of a recommendation (`POST /decisions/{id}/approve`):
 * judged again at approval time, on the recommendation's incident. The
 * incident must be open and its one rollback not taken; the approval within
 * the recommendation's time to approve at the decider's clock, and decided
 * once; the rollout the recommendation saw must still serve (or, where it
 * recorded none, the release it blamed). Then the controls, breaker, rate limit
 * and cooldown apply as to a manual request (`force` passes them, saying so),
 * and the mode recommend passes: the approval is the human step it asks for.
 * Acknowledgement does not hold it: a human is acting. Never decided again on its own.
 */
function decideApproval(
  state: ServiceState,
  event: AlertEvent,
  approval: ApprovalRequest,
  policy: PolicySettings,
  incident: IncidentView | null,
  target: TargetView | null,
  controls: DecisionControls,
): Decision {
  const time = eventTimeVerdict(event);
  const now = Date.parse(time.time);
  const incidentVerdict = incidentRollbackVerdict(event, incident);
  // The time to approve is judged at the decider's clock, like a freeze: an approval decided late is late.
  const approved = approvalVerdict(event, approval, time.time, controls.evaluatedAt ?? time.time);
  const tail = controlVerdicts(state, event, policy, controls, now, approval.force ? approval.reason : null);
  const mode = approvalModeVerdict(policy, approval.requestedBy);
  const verdicts = [
    time.verdict,
    enabledVerdict(policy),
    approvalIncidentVerdict(event, incident),
    incidentVerdict,
    approved,
    servingUnchangedVerdict(approval, target),
    tail.paused,
    ...tail.verdicts.map((v) => (v === tail.mode ? mode : v)),
  ];
  const failed = verdicts.find((v) => !v.passed);
  const stage = incident?.rollback?.stage;
  const escalating = new Set<RuleVerdict>(stage && isFinalStage(stage) ? [...tail.escalating, incidentVerdict] : tail.escalating);
  const { action, reason } = verdictOutcome(failed, mode, escalating, false, `approval: ${approved.detail}`);
  return {
    action,
    reason,
    verdicts,
    decidedAt: time.time,
    errorRatio: null,
    confidence: null,
    // The release the recommendation blamed: the command carries it, and the executor never returns to it.
    cause: approval.approves.cause,
    burnStartedAt: null,
    evaluatedAt: controls.evaluatedAt ?? time.time,
    // Like a manual request, a refused approval is not carried out later on its own: whoever approved hears why.
    redecideAt: null,
    approvableUntil: null,
  };
}
