import { Firestore } from '@google-cloud/firestore';
import type { FastifyInstance } from 'fastify';
import { AlertEvent, Collections, Topics } from '@burnback/contracts';
import { createMetrics, PubSubPublisher } from '@burnback/platform';
import {
  burnRateIncident,
  capturedLogger,
  createTestEnvironment,
  openIncident,
  tapAlerts,
  type TestEnvironment,
  type TopicTap,
} from '@burnback/testkit';
import {
  alertmanagerNotificationFor,
  createAlertmanagerHandler,
  createIngestApp,
  createIngestHandler,
  FirestoreNotificationStore,
  startIngestService,
} from '../src/index.js';
import { alert, notification, PROBE_FAILURE, slothPageAlert } from './alertmanager-payloads.js';

const TOKEN = 'test-webhook-token-0123456789';
const PATH = '/webhook/alertmanager';

/** An error-ratio alert of api-backend on Sloth's 1 h error ratio (config/local.yaml names it), named by burnback_service. */
const errorRatioAlert = (value: string, options: { status?: 'firing' | 'resolved'; startsAt?: string } = {}) =>
  alert({
    status: options.status ?? 'firing',
    labels: { alertname: 'ApiBackendErrorRatio', burnback_service: 'api-backend', severity: 'critical' },
    annotations: { burnback_value: value, summary: 'api-backend error ratio above 1 %' },
    expr: 'slo:sli_error:ratio_rate1h{sloth_service="api-backend"} > 0.01',
    startsAt: options.startsAt ?? '2026-11-26T10:00:00Z',
    fingerprint: '9d4e2b7a1c3f5e60',
  });

describe("ingest's Alertmanager webhook on the emulators", () => {
  let env: TestEnvironment;
  let publisher: PubSubPublisher;
  let alerts: TopicTap;
  const apps: FastifyInstance[] = [];

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'alertmanager');
    publisher = new PubSubPublisher(env.pubsub);
    alerts = await tapAlerts(env.pubsub);
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await alerts.close();
    await publisher.close();
    await env.close();
  });

  /** The front door over a store on `db`, both webhooks on one token, listening on a port the OS picks. */
  const start = async (db: Firestore = env.db, logger = env.logger) => {
    const deps = { services: env.config().services, store: new FirestoreNotificationStore(db), publisher, logger };
    const app = createIngestApp({
      handle: createIngestHandler(deps),
      handleAlertmanager: createAlertmanagerHandler(deps),
      deadLetter: publisher,
      webhookToken: TOKEN,
      pushAuth: null,
      logger,
      metrics: createMetrics('ingest'),
    });
    apps.push(app);
    return app.listen({ host: '127.0.0.1', port: 0 });
  };
  const send = async (
    address: string,
    path: string,
    body: unknown,
    headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
  ) => {
    const res = await fetch(`${address}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
  };
  const published = () => alerts.messages.map((m) => ({ id: m.attributes['ce-id'], event: m.json<AlertEvent>() }));
  const notifications = async () =>
    (await env.db.collection(Collections.notifications).get()).docs.map(
      (d) => d.data() as { id: string; source: string; raw: string; state: string },
    );

  it('publishes a firing error-ratio alert as the AlertEvent its Monitoring twin gives, and its resolved alert closes the incident', async () => {
    const address = await start();
    // The Monitoring twin: the same burn (5 % against the 1 % threshold) through Monitoring's webhook.
    const twin = await send(
      address,
      `/webhook/error-budget-alert?auth_token=${TOKEN}`,
      openIncident({ projectId: env.projectId, observedValue: '0.05' }),
    );
    expect(twin.status).toBe(202);
    const firing = await send(address, PATH, notification([errorRatioAlert('0.05')]));
    expect(firing).toMatchObject({
      status: 202,
      body: {
        status: 'accepted',
        accepted: 1,
        unmapped: 0,
        refused: 0,
        truncatedAlerts: 0,
        results: [
          {
            index: 0,
            fingerprint: '9d4e2b7a1c3f5e60',
            status: 'accepted',
            eventId: expect.stringMatching(/^ntf-[0-9a-f]{24}$/),
            service: 'api-backend',
            incidentId: 'am-9d4e2b7a1c3f5e60-2026-11-26T10:00:00.000Z',
            state: 'open',
          },
        ],
      },
    });
    await alerts.waitFor(2);
    const [monitoring, am] = published().map((p) => p.event);
    const decisive = (e: AlertEvent) => ({
      service: e.service,
      state: e.state,
      signal: e.signal,
      comparison: e.comparison,
      signalValue: e.signalValue,
      signalThreshold: e.signalThreshold,
      burnPolicy: e.burnPolicy,
      burnWindows: e.burnWindows,
      unsupportedReason: e.unsupportedReason,
    });
    expect(decisive(am!)).toEqual(decisive(monitoring!));
    expect(am).toMatchObject({ source: 'alertmanager', incidentId: 'am-9d4e2b7a1c3f5e60-2026-11-26T10:00:00.000Z', endedAt: null });
    expect(AlertEvent.parse(am)).toBeTruthy();
    // The ordering key is the service, as for Monitoring; the event id is the alert's notification id.
    expect(alerts.messages[1]!.orderingKey).toBe('api-backend');
    // Over its bar: the fast lane.
    expect(alerts.messages[1]!.topic).toBe(Topics.alerts);
    expect(published()[1]!.id).toBe((firing.body.results as Array<{ eventId: string }>)[0]!.eventId);

    const resolved = await send(address, PATH, notification([errorRatioAlert('0.004', { status: 'resolved' })]));
    expect(resolved.status).toBe(202);
    const [closed] = await alerts.waitFor(1, (m) => m.json<AlertEvent>().state === 'closed');
    // A close cannot roll back: the bulk lane, with no ordering key.
    expect({ topic: closed!.topic, orderingKey: closed!.orderingKey }).toEqual({ topic: Topics.alertsBulk, orderingKey: '' });
    expect(closed!.json<AlertEvent>()).toMatchObject({
      incidentId: am!.incidentId,
      state: 'closed',
      endedAt: '2026-11-26T10:16:00.500Z',
      observedValue: 0.004,
      source: 'alertmanager',
    });
    // Each alert's own notification (the group with that alert alone) is kept, for replay.
    const kept = (await notifications()).filter((n) => n.source === 'alertmanager');
    expect(kept.map((n) => n.state).sort()).toEqual(['firing', 'resolved']);
    expect(kept.every((n) => JSON.parse(n.raw).version === '4' && JSON.parse(n.raw).alerts.length === 1)).toBe(true);
  });

  it("publishes Sloth's fast burn as a burn rate on the windows its Monitoring twin has", async () => {
    const address = await start();
    const twin = burnRateIncident({ projectId: env.projectId, lookback: '3600s', shortLookback: '300s', observedValue: '20' });
    expect((await send(address, `/webhook/error-budget-alert?auth_token=${TOKEN}`, twin)).status).toBe(202);
    expect((await send(address, PATH, notification([slothPageAlert({ value: '0.2' })]))).status).toBe(202);
    await alerts.waitFor(2);
    const [monitoring, am] = published().map((p) => p.event);
    const burn = (e: AlertEvent) => ({
      service: e.service,
      signal: e.signal,
      burnPolicy: e.burnPolicy,
      burnWindows: e.burnWindows,
      signalValue: e.signalValue,
    });
    expect(burn(am!)).toEqual(burn(monitoring!));
    expect(am).toMatchObject({ burnPolicySource: 'sibling-windows', signalThreshold: 14.4, lookbackSeconds: 300, severity: 'page' });
  });

  it('a notification delivered twice is kept once and published under the same id, and its replay alone gives that id again', async () => {
    const address = await start();
    const body = notification([errorRatioAlert('0.05'), slothPageAlert({ value: '0.2' })]);
    const first = await send(address, PATH, body);
    const again = await send(address, PATH, body);
    expect(first.status).toBe(202);
    expect(again.body.results).toEqual(first.body.results);
    await alerts.waitFor(4);
    const ids = published().map((p) => p.id);
    expect(new Set(ids).size).toBe(2);
    const kept = await notifications();
    expect(kept).toHaveLength(2);

    // `burnback replay --through-pipeline` sends a kept alert alone: the same event id, nothing else.
    const second = kept.find((n) => n.id === (first.body.results as Array<{ eventId: string }>)[1]!.eventId)!;
    const alone = alertmanagerNotificationFor(second.raw, second.id)!;
    // What was kept is already the alert alone.
    expect(alone).toBe(second.raw);
    expect(JSON.parse(alone)).toEqual({ ...body, alerts: [(body.alerts as unknown[])[1]], truncatedAlerts: 0 });
    const replayed = await send(address, PATH, alone);
    expect(replayed.body.results).toEqual([{ ...(first.body.results as object[])[1], index: 0 }]);
    await alerts.waitFor(5);
    expect(published().at(-1)!.id).toBe(second.id);
    expect(await notifications()).toHaveLength(2);
  });

  it('a bad alert costs only itself: the valid ones beside it are published, and the answer says why it was refused', async () => {
    const address = await start();
    const res = await send(
      address,
      PATH,
      notification([
        { ...errorRatioAlert('0.05'), fingerprint: 'a/b' },
        errorRatioAlert('0.05'),
        { ...slothPageAlert({ value: 'lots' }), fingerprint: '77' },
        PROBE_FAILURE.alerts[0]!,
      ]),
    );
    expect(res).toMatchObject({ status: 202, body: { status: 'accepted', accepted: 1, unmapped: 1, refused: 2 } });
    expect(res.body.results).toEqual([
      {
        index: 0,
        fingerprint: 'a/b',
        status: 'refused',
        reason: expect.stringMatching(/its fingerprint cannot make an incident id: incident id .* holds a "\/"/),
      },
      expect.objectContaining({ index: 1, status: 'accepted', service: 'api-backend' }),
      { index: 2, fingerprint: '77', status: 'refused', reason: 'annotation burnback_value is not a number: "lots"' },
      {
        index: 3,
        fingerprint: '1a30ba71cca2921f',
        status: 'unmapped',
        reason: expect.stringMatching(/^no configured service matches the alert's labels/),
      },
    ]);
    await alerts.waitFor(1);
    expect(published().map((p) => p.event.incidentId)).toEqual(['am-9d4e2b7a1c3f5e60-2026-11-26T10:00:00.000Z']);
  });

  it('keeps a 300-alert group once per alert, each record holding only its own alert, and publishes all 300', async () => {
    const address = await start();
    const group = notification(
      Array.from({ length: 300 }, (_, i) => ({ ...errorRatioAlert('0.05'), fingerprint: `a${String(i).padStart(15, '0')}` })),
    );
    const res = await send(address, PATH, group);
    expect(res).toMatchObject({ status: 202, body: { accepted: 300, unmapped: 0, refused: 0 } });
    const results = res.body.results as Array<{ index: number; fingerprint: string; eventId: string }>;
    expect(results.map((r) => r.index)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    await alerts.waitFor(300);
    expect(new Set(published().map((p) => p.id))).toEqual(new Set(results.map((r) => r.eventId)));

    const kept = new Map((await notifications()).map((n) => [n.id, n]));
    expect(kept.size).toBe(300);
    for (const r of results) {
      const own = JSON.parse(kept.get(r.eventId)!.raw) as { alerts: Array<{ fingerprint: string }> };
      expect(own.alerts.map((a) => a.fingerprint)).toEqual([r.fingerprint]);
    }
    const keptBytes = [...kept.values()].reduce((sum, n) => sum + n.raw.length, 0);
    expect(keptBytes).toBeLessThan(2 * JSON.stringify(group).length);
  });

  it('refuses alone an alert too large for Firestore in a body at the 1 MiB limit; the alert beside it is accepted', async () => {
    const address = await start();
    // The smallest alert Alertmanager could send for api-backend, and one padded so that the body is exactly 1 MiB:
    // kept alone, the padded one's own notification is still over Firestore's 1 MiB document.
    const small = {
      status: 'firing',
      labels: { burnback_service: 'api-backend' },
      startsAt: '2026-11-26T10:00:00Z',
      fingerprint: '0000000000000002',
    };
    const big = errorRatioAlert('0.05') as { annotations: Record<string, string> };
    const bodyOf = (padding: number) =>
      JSON.stringify({ version: '4', alerts: [{ ...big, annotations: { ...big.annotations, description: 'x'.repeat(padding) } }, small] });
    const padding = 1024 * 1024 - Buffer.byteLength(bodyOf(0));
    const body = bodyOf(padding);
    expect(Buffer.byteLength(body)).toBe(1024 * 1024);

    const res = await send(address, PATH, body);
    expect(res).toMatchObject({ status: 202, body: { accepted: 1, unmapped: 0, refused: 1 } });
    expect(res.body.results).toEqual([
      {
        index: 0,
        fingerprint: '9d4e2b7a1c3f5e60',
        status: 'refused',
        reason: expect.stringMatching(/would be a \d+-byte document; Firestore keeps at most 1048576 bytes$/),
      },
      expect.objectContaining({ index: 1, fingerprint: '0000000000000002', status: 'accepted', service: 'api-backend' }),
    ]);
    await alerts.waitFor(1);
    expect(published().map((p) => p.event.incidentId)).toEqual(['am-0000000000000002-2026-11-26T10:00:00.000Z']);
    expect((await notifications()).map((n) => JSON.parse(n.raw).alerts)).toEqual([[small]]);
  });

  it('answers garbage 400 with the reason, in the front door one shape, and publishes nothing', async () => {
    const address = await start();
    const cases: Array<[string, unknown, RegExp]> = [
      ['not JSON', '{"version": "4", "alerts": [', /^notification is not JSON/],
      [
        'a Monitoring notification',
        openIncident({ projectId: env.projectId }),
        /^unsupported Alertmanager webhook version "1.2" \(supported: "4"\)$/,
      ],
      ['no alerts', { ...PROBE_FAILURE, alerts: [] }, /a notification with no alerts/],
      [
        'only bad alerts',
        notification([{ ...errorRatioAlert('0.05'), status: 'pending' }]),
        /^no alert of the notification could be read: alert 0: not an Alertmanager alert: status:/,
      ],
    ];
    for (const [name, body, message] of cases) {
      const res = await send(address, PATH, body);
      expect({ name, status: res.status, error: res.body.error }).toEqual({
        name,
        status: 400,
        error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) },
      });
    }
    const empty = await send(address, PATH, '');
    expect(empty).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^empty body/) } },
    });
    // A notification for no configured service is read, not refused: 200, so Alertmanager does not retry it.
    const unmapped = await send(address, PATH, PROBE_FAILURE);
    expect(unmapped).toMatchObject({ status: 200, body: { status: 'unmapped', accepted: 0, unmapped: 1, refused: 0 } });
    // Nothing of the above was published or kept; a marker through the same publisher arrives alone.
    expect((await send(address, PATH, notification([errorRatioAlert('0.05')]))).status).toBe(202);
    await alerts.waitFor(1);
    expect(published()).toHaveLength(1);
    expect(await notifications()).toHaveLength(1);
  });

  it("takes the webhook's token in its three forms, refuses a missing one 401 and a wrong one 403, and never echoes or logs it", async () => {
    const { logger, lines } = capturedLogger('ingest');
    const address = await start(env.db, logger);
    const body = notification([errorRatioAlert('0.05')]);
    expect((await send(address, `${PATH}?auth_token=${TOKEN}`, body, {})).status).toBe(202);
    expect(
      (await send(address, PATH, body, { authorization: `Basic ${Buffer.from(`alertmanager:${TOKEN}`).toString('base64')}` })).status,
    ).toBe(202);
    expect((await send(address, PATH, body, { authorization: `Bearer ${TOKEN}` })).status).toBe(202);

    const missing = await send(address, PATH, body, {});
    expect(missing).toMatchObject({
      status: 401,
      body: { error: { code: 'UNAUTHENTICATED', message: expect.stringMatching(/^missing token/) } },
    });
    const wrong = await send(address, `${PATH}?auth_token=not-the-token-at-all`, body, {});
    expect(wrong).toEqual({
      status: 403,
      text: JSON.stringify({ error: { code: 'PERMISSION_DENIED', message: 'invalid token' } }),
      body: expect.anything(),
    });
    const wrongBearer = await send(address, PATH, body, { authorization: 'Bearer not-the-token-at-all' });
    expect(wrongBearer.status).toBe(403);
    for (const res of [missing, wrong, wrongBearer]) expect(res.text).not.toContain(TOKEN);
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
    expect(lines.filter((l) => l.event === 'auth_failed').map((l) => l.path)).toEqual([PATH, PATH]);
    // Three accepted deliveries of one alert: one id.
    await alerts.waitFor(3);
    expect(new Set(published().map((p) => p.id)).size).toBe(1);
  });

  it('answers 503 while the store is down, so Alertmanager retries; and without a webhook token the route is disabled', async () => {
    const down = new Firestore({ projectId: env.projectId });
    await down.terminate();
    const broken = await start(down);
    const res = await send(broken, PATH, notification([errorRatioAlert('0.05')]));
    expect(res).toMatchObject({
      status: 503,
      body: { error: { code: 'UNAVAILABLE', message: 'temporarily unable to accept the notification; retry' } },
    });

    const ingest = await startIngestService({
      config: env.config(),
      pubsub: env.pubsub,
      db: env.db,
      logger: env.logger,
      host: '127.0.0.1',
    });
    try {
      const disabled = await send(ingest.address, PATH, notification([errorRatioAlert('0.05')]));
      expect(disabled).toMatchObject({
        status: 503,
        body: { error: { message: 'the webhook is disabled: BURNBACK_WEBHOOK_TOKEN is not configured' } },
      });
    } finally {
      await ingest.close();
    }
    expect(published()).toEqual([]);
  });
});
