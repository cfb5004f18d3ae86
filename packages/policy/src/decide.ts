import {
  DecisionActions,
  RuleNames,
  SignalKinds,
  type AlertEvent,
  type DecisionAction,
  type IncidentRecord,
  type PolicySettings,
  type RuleVerdict,
  type ServiceState,
} from '@burnback/contracts';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** What `decide` returns: the action, the one-line reason, and every rule's verdict. */
export interface Decision {
  action: DecisionAction;
  reason: string;
  verdicts: RuleVerdict[];
  /** The event's own time; decisions never read the wall clock. */
  decidedAt: string;
  /** The error ratio the decision was based on (a burn rate is converted with the SLO goal). */
  errorRatio: number | null;
}

const pct = (x: number): string => `${+(x * 100).toFixed(3)} %`;

/** The error ratio an alert's value stands for, or null when the alert carries none. */
export function errorRatioOf(event: AlertEvent, policy: PolicySettings): number | null {
  if (event.observedValue === null) return null;
  switch (event.signal) {
    case SignalKinds.errorRatio:
      return event.observedValue;
    case SignalKinds.burnRate:
      return event.observedValue * (1 - policy.sloGoal);
    default: {
      const never: never = event.signal;
      throw new Error(`unknown signal ${String(never)}`);
    }
  }
}

function describeSignal(event: AlertEvent, ratio: number): string {
  return event.signal === SignalKinds.burnRate
    ? `burn rate ${event.observedValue}× (error ratio ${pct(ratio)})`
    : `error ratio ${pct(ratio)}`;
}

/**
 * Decides what to do about one alert for one service. Pure: a function of
 * (state, event, policy) only, so replaying recorded events reproduces every
 * decision. Every rule is evaluated and kept in the trace, even after one fails.
 * `incident` is what was already known of this incident: a closed incident stays
 * closed, so an "open" notification delivered after its "closed" one is late, not news.
 */
export function decide(
  state: ServiceState,
  event: AlertEvent,
  policy: PolicySettings,
  incident: Pick<IncidentRecord, 'state' | 'endedAt'> | null = null,
): Decision {
  const now = Date.parse(event.observedAt);
  const ratio = errorRatioOf(event, policy);
  const verdicts: RuleVerdict[] = [];

  verdicts.push({
    rule: RuleNames.enabled,
    passed: policy.enabled,
    detail: policy.enabled ? 'automatic rollbacks are switched on' : 'automatic rollbacks are switched off for this service',
  });

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

  const overThreshold = ratio !== null && ratio > policy.errorRatioThreshold;
  verdicts.push({
    rule: RuleNames.errorRatio,
    passed: overThreshold,
    detail:
      ratio === null
        ? 'the alert carries no observed value, so the error budget burn cannot be confirmed'
        : `${describeSignal(event, ratio)} ${overThreshold ? 'exceeds' : 'does not exceed'} the threshold of ${pct(policy.errorRatioThreshold)}`,
  });

  const lastHour = state.recentRollbacks.filter((r) => Date.parse(r.decidedAt) > now - HOUR_MS);
  const underLimit = lastHour.length < policy.maxRollbacksPerHour;
  verdicts.push({
    rule: RuleNames.rateLimit,
    passed: underLimit,
    detail: `${lastHour.length} rollback(s) of ${state.service} in the last hour; the limit is ${policy.maxRollbacksPerHour}`,
  });

  const cooldownMs = policy.cooldownMinutes * MINUTE_MS;
  const latest = state.recentRollbacks.reduce<number | null>((max, r) => {
    const t = Date.parse(r.decidedAt);
    return max === null || t > max ? t : max;
  }, null);
  const cooling = latest !== null && now - latest < cooldownMs;
  verdicts.push({
    rule: RuleNames.cooldown,
    passed: !cooling,
    detail:
      latest === null
        ? `no earlier rollback of ${state.service} on record`
        : cooling
          ? `last rollback ${Math.max(0, Math.round((now - latest) / MINUTE_MS))} min ago is within the ${policy.cooldownMinutes} min cooldown`
          : `last rollback ${Math.round((now - latest) / MINUTE_MS)} min ago is outside the ${policy.cooldownMinutes} min cooldown`,
  });

  verdicts.push({
    rule: RuleNames.dryRun,
    passed: !policy.dryRun,
    detail: policy.dryRun ? 'dry run: decisions are recorded but no rollback is ordered' : 'live: rollbacks are ordered',
  });

  const failed = verdicts.find((v) => !v.passed);
  const action = failed ? DecisionActions.none : DecisionActions.rollback;
  const reason = failed
    ? `no rollback: ${failed.detail}`
    : `roll back: ${verdicts.find((v) => v.rule === RuleNames.errorRatio)!.detail}; rate limit and cooldown clear`;
  return { action, reason, verdicts, decidedAt: event.observedAt, errorRatio: ratio };
}

/**
 * The service state after a decision: a rollback is remembered for as long as
 * any rule can still see it (the longer of one hour and the cooldown).
 */
export function applyDecision(
  state: ServiceState,
  decision: Decision,
  decisionId: string,
  rollbackId: string | null,
  policy: PolicySettings,
): ServiceState {
  const now = Date.parse(decision.decidedAt);
  const horizon = Math.max(HOUR_MS, policy.cooldownMinutes * MINUTE_MS);
  const kept = state.recentRollbacks.filter((r) => Date.parse(r.decidedAt) > now - horizon);
  const recentRollbacks =
    decision.action === DecisionActions.rollback && rollbackId !== null
      ? [...kept, { rollbackId, decidedAt: decision.decidedAt }]
      : kept;
  return { service: state.service, recentRollbacks, lastDecisionId: decisionId, updatedAt: decision.decidedAt };
}

/** The state of a service nothing has been decided for yet. */
export function initialServiceState(service: string): ServiceState {
  return { service, recentRollbacks: [], lastDecisionId: null, updatedAt: null };
}
