import { request } from 'node:http';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { AlertEvent, Topics } from '@burnback/contracts';
import { createLogger, createMetrics, PubSubPublisher, type Metrics } from '@burnback/platform';
import { decide, initialServiceState } from '@burnback/policy';
import { createTestEnvironment, openIncident, tapAlerts, tapTopic, type TestEnvironment, type TopicTap } from '@burnback/testkit';
import {
  createIngestApp,
  createIngestHandler,
  createPushTokenVerifier,
  FirestoreNotificationStore,
  PushTokenProblems,
  startIngestService,
  type IngestAppDeps,
} from '../src/index.js';
import { createTestSigner, PUSH_AUDIENCE, PUSH_SERVICE_ACCOUNT, pushClaims } from './oidc.js';

const TOKEN = 'test-webhook-token-0123456789';
const MiB = 1024 * 1024;
const signer = createTestSigner();

/** Log lines of one app, as Cloud Logging would receive them. */
function captureLogs() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('ingest', { stream, level: 'debug' }) };
}

/** `name{labels} value` samples of one metric in a Prometheus exposition, labels as an object. */
function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .map((line) => {
      const [, labels = '', value = ''] = /^[^{]+\{(.*)\} (\S+)$/.exec(line) ?? [];
      return {
        labels: Object.fromEntries([...labels.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!])),
        value: Number(value),
      };
    });
}

describe("ingest's front door on the emulators: push OIDC, authentication before the body, counters", () => {
  let env: TestEnvironment;
  let publisher: PubSubPublisher;
  let alerts: TopicTap;
  const apps: FastifyInstance[] = [];

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'front-door');
    publisher = new PubSubPublisher(env.pubsub);
    alerts = await tapAlerts(env.pubsub);
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await alerts.close();
    await publisher.close();
    await env.close();
  });

  const oidc: IngestAppDeps['pushAuth'] = {
    kind: 'oidc',
    verifier: createPushTokenVerifier({ audience: PUSH_AUDIENCE, serviceAccount: PUSH_SERVICE_ACCOUNT, certs: async () => signer.certs }),
  };

  /** The front door with push OIDC verified against the test's signer, on a port the OS picks. */
  const start = async (options: Partial<Pick<IngestAppDeps, 'now' | 'logger' | 'pushAuth'>> & { metrics?: Metrics } = {}) => {
    const logger = options.logger ?? env.logger;
    const app = createIngestApp({
      handle: createIngestHandler({
        services: env.config().services,
        store: new FirestoreNotificationStore(env.db),
        publisher,
        logger,
        metrics: options.metrics,
      }),
      deadLetter: publisher,
      webhookToken: TOKEN,
      pushAuth: options.pushAuth === undefined ? oidc : options.pushAuth,
      logger,
      metrics: options.metrics ?? createMetrics('ingest'),
      ...(options.now ? { now: options.now } : {}),
    });
    apps.push(app);
    return app.listen({ host: '127.0.0.1', port: 0 });
  };
  const send = async (address: string, path: string, body: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${address}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, text: await res.text() };
  };
  const incident = (incidentId: string) => openIncident({ projectId: env.projectId, incidentId });
  const envelope = (body: unknown, publishTime = new Date().toISOString()) =>
    JSON.stringify({
      subscription: `projects/${env.projectId}/subscriptions/push`,
      message: { data: Buffer.from(JSON.stringify(body)).toString('base64'), messageId: '1', publishTime },
    });
  const bearer = (claims = pushClaims(), options?: Parameters<typeof signer.sign>[1]) => ({
    authorization: `Bearer ${signer.sign(claims, options)}`,
  });
  const alertIds = () => alerts.messages.map((m) => m.json<AlertEvent>().incidentId);
  const hour = 3600;
  const now = () => Math.floor(Date.now() / 1000);

  it('takes a push with a valid OIDC token, and refuses every other token with the reason, publishing nothing for it', async () => {
    const { lines, logger } = captureLogs();
    const address = await start({ logger });
    const refusals: Array<[string, Record<string, string>, number, string]> = [
      ['no Authorization header', {}, 401, PushTokenProblems.missing],
      ["the webhook's token in the URL (no longer taken here)", {}, 401, PushTokenProblems.missing],
      ["the webhook's token as a bearer", { authorization: `Bearer ${TOKEN}` }, 401, PushTokenProblems.malformed],
      ['another audience', bearer(pushClaims({ aud: 'https://elsewhere.example/push' })), 401, PushTokenProblems.audience],
      ['another service account', bearer(pushClaims({ email: 'intruder@evil.example' })), 403, PushTokenProblems.identity],
      ['an unverified email', bearer(pushClaims({ email_verified: false })), 403, PushTokenProblems.unverified],
      ['an expired token', bearer(pushClaims({ iat: now() - 3 * hour, exp: now() - 2 * hour })), 401, PushTokenProblems.expired],
      ['a forged signature', bearer(pushClaims(), { key: signer.otherKey }), 401, PushTokenProblems.signature],
      ['a token of another issuer', bearer(pushClaims({ iss: 'https://evil.example' })), 401, PushTokenProblems.issuer],
    ];
    for (const [name, headers, status, message] of refusals) {
      const path = name.includes('URL') ? `/pubsub/push?auth_token=${TOKEN}` : '/pubsub/push';
      const res = await send(address, path, envelope(incident(`0.refused`)), headers);
      expect({ name, status: res.status, body: JSON.parse(res.text) as unknown }).toEqual({
        name,
        status,
        body: { error: { code: status === 401 ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED', message } },
      });
    }
    // Each refusal was logged as a warning with its fixed reason, never the token.
    const failures = lines.filter((l) => l.event === 'auth_failed');
    expect(failures.map((l) => [l.severity, l.path, l.reason])).toEqual(
      ['missing', 'missing', 'malformed', 'audience', 'identity', 'unverified', 'expired', 'signature', 'issuer'].map((r) => [
        'WARNING',
        '/pubsub/push',
        r,
      ]),
    );
    const logged = JSON.stringify(lines);
    for (const [, headers] of refusals) if (headers.authorization) expect(logged).not.toContain(headers.authorization.slice(7));
    expect(logged).not.toContain(TOKEN);

    // Positive control: a valid token goes through; it is the only alert published.
    const ok = await send(address, '/pubsub/push', envelope(incident('0.valid')), bearer());
    expect(ok).toEqual({ status: 204, text: '' });
    await alerts.waitFor(1, (m) => m.json<AlertEvent>().incidentId === '0.valid');
    expect(alertIds()).toEqual(['0.valid']);
  });

  it('with BURNBACK_PUSH_ALLOW_UNSIGNED (local only) takes a push without a token, as the emulator sends it', async () => {
    const address = await start({ pushAuth: { kind: 'unsigned' } });
    expect(await send(address, '/pubsub/push', envelope(incident('0.unsigned')))).toEqual({ status: 204, text: '' });
    await alerts.waitFor(1, (m) => m.json<AlertEvent>().incidentId === '0.unsigned');
  });

  it('the service warns at start when unsigned pushes are allowed, and with OIDC settings verifies tokens on the push route', async () => {
    const unsigned = captureLogs();
    const local = await startIngestService({
      config: env.config({ BURNBACK_PUSH_ALLOW_UNSIGNED: 'true' }),
      pubsub: env.pubsub,
      db: env.db,
      logger: unsigned.logger,
    });
    const signed = captureLogs();
    const deployed = await startIngestService({
      config: env.config({ BURNBACK_PUSH_AUDIENCE: PUSH_AUDIENCE, BURNBACK_PUSH_SERVICE_ACCOUNT: PUSH_SERVICE_ACCOUNT }),
      pubsub: env.pubsub,
      db: env.db,
      logger: signed.logger,
    });
    try {
      // Both listen on loopback by default.
      expect([new URL(local.address).hostname, new URL(deployed.address).hostname]).toEqual(['127.0.0.1', '127.0.0.1']);
      const warning = unsigned.lines.filter((l) => l.event === 'push_unsigned_allowed');
      expect(warning).toEqual([
        expect.objectContaining({ severity: 'WARNING', message: expect.stringMatching(/WITHOUT authentication. Local use only/) }),
      ]);
      expect(signed.lines.filter((l) => l.event === 'push_unsigned_allowed')).toEqual([]);
      expect(signed.lines.filter((l) => l.event === 'started')).toHaveLength(1); // positive control: its start was logged

      expect((await send(local.address, '/pubsub/push', envelope(incident('0.local')))).status).toBe(204);
      const refused = await send(deployed.address, '/pubsub/push', envelope(incident('0.deployed')));
      expect(refused).toEqual({
        status: 401,
        text: JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: PushTokenProblems.missing } }),
      });
      await alerts.waitFor(1, (m) => m.json<AlertEvent>().incidentId === '0.local');
      expect(alertIds()).toEqual(['0.local']);
    } finally {
      await local.close();
      await deployed.close();
    }
  });

  it('keeps a pushed publish time in the future as observedAt only: the event carries the receipt time, and the decision is made at it', async () => {
    const receipt = new Date('2030-01-01T12:00:00.000Z');
    const address = await start({ now: () => receipt });
    const res = await send(address, '/pubsub/push', envelope(incident('0.future'), '2999-01-01T00:00:00.000Z'), bearer());
    expect(res.status).toBe(204);
    const [published] = await alerts.waitFor(1, (m) => m.json<AlertEvent>().incidentId === '0.future');
    const event = AlertEvent.parse(published!.json());
    expect([event.observedAt, event.receivedAt]).toEqual(['2999-01-01T00:00:00.000Z', receipt.toISOString()]);
    // What the decider does with it: the decision (and so the history and cooldowns) is at the receipt time.
    const decision = decide(initialServiceState(event.service), event, env.config().services.get(event.service)!.policy);
    expect(decision.decidedAt).toBe(receipt.toISOString());
  });

  it('refuses an unauthenticated caller before reading its body, and answers an authenticated oversize body 413', async () => {
    const address = await start();
    const { port } = new URL(address);
    /** A POST whose body never ends: only a server that answers before reading the body can answer it. */
    const stalled = (path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } });
        const timer = setTimeout(() => {
          req.destroy();
          reject(new Error(`no answer to ${path} while its body is still coming: the server waits for the body before authenticating`));
        }, 5_000);
        req.on('error', reject);
        req.on('response', (res) => {
          clearTimeout(timer);
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          res.on('end', () => {
            req.destroy();
            resolve({ status: res.statusCode!, body: JSON.parse(text) as unknown });
          });
        });
        req.write('{"incident": "' + 'x'.repeat(256 * 1024));
      });
    const unauthenticated = { code: 'UNAUTHENTICATED' };
    // Chunked, with no end: a body limit check alone would wait for it for ever.
    expect(await stalled('/webhook/error-budget-alert', {})).toMatchObject({ status: 401, body: { error: unauthenticated } });
    expect(await stalled('/webhook/error-budget-alert', { authorization: 'Bearer not-the-token-at-all' })).toEqual({
      status: 403,
      body: { error: { code: 'PERMISSION_DENIED', message: 'invalid token' } },
    });
    expect(await stalled('/pubsub/push', {})).toMatchObject({ status: 401, body: { error: unauthenticated } });
    expect(await stalled('/pubsub/push', bearer(pushClaims({ email: 'intruder@evil.example' })))).toMatchObject({
      status: 403,
      body: { error: { code: 'PERMISSION_DENIED' } },
    });
    // A complete body over the limit: unauthenticated is 401 (not 413: the size is never looked at), authenticated is 413.
    const big = 'x'.repeat(2 * MiB);
    expect((await send(address, '/webhook/error-budget-alert', big)).status).toBe(401);
    expect((await send(address, '/pubsub/push', big)).status).toBe(401);
    const tooLarge = JSON.stringify({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'body too large: at most 1 MiB' } });
    expect(await send(address, `/webhook/error-budget-alert?auth_token=${TOKEN}`, big)).toEqual({ status: 413, text: tooLarge });
    expect(await send(address, '/pubsub/push', big, bearer())).toEqual({ status: 413, text: tooLarge });
    // And the front door still works.
    expect((await send(address, `/webhook/error-budget-alert?auth_token=${TOKEN}`, JSON.stringify(incident('0.after')))).status).toBe(202);
    await alerts.waitFor(1, (m) => m.json<AlertEvent>().incidentId === '0.after');
    expect(alertIds()).toEqual(['0.after']);
  });

  it('answers the hostile envelopes and ids the fuzz suite found (each was a 500 or a 503 for ever) in the error shape, or processes them', async () => {
    const deadLetters = await tapTopic(env.pubsub, Topics.deadLetter);
    try {
      const logger = env.logger;
      const app = createIngestApp({
        handle: createIngestHandler({ services: env.config().services, store: new FirestoreNotificationStore(env.db), publisher, logger }),
        deadLetter: publisher,
        webhookToken: TOKEN,
        pushAuth: oidc,
        management: { db: env.db, token: TOKEN },
        logger,
        metrics: createMetrics('ingest'),
      });
      apps.push(app);
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      const push = (body: string) => send(address, '/pubsub/push', body, bearer());
      const shape = (status: number, message: string) => ({
        status,
        text: JSON.stringify({ error: { code: 'INVALID_ARGUMENT', message } }),
      });
      // JSON that is not an object (`null.message` threw).
      for (const body of ['null', '[]', '"x"', '7', '{"message":null}', '{"message":[]}'])
        expect({ body, ...(await push(body)) }).toEqual({ body, ...shape(400, 'not a Pub/Sub push envelope: message.data missing') });
      // data that is not base64 (Buffer.from decoded it silently).
      expect(await push(JSON.stringify({ message: { data: '!!!!' } }))).toEqual(
        shape(400, 'not a Pub/Sub push envelope: message.data is not base64'),
      );
      // A message id Pub/Sub would never send (a lone surrogate failed every store write: 503 for ever): dropped, and processed.
      const odd = JSON.parse(envelope(incident('0.oddid'))) as { message: Record<string, unknown> };
      odd.message.messageId = '\ud800';
      expect(await push(JSON.stringify(odd))).toEqual({ status: 204, text: '' });
      await alerts.waitFor(1, (m) => m.json<AlertEvent>().incidentId === '0.oddid');
      // A notification with a lone surrogate: dead-lettered once (it was a 503 for ever), with attributes Pub/Sub takes.
      const lone = Buffer.from(JSON.stringify(incident('0.lone')).replace('"0.lone"', '"\\ud800"')).toString('base64');
      const attributes = { googReserved: 'x', ['k'.repeat(300)]: 'v', big: 'v'.repeat(2000), kept: 'yes', n: 1, ['\ud800']: 'x' };
      const bad = JSON.stringify({ subscription: 'projects/\ud800/subscriptions/x', message: { data: lone, attributes } });
      expect(await push(bad)).toEqual({ status: 204, text: '' });
      const [dead] = await deadLetters.waitFor(1);
      expect(dead!.attributes).toMatchObject({ kept: 'yes', 'burnback-dead-letter-source': 'push' });
      expect(Object.keys(dead!.attributes).filter((k) => !k.startsWith('burnback-'))).toEqual(['kept']);

      // Management ids Firestore cannot look up: 400 in the shape, not 500; a well-formed unknown id is a 404.
      // node:http sends the path as written (fetch would resolve `.` and `..` away).
      const get = (path: string) =>
        new Promise<{ status: number; text: string }>((resolve, reject) => {
          const { hostname, port } = new URL(address);
          const req = request({ host: hostname, port, path, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
            res.on('end', () => resolve({ status: res.statusCode!, text }));
          });
          req.on('error', reject);
          req.end();
        });
      for (const [id, problem] of [
        ['.', 'the id in the path "." is not a valid Firestore document id'],
        ['..', 'the id in the path ".." is not a valid Firestore document id'],
        ['a%2Fb', 'the id in the path "a/b" holds a "/", which Firestore reads as a path'],
        ['__reserved__', 'the id in the path "__reserved__" matches __…__, which Firestore reserves'],
      ])
        expect({ id, ...(await get(`/rollback/status/${id}`)) }).toEqual({ id, ...shape(400, problem!) });
      expect((await get('/rollback/status/rb-unknown')).status).toBe(404);
    } finally {
      await deadLetters.close();
    }
  });

  it('counts accepted and refused notifications by source and a fixed reason on /metrics', async () => {
    const metrics = createMetrics('ingest');
    const address = await start({ metrics });
    const webhook = (body: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) =>
      send(address, '/webhook/error-budget-alert', body, headers);
    const unknownService = JSON.stringify({
      ...incident('0.unknown'),
      incident: { ...incident('0.unknown').incident, resource: { type: 'cloud_run_revision', labels: { service_name: 'nope' } } },
    });
    const statuses = [
      (await webhook(JSON.stringify(incident('0.m1')))).status,
      (await webhook(JSON.stringify(incident('0.m2')))).status,
      (await send(address, '/pubsub/push', envelope(incident('0.m3')), bearer())).status,
      (await webhook(JSON.stringify(incident('0.m4')), {})).status,
      (await webhook(JSON.stringify(incident('0.m5')), { authorization: 'Bearer not-the-token-at-all' })).status,
      (await webhook('{not json')).status,
      (await webhook(JSON.stringify({ version: '1.2', incident: { incident_id: 7 } }))).status,
      (await webhook(unknownService)).status,
      (await webhook('')).status,
      (await webhook('x'.repeat(MiB + 1))).status,
      (await send(address, '/pubsub/push', envelope(incident('0.m6')))).status,
      (await send(address, '/pubsub/push', envelope(incident('0.m7')), bearer(pushClaims({ email_verified: false })))).status,
      (await send(address, '/pubsub/push', JSON.stringify({ message: { data: '!!notbase64' } }), bearer())).status,
      (await send(address, '/pubsub/push', JSON.stringify({ message: {} }), bearer())).status,
      (await send(address, '/pubsub/push', envelope(JSON.parse(unknownService)), bearer())).status,
    ];
    // A notification no service matches is valid: answered (200 with the reason, or acked), never refused.
    expect(statuses).toEqual([202, 202, 204, 401, 403, 400, 400, 200, 400, 413, 401, 403, 400, 400, 204]);

    const scrape = await fetch(`${address}/metrics`);
    const text = await scrape.text();
    const byLabels = (name: string) =>
      Object.fromEntries(
        samples(text, name).map((s) => [
          Object.entries(s.labels)
            .filter(([k]) => k !== 'component')
            .map(([k, v]) => `${k}=${v}`)
            .sort()
            .join(','),
          s.value,
        ]),
      );
    expect(byLabels('burnback_notifications_accepted_total')).toEqual({ 'source=webhook': 3, 'source=pubsub': 2 });
    expect(byLabels('burnback_notifications_unmapped_total')).toEqual({ [`project=${env.projectId}`]: 2 });
    expect(byLabels('burnback_notifications_rejected_total')).toEqual({
      'reason=unauthenticated,source=webhook': 1,
      'reason=forbidden,source=webhook': 1,
      'reason=invalid-json,source=webhook': 1,
      'reason=not-a-notification,source=webhook': 1,
      'reason=empty-body,source=webhook': 1,
      'reason=too-large,source=webhook': 1,
      'reason=unauthenticated,source=pubsub': 1,
      'reason=forbidden,source=pubsub': 1,
      'reason=bad-base64,source=pubsub': 1,
      'reason=not-an-envelope,source=pubsub': 1,
    });
    expect(samples(text, 'burnback_notifications_rejected_total').every((s) => s.labels.component === 'ingest')).toBe(true);
  });
});
