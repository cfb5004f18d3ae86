import { createHash } from 'node:crypto';
import type { PubSub } from '@google-cloud/pubsub';
import { Topics, type MonitoringNotification } from '@burnback/contracts';
import { notificationBytes } from '@burnback/gcp-sim';
import { alertIncidentId, ALERTMANAGER_VERSION } from '@burnback/ingest';
import type { ServiceConfig } from '@burnback/platform';

/** The ways a scenario's notifications reach Burnback: Cloud Monitoring's two channels, or Prometheus Alertmanager's webhook. */
export const Vias = { pubsub: 'pubsub', webhook: 'webhook', alertmanager: 'alertmanager' } as const;
export type Via = keyof typeof Vias;

/** A notification could not be delivered (the webhook refused it, the topic is missing): the message says why. */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
}

/** Where a scenario's notifications go: ingest's Pub/Sub topic, or its webhook. */
export interface NotificationChannel {
  readonly via: Via;
  /** Delivers one notification, as Cloud Monitoring's channel of that kind would. */
  send(notification: unknown): Promise<void>;
  /** The incident id Burnback gives the incident sent as `incidentId` (started at `startedAt`, unix seconds); the same when absent. */
  incidentIdOf?(incidentId: string, startedAt: number): string;
}

/** Monitoring's Pub/Sub notification channel: a message on monitoring-incidents. */
export function pubsubChannel(pubsub: PubSub): NotificationChannel {
  const topic = pubsub.topic(Topics.monitoringIncidents);
  return {
    via: Vias.pubsub,
    async send(notification) {
      try {
        await topic.publishMessage({ data: notificationBytes(notification) });
      } catch (err) {
        throw new DeliveryError(`cannot publish to ${Topics.monitoringIncidents}: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}

/** POSTs JSON bytes to one of ingest's webhooks with the token as a bearer header; a refusal or no answer is a DeliveryError. */
async function post(url: string, token: string, body: Buffer, what: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new DeliveryError(`cannot reach ${what} at ${url} (${cause?.code ?? cause?.message ?? (err as Error).message})`, {
      cause: err,
    });
  }
  const text = await res.text();
  if (!res.ok) throw new DeliveryError(`${what} answered ${res.status}: ${text.slice(0, 500)}`);
}

/**
 * Monitoring's webhook channel: a POST of the same JSON to ingest's
 * `/webhook/error-budget-alert`, the token as a bearer header (ingest also
 * takes `?auth_token=`, what Monitoring sends, but a header keeps it out of URLs).
 */
export function webhookChannel(ingestUrl: string, token: string): NotificationChannel {
  const url = `${ingestUrl.replace(/\/+$/, '')}/webhook/error-budget-alert`;
  return {
    via: Vias.webhook,
    send: (notification) => post(url, token, notificationBytes(notification), "ingest's webhook"),
  };
}

/** What Alertmanager sends as the end of an alert still firing (Go's zero time). */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

/**
 * A scenario's Monitoring incident as Prometheus Alertmanager would notify it:
 * one alert of a v4 webhook notification, named for the service by its
 * `burnback_service` label, on an error-ratio rule over the first Prometheus
 * metric the service's config names as an error ratio
 * (`signals.errorRatio.prometheusMetrics`, else Sloth's
 * `slo:sli_error:ratio_rate1h`), its value in `burnback_value`. The incident
 * id gives the alert its fingerprint, so its resolved notification is the same alert.
 */
export function alertmanagerNotificationOf(notification: MonitoringNotification, service: ServiceConfig): Record<string, unknown> {
  const incident = notification.incident;
  const metric = service.signals.errorRatio?.prometheusMetrics?.[0] ?? 'slo:sli_error:ratio_rate1h';
  const threshold = incident.threshold_value ?? incident.condition?.conditionThreshold?.thresholdValue ?? 0.01;
  const expr = `${metric}{burnback_service="${service.name}"} > ${String(threshold)}`;
  const labels = {
    alertname: 'BurnbackSimulatedErrorRatio',
    burnback_service: service.name,
    severity: 'critical',
    incident: incident.incident_id,
  };
  const status = incident.state === 'closed' ? 'resolved' : 'firing';
  return {
    version: ALERTMANAGER_VERSION,
    receiver: 'burnback',
    status,
    alerts: [
      {
        status,
        labels,
        annotations: { burnback_value: String(incident.observed_value ?? ''), summary: incident.summary },
        startsAt: iso(incident.started_at),
        endsAt: status === 'resolved' && incident.ended_at ? iso(incident.ended_at) : GO_ZERO_TIME,
        generatorURL: `http://prometheus.local:9090/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=1`,
        fingerprint: fingerprintOf(incident.incident_id),
      },
    ],
    groupLabels: { alertname: labels.alertname },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: 'http://alertmanager.local:9093',
    groupKey: `{}:{alertname="${labels.alertname}"}`,
    truncatedAlerts: 0,
  };
}

/** The alert's fingerprint: Alertmanager's is a 64-bit hash of its labels; here, of the simulated incident. */
const fingerprintOf = (incidentId: string) => createHash('sha256').update(incidentId).digest('hex').slice(0, 16);

/**
 * Prometheus Alertmanager's webhook_config: each scenario notification as an
 * Alertmanager alert (alertmanagerNotificationOf), POSTed to ingest's
 * `/webhook/alertmanager` with the webhook's token as a bearer header.
 */
export function alertmanagerChannel(ingestUrl: string, token: string, service: ServiceConfig): NotificationChannel {
  const url = `${ingestUrl.replace(/\/+$/, '')}/webhook/alertmanager`;
  return {
    via: Vias.alertmanager,
    send: (notification) =>
      post(
        url,
        token,
        notificationBytes(alertmanagerNotificationOf(notification as MonitoringNotification, service)),
        "ingest's Alertmanager webhook",
      ),
    incidentIdOf: (incidentId, startedAt) => alertIncidentId(fingerprintOf(incidentId), iso(startedAt)),
  };
}
