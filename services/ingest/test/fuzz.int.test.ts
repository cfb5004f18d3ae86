/**
 * Hostile input, measured: 10,000 random and mutated requests to every route
 * the ingest app registers (found through its onRoute hook, so new routes are
 * fuzzed too), with and without valid credentials, over real HTTP (keep-alive
 * requests and raw sockets for what an HTTP client refuses to send), against
 * the Pub/Sub and Firestore emulators.
 *
 * Reproduce a failure with the seed it prints: FUZZ_SEED=<seed> npx jest
 * --selectProjects integration --testPathPatterns fuzz.int. FUZZ_REQUESTS sets the count.
 */
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { DeadLetterAttributes, Topics, type AlertEvent } from '@burnback/contracts';
import { createMetrics, PubSubPublisher } from '@burnback/platform';
import {
  createTestEnvironment,
  openIncident,
  seededRandom,
  tapAlerts,
  tapTopic,
  waitFor,
  type TestEnvironment,
  type TopicTap,
} from '@burnback/testkit';
import {
  createAlertmanagerHandler,
  createIngestApp,
  createIngestHandler,
  createPushTokenVerifier,
  FirestoreNotificationStore,
  startIngestService,
  type IngestService,
} from '../src/index.js';
import { createTestSigner, PUSH_AUDIENCE, PUSH_SERVICE_ACCOUNT, pushClaims } from './oidc.js';

const WEBHOOK_TOKEN = 'fuzz-webhook-token-0123456789';
const MANAGEMENT_TOKEN = 'fuzz-management-token-0123456789';
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** One valid notification in this many requests. */
const VALID_EVERY = 50;
const CONCURRENCY = 8;

/** The seeded generator, with the helpers the fuzzer draws with. */
function prng(seed: number) {
  const next = seededRandom(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Rng = ReturnType<typeof prng>;

const UNICODE = ['é', '💥', '\u0000', '\u202e', '\ud800', '𝕏', 'ß', '\u200b', '\\', '"', '\n', '%00', '%', '../', '\uffff'];
const randomText = (r: Rng, max = 40): string => {
  const length = r.int(max);
  let s = '';
  for (let i = 0; i < length; i++) s += r.chance(0.2) ? r.pick(UNICODE) : String.fromCharCode(32 + r.int(95));
  return s;
};
/** A JSON value of any type, sometimes deep or huge. */
const randomValue = (r: Rng, depth = 0): unknown => {
  switch (r.int(depth > 3 ? 6 : 9)) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, 253_402_300_800]);
    case 3:
      return randomText(r);
    case 4:
      return r.chance(0.1) ? 'x'.repeat(r.int(200_000)) : '';
    case 5:
      return r.pick([[], {}, '', 'open', 'closed', 'OPEN', '1.2', 'test']);
    case 6:
      return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    case 7:
      return Object.fromEntries(Array.from({ length: r.int(4) }, () => [randomText(r, 8), randomValue(r, depth + 1)]));
    default:
      return deepNesting(r.int(800));
  }
};
/** Nested objects and arrays, as deep as JSON.stringify in a jest worker takes (deeper nesting is sent as text: deepText). */
const deepNesting = (depth: number): unknown => {
  let v: unknown = 'bottom';
  for (let i = 0; i < Math.min(depth, 800); i++) v = i % 2 ? [v] : { d: v };
  return v;
};
/** JSON text nested `depth` deep (arrays and objects alternating). */
const deepText = (depth: number): string => '[{"d":'.repeat(depth) + '0' + '}]'.repeat(depth);

/** Incident ids Firestore or Pub/Sub cannot take (each stopped the decider, or made the webhook answer 503 for ever). */
const UNSTORABLE_IDS = ['x/y', '..', '.', '__x__', 'a/b/c', 'x'.repeat(1600), 'é'.repeat(600), 'a\u0000b'];
/** Names Object.prototype has: a plain-object lookup finds something for each. */
const PROTOTYPE_NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'prototype'];

/**
 * A notification bound to fail: a required field removed or retyped, the
 * incident replaced, an unsupported version, an unmapped service, a value that
 * is not a number. (Each case is a refusal parse.ts and the schema promise.)
 */
function invalidNotification(r: Rng, incidentId: string, projectId: string): unknown {
  const n = openIncident({ incidentId, projectId }) as unknown as { version: unknown; incident: Record<string, unknown> };
  const incident = n.incident;
  switch (r.int(11)) {
    case 0:
      delete incident[r.pick(['incident_id', 'started_at', 'state'])];
      break;
    case 1:
      incident.incident_id = r.pick([null, 7, {}, [], '', true]);
      break;
    case 2:
      incident.started_at = r.pick(['yesterday', -1, 1.5, null, 253_402_300_800, {}]);
      break;
    case 3:
      incident.state = r.pick(['reopened', '', 1, null, 'öpen']);
      break;
    case 4:
      return { version: n.version, incident: r.pick([null, [], 'incident', 42]) };
    case 5:
      return { ...n, version: r.pick(['9.9', 1.2, '', null, '1.2 ']) };
    case 6:
      incident.resource = { type: 'cloud_run_revision', labels: { service_name: `fz-${randomText(r, 12)}`, location: 'us-central1' } };
      break;
    case 7:
      incident.observed_value = r.pick(['high', '0x10', 'Infinity', 'NaN', '1e999']);
      break;
    case 8:
      return r.pick([[n], 'notification', 12, null, true]);
    case 9:
      // The classes Step 9 found: ids that cannot be stored, long numbers, prototype names.
      switch (r.int(3)) {
        case 0:
          incident.incident_id = r.pick(UNSTORABLE_IDS);
          break;
        case 1:
          incident[r.pick(['observed_value', 'threshold_value'])] = r.pick([
            '7'.repeat(200_000) + 'x',
            '1'.repeat(65),
            '0.' + '0'.repeat(100),
          ]);
          break;
        default:
          (incident.resource as { labels: Record<string, string> }).labels.service_name = r.pick(PROTOTYPE_NAMES);
      }
      break;
    default:
      incident.resource = { type: 'cloud_run_revision', labels: { service_name: 'api-backend', project_id: 'elsewhere-project' } };
  }
  return n;
}

/** A notification that may still be valid: free text made hostile, huge, unicode, deep in a field nobody reads. */
function maybeValidNotification(r: Rng, incidentId: string, projectId: string): unknown {
  const n = openIncident({ incidentId, projectId }) as unknown as Record<string, unknown> & { incident: Record<string, unknown> };
  for (let i = 0, changes = 1 + r.int(3); i < changes; i++) {
    const key = r.pick(['summary', 'policy_name', 'condition_name', 'severity', 'url', 'extra', 'documentation', 'metadata', 'metric']);
    if (r.chance(0.5)) n.incident[key] = randomValue(r);
    else n[key === 'extra' ? 'x-extra' : 'x-' + key] = r.chance(0.3) ? deepNesting(r.int(800)) : randomValue(r);
  }
  return n;
}

/** Percent-encoding of the UTF-8 bytes (encodeURIComponent throws on a lone surrogate; these are replaced). */
const pct = (s: string): string =>
  [...Buffer.from(s, 'utf8')]
    .map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`))
    .join('');

const base64Bad = (r: Rng) => r.pick(['!!!!', 'abc', 'ab=c', '====', '\u00e9t\u00e9', 'YQ', 'Y Q==', 'YQ==\n', '-_-_']);

/** The request as bytes on the wire, with these framing lines (Content-Length and friends) after its headers. */
function rawRequest(req: Pick<FuzzRequest, 'method' | 'path' | 'headers' | 'body'>, framing: string[]): Buffer {
  const lines = [
    `${req.method} ${req.path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Connection: close',
    ...Object.entries(req.headers).flatMap(([k, v]) => [v].flat().map((x) => `${k}: ${x}`)),
    ...framing,
  ];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), req.body ?? Buffer.alloc(0)]);
}

interface FuzzRequest {
  kind: 'valid' | 'maybe' | 'invalid';
  incidentId: string | null;
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: Buffer | null;
  /** Sent as raw bytes over a socket (malformed framing no client library would send). */
  raw?: Buffer;
  route: string;
}

describe('ingest under hostile input (seeded fuzz, real HTTP, emulators)', () => {
  let env: TestEnvironment;
  let publisher: PubSubPublisher;
  let alerts: TopicTap;
  let app: FastifyInstance;
  const routes: Array<{ method: string; url: string }> = [];

  beforeAll(async () => {
    env = await createTestEnvironment('fuzz');
    publisher = new PubSubPublisher(env.pubsub);
    alerts = await tapAlerts(env.pubsub);
  });
  afterAll(async () => {
    await app?.close();
    await alerts.close();
    await publisher.close();
    await env.close();
  });

  it(`answers ${REQUESTS} hostile requests with 2xx/4xx only, publishes only valid notifications, and processes every valid one`, async () => {
    const signer = createTestSigner();
    const ingestDeps = { services: env.config().services, store: new FirestoreNotificationStore(env.db), publisher, logger: env.logger };
    app = createIngestApp({
      handle: createIngestHandler(ingestDeps),
      handleAlertmanager: createAlertmanagerHandler(ingestDeps),
      deadLetter: publisher,
      webhookToken: WEBHOOK_TOKEN,
      pushAuth: {
        kind: 'oidc',
        verifier: createPushTokenVerifier({
          audience: PUSH_AUDIENCE,
          serviceAccount: PUSH_SERVICE_ACCOUNT,
          certs: async () => signer.certs,
        }),
      },
      management: { db: env.db, token: MANAGEMENT_TOKEN },
      logger: env.logger,
      metrics: createMetrics('ingest'),
      onRoute: (route) => {
        for (const method of [route.method].flat()) routes.push({ method, url: route.url });
      },
    });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const port = Number(new URL(address).port);
    // Every route the app has, found from the app itself: the notification routes, health, metrics, management.
    expect(routes.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining([
        'POST /webhook/error-budget-alert',
        'POST /webhook/alertmanager',
        'POST /pubsub/push',
        'GET /healthz',
        'GET /metrics',
      ]),
    );

    const r = prng(SEED);
    const goodPushTokens = Array.from({ length: 4 }, () => signer.sign(pushClaims()));
    const badPushTokens = [
      signer.sign(pushClaims({ aud: 'https://elsewhere.example' })),
      signer.sign(pushClaims({ email: 'intruder@evil.example' })),
      signer.sign(pushClaims({ email_verified: false })),
      signer.sign(pushClaims({ exp: Math.floor(Date.now() / 1000) - 7200, iat: Math.floor(Date.now() / 1000) - 9000 })),
      signer.sign(pushClaims(), { key: signer.otherKey }),
      'a.b.c',
      goodPushTokens[0]!.slice(0, -5),
    ];
    const envelope = (data: unknown, r2: Rng) => ({
      subscription: r2.chance(0.9) ? `projects/${env.projectId}/subscriptions/fuzz` : randomValue(r2),
      message: {
        data,
        messageId: r2.chance(0.8) ? String(r2.int(1e9)) : randomValue(r2),
        message_id: r2.chance(0.5) ? String(r2.int(1e9)) : undefined,
        publishTime: r2.chance(0.8) ? new Date(Date.now() - r2.int(1e6)).toISOString() : randomValue(r2),
        publish_time: r2.chance(0.3) ? randomValue(r2) : undefined,
        attributes: r2.chance(0.8)
          ? {}
          : r2.pick([
              { googReserved: 'x' },
              { ['k'.repeat(300)]: 'v' },
              { k: 'v'.repeat(2000) },
              { n: 1 },
              null,
              'attrs',
              Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`a${i}`, 'v'])),
            ]),
      },
    });
    type Credentials = { headers: Record<string, string | string[]>; query: string };
    const credentials = (route: string, good: boolean): Credentials => {
      // Monitoring's webhook and Alertmanager's take the same token.
      if (route === '/webhook/error-budget-alert' || route === '/webhook/alertmanager') {
        if (good)
          return r.pick<Credentials>([
            { headers: {}, query: `auth_token=${WEBHOOK_TOKEN}` },
            { headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` }, query: '' },
            { headers: { authorization: `Basic ${Buffer.from(`monitoring:${WEBHOOK_TOKEN}`).toString('base64')}` }, query: '' },
          ]);
        return r.pick<Credentials>([
          { headers: {}, query: '' },
          { headers: {}, query: `auth_token=${randomText(r, 30)}` },
          { headers: {}, query: `auth_token=${WEBHOOK_TOKEN}x&auth_token=${WEBHOOK_TOKEN}` },
          { headers: { authorization: `Bearer ${MANAGEMENT_TOKEN}` }, query: '' },
          {
            headers: { authorization: r.pick(['Basic', 'Basic !!!', 'Bearer', `Digest ${WEBHOOK_TOKEN}`, 'Basic bm9jb2xvbg==']) },
            query: '',
          },
          { headers: { authorization: [`Bearer wrong-token-value-x`, `Bearer ${WEBHOOK_TOKEN}`] }, query: '' },
        ]);
      }
      if (route === '/pubsub/push') {
        if (good) return { headers: { authorization: `Bearer ${r.pick(goodPushTokens)}` }, query: '' };
        return r.pick<Credentials>([
          { headers: {}, query: '' },
          { headers: {}, query: `auth_token=${WEBHOOK_TOKEN}` },
          { headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` }, query: '' },
          { headers: { authorization: `Bearer ${r.pick(badPushTokens)}` }, query: '' },
          { headers: { authorization: `bearer  ${r.pick(badPushTokens)} extra` }, query: '' },
        ]);
      }
      // Health, metrics, management and whatever else is registered.
      return good
        ? { headers: { authorization: `Bearer ${MANAGEMENT_TOKEN}` }, query: '' }
        : r.pick<Credentials>([
            { headers: {}, query: '' },
            { headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` }, query: '' },
            { headers: { authorization: `Bearer ${randomText(r, 20)}` }, query: '' },
          ]);
    };
    const CONTENT_TYPES = [
      'application/json',
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=utf-16',
      '*/*',
      'garbage',
      '',
    ];
    const fillPath = (url: string) =>
      url.replace(/:[A-Za-z_]+|\*/g, () =>
        pct(
          r.pick([
            randomText(r, 20) || 'x',
            'rb-0123456789abcdef',
            '__reserved__',
            '.',
            '..',
            'a/b',
            'x'.repeat(r.chance(0.5) ? 1600 : 20),
            '0.nx8k2f1q7d3a',
            ...PROTOTYPE_NAMES,
            'a/b/c',
          ]),
        ),
      );
    const randomQuery = () =>
      Array.from({ length: r.int(4) }, () =>
        r.pick([
          `${pct(randomText(r, 8))}=${pct(randomText(r, 12))}`,
          'hours=24&hours=-1',
          'limit=5&limit=abc',
          `limit=${r.pick(['0', '501', '1e3', '-1', '3.5', '50'])}`,
          `hours=${r.pick(['0', '1e9', 'NaN', '24', ''])}`,
          `pageToken=${pct(r.pick(['2026-01-01T00:00:00.000Z', 'garbage', '']))}`,
          'service=api-backend&service=checkout',
          '%zz=%zz',
          'a[b]=c&a[b]=d',
        ]),
      ).join('&');

    let counter = 0;
    const nextRequest = (i: number): FuzzRequest => {
      const id = `fz-${SEED}-${i}`;
      if (i % VALID_EVERY === VALID_EVERY - 1) {
        // A valid notification among the garbage, through the webhook or push with good credentials.
        const viaPush = r.chance(0.5);
        const route = viaPush ? '/pubsub/push' : '/webhook/error-budget-alert';
        const auth = credentials(route, true);
        const json = openIncident({ incidentId: id, projectId: env.projectId });
        const body = viaPush
          ? Buffer.from(JSON.stringify(envelope(Buffer.from(JSON.stringify(json)).toString('base64'), prng(SEED + i))))
          : Buffer.from(JSON.stringify(json));
        return {
          kind: 'valid',
          incidentId: id,
          method: 'POST',
          path: `${route}${auth.query ? `?${auth.query}` : ''}`,
          headers: { 'content-type': r.pick(['application/json', 'application/json; charset=utf-8', 'text/plain']), ...auth.headers },
          body,
          route,
        };
      }
      const target = r.chance(0.04) ? { method: 'POST', url: `/${pct(randomText(r, 10))}` } : r.pick(routes);
      const method = r.chance(0.05) ? r.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'POST', 'HEAD']) : target.method;
      const isNotification = ['/webhook/error-budget-alert', '/webhook/alertmanager', '/pubsub/push'].includes(target.url);
      const goodAuth = r.chance(0.6);
      const auth = credentials(target.url, goodAuth);
      // With good credentials on a notification route the body is invalid for sure, or (webhook only) maybe valid.
      const maybe = goodAuth && target.url === '/webhook/error-budget-alert' && r.chance(0.05);
      const notification = maybe
        ? maybeValidNotification(r, id, env.projectId)
        : r.chance(0.15) && !goodAuth
          ? openIncident({ incidentId: id, projectId: env.projectId })
          : invalidNotification(r, id, env.projectId);
      let body: Buffer | null;
      switch (r.int(isNotification ? 10 : 4)) {
        case 0:
          body = null;
          break;
        case 1:
          body = Buffer.from(
            r.pick([
              '{',
              'null',
              '[]',
              '"x"',
              '{"incident":',
              '\u0000\u0001',
              '<xml/>',
              'a=b&c=d',
              '{}{}',
              deepText(r.int(100_000)),
              '['.repeat(r.int(200_000)),
            ]),
          );
          break;
        case 2:
          body = Buffer.from(randomText(r, 200));
          break;
        case 3:
          body = r.chance(0.3)
            ? Buffer.alloc(r.pick([1024 * 1024 + 1, 2 * 1024 * 1024]), 'x')
            : Buffer.from(JSON.stringify(randomValue(r)));
          break;
        default: {
          const json = maybe || r.chance(0.9) ? notification : invalidNotification(r, id, env.projectId);
          if (target.url !== '/pubsub/push') {
            const text = JSON.stringify(json);
            // Deeper than any object above: spliced in as text, in a key nobody reads (still valid) or in the incident.
            body = Buffer.from(
              r.chance(0.1) && text.endsWith('}}')
                ? r.chance(0.5)
                  ? `${text.slice(0, -1)},"x-deep":${deepText(r.int(50_000))}}`
                  : `${text.slice(0, -2)},"summary":${deepText(r.int(50_000))}}}`
                : text,
            );
            break;
          }
          const data = r.chance(0.7) ? Buffer.from(JSON.stringify(json)).toString('base64') : r.chance(0.5) ? base64Bad(r) : randomValue(r);
          const e = envelope(data, r) as Record<string, unknown>;
          body = Buffer.from(
            JSON.stringify(
              r.pick([
                e,
                e,
                e,
                { ...e, message: r.pick([null, [], 'message', { attributes: {} }]) },
                [e],
                { message: { data: Buffer.from(JSON.stringify(json)).toString('base64') } },
              ]),
            ),
          );
          if (r.chance(0.05)) body = Buffer.from(body.toString('utf8').replace('"message"', '"message":{},"message"'));
        }
      }
      const query = [auth.query, r.chance(0.3) ? randomQuery() : ''].filter(Boolean).join('&');
      const contentType = r.pick(CONTENT_TYPES);
      const request: FuzzRequest = {
        kind: maybe ? 'maybe' : 'invalid',
        incidentId: maybe ? id : null,
        method,
        path: `${fillPath(target.url)}${query ? `?${query}` : ''}`,
        headers: { ...(contentType ? { 'content-type': contentType } : {}), ...auth.headers },
        // A HEAD with a body desynchronises a keep-alive connection on the client side; GET may carry one.
        body: method === 'HEAD' ? null : method === 'GET' ? (r.chance(0.1) ? body : null) : body,
        route: target.url,
      };
      if (!maybe && r.chance(0.04)) {
        // Framing no client would send: duplicate or conflicting lengths, bad header lines, a bare LF, an absurd header.
        const payload = request.body ?? Buffer.alloc(0);
        request.raw = rawRequest(
          request,
          r.pick([
            [`Content-Length: ${payload.length}`, `Content-Length: ${payload.length + 1}`],
            [`Content-Length: ${payload.length}`, 'Transfer-Encoding: chunked'],
            [`Content-Length: -1`],
            [`Content-Length: ${payload.length}`, 'Bad Header Line'],
            [`Content-Length: ${payload.length}`, `X-Long: ${'h'.repeat(20_000)}`],
            [`Content-Length: ${payload.length}`, 'Authorization: Bearer a', 'Authorization: Bearer b'],
            [`Content-Length: ${payload.length}`, 'Content-Type: application/json', 'Content-Type: text/plain'],
            [`Content-Length: ${payload.length}`, 'X-Nul: a\u0000b'],
          ]),
        );
      }
      return request;
    };

    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    /**
     * One request; its status as soon as the answer's head arrives (an early 401 or 413 may be followed by the
     * server closing a socket the client is still writing to). A keep-alive socket the server closed meanwhile
     * is retried once on a fresh connection; a header or path the client refuses to send goes out raw.
     */
    const sendHttp = (req: FuzzRequest, fresh = false): Promise<number | 'closed'> =>
      new Promise<number | 'closed'>((resolve, reject) => {
        let answered = false;
        let client: ReturnType<typeof request>;
        try {
          client = request(
            { host: '127.0.0.1', port, method: req.method, path: req.path, headers: req.headers, agent: fresh ? false : agent },
            (res) => {
              answered = true;
              res.resume();
              res.on('error', () => undefined);
              resolve(res.statusCode!);
            },
          );
        } catch (err) {
          // A header or path the client refuses to send (a control character, a lone surrogate): the same request, raw.
          if (
            !['ERR_INVALID_CHAR', 'ERR_UNESCAPED_CHARACTERS', 'ERR_INVALID_HTTP_TOKEN'].includes((err as NodeJS.ErrnoException).code ?? '')
          )
            throw err;
          resolve(sendRaw(rawRequest(req, [`Content-Length: ${req.body?.length ?? 0}`])));
          return;
        }
        client.on('error', (err: NodeJS.ErrnoException) => {
          if (answered) return;
          if (!fresh && (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.message === 'socket hang up')) {
            resolve(sendHttp(req, true));
          } else reject(err);
        });
        client.end(req.body ?? undefined);
      });
    /** Raw bytes on a fresh socket; the status of the first response line, or 'closed' when the server hung up without one. */
    const sendRaw = (bytes: Buffer) =>
      new Promise<number | 'closed'>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        let head = '';
        const timer = setTimeout(() => socket.destroy(), 5_000);
        socket.on('data', (chunk: Buffer) => {
          head += chunk.toString('latin1');
          const match = /^HTTP\/1\.[01] (\d{3})/.exec(head);
          if (match) {
            clearTimeout(timer);
            socket.destroy();
            resolve(Number(match[1]));
          }
        });
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearTimeout(timer);
          resolve('closed');
        });
        socket.end(bytes);
      });

    const started = Date.now();
    const byStatus: Record<string, number> = {};
    const violations: string[] = [];
    const slow: string[] = [];
    const sentValid: string[] = [];
    const acceptedMaybe: string[] = [];
    const describeRequest = (i: number, req: FuzzRequest) =>
      `#${i} ${req.kind} ${req.method} ${req.path.slice(0, 120)} headers=${JSON.stringify(req.headers).slice(0, 200)} body=${(req.body?.toString('utf8') ?? '').slice(0, 200)}`;
    const worker = async () => {
      while (counter < REQUESTS) {
        const i = counter++;
        const req = nextRequest(i);
        let status: number | 'closed' | 'error';
        const t0 = Date.now();
        try {
          status = req.raw ? await sendRaw(req.raw) : await sendHttp(req);
          if (Date.now() - t0 > 1000) slow.push(`${Date.now() - t0} ms ${status} ${describeRequest(i, req).slice(0, 300)}`);
        } catch (err) {
          status = 'error';
          violations.push(`${describeRequest(i, req)}: ${(err as Error).message}`);
        }
        byStatus[status] = (byStatus[status] ?? 0) + 1;
        if (typeof status === 'number' && (status >= 500 || status < 200 || (status >= 300 && status < 400)))
          violations.push(`${describeRequest(i, req)}: answered ${status}`);
        if (status === 'closed' && !req.raw) violations.push(`${describeRequest(i, req)}: connection closed without an answer`);
        if (req.kind === 'valid') {
          sentValid.push(req.incidentId!);
          if (status !== 202 && status !== 204) violations.push(`${describeRequest(i, req)}: a valid notification answered ${status}`);
        }
        if (req.kind === 'maybe' && status === 202) acceptedMaybe.push(req.incidentId!);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    agent.destroy();

    // The process still serves, and a last valid notification (the marker, on the same ordering key) arrives last.
    const marker = `fz-${SEED}-marker`;
    const res = await fetch(`${address}/webhook/error-budget-alert?auth_token=${WEBHOOK_TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(openIncident({ incidentId: marker, projectId: env.projectId })),
    });
    const fuzzMs = Date.now() - started;
    let published: string[] = [];
    try {
      expect(res.status).toBe(202);
      await alerts.waitFor(1, (m) => m.json<AlertEvent>().incidentId === marker, 45_000);
      published = alerts.messages.map((m) => m.json<AlertEvent>().incidentId).filter((id) => id !== marker);
      const expected = [...sentValid, ...acceptedMaybe].sort();
      const summary = {
        event: 'fuzz_summary',
        seed: SEED,
        requests: REQUESTS,
        byStatus,
        published: published.length,
        validSent: sentValid.length,
        validProcessed: sentValid.filter((id) => published.includes(id)).length,
        maybeValidAccepted: acceptedMaybe.length,
        routes: routes.map((r) => `${r.method} ${r.url}`),
        fuzzMs,
        slowest: slow.slice(0, 5),
      };
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      expect(violations.slice(0, 20)).toEqual([]);
      // Every valid one processed exactly once, and nothing else published.
      expect(published.sort()).toEqual(expected);
      expect(sentValid.length).toBeGreaterThanOrEqual(Math.floor(REQUESTS / VALID_EVERY));
    } catch (err) {
      throw new Error(`fuzz failed; reproduce with FUZZ_SEED=${SEED} FUZZ_REQUESTS=${REQUESTS}\n${(err as Error).message}`, { cause: err });
    }
  }, 120_000);
});

/**
 * The classes of input Step 9 found, each on every way in (the webhook, Pub/Sub
 * push, and the monitoring-incidents subscription): each gets its answer (a 4xx
 * or a dead letter, with the reason; or, for what is valid but not Burnback's,
 * an unmapped answer), the worker stays up, and a valid burn sent right after it
 * on the same way in is still published.
 */
describe('ingest on the hostile classes, on every way in', () => {
  let env: TestEnvironment;
  let ingest: IngestService;
  let alerts: TopicTap;
  let deadLetters: TopicTap;
  let publisher: PubSubPublisher;
  const fatal: Error[] = [];

  beforeAll(async () => {
    env = await createTestEnvironment('fuzz-classes');
    alerts = await tapAlerts(env.pubsub);
    deadLetters = await tapTopic(env.pubsub, Topics.deadLetter);
    publisher = new PubSubPublisher(env.pubsub);
    ingest = await startIngestService({
      config: env.config({
        BURNBACK_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
        BURNBACK_MANAGEMENT_TOKEN: MANAGEMENT_TOKEN,
        BURNBACK_PUSH_ALLOW_UNSIGNED: 'true',
      }),
      pubsub: env.pubsub,
      db: env.db,
      logger: env.logger,
      host: '127.0.0.1',
      onFatal: (err) => fatal.push(err),
    });
  });
  afterAll(async () => {
    await ingest?.close();
    await alerts.close();
    await deadLetters.close();
    await publisher.close();
    await env.close();
  });

  type Notification = { incident: Record<string, unknown> & { resource: { labels: Record<string, string> } } };
  const burn = (incidentId: string, change: (n: Notification) => void = () => undefined): Notification => {
    const n = openIncident({ incidentId, projectId: env.projectId }) as unknown as Notification;
    change(n);
    return n;
  };
  type Expected = { refused: RegExp } | { unmapped: true } | { accepted: true };
  const CLASSES: Array<[string, (id: string) => Notification, Expected]> = [
    [
      'an incident id with a slash (x/y)',
      () => burn('x/y'),
      { refused: /incident id "x\/y" holds a "\/", which Firestore reads as a path/ },
    ],
    ['a subcollection path as an id (a/b/c)', () => burn('a/b/c'), { refused: /holds a "\/"/ }],
    ['the id ".."', () => burn('..'), { refused: /is not a valid Firestore document id/ }],
    ['a reserved id (__x__)', () => burn('__x__'), { refused: /matches __…__, which Firestore reserves/ }],
    ['an id of 1,600 bytes', () => burn('x'.repeat(1600)), { refused: /incident id is 1600 bytes long; at most 512/ }],
    ['an id near 1 KB (too large for a Pub/Sub attribute)', () => burn('y'.repeat(1000)), { refused: /incident id is 1000 bytes long/ }],
    [
      'a 200,000-digit observed value',
      (id) => burn(id, (n) => (n.incident.observed_value = '9'.repeat(200_000) + 'x')),
      { refused: /incident\.observed_value is 200001 characters long; a number is at most 64/ },
    ],
    [
      'a 65-digit threshold',
      (id) => burn(id, (n) => (n.incident.threshold_value = '1'.repeat(65))),
      { refused: /incident\.threshold_value is 65 characters long/ },
    ],
    ...PROTOTYPE_NAMES.map((name): [string, (id: string) => Notification, Expected] => [
      `a service named ${name}`,
      (id) => burn(id, (n) => (n.incident.resource.labels.service_name = name)),
      { unmapped: true },
    ]),
    ['another project', (id) => burn(id, (n) => (n.incident.resource.labels.project_id = 'someone-elses-project')), { unmapped: true }],
    [
      'null metric, summary and resource_display_name',
      (id) =>
        burn(id, (n) => {
          n.incident.metric = null;
          n.incident.summary = null;
          n.incident.resource_display_name = null;
        }),
      { accepted: true },
    ],
  ];
  const WAYS = ['webhook', 'push', 'subscription'] as const;
  let sequence = 0;

  /** Sends on one way in; the HTTP answer (null for the subscription, which has none). */
  const send = async (way: (typeof WAYS)[number], notification: unknown) => {
    const json = JSON.stringify(notification);
    if (way === 'subscription') {
      await publisher.publishRaw(Topics.monitoringIncidents, Buffer.from(json), {});
      return null;
    }
    const body =
      way === 'webhook'
        ? json
        : JSON.stringify({
            subscription: `projects/${env.projectId}/subscriptions/push`,
            message: { data: Buffer.from(json).toString('base64'), messageId: String(++sequence), publishTime: new Date().toISOString() },
          });
    const res = await fetch(
      `${ingest.address}${way === 'webhook' ? `/webhook/error-budget-alert?auth_token=${WEBHOOK_TOKEN}` : '/pubsub/push'}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      },
    );
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as Record<string, { message?: string }> & { status?: string; reason?: string }) : null,
    };
  };
  const published = (incidentId: string) => alerts.waitFor(1, (m) => m.json<AlertEvent>().incidentId === incidentId, 15_000);
  const deadLetterOf = (marker: string) =>
    deadLetters.waitFor(1, (m) => m.data.toString('utf8').includes(marker), 15_000).then((found) => found[0]!);

  /** burnback_notifications_unmapped_total over every project, from /metrics. */
  const unmappedTotal = async () => {
    const text = await (await fetch(`${ingest.address}/metrics`)).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith('burnback_notifications_unmapped_total{'))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  };

  it.each(WAYS.flatMap((way) => CLASSES.map(([what, make, expected]) => [way, what, make, expected] as const)))(
    '%s: %s',
    async (way, _what, make, expected) => {
      const id = `0.class-${++sequence}`;
      const notification = make(id);
      const marker = JSON.stringify(notification.incident.incident_id).slice(1, 60);
      const unmappedBefore = await unmappedTotal();
      const healthy = fetch(`${ingest.address}/healthz`).then((r) => r.status);
      const answer = await send(way, notification);
      // The front door kept answering while it read this input.
      expect(await healthy).toBe(200);
      if ('refused' in expected) {
        if (way === 'webhook') {
          expect(answer!.status).toBe(400);
          expect(answer!.body!.error!.message).toMatch(expected.refused);
        } else {
          // Pub/Sub's ways in ack it (or it would come back for ever) and dead-letter it with the reason.
          if (answer) expect(answer.status).toBe(204);
          const dead = await deadLetterOf(marker);
          expect(dead.attributes[DeadLetterAttributes.reason]).toMatch(expected.refused);
        }
      } else if ('unmapped' in expected) {
        if (way === 'webhook') expect(answer).toEqual({ status: 200, body: { status: 'unmapped', reason: expect.any(String) } });
        else if (answer) expect(answer.status).toBe(204);
        // Read, counted, and settled (acked) before anything is asserted about the dead-letter topic.
        await waitFor(async () => ((await unmappedTotal()) === unmappedBefore + 1 ? true : undefined), { what: 'the unmapped count' });
      } else {
        if (way === 'webhook') expect(answer!.status).toBe(202);
        await published(id);
      }
      // The worker is alive and the next valid burn on the same way in is published.
      const next = `0.next-${sequence}`;
      const nextAnswer = await send(way, burn(next));
      if (nextAnswer) expect(nextAnswer.status).toBe(way === 'webhook' ? 202 : 204);
      await published(next);
      // Nothing of the refused or unmapped input was published, and nothing valid was dead-lettered.
      if (!('accepted' in expected)) expect(alerts.messages.filter((m) => m.json<AlertEvent>().incidentId === id)).toEqual([]);
      expect(deadLetters.messages.filter((m) => m.data.toString('utf8').includes(`"${next}"`))).toEqual([]);
      if ('unmapped' in expected) expect(deadLetters.messages.filter((m) => m.data.toString('utf8').includes(`"${id}"`))).toEqual([]);
      expect(fatal).toEqual([]);
    },
    30_000,
  );
});
