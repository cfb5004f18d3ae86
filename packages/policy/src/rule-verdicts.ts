/**
 * The rules of an automatic decision that read the alert, the incident, the
 * target and Cloud Monitoring (event time, enabled, one rollback per incident,
 * returned release, burning now). Pure; `decide` puts them in order.
 */
import {
  RuleNames,
  type AlertEvent,
  type IncidentRecord,
  type IncidentRollback,
  type MonitoringCheck,
  type PolicySettings,
  type RuleVerdict,
  type TargetRecord,
} from '@burnback/contracts';

const MINUTE_MS = 60_000;

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

/** The event's time: its observed time, clamped to its receipt time when it claims to be later. */
export function eventTimeVerdict(event: AlertEvent): { verdict: RuleVerdict; time: string } {
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
export function incidentRollbackVerdict(event: AlertEvent, incident: IncidentView | null): RuleVerdict {
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

export function returnedReleaseVerdict(target: TargetView | null): RuleVerdict {
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
export function burningNowVerdict(
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

export function enabledVerdict(policy: PolicySettings): RuleVerdict {
  return {
    rule: RuleNames.enabled,
    passed: policy.enabled,
    detail: policy.enabled ? 'automatic rollbacks are switched on' : 'automatic rollbacks are switched off for this service',
  };
}
