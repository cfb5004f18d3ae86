/**
 * Which HTTP requests a notice makes to one destination, each with the id that
 * makes it happen once (Firestore `deliveries/{id}`). Pure: no clock, no network.
 *
 * - PagerDuty (Events API v2): `escalate`, `recommend` and `rollback-failed`
 *   trigger an alert whose dedup_key is the incident's; a later `rollback` decision
 *   or the incident's `close` resolves it (only where this destination paged it);
 *   a rollback's start and end are change events.
 * - Slack, Google Chat: one message per notice its `on` names.
 * - Webhook: the CloudEvent in structured JSON mode, signed with HMAC-SHA256.
 */
import { createHash, createHmac } from 'node:crypto';
import type { NotifyDestination, NotifyTopic } from '@burnback/contracts';
import { chatText, commandsOf, confidenceOf, releasesOf, targetOf, titleOf } from './messages.js';
import type { Notice } from './notices.js';

export const DeliveryActions = { trigger: 'trigger', resolve: 'resolve', change: 'change', message: 'message' } as const;
export type DeliveryAction = (typeof DeliveryActions)[keyof typeof DeliveryActions];

export interface PlannedDelivery {
  /** `dl-` and 24 hex digits of (destination, notice key, action): the idempotency key. */
  id: string;
  destination: string;
  action: DeliveryAction;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The notice topics that page (PagerDuty trigger): a person must act. */
export const PAGING_TOPICS: ReadonlySet<NotifyTopic> = new Set(['escalate', 'recommend', 'rollback-failed']);
/** The notice topics that end a page this destination raised: Burnback acted, or the burn ended. */
export const RESOLVING_TOPICS: ReadonlySet<NotifyTopic> = new Set(['rollback', 'close']);
/** The rollback stages PagerDuty hears of as change events. */
const CHANGE_TOPICS: ReadonlySet<NotifyTopic> = new Set([
  'rollback-started',
  'rollback-succeeded',
  'rollback-failed',
  'rollback-superseded',
]);

/** PagerDuty's summary and custom_details limits: keep within them (the summary is cut at 1,024 characters). */
const PD_SUMMARY_MAX = 1024;
const PD_DEDUP_MAX = 255;
/** The signature header of the generic webhook: `sha256=<hex HMAC-SHA256 of the body>`. */
export const SIGNATURE_HEADER = 'X-Burnback-Signature';

export function deliveryIdOf(destination: string, key: string, action: DeliveryAction): string {
  return `dl-${createHash('sha256').update(`${destination}\u0000${key}\u0000${action}`).digest('hex').slice(0, 24)}`;
}

/** `burnback-<incident id>`; an id too long for PagerDuty's 255 characters is hashed. */
export function dedupKeyOf(incidentId: string): string {
  const key = `burnback-${incidentId}`;
  return key.length <= PD_DEDUP_MAX ? key : `burnback-sha256-${createHash('sha256').update(incidentId).digest('hex')}`;
}

export function signatureOf(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** At most `max` characters (code points, so a character is never split in two), the last one `…` when cut. */
const cut = (text: string, max: number): string => {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
};

/** Whether the destination hears of the notice's service at all (`services:`, default all). */
export function watches(destination: NotifyDestination, notice: Notice): boolean {
  return destination.services === null || destination.services.includes(notice.service);
}

/** Whether the destination hears of this notice: its service, and its topic among the destination's `on`. */
export function hears(destination: NotifyDestination, notice: Notice): boolean {
  return watches(destination, notice) && destination.on.includes(notice.topic);
}

/** custom_details of a PagerDuty event: what a responder needs without opening anything else. */
export function pagerDutyDetails(notice: Notice): Record<string, unknown> {
  const details: Record<string, unknown> = {
    reason: notice.reason,
    service: notice.service,
    target: targetOf(notice),
    incident: notice.incidentId,
    decision: notice.decisionId,
    rollback: notice.rollbackId,
    releases: releasesOf(notice),
    commands: commandsOf(notice),
  };
  if (notice.of === 'decision') {
    details.action = notice.decision.action;
    details.blamedRelease = notice.decision.cause?.releaseId ?? null;
    details.confidence = confidenceOf(notice);
    details.confidenceFactors = notice.decision.confidence?.factors ?? [];
    details.verdicts = notice.decision.verdicts.map((v) => `${v.passed ? 'pass' : 'FAIL'} ${v.rule}: ${v.detail}`);
  } else {
    details.stage = notice.progress.stage;
    details.rollout = notice.progress.rolloutName;
  }
  return details;
}

const json = { 'Content-Type': 'application/json' };

function pagerDuty(destination: NotifyDestination, notice: Notice, paged: boolean): PlannedDelivery[] {
  const base = destination.url.replace(/\/+$/, '');
  const routing_key = destination.routingKey!;
  const planned: PlannedDelivery[] = [];
  const add = (action: DeliveryAction, path: string, body: unknown) =>
    planned.push({
      id: deliveryIdOf(destination.name, notice.key, action),
      destination: destination.name,
      action,
      url: `${base}${path}`,
      headers: { ...json },
      body: JSON.stringify(body),
    });
  const dedup_key = dedupKeyOf(notice.incidentId);
  const heard = hears(destination, notice);
  if (heard && PAGING_TOPICS.has(notice.topic))
    add(DeliveryActions.trigger, '/v2/enqueue', {
      routing_key,
      event_action: 'trigger',
      dedup_key,
      payload: {
        summary: cut(`${titleOf(notice)}: ${notice.reason}`, PD_SUMMARY_MAX),
        source: `burnback/${notice.service}`,
        severity: notice.topic === 'rollback-failed' ? 'critical' : 'error',
        timestamp: notice.at,
        component: notice.service,
        group: targetOf(notice) ?? notice.service,
        class: notice.topic,
        custom_details: pagerDutyDetails(notice),
      },
      client: 'Burnback',
    });
  // Resolving is not a topic a destination opts into: a page Burnback raised ends when the reason for it does.
  if (paged && RESOLVING_TOPICS.has(notice.topic) && watches(destination, notice))
    add(DeliveryActions.resolve, '/v2/enqueue', { routing_key, event_action: 'resolve', dedup_key });
  // A rollback's start is a change event wherever its decision is heard of (`rollback`), as well as by its own name.
  const changeHeard = heard || (notice.topic === 'rollback-started' && watches(destination, notice) && destination.on.includes('rollback'));
  if (changeHeard && CHANGE_TOPICS.has(notice.topic))
    add(DeliveryActions.change, '/v2/change/enqueue', {
      routing_key,
      payload: {
        summary: cut(`${titleOf(notice)}: ${notice.reason}`, PD_SUMMARY_MAX),
        timestamp: notice.at,
        source: `burnback/${notice.service}`,
        custom_details: pagerDutyDetails(notice),
      },
    });
  return planned;
}

/** The CloudEvent in structured content mode (CloudEvents JSON format): attributes and data in one JSON object. */
export function structuredCloudEvent(notice: Notice): string {
  const { id, type, source, subject, time, data } = notice.event;
  return JSON.stringify({ specversion: '1.0', id, type, source, subject, time, datacontenttype: 'application/json', data });
}

/**
 * Every request `notice` makes to `destination`. `paged`: whether this destination
 * already triggered a PagerDuty alert for the notice's incident (the store knows).
 */
export function planDeliveries(destination: NotifyDestination, notice: Notice, paged: boolean): PlannedDelivery[] {
  if (destination.kind === 'pagerduty') return pagerDuty(destination, notice, paged);
  if (!hears(destination, notice)) return [];
  const one = (headers: Record<string, string>, body: string): PlannedDelivery[] => [
    {
      id: deliveryIdOf(destination.name, notice.key, DeliveryActions.message),
      destination: destination.name,
      action: DeliveryActions.message,
      url: destination.url,
      headers,
      body,
    },
  ];
  if (destination.kind === 'webhook') {
    const body = structuredCloudEvent(notice);
    const headers: Record<string, string> = { 'Content-Type': 'application/cloudevents+json; charset=utf-8' };
    if (destination.secret !== null) headers[SIGNATURE_HEADER] = signatureOf(destination.secret, body);
    return one(headers, body);
  }
  // Slack and Google Chat incoming webhooks both take {"text": …} with *bold* and `code`.
  return one({ 'Content-Type': 'application/json; charset=utf-8' }, JSON.stringify({ text: chatText(notice) }));
}

/** What one answer means: delivered, try again later (429, 5xx, no answer), or never (any other 4xx: the request is wrong). */
export type AnswerVerdict = 'delivered' | 'retry' | 'refused';
export function verdictOf(status: number | null): AnswerVerdict {
  if (status === null) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 429 || status >= 500) return 'retry';
  return 'refused';
}
