/**
 * The two lanes (docs/architecture.md, "The storm lane"). Pure.
 *
 * An alert is in the fast lane when it could roll back: an open incident whose
 * value is over its bar on a signal Burnback acts on, or a human's request.
 * Everything else (a close, a value at or below its bar, a signal with no bar, an
 * alert with no value) is in the bulk lane: whatever the service's history, its
 * decision is a hold or an ignore decided by the first four rules, which read the
 * alert, the policy and the incident only. The bulk lane decides it with
 * `decideBulk`, without the service's document, its controls, Cloud Deploy's
 * record, Cloud Monitoring or the fleet, and says so in the trace.
 */
import { DecisionLanes, RuleNames, type AlertEvent, type DecisionLane, type PolicySettings, type RuleVerdict } from '@burnback/contracts';
import { decide, initialServiceState, type Decision, type IncidentView } from './decide.js';
import { measuredValue, thresholdFor } from './measure.js';

/** Which lane an alert belongs to, from the alert and its service's policy alone (ingest and the decider both ask). */
export function laneOf(event: AlertEvent, policy: PolicySettings): DecisionLane {
  if (event.manual) return DecisionLanes.fast;
  if (event.state !== 'open') return DecisionLanes.bulk;
  const bar = thresholdFor(event, policy);
  const measured = measuredValue(event);
  return bar !== null && measured !== null && measured > bar.value ? DecisionLanes.fast : DecisionLanes.bulk;
}

/** The rules a bulk-lane decision may be decided by: each reads the alert, the policy and the incident only. */
const ALERT_ONLY_RULES: ReadonlySet<string> = new Set([
  RuleNames.eventTime,
  RuleNames.enabled,
  RuleNames.incidentOpen,
  RuleNames.errorRatio,
]);

/** The verdict that ends a bulk-lane trace: why the rules after the deciding one were not evaluated. */
export function laneVerdict(event: AlertEvent): RuleVerdict {
  const why = event.state !== 'open' ? 'it is a close' : 'its value is not over its bar';
  return {
    rule: RuleNames.lane,
    passed: true,
    detail: `bulk lane: this alert cannot roll back (${why}), so it was decided on the alert and its incident alone; the service's history, controls, Cloud Deploy's record and the fleet were not read`,
  };
}

/**
 * A bulk-lane alert's decision: decide()'s own, on the alert, the policy and the
 * incident as read (no service history, target, Monitoring, controls or fleet),
 * its trace cut after the rule that decided it, with the lane's verdict last; no
 * confidence or cause (there is no burn to blame). Null when the alert is not in
 * the bulk lane, or its decision would depend on more than the incident (the
 * fast lane's transaction then decides it).
 */
export function decideBulk(event: AlertEvent, policy: PolicySettings, incident: IncidentView | null, evaluatedAt: string): Decision | null {
  if (laneOf(event, policy) !== DecisionLanes.bulk) return null;
  const decision = decide(initialServiceState(event.service), event, policy, incident, null, null, {
    pause: null,
    acknowledgement: null,
    evaluatedAt,
    fleet: null,
  });
  const failedAt = decision.verdicts.findIndex((v) => !v.passed);
  // Defensive: decide() evaluates these four rules first, and a bulk-lane alert always fails one of them (the lanes'
  // tests pin both), which also makes the decision a hold or an ignore that is never decided again. Should a rule
  // ever come before them, the fast lane decides instead of a trace that hides what was not read.
  // Stryker disable next-line all: unreachable while decide() keeps its order, which lanes.test.ts checks
  if (failedAt < 0 || !ALERT_ONLY_RULES.has(decision.verdicts[failedAt]!.rule)) return null;
  return {
    ...decision,
    verdicts: [...decision.verdicts.slice(0, failedAt + 1), laneVerdict(event)],
    confidence: null,
    cause: null,
    burnStartedAt: null,
    approvableUntil: null,
  };
}
