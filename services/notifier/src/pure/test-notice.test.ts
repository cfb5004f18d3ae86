import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { EventTypes } from '@burnback/contracts';
import type { NotifyDestination } from '@burnback/contracts';
import { destination } from '../../test/fixtures.js';
import { deliveryIdOf, structuredCloudEvent } from './deliveries.js';
import { chatText } from './messages.js';
import { testDeliveries, testNotice } from './test-notice.js';

const NOW = new Date('2026-12-06T10:00:00.000Z');
/** `test-` and NOW's epoch milliseconds in base 36. */
const ID = 'test-mxbo75s0';
const SECRET = 'webhook-secret-0123456789abcdef';

/** A destination that would hear nothing of an escalation: the test reaches it all the same. */
const narrow: Partial<NotifyDestination> = { on: ['hold'], services: ['checkout', 'api-backend'] };
const pagerDuty = destination({ ...narrow, url: 'https://pd.example/' });
const slack = destination({ ...narrow, name: 'team-chat', kind: 'slack', url: 'https://hooks.slack.com/services/T/B/X', routingKey: null });
const googleChat = destination({
  ...narrow,
  name: 'room',
  kind: 'google-chat',
  url: 'https://chat.googleapis.com/v1/spaces/A/messages',
  routingKey: null,
});
const webhook = destination({
  ...narrow,
  name: 'audit',
  kind: 'webhook',
  url: 'https://audit.example.com/in',
  routingKey: null,
  secret: SECRET,
});

describe('testNotice', () => {
  it("is an escalation of the destination's first service, that says it is a test, at the time given", () => {
    const notice = testNotice(pagerDuty, NOW);
    const decision = {
      decisionId: ID,
      incidentId: ID,
      service: 'checkout',
      action: 'escalate',
      reason: 'test message from burnback notify test oncall: nothing is burning',
      verdicts: [],
      decidedAt: '2026-12-06T10:00:00.000Z',
      rollbackId: null,
      target: null,
      confidence: null,
      cause: null,
      redecisionOf: null,
      redecideAt: null,
    };
    expect(notice).toStrictEqual({
      of: 'decision',
      topic: 'escalate',
      key: ID,
      service: 'checkout',
      incidentId: ID,
      decisionId: ID,
      rollbackId: null,
      reason: 'test message from burnback notify test oncall: nothing is burning',
      at: '2026-12-06T10:00:00.000Z',
      event: {
        id: ID,
        type: EventTypes.decision,
        source: '//burnback/cli',
        subject: `services/checkout/decisions/${ID}`,
        time: '2026-12-06T10:00:00.000Z',
        data: decision,
      },
      decision,
    });
  });

  it('is of service burnback-test for a destination that hears of every service', () => {
    const notice = testNotice(destination({ name: 'all', services: null }), NOW);
    expect(notice).toMatchObject({
      service: 'burnback-test',
      reason: 'test message from burnback notify test all: nothing is burning',
      decision: { service: 'burnback-test' },
      event: { subject: `services/burnback-test/decisions/${ID}` },
    });
  });

  it('has an id of its own at each time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.integer({ min: 1, max: 1_000_000_000 }), (ms, later) => {
        const a = testNotice(pagerDuty, new Date(ms));
        const b = testNotice(pagerDuty, new Date(ms + later));
        expect(a.key).toBe(`test-${ms.toString(36)}`);
        expect(a.key).not.toBe(b.key);
        expect(a.incidentId).toBe(a.key);
        expect(a.at).toBe(new Date(ms).toISOString());
      }),
    );
  });
});

describe('testDeliveries', () => {
  it("to PagerDuty: a trigger, then its resolve, whatever the destination's on and services", () => {
    const [trigger, resolve, ...more] = testDeliveries(pagerDuty, NOW);
    expect(more).toEqual([]);
    expect(trigger).toStrictEqual({
      id: deliveryIdOf('oncall', ID, 'trigger'),
      destination: 'oncall',
      action: 'trigger',
      url: 'https://pd.example/v2/enqueue',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        routing_key: 'R0UTINGKEY0000000000000000000001',
        event_action: 'trigger',
        dedup_key: `burnback-${ID}`,
        payload: {
          summary: 'Burnback: checkout needs a human: test message from burnback notify test oncall: nothing is burning',
          source: 'burnback/checkout',
          severity: 'error',
          timestamp: '2026-12-06T10:00:00.000Z',
          component: 'checkout',
          group: 'checkout',
          class: 'escalate',
          custom_details: {
            reason: 'test message from burnback notify test oncall: nothing is burning',
            service: 'checkout',
            target: null,
            incident: ID,
            decision: ID,
            rollback: null,
            releases: null,
            commands: ['burnback decisions --service checkout'],
            action: 'escalate',
            blamedRelease: null,
            confidence: null,
            confidenceFactors: [],
            verdicts: [],
          },
        },
        client: 'Burnback',
      }),
    });
    expect(resolve).toStrictEqual({
      id: deliveryIdOf('oncall', ID, 'resolve'),
      destination: 'oncall',
      action: 'resolve',
      url: 'https://pd.example/v2/enqueue',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ routing_key: 'R0UTINGKEY0000000000000000000001', event_action: 'resolve', dedup_key: `burnback-${ID}` }),
    });
  });

  it.each([
    ['slack', slack],
    ['google-chat', googleChat],
  ] as const)('to %s: one message of the test notice', (_kind, d) => {
    const notice = testNotice(d, NOW);
    expect(testDeliveries(d, NOW)).toStrictEqual([
      {
        id: deliveryIdOf(d.name, ID, 'message'),
        destination: d.name,
        action: 'message',
        url: d.url,
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ text: chatText(notice) }),
      },
    ]);
    expect(chatText(notice).split('\n')[0]).toBe(`*test message from burnback notify test ${d.name}: nothing is burning*`);
  });

  it('to a webhook: one signed post of the test CloudEvent', () => {
    const body = structuredCloudEvent(testNotice(webhook, NOW));
    expect(testDeliveries(webhook, NOW)).toStrictEqual([
      {
        id: deliveryIdOf('audit', ID, 'message'),
        destination: 'audit',
        action: 'message',
        url: 'https://audit.example.com/in',
        headers: {
          'Content-Type': 'application/cloudevents+json; charset=utf-8',
          'X-Burnback-Signature': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
        },
        body,
      },
    ]);
    expect(JSON.parse(body)).toMatchObject({ id: ID, type: EventTypes.decision, source: '//burnback/cli', data: { service: 'checkout' } });
  });

  it('reaches even a destination whose services list names none', () => {
    expect(testDeliveries({ ...slack, services: [] }, NOW)).toHaveLength(1);
    expect(testDeliveries({ ...pagerDuty, services: [] }, NOW).map((d) => d.action)).toEqual(['trigger', 'resolve']);
  });

  it('does not change the destination it is given', () => {
    const before = JSON.stringify(pagerDuty);
    testDeliveries(pagerDuty, NOW);
    expect(JSON.stringify(pagerDuty)).toBe(before);
  });
});
