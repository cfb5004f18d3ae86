import { createHash } from 'node:crypto';
import {
  formatZodError,
  MonitoringNotification,
  PermanentError,
  PolicyUserLabels,
  SUPPORTED_NOTIFICATION_VERSIONS,
  type AlertEvent,
  type AlertSource,
  type MonitoringIncident,
} from '@burnback/contracts';
import type { ServiceConfig } from '@burnback/platform';
import { classifySignal, sloSelectorsOf, type SignalValues } from './signal.js';

/** Thrown for a console "Send test notification": valid, but not an incident to act on. */
export class TestNotification extends Error {
  override name = 'TestNotification';
}

/** Why a notification is refused, from a fixed set (a metric label), never free text. */
export const RejectionReasons = {
  invalidJson: 'invalid-json',
  notANotification: 'not-a-notification',
} as const;
export type RejectionReason = (typeof RejectionReasons)[keyof typeof RejectionReasons];

/** A notification that will never be accepted (a PermanentError), with why as one of RejectionReasons. */
export class RejectedNotification extends PermanentError {
  constructor(
    readonly reason: RejectionReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A valid notification that maps to no configured service: another project's
 * alert, or one the config does not describe. Not bad input (it is read, and
 * answered), so it is acknowledged and counted, never dead-lettered: the
 * dead-letter topic holds only what Burnback cannot read. `misconfigured` when
 * the notification names Burnback (its `burnback-service` label) or matches
 * several services: then an operator should look.
 */
export class UnmappedNotification extends Error {
  override name = 'UnmappedNotification';
  constructor(
    message: string,
    /** The project the incident's resource (else its scoping project) is in; '' when it names none. */
    readonly project: string,
    readonly misconfigured: boolean,
  ) {
    super(message);
  }
}

/** The reason of a permanent failure: its own when it is a RejectedNotification, else not-a-notification. */
export function rejectionReasonOf(err: unknown): RejectionReason {
  return err instanceof RejectedNotification ? err.reason : RejectionReasons.notANotification;
}

/** An unpaired UTF-16 surrogate: what a JSON escape such as "\ud800" parses to, and what Firestore and Pub/Sub refuse. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Whether every string and key in a parsed JSON value is well-formed Unicode.
 * Iterative, so a value nested 100,000 deep cannot overflow the stack.
 */
export function isWellFormedJson(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return false;
    } else if (typeof v === 'object' && v !== null) {
      for (const [key, child] of Object.entries(v)) {
        if (LONE_SURROGATE.test(key)) return false;
        stack.push(child);
      }
    }
  }
  return true;
}

/** Parses raw notification bytes into a validated 1.2 notification, or throws PermanentError with the reason. */
export function parseNotification(raw: Buffer | string): MonitoringNotification {
  const text = raw.toString(); // a Buffer decodes as UTF-8 (its default); a string is itself
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RejectedNotification(RejectionReasons.invalidJson, `notification is not JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new PermanentError('notification must be a JSON object with "version" and "incident"');
  }
  // Bytes decode to well-formed text, but an escape can still make a lone surrogate, which the store
  // (and Pub/Sub) would refuse on every retry: refuse it here, once, as the bad input it is.
  if (!isWellFormedJson(json))
    throw new RejectedNotification(
      RejectionReasons.invalidJson,
      'notification holds a string that is not well-formed Unicode (an unpaired surrogate)',
    );
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

/** Plain decimal notation, linear to match (no two quantifiers compete for the same digits). */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** The longest number text read: a double has 17 significant digits; the rest is sign, point and exponent. */
export const MAX_NUMBER_TEXT = 64;

/** A Monitoring value ("0.025", 0.025) as a number; null when absent; PermanentError when not a number. */
export function parseValue(value: string | number | null | undefined, field: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' && value.trim() === '') return null;
  const text = typeof value === 'string' ? value.trim() : null;
  if (text !== null && text.length > MAX_NUMBER_TEXT)
    throw new PermanentError(`incident.${field} is ${text.length} characters long; a number is at most ${MAX_NUMBER_TEXT}`);
  // Plain decimal notation only: Number() would also take "0x10", "0b1" and "Infinity".
  const n = text === null ? (value as number) : DECIMAL.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(n)) throw new PermanentError(`incident.${field} is not a number: ${JSON.stringify(value)}`);
  return n;
}

/** The incident's observed and threshold values (the threshold from the condition when the incident has none). */
export function valuesOf(incident: MonitoringIncident): SignalValues {
  return {
    observed: parseValue(incident.observed_value, 'observed_value'),
    threshold: parseValue(incident.threshold_value, 'threshold_value') ?? incident.condition?.conditionThreshold?.thresholdValue ?? null,
  };
}

/** The SLOs a condition's filter selects (`select_slo_*("projects/…/serviceLevelObjectives/…")`). */
function slosOf(incident: MonitoringIncident): string[] {
  return [...new Set(sloSelectorsOf(incident.condition?.conditionThreshold?.filter ?? '').map((s) => s.slo))];
}

/** Resource label keys that carry a monitored resource's location (Cloud Run and GKE: `location`; some: `region`, `zone`). */
const LOCATION_LABELS = ['location', 'region'] as const;

/**
 * Why the monitored resource is not in the service's project or location, or
 * null when it is (or does not say). A staging project's `api-backend` is not production's.
 */
function placeMismatch(labels: Record<string, string>, service: ServiceConfig, checkLocation: boolean): string | null {
  const project = labels.project_id;
  if (project !== undefined && project !== service.project) return `project ${project} (the service is in ${service.project})`;
  if (!checkLocation) return null;
  for (const key of LOCATION_LABELS) {
    const location = labels[key];
    if (location !== undefined && location !== service.region) return `location ${location} (the service is in ${service.region})`;
  }
  return null;
}

/**
 * The Burnback service an incident belongs to, first rule that applies:
 * 1. the policy's `burnback-service` user label, when it names a configured
 *    service (the resource's project_id, when it has one, must still be the service's);
 * 2. the service whose configured `slo` the condition's `select_slo_*` filter names;
 * 3. the service whose resource type and labels the incident's monitored resource
 *    carries, in the service's project (`project_id`) and region (`location`/`region`).
 */
export function mapToService(incident: MonitoringIncident, services: ReadonlyMap<string, ServiceConfig>): ServiceConfig {
  const type = incident.resource?.type ?? '';
  const labels = incident.resource?.labels ?? {};
  const described = `resource ${type || '(none)'} ${JSON.stringify(labels)}`;
  const project = (Object.hasOwn(labels, 'project_id') ? labels.project_id : undefined) ?? incident.scoping_project_id;
  const unmapped = (message: string, misconfigured = false) => new UnmappedNotification(message, project, misconfigured);
  const labelled = incident.policy_user_labels?.[PolicyUserLabels.service];
  if (labelled) {
    const s = services.get(labelled);
    if (!s) throw unmapped(`policy user label ${PolicyUserLabels.service}="${labelled}" names no configured service`, true);
    const mismatch = placeMismatch(labels, s, false);
    if (mismatch) {
      throw unmapped(
        `policy user label ${PolicyUserLabels.service}="${labelled}" names a service in another project: incident ${incident.incident_id} is on ${mismatch}`,
        true,
      );
    }
    return s;
  }
  const all = [...services.values()];
  const slos = slosOf(incident);
  const bySlo = all.filter((s) => slos.some((slo) => slo === s.slo));
  if (bySlo.length > 1) {
    throw unmapped(
      `incident ${incident.incident_id} on SLO ${slos.join(', ')} matches several services: ${bySlo.map((m) => m.name).join(', ')}`,
      true,
    );
  }
  if (bySlo.length === 1) return bySlo[0]!;
  const sameResource = all.filter(
    (s) =>
      (s.match.resourceType === null || s.match.resourceType === type) &&
      Object.entries(s.match.resourceLabels).every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v),
  );
  const matches = sameResource.filter((s) => placeMismatch(labels, s, true) === null);
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    const elsewhere = sameResource.map((s) => `${s.name} is not on ${placeMismatch(labels, s, true)!}`);
    throw unmapped(
      `no configured service matches incident ${incident.incident_id} on ${described}${elsewhere.length ? `: ${elsewhere.join('; ')}` : ''}`,
    );
  }
  throw unmapped(
    `incident ${incident.incident_id} on ${described} matches several services: ${matches.map((m) => m.name).join(', ')}`,
    true,
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
  ctx: { services: ReadonlyMap<string, ServiceConfig>; source: AlertSource; observedAt: Date; notificationId: string },
): AlertEvent {
  const incident = notification.incident;
  const service = mapToService(incident, ctx.services);
  const endedAt = incident.ended_at ? iso(incident.ended_at) : null;
  const values = valuesOf(incident);
  const signal = classifySignal(incident, service, values);
  return {
    incidentId: incident.incident_id,
    service: service.name,
    state: incident.state,
    startedAt: iso(incident.started_at),
    endedAt,
    observedAt: ctx.observedAt.toISOString(),
    observedValue: values.observed,
    thresholdValue: values.threshold,
    ...signal,
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
