import { Firestore } from '@google-cloud/firestore';
import type { FastifyInstance } from 'fastify';
import { Collections, Topics, type AlertEvent } from '@burnback/contracts';
import { createMetrics, PubSubPublisher } from '@burnback/platform';
import {
  belowThresholdIncident,
  closedIncident,
  createTestEnvironment,
  openIncident,
  tapAlerts,
  type TestEnvironment,
  type TopicTap,
} from '@burnback/testkit';
import { createIngestApp, createIngestHandler, FirestoreNotificationStore, startIngestService } from '../src/index.js';

const TOKEN = 'test-webhook-token-0123456789';

describe("ingest's 503 answers on the emulators", () => {
  let env: TestEnvironment;
  let publisher: PubSubPublisher;
  let alerts: TopicTap;
  const apps: FastifyInstance[] = [];

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'ingest');
    publisher = new PubSubPublisher(env.pubsub);
    alerts = await tapAlerts(env.pubsub);
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await alerts.close();
    await publisher.close();
    await env.close();
  });

  /**
   * Ingest's front door over a store on `db`, listening on a port the OS picks, publishing
   * through the test's one publisher (so its messages keep their order). Returns its address.
   */
  const ingestApp = async (db: Firestore): Promise<string> => {
    const handle = createIngestHandler({
      services: env.config().services,
      store: new FirestoreNotificationStore(db),
      publisher,
      logger: env.logger,
    });
    const app = createIngestApp({
      handle,
      deadLetter: publisher,
      webhookToken: TOKEN,
      pushAuth: { kind: 'unsigned' },
      logger: env.logger,
      metrics: createMetrics('ingest'),
    });
    apps.push(app);
    return app.listen({ host: '127.0.0.1', port: 0 });
  };
  /** POSTs JSON (light-my-request's inject needs an ESM-only cookie under jest, so real HTTP). */
  const post = async (address: string, path: string, body: unknown) => {
    const res = await fetch(`${address}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { statusCode: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const webhook = (address: string, body: unknown) => post(address, `/webhook/error-budget-alert?auth_token=${TOKEN}`, body);
  const pushEnvelope = (body: unknown) => ({
    subscription: `projects/${env.projectId}/subscriptions/push`,
    message: { data: Buffer.from(JSON.stringify(body)).toString('base64'), messageId: '1', publishTime: new Date().toISOString() },
  });
  const incident = (incidentId: string) => openIncident({ projectId: env.projectId, incidentId });
  const alertIds = () => alerts.messages.map((m) => m.json<AlertEvent>().incidentId);
  const notifications = async () => (await env.db.collection(Collections.notifications).get()).docs.map((d) => d.id);

  it('publishes an alert that could roll back to the fast lane keyed by its service, and every other to the bulk lane unkeyed', async () => {
    const address = await ingestApp(env.db);
    const sent = [
      openIncident({ projectId: env.projectId, incidentId: '0.burning' }),
      belowThresholdIncident({ projectId: env.projectId, incidentId: '0.below' }),
      closedIncident({ projectId: env.projectId, incidentId: '0.closed' }),
    ];
    for (const body of sent) expect((await webhook(address, body)).statusCode).toBe(202);
    const messages = await alerts.waitFor(3);
    const lanes = Object.fromEntries(
      messages.map((m) => [m.json<AlertEvent>().incidentId, { topic: m.topic, orderingKey: m.orderingKey }]),
    );
    expect(lanes).toEqual({
      '0.burning': { topic: Topics.alerts, orderingKey: 'api-backend' },
      '0.below': { topic: Topics.alertsBulk, orderingKey: '' },
      '0.closed': { topic: Topics.alertsBulk, orderingKey: '' },
    });
  });

  it('answers 503 to the webhook and to push while the store is down, and publishes nothing', async () => {
    const down = new Firestore({ projectId: env.projectId });
    await down.terminate(); // every call now fails at once, as a store that is unreachable does
    const broken = await ingestApp(down);

    const res = await webhook(broken, incident('0.nostore'));
    expect(res.statusCode).toBe(503);
    expect(res.body).toEqual({ error: { code: 'UNAVAILABLE', message: 'temporarily unable to accept the notification; retry' } });
    const pushed = await post(broken, '/pubsub/push', pushEnvelope(incident('0.nostore')));
    expect(pushed.statusCode).toBe(503);
    expect(pushed.body).toEqual({ error: { code: 'UNAVAILABLE', message: 'temporarily unable to process; Pub/Sub will redeliver' } });

    // Positive control: a marker on the same service through the same publisher arrives, and nothing before it.
    expect((await webhook(await ingestApp(env.db), incident('0.marker'))).statusCode).toBe(202);
    await alerts.waitFor(1, (m) => m.json<AlertEvent>().incidentId === '0.marker');
    expect(alertIds()).toEqual(['0.marker']);
  });

  it("answers 503 while Pub/Sub is down, keeps the notification, and the sender's retry goes through once it is back", async () => {
    const app = await ingestApp(env.db);
    await env.pubsub.topic(Topics.alerts).delete();
    const res = await webhook(app, incident('0.nopubsub'));
    expect(res.statusCode).toBe(503);
    expect(res.body).toEqual({ error: { code: 'UNAVAILABLE', message: 'temporarily unable to accept the notification; retry' } });
    expect(await notifications()).toHaveLength(1); // kept for replay before the publish failed

    await alerts.close(); // its subscription went with the topic
    await env.pubsub.createTopic(Topics.alerts);
    alerts = await tapAlerts(env.pubsub);
    const retried = await webhook(app, incident('0.nopubsub'));
    expect(retried.statusCode).toBe(202);
    expect(retried.body).toMatchObject({ status: 'accepted', incidentId: '0.nopubsub', service: 'api-backend' });

    expect((await webhook(app, incident('0.marker'))).statusCode).toBe(202);
    await alerts.waitFor(1, (m) => m.json<AlertEvent>().incidentId === '0.marker');
    expect(alertIds()).toEqual(['0.nopubsub', '0.marker']);
    expect(await notifications()).toHaveLength(2);
  });

  it('with no webhook token and no push authentication configured, the webhook and the push endpoint answer 503 and say why', async () => {
    const config = env.config();
    expect(config.webhookToken).toBeNull();
    expect(config.pushAuth).toBeNull();
    const ingest = await startIngestService({ config, pubsub: env.pubsub, db: env.db, logger: env.logger, host: '127.0.0.1' });
    const webhookDisabled = {
      error: { code: 'UNAVAILABLE', message: 'the webhook is disabled: BURNBACK_WEBHOOK_TOKEN is not configured' },
    };
    const pushDisabled = {
      error: {
        code: 'UNAVAILABLE',
        message:
          'the push endpoint is disabled: set BURNBACK_PUSH_AUDIENCE and BURNBACK_PUSH_SERVICE_ACCOUNT (or, locally only, BURNBACK_PUSH_ALLOW_UNSIGNED=true)',
      },
    };
    try {
      for (const [url, expected] of [
        [`/webhook/error-budget-alert?auth_token=${TOKEN}`, webhookDisabled],
        ['/webhook/error-budget-alert', webhookDisabled],
        ['/pubsub/push', pushDisabled],
        [`/pubsub/push?auth_token=${TOKEN}`, pushDisabled],
      ] as const) {
        const res = await post(
          ingest.address,
          url,
          url.startsWith('/pubsub') ? pushEnvelope(incident('0.disabled')) : incident('0.disabled'),
        );
        expect({ url, status: res.statusCode, body: res.body }).toEqual({ url, status: 503, body: expected });
      }
      // Refused before anything was kept (the handler awaits the store before it answers).
      expect(await notifications()).toEqual([]);
    } finally {
      await ingest.close();
    }
  });

  it('takes the token as the query parameter, HTTP Basic or a bearer header, and answers every error in one shape without echoing it', async () => {
    const app = await ingestApp(env.db);
    const send = async (path: string, headers: Record<string, string>, body: string) => {
      const res = await fetch(`${app}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      return { status: res.status, text: await res.text() };
    };
    const body = JSON.stringify(incident('0.tokens'));
    expect((await send(`/webhook/error-budget-alert?auth_token=${TOKEN}`, {}, body)).status).toBe(202);
    const basic = `Basic ${Buffer.from(`monitoring:${TOKEN}`).toString('base64')}`;
    expect((await send('/webhook/error-budget-alert', { authorization: basic }, body)).status).toBe(202);
    expect((await send('/webhook/error-budget-alert', { authorization: `Bearer ${TOKEN}` }, body)).status).toBe(202);

    const wrong = await send('/webhook/error-budget-alert', { authorization: 'Bearer not-the-token-at-all' }, body);
    expect(wrong).toEqual({ status: 403, text: JSON.stringify({ error: { code: 'PERMISSION_DENIED', message: 'invalid token' } }) });
    const missing = await send('/webhook/error-budget-alert', { authorization: 'Basic bm9jb2xvbg==' }, body);
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.text)).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });

    const notFound = await send(`/webhook/nowhere?auth_token=${TOKEN}`, {}, body);
    expect(notFound).toEqual({
      status: 404,
      text: JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no route POST /webhook/nowhere' } }),
    });
    const tooLarge = await send(`/webhook/error-budget-alert?auth_token=${TOKEN}`, {}, 'x'.repeat(1024 * 1024 + 1));
    expect(tooLarge).toEqual({
      status: 413,
      text: JSON.stringify({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'body too large: at most 1 MiB' } }),
    });
    for (const res of [wrong, missing, notFound, tooLarge]) expect(res.text).not.toContain(TOKEN);
    // Three accepted, each published once.
    await alerts.waitFor(3, (m) => m.json<AlertEvent>().incidentId === '0.tokens');
  });
});
