import { AlertSources, errorKind, ErrorKinds } from '@burnback/contracts';
import { archiveAndPublish, unmappedProjectLabeler, type IngestDeps, type IncomingNotification } from './handler.js';
import type { RejectionReason } from './parse.js';
import { readAlertmanagerNotification } from './pure/alertmanager-payload.js';
import { toAlertmanagerEvent } from './pure/alertmanager-event.js';

/** What became of one alert of an Alertmanager notification, as `POST /webhook/alertmanager` answers it. */
export type AlertResult = { index: number; fingerprint: string | null } & (
  | { status: 'accepted'; eventId: string; service: string; incidentId: string; state: string }
  /** Read, but for no configured service: acknowledged, never dead-lettered (as for Monitoring). */
  | { status: 'unmapped'; reason: string }
  /** Bad input: this alert is refused with why; the others of its notification are not. */
  | { status: 'refused'; reason: string }
);

export type AlertmanagerOutcome =
  /** The notification as a whole is not Alertmanager's (not JSON, not version "4", no alerts). */
  { kind: 'refused'; reason: RejectionReason; message: string } | { kind: 'read'; truncatedAlerts: number; results: AlertResult[] };

/**
 * Alertmanager notification in → one AlertEvent per alert out, each kept and
 * published on its own (the raw notification in `notifications/{id}` under
 * each alert's id). A failed store or publish throws TransientError (the
 * webhook answers 503 and Alertmanager retries; the alerts already published
 * come out under the same ids, which the decider dedupes).
 */
export function createAlertmanagerHandler(deps: IngestDeps): (incoming: IncomingNotification) => Promise<AlertmanagerOutcome> {
  const { logger } = deps;
  const projectLabel = unmappedProjectLabeler();
  return async (incoming) => {
    const read = readAlertmanagerNotification(incoming.raw);
    if (!read.ok) return { kind: 'refused', reason: read.reason, message: read.problem };
    if (read.truncatedAlerts > 0)
      logger.warn(`Alertmanager left ${read.truncatedAlerts} alert(s) out of this notification: set max_alerts: 0 on its webhook_config`, {
        event: 'alertmanager_truncated',
        truncatedAlerts: read.truncatedAlerts,
      });
    const results: AlertResult[] = [];
    for (const entry of read.alerts) {
      if (!entry.ok) {
        logger.warn(`Alertmanager alert ${entry.index} refused: ${entry.problem}`, { event: 'alert_refused', source: incoming.source });
        results.push({ index: entry.index, fingerprint: entry.fingerprint, status: 'refused', reason: entry.problem });
        continue;
      }
      const at = { index: entry.index, fingerprint: entry.alert.fingerprint };
      const outcome = toAlertmanagerEvent(entry, { services: deps.services, observedAt: incoming.observedAt });
      if (outcome.kind === 'refused') {
        logger.warn(`Alertmanager alert ${entry.index} refused: ${outcome.problem}`, {
          event: 'alert_refused',
          incidentId: entry.incidentId,
          source: incoming.source,
        });
        results.push({ ...at, status: 'refused', reason: outcome.problem });
        continue;
      }
      if (outcome.kind === 'unmapped') {
        deps.metrics?.notificationsUnmapped.inc({ project: projectLabel(outcome.project) });
        logger.log(outcome.misconfigured ? 'warn' : 'info', `alert maps to no configured service: ${outcome.reason}`, {
          event: 'notification_unmapped',
          notificationId: entry.notificationId,
          incidentId: entry.incidentId,
          source: incoming.source,
        });
        results.push({ ...at, status: 'unmapped', reason: outcome.reason });
        continue;
      }
      const event = { ...outcome.event, ...(incoming.receivedAt ? { receivedAt: incoming.receivedAt.toISOString() } : {}) };
      try {
        await archiveAndPublish(deps, { ...incoming, source: AlertSources.alertmanager }, event, {
          id: entry.notificationId,
          incidentId: entry.incidentId,
          state: entry.alert.status,
        });
      } catch (err) {
        // One alert that can never be stored or sent (PermanentError) costs only itself; anything else is retried.
        if (errorKind(err) !== ErrorKinds.permanent) throw err;
        const reason = (err as Error).message;
        logger.warn(`Alertmanager alert ${entry.index} refused: ${reason}`, { event: 'alert_refused', incidentId: entry.incidentId });
        results.push({ ...at, status: 'refused', reason });
        continue;
      }
      results.push({
        ...at,
        status: 'accepted',
        eventId: entry.notificationId,
        service: event.service,
        incidentId: event.incidentId,
        state: event.state,
      });
    }
    return { kind: 'read', truncatedAlerts: read.truncatedAlerts, results };
  };
}
