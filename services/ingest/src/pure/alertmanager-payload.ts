import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson, formatZodError, incidentIdProblem, IncidentStates, type IncidentState } from '@burnback/contracts';
import { isWellFormedJson, RejectionReasons, type RejectionReason } from '../parse.js';

/**
 * Prometheus Alertmanager's webhook payload (`webhook_config`, version "4"): a
 * group of alerts, each with its own status, labels, annotations, times,
 * generatorURL and fingerprint. Read in two steps so that one bad alert never
 * costs the valid ones beside it: the envelope first (a bad one refuses the
 * whole request), then each alert on its own. Pure.
 */

/** The payload version Alertmanager's webhook sends (its only one so far). */
export const ALERTMANAGER_VERSION = '4';
/** The most alerts of one notification read; the rest are refused one by one, with the reason (set `max_alerts`). */
export const MAX_ALERTS = 1000;

const Labels = z.record(z.string(), z.string());

/** The group around the alerts. Only `version` and `alerts` are needed; the rest, when present, must be what Alertmanager sends. */
const Envelope = z
  .object({
    version: z.string(),
    alerts: z.array(z.unknown()).min(1, 'a notification with no alerts'),
    receiver: z.string().nullish(),
    status: z.string().nullish(),
    groupLabels: Labels.nullish(),
    commonLabels: Labels.nullish(),
    commonAnnotations: Labels.nullish(),
    externalURL: z.string().nullish(),
    groupKey: z.string().nullish(),
    truncatedAlerts: z.number().int().nonnegative().nullish(),
  })
  .loose();

/**
 * RFC 3339 as Go writes it (`2026-11-26T10:00:00.123456789+02:00`, `…Z`). The
 * fraction beyond milliseconds is dropped: a JavaScript Date holds no more.
 */
const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** The time as ISO 8601 UTC, or null when it is not RFC 3339, or before 1970 (Go's zero time `0001-01-01T00:00:00Z` is "none"). */
export function isoTimeOf(text: string): string | null {
  const m = RFC3339.exec(text);
  if (m === null) return null;
  const ms = Date.parse(`${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}${m[3]}`);
  return Number.isFinite(ms) && ms >= 0 ? new Date(ms).toISOString() : null;
}

const AlertTime = z.string().refine((t) => isoTimeOf(t) !== null, 'expected an RFC 3339 time after 1970');

export const AlertmanagerAlert = z
  .object({
    status: z.enum(['firing', 'resolved']),
    labels: Labels,
    annotations: Labels.nullish().transform((a) => a ?? {}),
    startsAt: AlertTime,
    endsAt: z.string().nullish(),
    generatorURL: z.string().nullish(),
    fingerprint: z.string().min(1, 'the alert has no fingerprint'),
  })
  .loose();
export type AlertmanagerAlert = z.infer<typeof AlertmanagerAlert>;

/** One alert of a notification: read, with what Burnback derives from it, or refused with why. */
export type AlertEntry =
  | {
      ok: true;
      index: number;
      alert: AlertmanagerAlert;
      /** `am-<fingerprint>-<startsAt>`: the firing and the resolved notification of one alert share it. */
      incidentId: string;
      state: IncidentState;
      startedAt: string;
      /** When a resolved alert ended (its endsAt); null while it fires. */
      endedAt: string | null;
      /** The alert's own notification id: the same alert content always gives the same id. */
      notificationId: string;
    }
  | { ok: false; index: number; fingerprint: string | null; problem: string };

/** A notification's JSON object as it came: the group, its alerts unread. */
export type AlertmanagerGroup = Readonly<Record<string, unknown>> & { readonly alerts: readonly unknown[] };

export type AlertmanagerRead =
  | { ok: false; reason: RejectionReason; problem: string }
  | { ok: true; receiver: string | null; truncatedAlerts: number; alerts: AlertEntry[]; group: AlertmanagerGroup };

/** The incident an alert is: its fingerprint (a hash of its labels) and when it started. */
export function alertIncidentId(fingerprint: string, startedAt: string): string {
  return `am-${fingerprint}-${startedAt}`;
}

/**
 * The notification id of one alert: a hash of its incident, state and content
 * (labels, annotations, generatorURL, and endsAt once resolved). A firing
 * alert's endsAt is left out: Prometheus moves it forward on every evaluation,
 * so Alertmanager's repeats of an unchanged alert get the same id (and one decision).
 */
export function alertNotificationId(alert: AlertmanagerAlert, incidentId: string, state: IncidentState): string {
  const content = {
    labels: alert.labels,
    annotations: alert.annotations,
    generatorURL: alert.generatorURL ?? null,
    endsAt: state === IncidentStates.closed ? (alert.endsAt ?? null) : null,
  };
  const digest = createHash('sha256')
    .update(['alertmanager', incidentId, state, canonicalJson(content)].join('\u0000'))
    .digest('hex');
  return `ntf-${digest.slice(0, 24)}`;
}

const fingerprintOf = (value: unknown): string | null => {
  const f = typeof value === 'object' && value !== null ? (value as { fingerprint?: unknown }).fingerprint : undefined;
  return typeof f === 'string' && f.length <= 128 && isWellFormedJson(f) ? f : null;
};

/** One alert, read on its own. */
function readAlert(value: unknown, index: number): AlertEntry {
  const refused = (problem: string): AlertEntry => ({ ok: false, index, fingerprint: fingerprintOf(value), problem });
  if (index >= MAX_ALERTS) return refused(`Burnback reads at most ${MAX_ALERTS} alerts of one notification (set max_alerts)`);
  if (!isWellFormedJson(value)) return refused('the alert holds a string that is not well-formed Unicode (an unpaired surrogate)');
  const parsed = AlertmanagerAlert.safeParse(value);
  if (!parsed.success) return refused(`not an Alertmanager alert: ${formatZodError(parsed.error)}`);
  const alert = parsed.data;
  const startedAt = isoTimeOf(alert.startsAt)!;
  const incidentId = alertIncidentId(alert.fingerprint, startedAt);
  const idProblem = incidentIdProblem(incidentId);
  if (idProblem !== null) return refused(`its fingerprint cannot make an incident id: ${idProblem}`);
  const state = alert.status === 'firing' ? IncidentStates.open : IncidentStates.closed;
  const endedAt = state === IncidentStates.closed && alert.endsAt ? isoTimeOf(alert.endsAt) : null;
  return { ok: true, index, alert, incidentId, state, startedAt, endedAt, notificationId: alertNotificationId(alert, incidentId, state) };
}

/** The JSON object of a notification's bytes, or why there is none. */
function jsonObjectOf(raw: Buffer | string): { ok: true; json: Record<string, unknown> } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch (err) {
    return { ok: false, problem: `notification is not JSON: ${(err as Error).message}` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return { ok: false, problem: 'an Alertmanager notification is a JSON object with "version" and "alerts"' };
  return { ok: true, json: json as Record<string, unknown> };
}

/**
 * Reads an Alertmanager notification: refused as a whole when it is not JSON or
 * not Alertmanager's envelope (version "4", a list of alerts); otherwise every
 * alert read or refused on its own, in the order they came.
 */
export function readAlertmanagerNotification(raw: Buffer | string): AlertmanagerRead {
  const object = jsonObjectOf(raw);
  if (!object.ok) {
    const reason = object.problem.startsWith('notification is not JSON') ? RejectionReasons.invalidJson : RejectionReasons.notANotification;
    return { ok: false, reason, problem: object.problem };
  }
  const version = object.json.version;
  if (version !== ALERTMANAGER_VERSION)
    return {
      ok: false,
      reason: RejectionReasons.notANotification,
      problem: `unsupported Alertmanager webhook version ${JSON.stringify(version ?? null)} (supported: "${ALERTMANAGER_VERSION}")`,
    };
  const envelope = Envelope.safeParse(object.json);
  if (!envelope.success)
    return {
      ok: false,
      reason: RejectionReasons.notANotification,
      problem: `invalid Alertmanager notification: ${formatZodError(envelope.error)}`,
    };
  const e = envelope.data;
  return {
    ok: true,
    receiver: typeof e.receiver === 'string' && isWellFormedJson(e.receiver) ? e.receiver : null,
    truncatedAlerts: e.truncatedAlerts ?? 0,
    alerts: e.alerts.map((alert, index) => readAlert(alert, index)),
    group: object.json as AlertmanagerGroup,
  };
}

/**
 * One alert's own notification: the group as it came with only its `index`th
 * alert (and `truncatedAlerts` 0). What ingest keeps for that alert, and what
 * replay sends again: read, it is that alert alone, with the same ids and event.
 */
export function alertOwnNotification(group: AlertmanagerGroup, index: number): string {
  return JSON.stringify({ ...group, alerts: [group.alerts[index]], truncatedAlerts: 0 });
}

/**
 * The notification as ingest would have read it for one of its alerts alone:
 * the group with only the alert whose notification id is `notificationId`
 * (how `burnback replay --through-pipeline` sends a stored alert again, so it
 * gives the same event and no other); null when no alert of `raw` has that id.
 * What ingest keeps is already that alert's own notification, which this gives
 * back as it is; a whole group (kept by an older ingest) is cut down to the alert.
 */
export function alertmanagerNotificationFor(raw: string, notificationId: string): string | null {
  const read = readAlertmanagerNotification(raw);
  if (!read.ok) return null;
  const entry = read.alerts.find((a) => a.ok && a.notificationId === notificationId);
  return entry === undefined ? null : alertOwnNotification(read.group, entry.index);
}
