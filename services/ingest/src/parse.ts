import { createHash } from 'node:crypto';
import {
  formatZodError,
  MonitoringNotification,
  PermanentError,
  PolicyUserLabels,
  SignalKinds,
  SUPPORTED_NOTIFICATION_VERSIONS,
  type AlertEvent,
  type AlertSource,
  type MonitoringIncident,
  type SignalKind,
} from '@burnback/contracts';
import type { ServiceConfig } from '@burnback/platform';

/** Thrown for a console "Send test notification": valid, but not an incident to act on. */
export class TestNotification extends Error {
  override name = 'TestNotification';
}

/** Parses raw notification bytes into a validated 1.2 notification, or throws PermanentError with the reason. */
export function parseNotification(raw: Buffer | string): MonitoringNotification {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PermanentError(`notification is not JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new PermanentError('notification must be a JSON object with "version" and "incident"');
  }
  const version = (json as { version?: unknown }).version;
  if (typeof version === 'string' && !(SUPPORTED_NOTIFICATION_VERSIONS as readonly string[]).includes(version)) {
    throw new PermanentError(
      `unsupported notification schema version "${version}" (supported: ${SUPPORTED_NOTIFICATION_VERSIONS.join(', ')})`,
    );
  }
  if (version === 'test') throw new TestNotification('Cloud Monitoring test notification');
  const parsed = MonitoringNotification.safeParse(json);
  if (!parsed.success) throw new PermanentError(`invalid Monitoring notification: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A Monitoring value ("0.025", 0.025) as a number; null when absent; PermanentError when not a number. */
export function parseValue(value: string | number | null | undefined, field: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' && value.trim() === '') return null;
  const text = typeof value === 'string' ? value.trim() : null;
  // Plain decimal notation only: Number() would also take "0x10", "0b1" and "Infinity".
  const n = text === null ? (value as number) : DECIMAL.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(n)) throw new PermanentError(`incident.${field} is not a number: ${JSON.stringify(value)}`);
  return n;
}

const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** The lookback of a `select_slo_burn_rate("…", "3600s")` condition, in seconds; null when absent or unreadable. */
export function burnRateLookbackSeconds(incident: MonitoringIncident): number | null {
  const filter = incident.condition?.conditionThreshold?.filter ?? '';
  const m = /select_slo_burn_rate\s*\(\s*"[^"]*"\s*,\s*"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)"\s*\)/.exec(filter);
  return m ? Number(m[1]) * UNIT_SECONDS[m[2]!]! : null;
}

/** Burn-rate conditions (`select_slo_burn_rate`) report a burn rate; the others an error ratio. */
export function signalOf(incident: MonitoringIncident): SignalKind {
  const filter = incident.condition?.conditionThreshold?.filter ?? '';
  return /select_slo_burn_rate\s*\(/.test(filter) ? SignalKinds.burnRate : SignalKinds.errorRatio;
}

/**
 * The Burnback service an incident belongs to: the policy's `burnback-service`
 * user label when it names a configured service, else the service whose resource
 * labels the incident's monitored resource carries.
 */
export function mapToService(incident: MonitoringIncident, services: Record<string, ServiceConfig>): ServiceConfig {
  const labelled = incident.policy_user_labels?.[PolicyUserLabels.service];
  if (labelled) {
    const s = services[labelled];
    if (!s) throw new PermanentError(`policy user label ${PolicyUserLabels.service}="${labelled}" names no configured service`);
    return s;
  }
  const type = incident.resource?.type ?? '';
  const labels = incident.resource?.labels ?? {};
  const matches = Object.values(services).filter(
    (s) =>
      (s.match.resourceType === null || s.match.resourceType === type) &&
      Object.entries(s.match.resourceLabels).every(([k, v]) => labels[k] === v),
  );
  if (matches.length === 1) return matches[0]!;
  const described = `resource ${type || '(none)'} ${JSON.stringify(labels)}`;
  if (matches.length === 0) throw new PermanentError(`no configured service matches incident ${incident.incident_id} on ${described}`);
  throw new PermanentError(
    `incident ${incident.incident_id} on ${described} matches several services: ${matches.map((m) => m.name).join(', ')}`,
  );
}

/** Id of a raw notification: the same bytes for the same incident state always give the same id. */
export function notificationIdFor(incidentId: string, state: string, raw: Buffer | string): string {
  return `ntf-${createHash('sha256').update(`${incidentId}\u0000${state}\u0000`).update(raw).digest('hex').slice(0, 24)}`;
}

const iso = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString();

/** Normalises a parsed notification into the AlertEvent the decider consumes. */
export function toAlertEvent(
  notification: MonitoringNotification,
  ctx: { services: Record<string, ServiceConfig>; source: AlertSource; observedAt: Date; notificationId: string },
): AlertEvent {
  const incident = notification.incident;
  const service = mapToService(incident, ctx.services);
  const endedAt = incident.ended_at ? iso(incident.ended_at) : null;
  return {
    incidentId: incident.incident_id,
    service: service.name,
    state: incident.state,
    startedAt: iso(incident.started_at),
    endedAt,
    observedAt: ctx.observedAt.toISOString(),
    observedValue: parseValue(incident.observed_value, 'observed_value'),
    thresholdValue:
      parseValue(incident.threshold_value, 'threshold_value') ?? incident.condition?.conditionThreshold?.thresholdValue ?? null,
    signal: signalOf(incident),
    lookbackSeconds: signalOf(incident) === SignalKinds.burnRate ? burnRateLookbackSeconds(incident) : null,
    policyName: incident.policy_name,
    conditionName: incident.condition_name,
    severity: incident.severity,
    resourceType: incident.resource?.type ?? '',
    resourceLabels: incident.resource?.labels ?? {},
    policyUserLabels: incident.policy_user_labels ?? {},
    scopingProjectId: incident.scoping_project_id,
    url: incident.url,
    source: ctx.source,
    notificationId: ctx.notificationId,
  };
}
