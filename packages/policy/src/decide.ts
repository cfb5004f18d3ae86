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
  BurnRateWindows,
} from '@burnback/contracts';

const HOUR_MS = 3_600_000;
/** How many recent rollbacks a service's state keeps (more when the hourly limit is higher). */
const REMEMBERED_ROLLBACKS = 20;
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

/**
 * The alert's value in its signal's own measure: ingest's signalValue (an error
 * ratio with the comparison's direction applied, or a burn rate), else the
 * observed value for events from an ingest that did not classify yet.
 */
export function measuredValue(event: AlertEvent): number | null {
  return event.signalValue ?? event.observedValue;
}

/** The error ratio an alert's value stands for, or null when the alert carries none (or measures no error ratio). */
export function errorRatioOf(event: AlertEvent, policy: PolicySettings): number | null {
  const value = measuredValue(event);
  if (value === null) return null;
  switch (event.signal) {
    case SignalKinds.errorRatio:
      return value;
    case SignalKinds.burnRate:
      return value * (1 - policy.sloGoal);
    case SignalKinds.budget:
    case SignalKinds.unsupported:
      return null;
    default: {
      const never: never = event.signal;
      // Stryker disable next-line StringLiteral: unreachable; the compiler proves the switch exhaustive
      throw new Error(`unknown signal ${String(never)}`);
    }
  }
}

/**
 * The bar an alert's value must clear. An error ratio is held to the error-ratio
 * threshold (runbook: 1 % over 1 h). A burn rate is held to the threshold of the
 * policy it comes from (ingest's burnPolicy: fast 14.4×, slow 6×); without one,
 * to the fast threshold for windows up to 1 h and the slow one otherwise.
 * Budget and unsupported signals have no bar: they never roll back.
 */
export function thresholdFor(event: AlertEvent, policy: PolicySettings): { value: number; text: string } | null {
  const fast = { value: policy.fastBurnRate, text: `the fast-burn threshold of ${policy.fastBurnRate}×` };
  const slow = { value: policy.slowBurnRate, text: `the slow-burn threshold of ${policy.slowBurnRate}×` };
  switch (event.signal) {
    case SignalKinds.errorRatio:
      return { value: policy.errorRatioThreshold, text: `the threshold of ${pct(policy.errorRatioThreshold)}` };
    case SignalKinds.burnRate:
      if (event.burnPolicy !== null) return event.burnPolicy === 'fast' ? fast : slow;
      return event.lookbackSeconds !== null && event.lookbackSeconds <= BurnRateWindows.fast.longSeconds ? fast : slow;
    case SignalKinds.budget:
    case SignalKinds.unsupported:
      return null;
    default: {
      const never: never = event.signal;
      // Stryker disable next-line StringLiteral: unreachable; the compiler proves the switch exhaustive
      throw new Error(`unknown signal ${String(never)}`);
    }
  }
}

function describeSignal(event: AlertEvent, ratio: number): string {
  if (event.signal !== SignalKinds.burnRate) return `error ratio ${pct(ratio)}`;
  const window =
    event.lookbackSeconds === null
      ? ''
      : ` over ${event.lookbackSeconds >= 3600 ? `${event.lookbackSeconds / 3600} h` : `${event.lookbackSeconds / 60} min`}`;
  return `burn rate ${measuredValue(event)}×${window} (error ratio ${pct(ratio)})`;
}

/** Why a budget or unsupported signal is never a rollback, for the decision's trace. */
function notABurn(event: AlertEvent): string {
  return event.signal === SignalKinds.budget
    ? `the alert is an SLO budget signal (${event.sloSelector ?? 'budget'}), cumulative over the compliance period, not a current burn: it never rolls back on its own`
    : `the alert measures something Burnback does not act on: ${event.unsupportedReason ?? 'unsupported signal'}`;
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

  const bar = thresholdFor(event, policy);
  const measured = measuredValue(event);
  const overThreshold = bar !== null && measured !== null && measured > bar.value;
  verdicts.push({
    rule: RuleNames.errorRatio,
    passed: overThreshold,
    detail:
      bar === null
        ? notABurn(event)
        : ratio === null
          ? 'the alert carries no observed value, so the error budget burn cannot be confirmed'
          : `${describeSignal(event, ratio)} ${overThreshold ? 'exceeds' : 'does not exceed'} ${bar.text}`,
  });

  const lastHour = state.recentRollbacks.filter((r) => Date.parse(r.decidedAt) > now - HOUR_MS);
  const underLimit = lastHour.length < policy.maxRollbacksPerHour;
  verdicts.push({
    rule: RuleNames.rateLimit,
    passed: underLimit,
    detail: `${lastHour.length} rollback(s) of ${state.service} in the last hour; the limit is ${policy.maxRollbacksPerHour}`,
  });

  const cooldownMs = policy.cooldownMinutes * MINUTE_MS;
  const latest = state.recentRollbacks.length > 0 ? Math.max(...state.recentRollbacks.map((r) => Date.parse(r.decidedAt))) : null;
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
      ? [...state.recentRollbacks, { rollbackId, decidedAt: decision.decidedAt }]
      : state.recentRollbacks;
  const keep = Math.max(REMEMBERED_ROLLBACKS, policy.maxRollbacksPerHour + 1);
  const recentRollbacks = [...all].sort((a, b) => Date.parse(a.decidedAt) - Date.parse(b.decidedAt)).slice(-keep);
  return { service: state.service, recentRollbacks, lastDecisionId: decisionId, updatedAt: decision.decidedAt };
}

/** The state of a service nothing has been decided for yet. */
export function initialServiceState(service: string): ServiceState {
  return { service, recentRollbacks: [], lastDecisionId: null, updatedAt: null };
}
