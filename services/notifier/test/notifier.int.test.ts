import { createHmac } from 'node:crypto';
import { Collections, DeadLetterAttributes, EventTypes, Topics, type DecisionEvent, type RollbackProgress } from '@burnback/contracts';
import { createMetrics, notifyDestinationsFrom, PubSubPublisher, type Metrics, type NotifyDestination } from '@burnback/platform';
import {
  capturedLogger,
  createTestEnvironment,
  startReceiver,
  tapTopic,
  waitFor,
  type Receiver,
  type TestEnvironment,
  type TopicTap,
} from '@burnback/testkit';
import { startNotifierService, type DeliveryRecord, type NotifierService } from '../src/index.js';
import { decisionEvent, progressEvent, TARGET } from './fixtures.js';

const ROUTING_KEY = 'R0UTINGKEY0000000000000000000001';
const SECRET = 'webhook-secret-0123456789abcdef';
const SLACK_PATH = '/services/T000/B000/XXXXSECRETXXXX';

/**
 * The notifier on the emulators: decisions and rollback progress published to their
 * topics reach local receivers standing in for PagerDuty, Slack, Google Chat and a
 * signed webhook, each request once, retried while a receiver fails, dead-lettered
 * with the reason when it refuses.
 */
describe('the notifier delivers decisions and rollbacks', () => {
  let env: TestEnvironment;
  let publisher: PubSubPublisher;
  let deadLetters: TopicTap;
  let pd: Receiver;
  let slack: Receiver;
  let chat: Receiver;
  let hook: Receiver;
  let notifier: NotifierService;
  let metrics: Metrics;
  let logs: ReturnType<typeof capturedLogger>;

  const start = async (retryMinutes = 1) => {
    const destinations: NotifyDestination[] = notifyDestinationsFrom(
      [
        { name: 'oncall', kind: 'pagerduty', routingKey: '${PD_KEY}', url: pd.url, services: ['api-backend'] },
        { name: 'team-chat', kind: 'slack', url: `\${SLACK_URL}` },
        { name: 'room', kind: 'google-chat', url: chat.url + '/v1/spaces/AAA/messages?key=k&token=t', on: ['escalate'] },
        {
          name: 'audit',
          kind: 'webhook',
          url: hook.url + '/burnback',
          secret: '${HOOK_SECRET}',
          on: ['escalate', 'close', 'rollback-started'],
        },
      ],
      { PD_KEY: ROUTING_KEY, SLACK_URL: slack.url + SLACK_PATH, HOOK_SECRET: SECRET },
      new Set(['api-backend', 'checkout']),
      'test.yaml',
    );
    notifier = await startNotifierService({
      pubsub: env.pubsub,
      db: env.db,
      logger: logs.logger,
      metrics,
      destinations,
      retryMinutes,
      backoff: { minMs: 50, maxMs: 200 },
      sweepMs: 50,
    });
  };

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'notifier');
    publisher = new PubSubPublisher(env.pubsub);
    deadLetters = await tapTopic(env.pubsub, Topics.deadLetter);
    [pd, slack, chat, hook] = await Promise.all([
      startReceiver(),
      startReceiver({ okStatus: 200, okBody: 'ok' }),
      startReceiver({ okStatus: 200 }),
      startReceiver({ okStatus: 204, okBody: '' }),
    ]);
    metrics = createMetrics('notifier');
    logs = capturedLogger('notifier');
  });
  afterEach(async () => {
    await notifier?.close();
    await Promise.all([pd, slack, chat, hook].map((r) => r.close()));
    await deadLetters.close();
    await publisher.close();
    await env.close();
  });

  /** The fixtures' escalation, on this test's project, with a reason that names its timing. */
  const decision = (overrides: Partial<DecisionEvent> = {}) =>
    decisionEvent({
      reason: 'escalate: confidence 0.62 is below 0.80: the burn began 2 h after rel-005 started serving',
      target: { ...TARGET, project: env.projectId },
      ...overrides,
    });
  /** The fixtures' rollback stage, as the executor sequences and words it. */
  const progress = (stage: RollbackProgress['stage'], overrides: Partial<RollbackProgress> = {}) =>
    progressEvent(stage, {
      sequence: stage === 'started' ? 2 : 3,
      detail: stage === 'started' ? 'RollbackTarget accepted: rel-005 → rel-004' : `rollback ${stage}`,
      ...overrides,
    });
  const delivery = async (id: string) =>
    (await env.db.collection(Collections.deliveries).doc(id).get()).data() as DeliveryRecord | undefined;
  const deliveriesOf = async (destination: string) =>
    (await env.db.collection(Collections.deliveries).where('destination', '==', destination).get()).docs.map(
      (d) => d.data() as DeliveryRecord,
    );
  const sentCount = async (destination: string, outcome: string) =>
    (await metrics.notificationsSent.get()).values.find((v) => v.labels.destination === destination && v.labels.outcome === outcome)
      ?.value ?? 0;

  it('pages an escalation once with its reasons, posts it to chat and a signed webhook, and resolves the page when the incident closes', async () => {
    await start();
    await publisher.publishEvent(Topics.decisions, decision(), 'api-backend');
    const [trigger] = await waitFor(() => pd.to('/v2/enqueue').length === 1 && pd.to('/v2/enqueue'), { what: 'the PagerDuty trigger' });
    expect(trigger!.json).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'burnback-0.burn-1',
      payload: {
        summary: expect.stringContaining('escalate: confidence 0.62 is below 0.80'),
        source: 'burnback/api-backend',
        severity: 'error',
        custom_details: {
          reason: decision().data.reason,
          blamedRelease: 'rel-005',
          verdicts: ['pass error-ratio: error ratio 5 % > 1 %', 'FAIL confidence: confidence 0.62 < 0.80'],
          confidenceFactors: [
            expect.objectContaining({ name: 'burn', weight: 0.5 }),
            expect.objectContaining({ name: 'timing', weight: 0.3 }),
          ],
        },
      },
    });
    const [message] = await waitFor(() => slack.to(SLACK_PATH).length === 1 && slack.to(SLACK_PATH), { what: 'the Slack message' });
    const text = (message!.json as { text: string }).text.split('\n');
    expect(text[0]).toBe(`*${decision().data.reason}*`);
    expect(text).toEqual(
      expect.arrayContaining([
        'service: api-backend',
        'releases: blamed rel-005',
        'look closer: `burnback decisions --service api-backend`',
      ]),
    );
    await waitFor(() => chat.requests.length === 1, { what: 'the Google Chat message' });
    expect(chat.requests[0]!.path).toBe('/v1/spaces/AAA/messages?key=k&token=t');
    const [posted] = await waitFor(() => hook.requests.length === 1 && hook.requests, { what: 'the webhook post' });
    expect(posted!.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
    expect(posted!.headers['x-burnback-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(posted!.body).digest('hex')}`);
    expect(posted!.json).toMatchObject({
      specversion: '1.0',
      id: 'dec-1',
      type: EventTypes.decision,
      data: { action: 'escalate', incidentId: '0.burn-1' },
    });

    await waitFor(async () => (await deliveriesOf('oncall')).some((d) => d.status === 'delivered'), {
      what: 'the trigger recorded delivered',
    });
    await publisher.publishEvent(
      Topics.decisions,
      decision({
        decisionId: 'dec-close',
        action: 'ignore',
        reason: 'incident 0.burn-1 is closed: the service recovered',
        incidentState: 'closed',
      }),
      'api-backend',
    );
    const resolves = await waitFor(() => pd.to('/v2/enqueue').length === 2 && pd.to('/v2/enqueue'), { what: 'the resolve' });
    expect(resolves[1]!.json).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'burnback-0.burn-1' });
    // The webhook hears of closes; Slack and Chat (default and [escalate]) do not: the webhook's post is the positive control.
    await waitFor(() => hook.requests.length === 2, { what: "the close's webhook post" });
    await waitFor(async () => (await deliveriesOf('audit')).filter((d) => d.status === 'delivered').length === 2, {
      what: 'both webhook deliveries recorded',
    });
    expect(slack.requests).toHaveLength(1);
    expect(chat.requests).toHaveLength(1);
    // The notifier counts a delivery once its record says so, a moment after PagerDuty answered: wait for the count.
    await waitFor(async () => (await sentCount('oncall', 'delivered')) >= 2 || undefined, { what: 'both pages counted delivered' });
    expect(await sentCount('oncall', 'delivered')).toBe(2);
    expect(pd.to('/v2/enqueue')).toHaveLength(2);
  });

  it("sends a rollback's start and end as PagerDuty change events, and its outcome to chat", async () => {
    await start();
    await publisher.publishEvent(Topics.progress, progress('accepted', { sequence: 1 }), 'api-backend');
    await publisher.publishEvent(Topics.progress, progress('started'), 'api-backend');
    await publisher.publishEvent(Topics.progress, progress('succeeded', { servingSince: '2026-12-06T10:02:00.000Z' }), 'api-backend');
    const changes = await waitFor(() => pd.to('/v2/change/enqueue').length === 2 && pd.to('/v2/change/enqueue'), {
      what: 'two change events',
    });
    expect(changes.map((c) => (c.json as { payload: { summary: string } }).payload.summary)).toEqual([
      'Burnback: api-backend rollback started: RollbackTarget accepted: rel-005 → rel-004',
      'Burnback: api-backend rolled back: rollback succeeded',
    ]);
    expect(changes[1]!.json).toMatchObject({
      routing_key: ROUTING_KEY,
      payload: { custom_details: { releases: 'rel-005 → rel-004', stage: 'succeeded' } },
    });
    // Slack by default hears of the outcome, not the start; the webhook asked for starts.
    const [message] = await waitFor(() => slack.requests.length === 1 && slack.requests, { what: 'the Slack message' });
    expect((message!.json as { text: string }).text.split('\n').slice(0, 2)).toEqual([
      '*rollback succeeded*',
      'Burnback: api-backend rolled back',
    ]);
    await waitFor(() => hook.requests.length === 1, { what: "the start's webhook post" });
    expect(hook.requests[0]!.json).toMatchObject({ type: EventTypes.rollbackProgress, data: { stage: 'started' } });
    // Nothing triggered a page, so nothing was resolved, and no page was raised for a successful rollback.
    expect(pd.to('/v2/enqueue')).toHaveLength(0);
  });

  it('retries a receiver that fails until it recovers: exactly one delivery per key, even when the event comes again', async () => {
    await start();
    slack.failNext(2, 503);
    slack.failNext(1, 429);
    slack.failNext(1, 0); // the connection cut without an answer
    await publisher.publishEvent(Topics.decisions, decision(), 'api-backend');
    await waitFor(async () => (await deliveriesOf('team-chat'))[0]?.status === 'delivered', { what: 'the Slack delivery' });
    expect(slack.requests.map((r) => r.answered)).toEqual([503, 503, 429, 0, 200]);
    const [record] = await deliveriesOf('team-chat');
    expect(record).toMatchObject({ attempts: 5, responseStatus: 200, status: 'delivered', action: 'message', topic: 'escalate' });
    // The retries were the sweep's: the event itself was acked after the first attempt.
    expect(record!.lastError).toBeNull();
    expect(await sentCount('team-chat', 'retried')).toBe(4);

    // The same event again (a redelivery, a relay's resend): every key was delivered, so nothing is sent twice.
    await publisher.publishEvent(Topics.decisions, decision(), 'api-backend');
    await waitFor(async () => (await sentCount('team-chat', 'skipped')) === 1 && (await sentCount('oncall', 'skipped')) === 1, {
      what: 'the redelivery skipped',
    });
    expect(slack.requests.filter((r) => r.answered === 200)).toHaveLength(1);
    expect(pd.to('/v2/enqueue')).toHaveLength(1);
  });

  it('a destination that keeps failing holds no later notice: the next escalation of the same service is paged at once', async () => {
    await start(5);
    slack.answer(503);
    await publisher.publishEvent(Topics.decisions, decision(), 'api-backend');
    await publisher.publishEvent(Topics.decisions, decision({ decisionId: 'dec-2', incidentId: '0.burn-2' }), 'api-backend');
    const pages = await waitFor(() => pd.to('/v2/enqueue').length === 2 && pd.to('/v2/enqueue'), {
      what: 'both pages, while Slack still fails',
    });
    expect(pages.map((p) => (p.json as { dedup_key: string }).dedup_key)).toEqual(['burnback-0.burn-1', 'burnback-0.burn-2']);
    expect((await deliveriesOf('team-chat')).every((d) => d.status === 'sending')).toBe(true);
    // Slack recovers: each of its two messages is delivered once, by the sweep.
    slack.answer(null);
    await waitFor(async () => (await deliveriesOf('team-chat')).filter((d) => d.status === 'delivered').length === 2, {
      what: 'Slack caught up',
    });
    expect(slack.requests.filter((r) => r.answered === 200)).toHaveLength(2);
  });

  it('a resolve waits for its trigger: a close handled while the page is still being raised resolves it once raised', async () => {
    await start();
    pd.failNext(3, 503);
    await publisher.publishEvent(Topics.decisions, decision(), 'api-backend');
    await waitFor(() => pd.requests.length >= 1, { what: 'the first trigger attempt' });
    await publisher.publishEvent(
      Topics.decisions,
      decision({
        decisionId: 'dec-close',
        action: 'ignore',
        reason: 'incident 0.burn-1 is closed: the service recovered',
        incidentState: 'closed',
      }),
      'api-backend',
    );
    const delivered = await waitFor(
      () => pd.requests.filter((r) => r.answered === 202).length === 2 && pd.requests.filter((r) => r.answered === 202),
      {
        what: 'the trigger, then its resolve',
      },
    );
    expect(delivered.map((r) => (r.json as { event_action: string }).event_action)).toEqual(['trigger', 'resolve']);
  });

  it('does not retry a 4xx: the delivery fails for good, is dead-lettered with the reason, and the other destinations still get theirs', async () => {
    await start();
    pd.answer(400);
    await publisher.publishEvent(Topics.decisions, decision(), 'api-backend');
    const [dead] = await deadLetters.waitFor(1);
    expect(dead!.attributes[DeadLetterAttributes.reason]).toMatch(
      /^delivery dl-[0-9a-f]{24} \(trigger\) to oncall \(pagerduty\) failed: HTTP 400: .*a 4xx other than 429 is not retried/,
    );
    expect(dead!.attributes['burnback-destination']).toBe('oncall');
    expect(JSON.parse(dead!.data.toString())).toMatchObject({ id: 'dec-1', type: EventTypes.decision });
    expect(pd.requests).toHaveLength(1);
    const [record] = await waitFor(
      async () => {
        const d = await deliveriesOf('oncall');
        return d[0]?.status === 'failed' && d;
      },
      { what: 'the delivery recorded failed' },
    );
    expect(record).toMatchObject({ status: 'failed', responseStatus: 400, attempts: 1 });
    await waitFor(async () => (await deliveriesOf('team-chat'))[0]?.status === 'delivered', { what: 'Slack delivered all the same' });
    expect(await sentCount('oncall', 'failed')).toBe(1);
  });

  it('gives up on a destination that keeps failing after notifyRetryMinutes, and never writes a secret to logs or records', async () => {
    await start(0.02); // 1.2 s
    hook.answer(503);
    await publisher.publishEvent(Topics.decisions, decision(), 'api-backend');
    const [dead] = await deadLetters.waitFor(1, undefined, 30_000);
    expect(dead!.attributes[DeadLetterAttributes.reason]).toMatch(
      /to audit \(webhook\) failed: HTTP 503: .*, still after \d+ attempt\(s\) over 1 s/,
    );
    const [record] = await waitFor(
      async () => {
        const d = await deliveriesOf('audit');
        return d[0]?.status === 'failed' && d;
      },
      { what: 'the delivery recorded failed' },
    );
    expect(record!.status).toBe('failed');
    expect(record!.attempts).toBeGreaterThan(1);
    expect(hook.requests.length).toBe(record!.attempts);
    const everything =
      JSON.stringify(logs.lines) +
      JSON.stringify(await Promise.all(['oncall', 'team-chat', 'room', 'audit'].map(deliveriesOf))) +
      JSON.stringify(deadLetters.messages.map((m) => m.attributes));
    expect(everything).toContain('dl-');
    for (const secret of [ROUTING_KEY, SECRET, 'XXXXSECRETXXXX', 'token=t']) expect(everything).not.toContain(secret);
    expect(await delivery(record!.id)).toMatchObject({ lastError: expect.stringMatching(/^HTTP 503/) });
  });
});
