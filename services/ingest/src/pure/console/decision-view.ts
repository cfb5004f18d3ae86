/**
 * The decision page: why Burnback did what it did, from the decision record
 * alone (its reason, every verdict in order, the confidence and its factors,
 * the blamed release, Cloud Monitoring's figures, the controls and the fleet it
 * read, its evidence) and the links to follow it. Pure.
 */
import { approvalHowTo, type AlertEvent, type DecisionAction, type DecisionRecord } from '@burnback/contracts';
import {
  ACTION_MEANINGS,
  actionClass,
  ago,
  confidenceView,
  decisionHref,
  figure,
  monitoringView,
  replayCommands,
  rollbackHref,
  serviceHref,
  signalFigure,
  utc,
  verdictViews,
  type ConfidenceView,
  type MonitoringView,
  type VerdictView,
} from './format.js';

export interface Row {
  label: string;
  value: string;
  href?: string;
}

export interface DecisionPage {
  decisionId: string;
  service: string;
  serviceHref: string;
  incidentId: string;
  incidentState: string;
  action: DecisionAction;
  actionClass: string;
  actionMeaning: string;
  reason: string;
  decidedAt: string;
  decidedAgo: string;
  verdicts: VerdictView[];
  confidence: ConfidenceView | null;
  cause: { releaseId: string; servingSince: string } | null;
  monitoring: MonitoringView | null;
  alert: Row[] | null;
  controls: Row[];
  fleet: Row[] | null;
  evidence: { rows: Row[]; json: string } | null;
  rollback: { rollbackId: string; href: string } | null;
  redecisionOf: { decisionId: string; href: string } | null;
  redecideAt: { at: string; rule: string; detail: string } | null;
  approval: string | null;
  /** Every decision of the incident, oldest first, this one marked. */
  incidentDecisions: Array<{ decisionId: string; href: string; current: boolean }>;
  replay: { export: string; replay: string; file: string };
}

/** An alert's burn in its own measure, with the bar it was alerting against: "2.5 % (bar 1 %)". Null when it carries no value. */
export function burnText(alert: Pick<AlertEvent, 'signal' | 'signalValue' | 'signalThreshold' | 'observedValue'>): string | null {
  if (alert.signalValue !== null)
    return `${signalFigure(alert.signal, alert.signalValue)}${alert.signalThreshold !== null ? ` (bar ${signalFigure(alert.signal, alert.signalThreshold)})` : ''}`;
  return alert.observedValue !== null ? figure(alert.observedValue) : null;
}

function alertRows(alert: AlertEvent): Row[] {
  const burn = burnText(alert);
  return [
    { label: 'source', value: alert.source },
    {
      label: 'signal',
      value: alert.signal + (alert.burnPolicy ? ` (${alert.burnPolicy} burn, known from ${alert.burnPolicySource ?? 'unknown'})` : ''),
    },
    ...(burn ? [{ label: 'value', value: burn }] : []),
    ...(alert.unsupportedReason ? [{ label: 'why not acted on', value: alert.unsupportedReason }] : []),
    { label: 'incident', value: `${alert.incidentId} (${alert.state})` },
    { label: 'started', value: utc(alert.startedAt) },
    ...(alert.endedAt ? [{ label: 'ended', value: utc(alert.endedAt) }] : []),
    { label: 'observed', value: utc(alert.observedAt) },
    ...(alert.receivedAt ? [{ label: 'received', value: utc(alert.receivedAt) }] : []),
    { label: 'alert policy', value: alert.policyName },
    ...(alert.conditionName ? [{ label: 'condition', value: alert.conditionName }] : []),
    ...(alert.sloName ? [{ label: 'SLO', value: alert.sloName }] : []),
    ...(alert.manual
      ? [
          {
            label: alert.manual.approves ? 'approved by' : 'requested by',
            value: `${alert.manual.requestedBy}: ${alert.manual.reason}${alert.manual.force ? ' (force)' : ''}`,
          },
        ]
      : []),
    // Only a link Monitoring gave over https: a javascript: or data: URL in a notification is shown as text.
    ...(alert.url
      ? [{ label: 'in Cloud Monitoring', value: alert.url, ...(/^https:\/\//.test(alert.url) ? { href: alert.url } : {}) }]
      : []),
  ];
}

function controlRows(d: DecisionRecord): Row[] {
  const c = d.controls;
  if (!c) return [{ label: 'controls', value: 'not read (recorded before the controls were kept, or nothing could roll back)' }];
  return [
    { label: 'pause', value: c.pause ? `until ${utc(c.pause.until)} by ${c.pause.by}: ${c.pause.reason}` : 'none' },
    {
      label: 'acknowledgement',
      value: c.acknowledgement
        ? `by ${c.acknowledgement.by} at ${utc(c.acknowledgement.at)}${c.acknowledgement.reason ? `: ${c.acknowledgement.reason}` : ''}`
        : 'none',
    },
    ...(c.evaluatedAt ? [{ label: 'evaluated at (decider clock)', value: utc(c.evaluatedAt) }] : []),
  ];
}

export function decisionPage(d: DecisionRecord, now: number, incidentDecisionIds: readonly string[] = []): DecisionPage {
  const ev = d.evidence;
  const ids = incidentDecisionIds.includes(d.decisionId) ? incidentDecisionIds : [...incidentDecisionIds, d.decisionId];
  return {
    decisionId: d.decisionId,
    service: d.service,
    serviceHref: serviceHref(d.service),
    incidentId: d.incidentId,
    incidentState: d.incidentState,
    action: d.action,
    actionClass: actionClass(d.action),
    actionMeaning: ACTION_MEANINGS[d.action],
    reason: d.reason,
    decidedAt: utc(d.decidedAt),
    decidedAgo: ago(d.decidedAt, now),
    verdicts: verdictViews(d.verdicts),
    confidence: d.confidence ? confidenceView(d.confidence) : null,
    cause: d.cause ? { releaseId: d.cause.releaseId, servingSince: utc(d.cause.servingSince) } : null,
    monitoring: d.monitoring ? monitoringView(d.monitoring) : null,
    alert: ev ? alertRows(ev.alert) : null,
    controls: controlRows(d),
    fleet: d.fleet
      ? [
          { label: 'other services burning', value: d.fleet.burningServices.length ? d.fleet.burningServices.join(', ') : 'none' },
          { label: 'rollbacks in flight', value: d.fleet.inFlight.length ? d.fleet.inFlight.join(', ') : 'none' },
          { label: 'read at', value: utc(d.fleet.readAt) },
        ]
      : null,
    evidence: ev
      ? {
          rows: [
            { label: 'format version', value: String(ev.version) },
            { label: 'lane', value: ev.lane ?? 'fast' },
            { label: 'raw notification', value: `notifications/${ev.notificationId}` },
            { label: 'policy hash', value: ev.policyHash },
            {
              label: 'policy',
              value: `mode ${ev.policy.mode}${ev.policy.enabled ? '' : ' (disabled)'}; min confidence ${figure(ev.policy.minConfidence)}; cooldown ${figure(ev.policy.cooldownMinutes)} min; at most ${ev.policy.maxRollbacksPerHour} rollbacks an hour`,
            },
            {
              label: 'target as read',
              value: ev.target
                ? `serving ${ev.target.serving ? `${ev.target.serving.releaseId} since ${utc(ev.target.serving.since)}` : 'unknown'}${ev.target.previous ? `; before it ${ev.target.previous.releaseId} until ${utc(ev.target.previous.until)}` : ''}`
                : 'not read',
            },
            {
              label: 'service state as read',
              value: ev.state
                ? `${ev.state.recentRollbacks.length} recent rollback(s)${ev.state.recentRollbacks.length ? `, the latest ${ev.state.recentRollbacks[ev.state.recentRollbacks.length - 1]!.rollbackId}` : ''}`
                : 'not read',
            },
          ],
          json: JSON.stringify(ev, null, 2),
        }
      : null,
    rollback: d.rollbackId ? { rollbackId: d.rollbackId, href: rollbackHref(d.rollbackId) } : null,
    redecisionOf: d.redecisionOf ? { decisionId: d.redecisionOf, href: decisionHref(d.redecisionOf) } : null,
    redecideAt: d.redecideAt ? { at: utc(d.redecideAt.at), rule: d.redecideAt.rule, detail: d.redecideAt.detail } : null,
    approval: d.approvableUntil && Date.parse(d.approvableUntil) > now ? approvalHowTo(d.decisionId, d.approvableUntil) : null,
    incidentDecisions: ids.map((id) => ({ decisionId: id, href: decisionHref(id), current: id === d.decisionId })),
    replay: replayCommands(d.decisionId),
  };
}
