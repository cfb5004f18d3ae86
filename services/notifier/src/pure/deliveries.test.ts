import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { NotifyTopics, type NotifyDestination, type NotifyKind, type NotifyTopic } from '@burnback/contracts';
import { decisionNotice, destination, rollbackNotice } from '../../test/fixtures.js';
import {
  DeliveryActions,
  PAGING_TOPICS,
  RESOLVING_TOPICS,
  SIGNATURE_HEADER,
  dedupKeyOf,
  deliveryIdOf,
  hears,
  pagerDutyDetails,
  planDeliveries,
  signatureOf,
  structuredCloudEvent,
  verdictOf,
  watches,
  type DeliveryAction,
  type PlannedDelivery,
} from './deliveries.js';
import { chatText, titleOf } from './messages.js';
import type { Notice } from './notices.js';

const ROUTING_KEY = 'R0UTINGKEY0000000000000000000001';
const SECRET = 'webhook-secret-0123456789abcdef';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const hmac = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const escalation = decisionNotice();
const recommendation = decisionNotice({ action: 'recommend', decisionId: 'dec-3', reason: 'recommend: roll back rel-005' });
const rollbackDecision = decisionNotice({ action: 'rollback', decisionId: 'dec-2', rollbackId: 'rb-1', reason: 'rolling back rel-005' });
const hold = decisionNotice({ action: 'hold', decisionId: 'dec-4', reason: 'hold: cooldown' });
const close = decisionNotice({ action: 'ignore', decisionId: 'dec-close', incidentState: 'closed', reason: 'incident 0.burn-1 is closed' });
const started = rollbackNotice('started', { detail: 'RollbackTarget accepted: rel-005 → rel-004' });
const succeeded = rollbackNotice('succeeded');
const failed = rollbackNotice('failed', { detail: 'rollout burnback-rb-1 FAILED' });
const superseded = rollbackNotice('superseded');
const byTopic: Record<NotifyTopic, Notice> = {
  escalate: escalation,
  recommend: recommendation,
  rollback: rollbackDecision,
  hold,
  close,
  'rollback-started': started,
  'rollback-succeeded': succeeded,
  'rollback-failed': failed,
  'rollback-superseded': superseded,
};

const pagerDuty = (overrides: Partial<NotifyDestination> = {}) => destination(overrides);
const slack = (overrides: Partial<NotifyDestination> = {}) =>
  destination({ name: 'team-chat', kind: 'slack', url: 'https://hooks.slack.com/services/T000/B000/XXXX', routingKey: null, ...overrides });
const googleChat = (overrides: Partial<NotifyDestination> = {}) =>
  destination({
    name: 'room',
    kind: 'google-chat',
    url: 'https://chat.googleapis.com/v1/spaces/AAA/messages?key=k&token=t',
    routingKey: null,
    ...overrides,
  });
const webhook = (overrides: Partial<NotifyDestination> = {}) =>
  destination({
    name: 'audit',
    kind: 'webhook',
    url: 'https://audit.example.com/burnback/',
    routingKey: null,
    secret: SECRET,
    ...overrides,
  });
const ofKind: Record<NotifyKind, (overrides?: Partial<NotifyDestination>) => NotifyDestination> = {
  pagerduty: pagerDuty,
  slack,
  'google-chat': googleChat,
  webhook,
};

const summaryOf = (d: PlannedDelivery) => (JSON.parse(d.body) as { payload: { summary: string } }).payload.summary;

describe('deliveryIdOf', () => {
  it('is dl- and the first 24 hex digits of the SHA-256 of destination, key and action, NUL-separated', () => {
    expect(deliveryIdOf('oncall', 'dec-1', 'trigger')).toBe('dl-991dec8e6650619fd706390a');
    expect(deliveryIdOf('team-chat', 'rb-1/started', 'message')).toBe('dl-0e743f258ad099f7bece98ca');
  });

  it('is stable, and distinct across (destination, key, action)', () => {
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,62}$/);
    const key = fc.string({ unit: 'binary', minLength: 1 });
    const action = fc.constantFrom<DeliveryAction>(...Object.values(DeliveryActions));
    fc.assert(
      fc.property(fc.tuple(name, key, action), fc.tuple(name, key, action), (a, b) => {
        const id = deliveryIdOf(...a);
        expect(id).toMatch(/^dl-[0-9a-f]{24}$/);
        expect(deliveryIdOf(...a)).toBe(id);
        const same = a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
        expect(deliveryIdOf(...b) === id).toBe(same);
      }),
    );
    // The pairs fast-check draws are rarely equal in one part only: make them so.
    fc.assert(
      fc.property(name, key, fc.uniqueArray(action, { minLength: 2, maxLength: 2 }), (n, k, [a1, a2]) => {
        expect(deliveryIdOf(n, k, a1!)).not.toBe(deliveryIdOf(n, k, a2!));
        expect(deliveryIdOf(n, k, a1!)).not.toBe(deliveryIdOf(`${n}x`, k, a1!));
        expect(deliveryIdOf(n, k, a1!)).not.toBe(deliveryIdOf(n, `${k}x`, a1!));
      }),
    );
  });
});

describe('dedupKeyOf', () => {
  it("is burnback- and the incident's id", () => {
    expect(dedupKeyOf('0.burn-1')).toBe('burnback-0.burn-1');
  });

  it("keeps an id that fits PagerDuty's 255 characters and hashes one that does not", () => {
    const fits = 'x'.repeat(255 - 'burnback-'.length);
    expect(dedupKeyOf(fits)).toBe(`burnback-${fits}`);
    expect(dedupKeyOf(fits)).toHaveLength(255);
    const over = 'x'.repeat(256 - 'burnback-'.length);
    expect(dedupKeyOf(over)).toBe('burnback-sha256-d081fd14046d4a496161597b406c3e0fd8cb30ae181f84799ed667a904e8bd6d');
  });

  it('is always at most 255 characters, the id itself when it fits, and its hash when not', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 600 }), (incidentId) => {
        const key = dedupKeyOf(incidentId);
        expect(key.length).toBeLessThanOrEqual(255);
        expect(dedupKeyOf(incidentId)).toBe(key);
        if (`burnback-${incidentId}`.length <= 255) expect(key).toBe(`burnback-${incidentId}`);
        else expect(key).toBe(`burnback-sha256-${sha256(incidentId)}`);
      }),
    );
    fc.assert(
      fc.property(fc.string({ minLength: 247, maxLength: 2000 }), (incidentId) => {
        expect(dedupKeyOf(incidentId)).toBe(`burnback-sha256-${sha256(incidentId)}`);
      }),
    );
  });
});

describe('signatureOf', () => {
  it('is sha256= and the hex HMAC-SHA256 of the exact body', () => {
    expect(signatureOf(SECRET, '{"a":1}')).toBe('sha256=0484ed5e6b0c6679779a24687dfbdca072c38210f9d69b6e16dbad6580a4cd9e');
  });

  it('verifies with the secret, and not with another secret or body', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 16 }), fc.string({ unit: 'binary' }), fc.string({ minLength: 1 }), (secret, body, extra) => {
        const signature = signatureOf(secret, body);
        expect(signature).toBe(hmac(secret, body));
        expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
        expect(signatureOf(`${secret}${extra}`, body)).not.toBe(signature);
        expect(signatureOf(secret, `${body}${extra}`)).not.toBe(signature);
      }),
    );
  });
});

describe('watches and hears', () => {
  it.each([
    [null, 'api-backend', true],
    [['api-backend'], 'api-backend', true],
    [['checkout', 'api-backend'], 'api-backend', true],
    [['checkout'], 'api-backend', false],
    [[], 'api-backend', false],
  ] as const)('a destination for services %j watches %s: %s', (services, service, expected) => {
    expect(watches(slack({ services }), decisionNotice({ service }))).toBe(expected);
  });

  it.each([
    [NotifyTopics, null, true],
    [['escalate'], null, true],
    [['hold', 'escalate'], ['api-backend'], true],
    [['hold'], null, false],
    [['escalate'], ['checkout'], false],
    [['hold'], ['checkout'], false],
  ] as const)('a destination on %j for services %j hears an escalation on api-backend: %s', (on, services, expected) => {
    expect(hears(slack({ on, services }), escalation)).toBe(expected);
  });
});

describe('pagerDutyDetails', () => {
  it('a decision: the reason, what it is about, its verdicts and its confidence', () => {
    expect(pagerDutyDetails(escalation)).toStrictEqual({
      reason: 'escalate: confidence 0.62 is below 0.80',
      service: 'api-backend',
      target: 'burnback-local/us-central1/api-backend-pipeline/production',
      incident: '0.burn-1',
      decision: 'dec-1',
      rollback: null,
      releases: 'blamed rel-005',
      commands: ['burnback decisions --service api-backend'],
      action: 'escalate',
      blamedRelease: 'rel-005',
      confidence: '0.62 (needs 0.80): burn 1.00×0.50, timing 0.20×0.30',
      confidenceFactors: [
        { name: 'burn', value: 1, weight: 0.5, detail: 'well over' },
        { name: 'timing', value: 0.2, weight: 0.3, detail: 'late' },
      ],
      verdicts: ['pass error-ratio: error ratio 5 % > 1 %', 'FAIL confidence: confidence 0.62 < 0.80'],
    });
  });

  it('a decision that blamed and weighed nothing says so with nulls and empty lists', () => {
    const bare = decisionNotice({ action: 'recommend', target: null, cause: null, confidence: null, verdicts: [], rollbackId: 'rb-3' });
    expect(pagerDutyDetails(bare)).toStrictEqual({
      reason: 'escalate: confidence 0.62 is below 0.80',
      service: 'api-backend',
      target: null,
      incident: '0.burn-1',
      decision: 'dec-1',
      rollback: 'rb-3',
      releases: null,
      commands: ['burnback decisions --service api-backend', 'burnback status', 'burnback approve dec-1 --reason "…"'],
      action: 'recommend',
      blamedRelease: null,
      confidence: null,
      confidenceFactors: [],
      verdicts: [],
    });
  });

  it('a rollback: its stage and rollout instead of the decision', () => {
    expect(pagerDutyDetails(failed)).toStrictEqual({
      reason: 'rollout burnback-rb-1 FAILED',
      service: 'api-backend',
      target: 'production',
      incident: '0.burn-1',
      decision: 'dec-2',
      rollback: 'rb-1',
      releases: 'rel-005 → rel-004',
      commands: ['burnback decisions --service api-backend', 'burnback status'],
      stage: 'failed',
      rollout: 'burnback-rb-1',
    });
    expect(pagerDutyDetails(rollbackNotice('started', { rolloutName: null }))).toMatchObject({ stage: 'started', rollout: null });
  });
});

describe('structuredCloudEvent', () => {
  it('is the CloudEvent in JSON format: its attributes, the content type, then its data', () => {
    expect(structuredCloudEvent(escalation)).toBe(
      '{"specversion":"1.0","id":"dec-1","type":"dev.burnback.decision.v1","source":"//burnback/decider",' +
        '"subject":"services/api-backend/decisions/dec-1","time":"2026-12-06T10:00:00.000Z","datacontenttype":"application/json",' +
        `"data":${JSON.stringify(escalation.decision)}}`,
    );
    expect(JSON.parse(structuredCloudEvent(started))).toStrictEqual({
      specversion: '1.0',
      id: 'rb-1-started',
      type: 'dev.burnback.rollback.progress.v1',
      source: '//burnback/executor',
      subject: 'rollbacks/rb-1',
      time: '2026-12-06T10:01:00.000Z',
      datacontenttype: 'application/json',
      data: started.progress,
    });
  });
});

describe('planDeliveries to PagerDuty', () => {
  type Row = [string, Notice, Partial<NotifyDestination>, boolean, DeliveryAction[]];
  const all: Partial<NotifyDestination> = {};
  const rows: Row[] = [
    ['an escalation', escalation, all, false, ['trigger']],
    ['an escalation', escalation, all, true, ['trigger']],
    ['a recommendation', recommendation, all, false, ['trigger']],
    ['a rollback decision', rollbackDecision, all, false, []],
    ['a rollback decision', rollbackDecision, all, true, ['resolve']],
    ['a hold', hold, all, false, []],
    ['a hold', hold, all, true, []],
    ['a close', close, all, false, []],
    ['a close', close, all, true, ['resolve']],
    ['a rollback start', started, all, false, ['change']],
    ['a rollback start', started, all, true, ['change']],
    ['a rollback success', succeeded, all, true, ['change']],
    ['a rollback failure', failed, all, false, ['trigger', 'change']],
    ['a rollback superseded', superseded, all, false, ['change']],
    ['an escalation not in on', escalation, { on: ['hold', 'recommend'] }, false, []],
    ['a failure not in on', failed, { on: ['escalate'] }, false, []],
    ['a failure in on', failed, { on: ['rollback-failed'] }, false, ['trigger', 'change']],
    ['a rollback decision not in on', rollbackDecision, { on: ['escalate'] }, true, ['resolve']],
    ['a close not in on', close, { on: ['escalate'] }, true, ['resolve']],
    ['a rollback start heard as its decision', started, { on: ['rollback'] }, false, ['change']],
    ['a rollback start heard by its own name', started, { on: ['rollback-started'] }, false, ['change']],
    ['a rollback start heard of by neither', started, { on: ['escalate', 'rollback-succeeded'] }, false, []],
    ['a rollback success where only rollback is heard', succeeded, { on: ['rollback'] }, false, []],
    ['a rollback failure where only rollback is heard', failed, { on: ['rollback'] }, false, []],
    ['a rollback superseded where only rollback is heard', superseded, { on: ['rollback'] }, false, []],
    ['an escalation of a service not watched', escalation, { services: ['checkout'] }, false, []],
    ['an escalation of a watched service', escalation, { services: ['checkout', 'api-backend'] }, false, ['trigger']],
    ['a rollback decision of a service not watched', rollbackDecision, { services: ['checkout'] }, true, []],
    ['a close of a service not watched', close, { services: ['checkout'] }, true, []],
    ['a rollback start of a service not watched', started, { services: ['checkout'] }, false, []],
    ['a rollback start heard as its decision, of a service not watched', started, { on: ['rollback'], services: ['checkout'] }, false, []],
  ];
  it.each(rows.map(([what, notice, overrides, paged, actions]) => [what, paged, actions, notice, overrides] as const))(
    '%s (paged before: %s) makes %j',
    (_what, paged, actions, notice, overrides) => {
      const planned = planDeliveries(pagerDuty(overrides), notice, paged);
      expect(planned.map((d) => d.action)).toEqual(actions);
      for (const d of planned) {
        expect(d.id).toBe(deliveryIdOf('oncall', notice.key, d.action));
        expect(d.destination).toBe('oncall');
        expect(d.url).toBe(
          d.action === 'change' ? 'https://events.pagerduty.com/v2/change/enqueue' : 'https://events.pagerduty.com/v2/enqueue',
        );
        expect(d.headers).toStrictEqual({ 'Content-Type': 'application/json' });
      }
    },
  );

  it("triggers an escalation with the incident's dedup key, its title and reason, and what a responder needs", () => {
    const [trigger] = planDeliveries(pagerDuty(), escalation, false);
    const body = {
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'burnback-0.burn-1',
      payload: {
        summary: 'Burnback: api-backend needs a human: escalate: confidence 0.62 is below 0.80',
        source: 'burnback/api-backend',
        severity: 'error',
        timestamp: '2026-12-06T10:00:00.000Z',
        component: 'api-backend',
        group: 'burnback-local/us-central1/api-backend-pipeline/production',
        class: 'escalate',
        custom_details: pagerDutyDetails(escalation),
      },
      client: 'Burnback',
    };
    expect(trigger).toStrictEqual({
      id: 'dl-991dec8e6650619fd706390a',
      destination: 'oncall',
      action: 'trigger',
      url: 'https://events.pagerduty.com/v2/enqueue',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(JSON.parse(trigger!.body)).toStrictEqual(body);
  });

  it('a failed rollback pages as critical, grouped by its target, and is a change event too', () => {
    const [trigger, change] = planDeliveries(pagerDuty(), failed, false);
    expect(JSON.parse(trigger!.body)).toStrictEqual({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'burnback-0.burn-1',
      payload: {
        summary: 'Burnback: api-backend rollback FAILED: rollout burnback-rb-1 FAILED',
        source: 'burnback/api-backend',
        severity: 'critical',
        timestamp: '2026-12-06T10:01:00.000Z',
        component: 'api-backend',
        group: 'production',
        class: 'rollback-failed',
        custom_details: pagerDutyDetails(failed),
      },
      client: 'Burnback',
    });
    expect(trigger!.id).toBe(deliveryIdOf('oncall', 'rb-1/failed', 'trigger'));
    expect(change!.id).toBe(deliveryIdOf('oncall', 'rb-1/failed', 'change'));
    expect(change!.id).not.toBe(trigger!.id);
  });

  it('a decision with no target is grouped by its service', () => {
    const [trigger] = planDeliveries(pagerDuty(), decisionNotice({ target: null, service: 'checkout' }), false);
    expect(JSON.parse(trigger!.body)).toMatchObject({
      payload: { group: 'checkout', component: 'checkout', source: 'burnback/checkout', severity: 'error' },
    });
  });

  it("resolves the incident's alert with nothing but the routing and dedup keys", () => {
    const [resolve] = planDeliveries(pagerDuty(), close, true);
    expect(resolve).toStrictEqual({
      id: deliveryIdOf('oncall', 'dec-close', 'resolve'),
      destination: 'oncall',
      action: 'resolve',
      url: 'https://events.pagerduty.com/v2/enqueue',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'burnback-0.burn-1' }),
    });
    const [afterRollback] = planDeliveries(pagerDuty({ routingKey: 'other-key' }), rollbackDecision, true);
    expect(afterRollback!.body).toBe('{"routing_key":"other-key","event_action":"resolve","dedup_key":"burnback-0.burn-1"}');
  });

  it("sends a rollback's start as a change event with its summary, time, source and details", () => {
    const [change] = planDeliveries(pagerDuty(), started, false);
    const body = {
      routing_key: ROUTING_KEY,
      payload: {
        summary: 'Burnback: api-backend rollback started: RollbackTarget accepted: rel-005 → rel-004',
        timestamp: '2026-12-06T10:01:00.000Z',
        source: 'burnback/api-backend',
        custom_details: pagerDutyDetails(started),
      },
    };
    expect(change).toStrictEqual({
      id: deliveryIdOf('oncall', 'rb-1/started', 'change'),
      destination: 'oncall',
      action: 'change',
      url: 'https://events.pagerduty.com/v2/change/enqueue',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  });

  it('hashes an incident id too long for a dedup key', () => {
    const incidentId = 'i'.repeat(300);
    const notice = decisionNotice({ incidentId });
    const [trigger] = planDeliveries(pagerDuty(), notice, false);
    expect(JSON.parse(trigger!.body)).toMatchObject({ dedup_key: `burnback-sha256-${sha256(incidentId)}` });
    const [resolve] = planDeliveries(pagerDuty(), decisionNotice({ incidentId, incidentState: 'closed' }), true);
    expect(JSON.parse(resolve!.body)).toMatchObject({ dedup_key: `burnback-sha256-${sha256(incidentId)}` });
  });

  it('sends to the base URL given, without its trailing slashes', () => {
    expect(planDeliveries(pagerDuty({ url: 'http://127.0.0.1:8080/pd//' }), escalation, false)[0]!.url).toBe(
      'http://127.0.0.1:8080/pd/v2/enqueue',
    );
    expect(planDeliveries(pagerDuty({ url: 'http://127.0.0.1:8080/' }), started, false)[0]!.url).toBe(
      'http://127.0.0.1:8080/v2/change/enqueue',
    );
    expect(planDeliveries(pagerDuty({ url: 'https://pd.example/a/b' }), close, true)[0]!.url).toBe('https://pd.example/a/b/v2/enqueue');
  });

  describe("cuts the summary at PagerDuty's 1,024 characters", () => {
    const prefix = 'Burnback: api-backend needs a human: ';
    const startedPrefix = 'Burnback: api-backend rollback started: ';
    it('keeps a summary of exactly 1,024 characters whole', () => {
      const reason = 'r'.repeat(1024 - prefix.length);
      const [trigger] = planDeliveries(pagerDuty(), decisionNotice({ reason }), false);
      expect(summaryOf(trigger!)).toBe(prefix + reason);
      const [change] = planDeliveries(pagerDuty(), rollbackNotice('started', { detail: 'd'.repeat(1024 - startedPrefix.length) }), false);
      expect(summaryOf(change!)).toBe(startedPrefix + 'd'.repeat(1024 - startedPrefix.length));
    });

    it('ends a longer one with an ellipsis at the 1,024th character', () => {
      const reason = `${'r'.repeat(1023 - prefix.length)}STOP`;
      const [trigger] = planDeliveries(pagerDuty(), decisionNotice({ reason }), false);
      expect(summaryOf(trigger!)).toBe(`${prefix}${'r'.repeat(1023 - prefix.length)}…`);
      expect(summaryOf(trigger!)).toHaveLength(1024);
      expect(JSON.parse(trigger!.body)).toMatchObject({ payload: { custom_details: { reason } } });
      const detail = 'd'.repeat(5000);
      const [change] = planDeliveries(pagerDuty(), rollbackNotice('started', { detail }), false);
      expect(summaryOf(change!)).toBe(`${startedPrefix}${'d'.repeat(1023 - startedPrefix.length)}…`);
    });

    it('never splits a character in two: a summary of emoji is cut between them', () => {
      const reason = '🔥'.repeat(2000);
      const [trigger] = planDeliveries(pagerDuty(), decisionNotice({ reason }), false);
      expect(Array.from(summaryOf(trigger!))).toHaveLength(1024);
      expect(summaryOf(trigger!)).toBe(`${prefix}${'🔥'.repeat(1023 - prefix.length)}…`);
    });

    it('never sends a summary over 1,024 characters', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 2000 }), fc.constantFrom<NotifyTopic>('escalate', 'rollback-failed'), (reason, topic) => {
          const notice = topic === 'escalate' ? decisionNotice({ reason }) : rollbackNotice('failed', { detail: reason });
          for (const d of planDeliveries(pagerDuty(), notice, false)) {
            const summary = summaryOf(d);
            expect(summary.length).toBeLessThanOrEqual(1024);
            const whole = `${titleOf(notice)}: ${reason}`;
            expect(summary === whole || (whole.length > 1024 && summary === `${whole.slice(0, 1023)}…`)).toBe(true);
          }
        }),
      );
    });
  });
});

describe('planDeliveries to chat', () => {
  it.each([
    ['slack', slack, 'team-chat', 'https://hooks.slack.com/services/T000/B000/XXXX'],
    ['google-chat', googleChat, 'room', 'https://chat.googleapis.com/v1/spaces/AAA/messages?key=k&token=t'],
  ] as const)('%s gets one message of the chat text, posted to its URL as given', (_kind, make, name, url) => {
    expect(planDeliveries(make(), escalation, false)).toStrictEqual([
      {
        id: deliveryIdOf(name, 'dec-1', 'message'),
        destination: name,
        action: 'message',
        url,
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ text: chatText(escalation) }),
      },
    ]);
    const [message] = planDeliveries(make({ url: `${url}/` }), started, true);
    expect(message!.url).toBe(`${url}/`);
    expect((JSON.parse(message!.body) as { text: string }).text.split('\n').slice(0, 2)).toEqual([
      '*RollbackTarget accepted: rel-005 → rel-004*',
      'Burnback: api-backend rollback started',
    ]);
  });

  it.each([
    ['a topic not in on', { on: ['hold'] as NotifyTopic[] }, escalation],
    ['a service not watched', { services: ['checkout'] }, escalation],
    ["a rollback's start heard only as its decision (that is PagerDuty's)", { on: ['rollback'] as NotifyTopic[] }, started],
  ] as const)('chat hears nothing of %s', (_what, overrides, notice) => {
    expect(planDeliveries(slack(overrides), notice, false)).toEqual([]);
    expect(planDeliveries(googleChat(overrides), notice, true)).toEqual([]);
  });

  it('a close is one message, never a resolve, even where it was paged', () => {
    expect(planDeliveries(slack(), close, true).map((d) => d.action)).toEqual(['message']);
  });
});

describe('planDeliveries to a webhook', () => {
  it('posts the CloudEvent in structured mode, signed with the secret', () => {
    const body = structuredCloudEvent(escalation);
    expect(planDeliveries(webhook(), escalation, false)).toStrictEqual([
      {
        id: deliveryIdOf('audit', 'dec-1', 'message'),
        destination: 'audit',
        action: 'message',
        url: 'https://audit.example.com/burnback/',
        headers: { 'Content-Type': 'application/cloudevents+json; charset=utf-8', 'X-Burnback-Signature': hmac(SECRET, body) },
        body,
      },
    ]);
    expect(SIGNATURE_HEADER).toBe('X-Burnback-Signature');
  });

  it('is unsigned without a secret', () => {
    const [post] = planDeliveries(webhook({ secret: null }), started, false);
    expect(post!.headers).toStrictEqual({ 'Content-Type': 'application/cloudevents+json; charset=utf-8' });
    expect(post!.body).toBe(structuredCloudEvent(started));
  });

  it('hears nothing of a topic not in on or a service not watched', () => {
    expect(planDeliveries(webhook({ on: ['close'] }), escalation, false)).toEqual([]);
    expect(planDeliveries(webhook({ services: ['checkout'] }), escalation, false)).toEqual([]);
    expect(planDeliveries(webhook({ on: ['close'] }), close, true)).toHaveLength(1);
  });

  it('the signature always verifies against the exact body sent', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 16 }), fc.string(), fc.constantFrom(...Object.values(byTopic)), (secret, reason, notice) => {
        const [post] = planDeliveries(webhook({ secret }), { ...notice, reason }, false);
        expect(post!.headers[SIGNATURE_HEADER]).toBe(hmac(secret, post!.body));
      }),
    );
  });
});

describe('planDeliveries, whatever the destination', () => {
  const kinds = Object.keys(ofKind) as NotifyKind[];
  const topics = Object.keys(byTopic) as NotifyTopic[];

  it('plans nothing for a service the destination does not watch, and each delivery under its own id', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.constantFrom(...topics),
        fc.subarray([...NotifyTopics], { minLength: 1 }),
        fc.boolean(),
        fc.boolean(),
        (kind, topic, on, watched, paged) => {
          const notice = byTopic[topic];
          const d = ofKind[kind]({ on, services: watched ? ['api-backend'] : ['checkout'] });
          const planned = planDeliveries(d, notice, paged);
          if (!watched) expect(planned).toEqual([]);
          for (const p of planned) expect(p.id).toBe(deliveryIdOf(d.name, notice.key, p.action));
          expect(new Set(planned.map((p) => p.id)).size).toBe(planned.length);
          if (kind !== 'pagerduty') expect(planned.length).toBe(hears(d, notice) ? 1 : 0);
        },
      ),
    );
  });

  it('names its paging and resolving topics', () => {
    expect([...PAGING_TOPICS]).toEqual(['escalate', 'recommend', 'rollback-failed']);
    expect([...RESOLVING_TOPICS]).toEqual(['rollback', 'close']);
    expect(DeliveryActions).toEqual({ trigger: 'trigger', resolve: 'resolve', change: 'change', message: 'message' });
  });
});

describe('verdictOf', () => {
  it.each([
    [null, 'retry'],
    [100, 'refused'],
    [199, 'refused'],
    [200, 'delivered'],
    [202, 'delivered'],
    [204, 'delivered'],
    [299, 'delivered'],
    [300, 'refused'],
    [301, 'refused'],
    [400, 'refused'],
    [404, 'refused'],
    [408, 'refused'],
    [428, 'refused'],
    [429, 'retry'],
    [430, 'refused'],
    [499, 'refused'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [599, 'retry'],
  ] as const)('an answer of %s means %s', (status, verdict) => {
    expect(verdictOf(status)).toBe(verdict);
  });
});
