import {
  DecisionActions,
  isFinalStage,
  RuleNames,
  SignalKinds,
  type AlertEvent,
  type Cause,
  type Confidence,
  type DecisionAction,
  type MonitoringCheck,
  type IncidentRecord,
  type IncidentRollback,
  Modes,
  type PolicySettings,
  type RecentRollback,
  type RedecideAt,
  type RuleVerdict,
  type ServiceState,
  type TargetRecord,
} from '@burnback/contracts';
import { burnPolicyOf, confidenceOf } from './confidence.js';
import {
  acknowledgedVerdict,
  fleetBreakerVerdict,
  freezeEndsAt,
  freezeVerdict,
  modeVerdict,
  pausedVerdict,
  type DecisionControls,
} from './controls.js';

const HOUR_MS = 3_600_000;
/**
 * How many recent rollbacks a service's state keeps (one more than the hourly
 * limit when that is higher): the rate limit needs the newest `limit` of them,
 * and the cooldown the newest finish. An older rollback could only hold that if
 * it ran longer than the cooldowns of the five ordered after it (by default
 * 2.5 h, far beyond how long the executor tracks a rollout). Every decision
 * reads them all, so fewer is faster (see `npm run bench`).
 */
const REMEMBERED_ROLLBACKS = 5;
const MINUTE_MS = 60_000;

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
      return burnPolicyOf(event) === 'fast' ? fast : slow;
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

/** What `decide` needs to know of the incident: closed is final; its one rollback, if any. */
export type IncidentView = Pick<IncidentRecord, 'state' | 'endedAt'> & {
  rollback?: IncidentRollback | null;
  /** The incident's earlier rollbacks that were superseded before they rolled anything back. */
  supersededRollbacks?: readonly string[];
};

/**
 * How many times an incident's rollback may be superseded (the world changed
 * between decision and command) before Burnback stops trying on its own: a
 * target that keeps changing under it needs a human.
 */
export const MAX_SUPERSEDED_ROLLBACKS = 3;
/** What `decide` needs to know of the Cloud Deploy target. */
export type TargetView = Pick<TargetRecord, 'target' | 'quarantined' | 'returnedTo' | 'serving' | 'previous'>;

/** When a rollback stops counting for the cooldown: its real finish when known, else when it was decided. */
export function cooldownStartOf(rollback: RecentRollback): number {
  return Date.parse(rollback.finishedAt ?? rollback.decidedAt);
}

function eventTimeVerdict(event: AlertEvent): { verdict: RuleVerdict; time: string } {
  const clamped = event.receivedAt !== undefined && Date.parse(event.observedAt) > Date.parse(event.receivedAt);
  return clamped
    ? {
        time: event.receivedAt!,
        verdict: {
          rule: RuleNames.eventTime,
          passed: true,
          detail: `observed time ${event.observedAt} is after the receipt time ${event.receivedAt}: clamped to ${event.receivedAt}`,
        },
      }
    : { time: event.observedAt, verdict: { rule: RuleNames.eventTime, passed: true, detail: `observed at ${event.observedAt}` } };
}

/**
 * The incident's one rollback. In progress: hold (it may yet work). Finished
 * (failed, superseded, or succeeded and still burning): escalate, because the
 * automatic path has been tried; it is never retried for the same incident.
 */
function incidentRollbackVerdict(event: AlertEvent, incident: IncidentView | null): RuleVerdict {
  const rule = RuleNames.oneRollbackPerIncident;
  const rollback = incident?.rollback;
  if (!rollback) return { rule, passed: true, detail: `incident ${event.incidentId} has not been rolled back` };
  const head = `incident ${event.incidentId} already has its one rollback ${rollback.rollbackId}`;
  switch (rollback.stage) {
    case 'failed':
      return {
        rule,
        passed: false,
        detail: `${head}, which failed${rollback.finishedAt ? ` at ${rollback.finishedAt}` : ''}: a failed rollback is never retried automatically`,
      };
    case 'superseded': {
      // Superseded before it rolled anything back (a newer rollout, or a control set since the decision): the
      // incident is decided again on the world as it is now, and may be rolled back by a new attempt.
      const times = (incident?.supersededRollbacks?.length ?? 0) + 1;
      if (times >= MAX_SUPERSEDED_ROLLBACKS)
        return {
          rule,
          passed: false,
          detail: `incident ${event.incidentId}'s rollbacks were superseded ${times} times (the last, ${rollback.rollbackId}: ${rollback.detail ?? 'the world changed since its decision'}): the target keeps changing under Burnback, a human must decide`,
        };
      return {
        rule,
        passed: true,
        detail: `incident ${event.incidentId}'s rollback ${rollback.rollbackId} was superseded before it rolled anything back (${rollback.detail ?? 'the world changed since its decision'}): decided again on the world as it is now`,
      };
    }
    case 'succeeded':
      return {
        rule,
        passed: false,
        detail: `${head}, which succeeded${rollback.finishedAt ? ` at ${rollback.finishedAt}` : ''}, and it still burns: at most one rollback per incident`,
      };
    case null:
    case 'accepted':
    case 'started':
    case 'validated': // Validate-only progress never reaches the incident (outcome.ts); were it to, nothing was rolled back yet.
      return {
        rule,
        passed: false,
        detail: `${head}, still in progress (${rollback.stage ?? 'ordered'}): at most one rollback per incident`,
      };
    default: {
      const never: never = rollback.stage;
      // Stryker disable next-line StringLiteral: unreachable; the compiler proves the switch exhaustive
      throw new Error(`unknown stage ${String(never)}`);
    }
  }
}

function returnedReleaseVerdict(target: TargetView | null): RuleVerdict {
  const rule = RuleNames.returnedRelease;
  const quarantined =
    target && target.quarantined.length > 0 ? `; quarantined: ${target.quarantined.map((q) => q.releaseId).join(', ')}` : '';
  const back = target?.returnedTo;
  if (target && back && target.serving?.releaseId === back.releaseId) {
    return {
      rule,
      passed: false,
      detail: `${target.target} serves ${back.releaseId}, the release Burnback returned to (rollback ${back.rollbackId} at ${back.at}): rolling back again would ping-pong${quarantined}`,
    };
  }
  return { rule, passed: true, detail: `the target does not serve a release Burnback returned to${quarantined}` };
}

const minutes = (ms: number): number => Math.round(ms / MINUTE_MS);

/**
 * Cloud Monitoring's confirmation, when the service names its SLO: both windows
 * must still burn over the bar (a recovered service is not rolled back by a
 * late, redelivered or replayed alert). When Monitoring cannot answer, the
 * decision holds and asks again (with backoff) until `monitoringRetryMinutes`
 * after it first could not; then the service's onMonitoringUnavailable applies
 * (default escalate: never a silent hold). Without an SLO there is nothing to
 * confirm with, so an open alert decided more than `maxAlertAgeMinutes` after
 * its incident started escalates: it may describe a world that has moved on.
 * `escalates` says whether the failure needs a human; `lapsesAt` when asking
 * again could change it.
 */
function burningNowVerdict(
  event: AlertEvent,
  check: MonitoringCheck | null,
  policy: PolicySettings,
  burning: boolean,
  evaluatedAt: number,
): { verdict: RuleVerdict; escalates: boolean; lapsesAt: number | null } {
  const rule = RuleNames.burningNow;
  if (check === null) {
    const age = evaluatedAt - Date.parse(event.startedAt);
    if (burning && age > policy.maxAlertAgeMinutes * MINUTE_MS)
      return {
        verdict: {
          rule,
          passed: false,
          detail: `no SLO is configured to confirm the burn with Cloud Monitoring, and this open alert is decided ${minutes(age)} min after its incident started (more than maxAlertAgeMinutes, ${policy.maxAlertAgeMinutes} min): it may describe a world that has moved on; name the service's slo so Burnback can confirm a late burn`,
        },
        escalates: true,
        lapsesAt: null,
      };
    return {
      verdict: {
        rule,
        passed: true,
        detail: burning
          ? `Cloud Monitoring was not asked (no SLO is configured for this service); the alert is decided ${minutes(Math.max(0, age))} min after its incident started`
          : 'Cloud Monitoring was not asked (no SLO is configured for this service, or there is no burn to confirm)',
      },
      escalates: false,
      lapsesAt: null,
    };
  }
  if (check.status === 'unavailable') {
    const since = check.since === undefined ? null : Date.parse(check.since);
    const retryUntil = since === null ? null : since + policy.monitoringRetryMinutes * MINUTE_MS;
    if (retryUntil !== null && evaluatedAt < retryUntil) {
      // Asked again sooner at first, then less often: 15 s, 30 s, 1 min, 2 min, never past the retry window.
      const delay = Math.min(2 * MINUTE_MS, Math.max(15_000, evaluatedAt - since!));
      return {
        verdict: {
          rule,
          passed: false,
          detail: `Cloud Monitoring could not answer (${check.error}) since ${check.since}: asking again until ${new Date(retryUntil).toISOString()} (monitoringRetryMinutes ${policy.monitoringRetryMinutes}), then onMonitoringUnavailable: ${check.onUnavailable} applies`,
        },
        escalates: false,
        lapsesAt: Math.min(evaluatedAt + delay, retryUntil),
      };
    }
    const tried = since === null ? '' : ` for ${minutes(evaluatedAt - since)} min`;
    const again = evaluatedAt + policy.monitoringRetryMinutes * MINUTE_MS;
    switch (check.onUnavailable) {
      case 'decide-without':
        return {
          verdict: {
            rule,
            passed: true,
            detail: `Cloud Monitoring could not answer (${check.error})${tried}: decided without it (onMonitoringUnavailable: decide-without)`,
          },
          escalates: false,
          lapsesAt: null,
        };
      case 'hold':
        return {
          verdict: {
            rule,
            passed: false,
            detail: `Cloud Monitoring could not answer (${check.error})${tried}: held (onMonitoringUnavailable: hold)`,
          },
          escalates: false,
          lapsesAt: again,
        };
      case 'escalate':
        return {
          verdict: {
            rule,
            passed: false,
            detail: `Cloud Monitoring could not answer (${check.error})${tried}: the burn cannot be confirmed, a human must look (onMonitoringUnavailable: escalate)`,
          },
          escalates: true,
          lapsesAt: again,
        };
      default: {
        const never: never = check.onUnavailable;
        // Stryker disable next-line StringLiteral: unreachable; the compiler proves the switch exhaustive
        throw new Error(`unknown onUnavailable ${String(never)}`);
      }
    }
  }
  const still = check.long > check.threshold && check.short > check.threshold;
  const figures = `Cloud Monitoring reads ${check.long}× over ${check.longWindowSeconds} s and ${check.short}× over ${check.shortWindowSeconds} s at ${check.readAt} (bar ${check.threshold}×)`;
  return {
    verdict: { rule, passed: still, detail: still ? `${figures}: still burning` : `${figures}: the service has recovered` },
    escalates: false,
    lapsesAt: null,
  };
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
  };
}

/** When and why an incident is decided again: the failed rule, and the moment its cause lapses (never before it was decided). */
function redecideAt(failed: RuleVerdict, at: number): RedecideAt {
  return { at: new Date(at).toISOString(), rule: failed.rule, detail: failed.detail };
}

function enabledVerdict(policy: PolicySettings): RuleVerdict {
  return {
    rule: RuleNames.enabled,
    passed: policy.enabled,
    detail: policy.enabled ? 'automatic rollbacks are switched on' : 'automatic rollbacks are switched off for this service',
  };
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
 * The operator's and the fleet's rules, automatic or manual: the pause
 * (`paused`, placed by the caller), then the freeze, the fleet breaker, the rate
 * limit, the cooldown and the mode (`verdicts`, in that order). `force` (a manual
 * request's reason) passes all but the mode, each saying it was bypassed.
 */
function controlVerdicts(
  state: ServiceState,
  event: AlertEvent,
  policy: PolicySettings,
  controls: DecisionControls,
  now: number,
  force: string | null,
): {
  paused: RuleVerdict;
  verdicts: RuleVerdict[];
  escalating: RuleVerdict[];
  mode: RuleVerdict;
  /** When each refusal that can lapse does (epoch ms; null: not within reach). */
  lapses: Array<[RuleVerdict, number | null]>;
} {
  // A pause is judged at the event's time (a late alert from within a pause holds); a freeze at the decider's clock
  // (a backlog decided inside a freeze must not roll back).
  const paused = pausedVerdict(state.service, controls.pause, now);
  const evaluatedAt = controls.evaluatedAt ? Date.parse(controls.evaluatedAt) : now;
  const freeze = freezeVerdict(policy, evaluatedAt);
  const breaker = fleetBreakerVerdict(event, policy, controls.fleet);

  // One pass over the history: rollbacks ordered in the last hour, and the one the cooldown counts from.
  let inLastHour = 0;
  const orderedInHour: number[] = [];
  let latest: RecentRollback | null = null;
  let latestStart = 0;
  for (const r of state.recentRollbacks) {
    const decidedAt = Date.parse(r.decidedAt);
    if (decidedAt > now - HOUR_MS) {
      inLastHour++;
      orderedInHour.push(decidedAt);
    }
    const start = cooldownStartOf(r);
    if (latest === null || start > latestStart) {
      latest = r;
      latestStart = start;
    }
  }
  const underLimit = inLastHour < policy.maxRollbacksPerHour;
  const rateLimit: RuleVerdict = {
    rule: RuleNames.rateLimit,
    passed: underLimit,
    detail: `${inLastHour} rollback(s) of ${state.service} in the last hour; the limit is ${policy.maxRollbacksPerHour}`,
  };

  const cooldownMs = policy.cooldownMinutes * MINUTE_MS;
  const since = latest === null ? null : now - latestStart;
  const cooling = since !== null && since < cooldownMs;
  // Until its outcome is known, a rollback cools the service down from its decision time.
  const what = latest?.finishedAt ? `last rollback ${latest.outcome ?? 'finished'}` : 'last rollback';
  const cooldown: RuleVerdict = {
    rule: RuleNames.cooldown,
    passed: !cooling,
    detail:
      since === null
        ? `no earlier rollback of ${state.service} on record`
        : cooling
          ? `${what} ${Math.max(0, Math.round(since / MINUTE_MS))} min ago is within the ${policy.cooldownMinutes} min cooldown`
          : `${what} ${Math.round(since / MINUTE_MS)} min ago is outside the ${policy.cooldownMinutes} min cooldown`,
  };
  const mode = modeVerdict(policy);
  const bypassable = [paused, freeze, breaker, rateLimit, cooldown].map((v) =>
    force !== null && !v.passed ? { ...v, passed: true, detail: `bypassed by force (${force}): ${v.detail}` } : v,
  );
  const [p, f, b, r, c] = bypassable as [RuleVerdict, RuleVerdict, RuleVerdict, RuleVerdict, RuleVerdict];
  // When each refusal lapses: the pause's end; the end of the freeze in force; the breaker's window (burns age out
  // of it; rollbacks in flight end sooner); the hour of the oldest rollback that keeps the count at the limit; the
  // cooldown's end.
  orderedInHour.sort((x, y) => x - y);
  const overLimit = inLastHour - policy.maxRollbacksPerHour;
  const lapses: Array<[RuleVerdict, number | null]> = [
    [p, controls.pause ? Date.parse(controls.pause.until) : null],
    [f, freezeEndsAt(policy, evaluatedAt)],
    [b, breakerLapse(b, evaluatedAt, policy)],
    [r, policy.maxRollbacksPerHour > 0 && overLimit >= 0 ? orderedInHour[overLimit]! + HOUR_MS : null],
    [c, latest === null ? null : latestStart + cooldownMs],
  ];
  // A freeze or a tripped breaker needs a human: escalate. A pause, the rate limit or the cooldown: hold.
  return { paused: p, verdicts: [f, b, r, c, mode], escalating: [f, b], mode, lapses };
}

/** When to ask the fleet breaker again: after its window for too many burns; a minute on for rollbacks in flight (they end). */
function breakerLapse(verdict: RuleVerdict, evaluatedAt: number, policy: PolicySettings): number | null {
  if (verdict.passed) return null;
  return evaluatedAt + (verdict.detail.includes('in flight') ? MINUTE_MS : policy.breakerWindowMinutes * MINUTE_MS);
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
  };
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
    supersededRollbacks: replaces ? [...(known?.supersededRollbacks ?? []), previous.rollbackId] : (known?.supersededRollbacks ?? []),
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
