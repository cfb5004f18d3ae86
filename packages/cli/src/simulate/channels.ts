import type { PubSub } from '@google-cloud/pubsub';
import { Topics } from '@burnback/contracts';
import { notificationBytes } from '@burnback/gcp-sim';

/** The two ways Cloud Monitoring delivers a notification to Burnback. */
export const Vias = { pubsub: 'pubsub', webhook: 'webhook' } as const;
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

/**
 * Monitoring's webhook channel: a POST of the same JSON to ingest's
 * `/webhook/error-budget-alert`, the token as a bearer header (ingest also
 * takes `?auth_token=`, what Monitoring sends, but a header keeps it out of URLs).
 */
export function webhookChannel(ingestUrl: string, token: string): NotificationChannel {
  const url = `${ingestUrl.replace(/\/+$/, '')}/webhook/error-budget-alert`;
  return {
    via: Vias.webhook,
    async send(notification) {
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: notificationBytes(notification),
          signal: AbortSignal.timeout(15_000),
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new DeliveryError(`cannot reach ingest's webhook at ${url} (${cause?.code ?? cause?.message ?? (err as Error).message})`, {
          cause: err,
        });
      }
      const body = await res.text();
      if (!res.ok) throw new DeliveryError(`ingest's webhook answered ${res.status}: ${body.slice(0, 500)}`);
    },
  };
}
