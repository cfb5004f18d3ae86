/**
 * `burnback notify test <name>`: the requests that prove a destination is set up,
 * without a burn. Pure. PagerDuty gets a trigger then its resolve (an alert that
 * opens and closes at once), chat and webhooks one message.
 */
import { DecisionActions, EventTypes, type CloudEvent, type DecisionEvent } from '@burnback/contracts';
import { NotifyTopics, type NotifyDestination } from '@burnback/contracts';
import { planDeliveries, type PlannedDelivery } from './deliveries.js';
import type { DecisionNotice } from './notices.js';

export function testNotice(destination: NotifyDestination, now: Date): DecisionNotice {
  const id = `test-${now.getTime().toString(36)}`;
  const decision: DecisionEvent = {
    decisionId: id,
    incidentId: id,
    service: destination.services?.[0] ?? 'burnback-test',
    action: DecisionActions.escalate,
    reason: `test message from burnback notify test ${destination.name}: nothing is burning`,
    verdicts: [],
    decidedAt: now.toISOString(),
    rollbackId: null,
    target: null,
    confidence: null,
    cause: null,
    redecisionOf: null,
    redecideAt: null,
  };
  const event: CloudEvent<typeof EventTypes.decision> = {
    id,
    type: EventTypes.decision,
    source: '//burnback/cli',
    subject: `services/${decision.service}/decisions/${id}`,
    time: decision.decidedAt,
    data: decision,
  };
  return {
    of: 'decision',
    topic: 'escalate',
    key: id,
    service: decision.service,
    incidentId: id,
    decisionId: id,
    rollbackId: null,
    reason: decision.reason,
    at: decision.decidedAt,
    event,
    decision,
  };
}

/** The test's requests, in order, whatever the destination's `on` and `services`. */
export function testDeliveries(destination: NotifyDestination, now: Date): PlannedDelivery[] {
  const everything: NotifyDestination = { ...destination, on: NotifyTopics, services: null };
  const notice = testNotice(destination, now);
  const first = planDeliveries(everything, notice, false);
  if (destination.kind !== 'pagerduty') return first;
  return [...first, ...planDeliveries(everything, { ...notice, topic: 'close' }, true)];
}
