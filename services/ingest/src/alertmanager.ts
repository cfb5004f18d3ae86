import { AlertSources, errorKind, ErrorKinds, type AlertEvent } from '@burnback/contracts';
import { archiveAndPublish, unmappedProjectLabeler, type IngestDeps, type IncomingNotification } from './handler.js';
import type { RejectionReason } from './parse.js';
import { alertOwnNotification, readAlertmanagerNotification, type AlertEntry } from './pure/alertmanager-payload.js';
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

/** The most alerts of one notification kept and published at once. */
export const ALERT_WRITES_IN_FLIGHT = 8;

/** An alert read and mapped, waiting to be kept and published. */
interface AlertToPublish {
  entry: Extract<AlertEntry, { ok: true }>;
  event: AlertEvent;
}

/**
 * Alertmanager notification in → one AlertEvent per alert out, each kept and
 * published on its own: `notifications/{id}` holds the alert's own
 * notification (the group with only that alert, what replay sends again), so a
 * big group is never stored once per alert in full. Up to ALERT_WRITES_IN_FLIGHT
 * alerts are kept and published at once, the alerts of one incident in the
 * order they came. An alert the store or Pub/Sub can never take (too large:
 * PermanentError) is refused alone; any other failed store or publish throws
 * TransientError (the webhook answers 503 and Alertmanager retries; the alerts
 * already published come out under the same ids, which the decider dedupes).
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
    const toPublish: AlertToPublish[] = [];
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
      toPublish.push({ entry, event });
    }

    const publish = async ({ entry, event }: AlertToPublish): Promise<AlertResult> => {
      const at = { index: entry.index, fingerprint: entry.alert.fingerprint };
      const own = Buffer.from(alertOwnNotification(read.group, entry.index), 'utf8');
      try {
        await archiveAndPublish(deps, { ...incoming, raw: own, source: AlertSources.alertmanager }, event, {
          id: entry.notificationId,
          incidentId: entry.incidentId,
          state: entry.alert.status,
        });
      } catch (err) {
        // One alert that can never be stored or sent (PermanentError) costs only itself; anything else is retried.
        if (errorKind(err) !== ErrorKinds.permanent) throw err;
        const reason = (err as Error).message;
        logger.warn(`Alertmanager alert ${entry.index} refused: ${reason}`, { event: 'alert_refused', incidentId: entry.incidentId });
        return { ...at, status: 'refused', reason };
      }
      return {
        ...at,
        status: 'accepted',
        eventId: entry.notificationId,
        service: event.service,
        incidentId: event.incidentId,
        state: event.state,
      };
    };
    results.push(...(await inLanes(toPublish, (a) => a.entry.incidentId, ALERT_WRITES_IN_FLIGHT, publish)));
    results.sort((a, b) => a.index - b.index);
    return { kind: 'read', truncatedAlerts: read.truncatedAlerts, results };
  };
}

/**
 * `run` over `items`, at most `limit` at once; items of one lane (the same
 * `laneOf`) one after another, in their order. The results in the items' order.
 * The first failure stops what has not started, waits for what has, and is thrown.
 */
async function inLanes<T, R>(items: readonly T[], laneOf: (item: T) => string, limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const lanes = new Map<string, number[]>();
  items.forEach((item, i) => {
    const lane = lanes.get(laneOf(item));
    if (lane) lane.push(i);
    else lanes.set(laneOf(item), [i]);
  });
  const queue = [...lanes.values()];
  const results = new Array<R>(items.length);
  const failures: unknown[] = [];
  const worker = async () => {
    for (let lane = queue.shift(); lane !== undefined; lane = queue.shift()) {
      for (const i of lane) {
        if (failures.length > 0) return;
        try {
          results[i] = await run(items[i]!);
        } catch (err) {
          failures.push(err);
          return;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, worker));
  if (failures.length > 0) throw failures[0];
  return results;
}
