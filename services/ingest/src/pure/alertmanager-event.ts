import { AlertSources, type AlertEvent } from '@burnback/contracts';
import type { AlertEntry } from './alertmanager-payload.js';
import { AlertLabels, classifyAlert, mapAlertToService, VALUE_ANNOTATION, type AlertServiceConfig } from './alertmanager-signal.js';

/**
 * One read Alertmanager alert → the AlertEvent the decider consumes, or why
 * there is none: no configured service (unmapped, as for Monitoring), or a
 * value that is not a number (refused). Pure.
 */

/** Plain decimal notation (Prometheus writes `0.05`, `1.44e-01`), linear to match; as Monitoring's values are read. */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** The longest value text read (a double has 17 significant digits; the rest is sign, point and exponent). */
const MAX_VALUE_TEXT = 64;

/** The alert's `burnback_value` annotation as a number: null when absent or blank; a problem when it is not a finite number. */
export function alertValueOf(annotations: Readonly<Record<string, string>>): { value: number | null } | { problem: string } {
  const text = Object.hasOwn(annotations, VALUE_ANNOTATION) ? annotations[VALUE_ANNOTATION]!.trim() : '';
  if (text === '') return { value: null };
  if (text.length > MAX_VALUE_TEXT)
    return { problem: `annotation ${VALUE_ANNOTATION} is ${text.length} characters long; a number is at most ${MAX_VALUE_TEXT}` };
  const n = DECIMAL.test(text) ? Number(text) : Number.NaN;
  return Number.isFinite(n) ? { value: n } : { problem: `annotation ${VALUE_ANNOTATION} is not a number: ${JSON.stringify(text)}` };
}

export type AlertmanagerEventResult =
  | { kind: 'event'; event: AlertEvent }
  /** Read, but for no configured service (or for one it contradicts): acknowledged, never dead-lettered. */
  | { kind: 'unmapped'; reason: string; misconfigured: boolean; project: string }
  | { kind: 'refused'; problem: string };

type ReadAlert = Extract<AlertEntry, { ok: true }>;

/** The AlertEvent of one read alert, for the service its labels map it to, observed at `observedAt`. */
export function toAlertmanagerEvent(
  entry: ReadAlert,
  ctx: { services: ReadonlyMap<string, AlertServiceConfig>; observedAt: Date },
): AlertmanagerEventResult {
  const { alert } = entry;
  const labels = alert.labels;
  const project = Object.hasOwn(labels, AlertLabels.project) ? labels[AlertLabels.project]! : '';
  const mapped = mapAlertToService(labels, ctx.services);
  if (mapped.kind === 'unmapped') return { kind: 'unmapped', reason: mapped.reason, misconfigured: mapped.misconfigured, project };
  const value = alertValueOf(alert.annotations);
  if ('problem' in value) return { kind: 'refused', problem: value.problem };
  const { signal, thresholdValue } = classifyAlert(alert, mapped.service, { observed: value.value, threshold: null });
  const label = (key: string) => (Object.hasOwn(labels, key) ? labels[key]! : undefined);
  const annotation = (key: string) => (Object.hasOwn(alert.annotations, key) ? alert.annotations[key]! : undefined);
  return {
    kind: 'event',
    event: {
      incidentId: entry.incidentId,
      service: mapped.service.name,
      state: entry.state,
      startedAt: entry.startedAt,
      endedAt: entry.endedAt,
      observedAt: ctx.observedAt.toISOString(),
      observedValue: value.value,
      // The rule's own threshold, as it compares it (an error ratio: factor × budget for a burn rate).
      thresholdValue,
      ...signal,
      policyName: label('alertname') ?? '',
      conditionName: annotation('summary') ?? annotation('title') ?? '',
      severity: label('severity') ?? label('sloth_severity') ?? 'no severity',
      resourceType: 'prometheus_alert',
      resourceLabels: { ...labels },
      policyUserLabels: {},
      scopingProjectId: project,
      url: alert.generatorURL ?? '',
      source: AlertSources.alertmanager,
      notificationId: entry.notificationId,
    },
  };
}
