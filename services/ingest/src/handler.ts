import { createHash } from 'node:crypto';
import {
  DecisionLanes,
  errorKind,
  ErrorKinds,
  EventTypes,
  PermanentError,
  Topics,
  TransientError,
  type AlertEvent,
  type AlertSource,
  type DecisionLane,
  type MonitoringIncident,
  type MonitoringNotification,
} from '@burnback/contracts';
import { laneOf } from '@burnback/policy';
import { CrashPoints, type CrashHook, type Logger, type Metrics, type Publisher, type ServiceConfig } from '@burnback/platform';
import { notificationIdFor, parseNotification, TestNotification, toAlertEvent, UnmappedNotification } from './parse.js';
import type { NotificationStore } from './store.js';

export interface IngestDeps {
  services: ReadonlyMap<string, ServiceConfig>;
  store: NotificationStore;
  publisher: Publisher;
  logger: Logger;
  /** Counts notifications no service matches (burnback_notifications_unmapped_total). */
  metrics?: Pick<Metrics, 'notificationsUnmapped'>;
  /** The chaos suite's crash seam (a no-op unless BURNBACK_CHAOS_CRASH_AT names archived-before-publish). */
  crash?: CrashHook;
}

/** One Monitoring notification as it arrived, from the Pub/Sub channel or the webhook. */
export interface IncomingNotification {
  raw: Buffer;
  source: AlertSource;
  /** Pub/Sub publish time, or when the webhook request arrived. */
  observedAt: Date;
  /** When ingest received it (wall clock): an observedAt after it is clamped by the decision. */
  receivedAt?: Date;
  messageId: string | null;
}

export type IngestOutcome =
  | { kind: 'published'; event: AlertEvent; eventId: string }
  | { kind: 'test-notification'; notificationId: string }
  /** Valid, but no configured service matches it (another project's alert): acknowledged, never dead-lettered. */
  | { kind: 'unmapped'; notificationId: string; reason: string };

/** A Google Cloud project id; anything else is counted as `invalid`, so the metric's labels stay few. */
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
/** The most distinct projects the unmapped counter names; later ones are counted as `other`. */
export const MAX_UNMAPPED_PROJECTS = 50;

/** The project label of the unmapped counter: a project id, `none`, `invalid`, or `other` past MAX_UNMAPPED_PROJECTS. */
export function unmappedProjectLabeler(): (project: string) => string {
  const projectsSeen = new Set<string>();
  return (project) => {
    if (project === '') return 'none';
    if (!PROJECT_ID.test(project)) return 'invalid';
    if (projectsSeen.has(project)) return project;
    if (projectsSeen.size >= MAX_UNMAPPED_PROJECTS) return 'other';
    projectsSeen.add(project);
    return project;
  };
}

/**
 * A notification read once (parsed, its id derived, mapped to an alert): what ingest's subscriber needs to choose
 * its lane and its handler needs to handle it, so a storm's notification is parsed and hashed once, not once for
 * each. Reading never throws: what could not be read carries the error the handler throws for it.
 */
export type NotificationReading =
  | { kind: 'test'; notificationId: string }
  | { kind: 'unmapped'; notificationId: string; incident: MonitoringIncident; error: UnmappedNotification }
  | { kind: 'alert'; notificationId: string; incident: MonitoringIncident; alert: AlertEvent }
  | { kind: 'invalid'; error: unknown };

/** Reads a notification's bytes as arrived from `source` at `observedAt` (see NotificationReading). */
export function readNotification(
  raw: Buffer,
  services: ReadonlyMap<string, ServiceConfig>,
  source: AlertSource,
  observedAt: Date,
): NotificationReading {
  let notification: MonitoringNotification;
  try {
    notification = parseNotification(raw);
  } catch (err) {
    if (err instanceof TestNotification)
      return { kind: 'test', notificationId: `ntf-test-${createHash('sha256').update(raw).digest('hex').slice(0, 16)}` };
    return { kind: 'invalid', error: err };
  }
  const incident = notification.incident;
  const notificationId = notificationIdFor(incident.incident_id, incident.state, raw);
  try {
    return { kind: 'alert', notificationId, incident, alert: toAlertEvent(notification, { services, source, observedAt, notificationId }) };
  } catch (err) {
    if (err instanceof UnmappedNotification) return { kind: 'unmapped', notificationId, incident, error: err };
    return { kind: 'invalid', error: err };
  }
}

/**
 * The lane a notification's alert takes, from its reading alone (policy's laneOf): `bulk` too for one Burnback
 * could never act on (unreadable, a test, for no configured service). Ingest's subscriber handles the fast lane's
 * notifications as soon as Pub/Sub hands them over and the rest a bounded number at a time, so a burning alert is
 * not queued behind a storm's noise in ingest either. Never throws.
 */
export function laneOfReading(reading: NotificationReading, services: ReadonlyMap<string, ServiceConfig>): DecisionLane {
  if (reading.kind !== 'alert') return DecisionLanes.bulk;
  try {
    const policy = services.get(reading.alert.service)?.policy;
    return policy ? laneOf(reading.alert, policy) : DecisionLanes.fast;
  } catch {
    return DecisionLanes.bulk;
  }
}

/**
 * Notification in → AlertEvent out. Invalid input throws PermanentError with the
 * reason (the caller dead-letters it or answers 400); a failed store or publish
 * throws TransientError (retry).
 */
export function createIngestHandler(
  deps: IngestDeps,
): (incoming: IncomingNotification, reading?: NotificationReading) => Promise<IngestOutcome> {
  const { logger } = deps;
  const projectLabel = unmappedProjectLabeler();
  return async (incoming, known) => {
    // Read already by the caller that chose its lane, with the same bytes, source and time; else read here.
    const reading = known ?? readNotification(incoming.raw, deps.services, incoming.source, incoming.observedAt);
    switch (reading.kind) {
      case 'invalid':
        throw reading.error;
      case 'test':
        logger.info('Cloud Monitoring test notification received; nothing to decide', {
          event: 'test_notification',
          source: incoming.source,
          notificationId: reading.notificationId,
        });
        return { kind: 'test-notification', notificationId: reading.notificationId };
      case 'unmapped': {
        const { error: err, notificationId, incident } = reading;
        // Read and understood, just not Burnback's: answered, counted and logged, never a dead letter (that topic is
        // for input Burnback cannot read). One that names Burnback, or matches several services, is a config problem.
        deps.metrics?.notificationsUnmapped.inc({ project: projectLabel(err.project) });
        logger.log(err.misconfigured ? 'warn' : 'info', `notification maps to no configured service: ${err.message}`, {
          event: 'notification_unmapped',
          notificationId,
          incidentId: incident.incident_id,
          project: err.project,
          source: incoming.source,
        });
        return { kind: 'unmapped', notificationId, reason: err.message };
      }
      case 'alert': {
        const { alert, notificationId, incident } = reading;
        const event = { ...alert, ...(incoming.receivedAt ? { receivedAt: incoming.receivedAt.toISOString() } : {}) };
        await archiveAndPublish(deps, incoming, event, { id: notificationId, incidentId: incident.incident_id, state: incident.state });
        return { kind: 'published', event, eventId: notificationId };
      }
    }
  };
}

/**
 * Keeps a notification's raw bytes in `notifications/{id}`, then publishes its
 * AlertEvent under that id (the service as ordering key) to its lane: an alert
 * that could roll back (an open incident over its service's bar) to
 * burnback-alerts, every other to burnback-alerts-bulk (policy's laneOf):
 * a failed store or publish throws TransientError (the sender retries, and the
 * retry finds the archive and publishes under the same id, which the decider
 * dedupes); one the store or Pub/Sub can never take throws PermanentError.
 */
export async function archiveAndPublish(
  deps: Pick<IngestDeps, 'services' | 'store' | 'publisher' | 'logger' | 'crash'>,
  incoming: IncomingNotification,
  event: AlertEvent,
  notification: { id: string; incidentId: string; state: string },
): Promise<void> {
  const notificationId = notification.id;
  try {
    await deps.store.save({
      id: notificationId,
      source: incoming.source,
      receivedAt: incoming.observedAt.toISOString(),
      incidentId: notification.incidentId,
      state: notification.state,
      raw: incoming.raw.toString('utf8'),
      messageId: incoming.messageId,
    });
  } catch (err) {
    // One the store can never keep (too large) is refused, never retried for good; anything else may pass on retry.
    if (errorKind(err) === ErrorKinds.permanent)
      throw new PermanentError(`cannot store notification ${notificationId}: ${(err as Error).message}`, { cause: err });
    throw new TransientError(`cannot store notification ${notificationId}: ${(err as Error).message}`, { cause: err });
  }
  // Archived, not yet published: a crash here leaves the message unacked, and its redelivery finds the archive
  // (create is idempotent) and publishes under the same derived id, which the decider dedupes.
  deps.crash?.(CrashPoints.archivedBeforePublish, { incidentId: event.incidentId, service: event.service });

  // The service is configured (toAlertEvent mapped it); without it, the fast lane's full decision says what is wrong.
  const policy = deps.services.get(event.service)?.policy;
  const lane = policy ? laneOf(event, policy) : 'fast';
  await deps.publisher.publishEvent(
    lane === 'bulk' ? Topics.alertsBulk : Topics.alerts,
    {
      id: notificationId,
      type: EventTypes.alert,
      source: `//burnback/ingest/${incoming.source}`,
      subject: `services/${event.service}/incidents/${event.incidentId}`,
      time: event.observedAt,
      data: event,
    },
    // The bulk lane is not ordered (its decisions do not depend on each other's order): no key, so nothing queues.
    lane === 'bulk' ? undefined : event.service,
  );
  deps.logger.info(`alert for ${event.service}: incident ${event.incidentId} ${event.state}`, {
    event: 'alert_ingested',
    eventId: notificationId,
    incidentId: event.incidentId,
    service: event.service,
    state: event.state,
    observedValue: event.observedValue,
    signal: event.signal,
    source: incoming.source,
    lane,
  });
}
