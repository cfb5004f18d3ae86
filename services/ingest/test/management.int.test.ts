import type { FastifyInstance } from 'fastify';
import { Collections, type DecisionRecord } from '@burnback/contracts';
import { createMetrics, PubSubPublisher } from '@burnback/platform';
import { createTestEnvironment, type TestEnvironment } from '@burnback/testkit';
import { createIngestApp, recentDecisions } from '../src/index.js';

const TOKEN = 'test-management-token-0123456789';

describe('the management routes on the emulators: bounded reads, ids that can be stored', () => {
  let env: TestEnvironment;
  let publisher: PubSubPublisher;
  let app: FastifyInstance;
  let address: string;

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'management');
    publisher = new PubSubPublisher(env.pubsub);
    app = createIngestApp({
      handle: async () => {
        throw new Error('no notification is sent in this suite');
      },
      deadLetter: publisher,
      webhookToken: null,
      pushAuth: null,
      management: { db: env.db, token: TOKEN, services: env.config().services },
      logger: env.logger,
      metrics: createMetrics('ingest'),
    });
    address = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => {
    await app.close();
    await publisher.close();
    await env.close();
  });

  const api = async (path: string, method = 'GET') => {
    const res = await fetch(`${address}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  /** A decision as the decider stores it (only what the route reads matters here). */
  const decision = (decisionId: string, service: string, decidedAt: string): DecisionRecord => ({
    decisionId,
    incidentId: `0.${decisionId}`,
    service,
    incidentState: 'open',
    action: 'ignore',
    reason: 'below the rollback threshold',
    verdicts: [],
    decidedAt,
    alertEventId: `evt-${decisionId}`,
    rollbackId: null,
    target: null,
    confidence: null,
    cause: null,
    monitoring: null,
    controls: null,
    fleet: null,
    evidence: null,
    redecisionOf: null,
    redecideAt: null,
  });

  /** Writes decisions straight into Firestore, in batches of 400. */
  const store = async (decisions: DecisionRecord[]) => {
    for (let i = 0; i < decisions.length; i += 400) {
      const batch = env.db.batch();
      for (const d of decisions.slice(i, i + 400)) batch.set(env.db.collection(Collections.decisions).doc(d.decisionId), d);
      await batch.commit();
    }
  };

  it('pages through decisions that share one decidedAt (a storm batch) without skipping or repeating one, filtered by service', async () => {
    const at = new Date(Date.now() - 60_000).toISOString();
    const earlier = new Date(Date.now() - 120_000).toISOString();
    const storm = Array.from({ length: 23 }, (_, i) => decision(`dec-storm-${String(i).padStart(2, '0')}`, 'api-backend', at));
    const others = Array.from({ length: 7 }, (_, i) => decision(`dec-other-${i}`, 'checkout', at));
    const before = [decision('dec-before', 'api-backend', earlier)];
    // A decision older than the range is never read.
    const old = [decision('dec-old', 'api-backend', new Date(Date.now() - 3 * 3_600_000).toISOString())];
    await store([...storm, ...others, ...before, ...old]);

    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const query = `/rollback/recent?hours=2&service=api-backend&limit=5${token ? `&pageToken=${token}` : ''}`;
      const page = await api(query);
      expect(page.status).toBe(200);
      const decisions = page.body.decisions as DecisionRecord[];
      expect(decisions.length).toBeLessThanOrEqual(5);
      seen.push(...decisions.map((d) => d.decisionId));
      token = page.body.nextPageToken as string | null;
      pages += 1;
    } while (token && pages < 20);
    // Newest first; within one decidedAt by decision id, descending; each exactly once; checkout never.
    const expected = [
      ...storm
        .map((d) => d.decisionId)
        .sort()
        .reverse(),
      'dec-before',
    ];
    expect(seen).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / 5));
  });

  it('reads one page at a time: the function never returns more than its limit, and says where the next page starts', async () => {
    const at = new Date(Date.now() - 60_000).toISOString();
    await store(
      Array.from({ length: 12 }, (_, i) => decision(`dec-${String(i).padStart(2, '0')}`, i % 2 ? 'api-backend' : 'checkout', at)),
    );
    const first = await recentDecisions(env.db, { since: new Date(Date.now() - 3_600_000), limit: 10 });
    expect(first.decisions).toHaveLength(10);
    expect(first.nextPageToken).not.toBeNull();
    const everything = await recentDecisions(env.db, { since: new Date(Date.now() - 3_600_000), limit: 12 });
    expect(everything.decisions).toHaveLength(12);
    expect(everything.nextPageToken).toBeNull();
  });

  it('refuses a page token it did not give, a repeated parameter and a service name that cannot be stored, with the reason', async () => {
    expect(await api('/rollback/recent?pageToken=2026-01-01T00:00:00Z')).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_ARGUMENT', message: 'pageToken is not one this route gave' } },
    });
    expect((await api('/rollback/recent?limit=1&limit=2')).body).toEqual({
      error: { code: 'INVALID_ARGUMENT', message: 'give limit once (got it 2 times)' },
    });
    expect((await api('/rollback/recent?service=a%2Fb')).body).toEqual({
      error: { code: 'INVALID_ARGUMENT', message: 'service name "a/b" holds a "/", which Firestore reads as a path' },
    });
    expect((await api('/rollback/recent?limit=501')).status).toBe(400);
    expect((await api('/rollback/recent?hours=2160&limit=500')).status).toBe(200);
  });

  it('answers 404 for a service named like an Object.prototype member, and 400 for an incident id that cannot be stored', async () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf'])
      expect(await api(`/services/${name}/pause?reason=test`, 'POST')).toEqual({
        status: 404,
        body: { error: { code: 'NOT_FOUND', message: `no service "${name}" in Burnback's configuration` } },
      });
    // `__proto__` cannot even be a document id: refused before any lookup, as every path id is.
    expect(await api('/services/__proto__/pause?reason=test', 'POST')).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_ARGUMENT', message: 'the service in the path "__proto__" matches __…__, which Firestore reserves' } },
    });
    expect(await api('/alerts/__x__/acknowledge', 'POST')).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_ARGUMENT', message: 'the id in the path "__x__" matches __…__, which Firestore reserves' } },
    });
    expect((await api(`/alerts/${'x'.repeat(600)}/acknowledge`, 'POST')).body).toEqual({
      error: { code: 'INVALID_ARGUMENT', message: 'incident id is 600 bytes long; at most 512 are accepted' },
    });
    expect((await api(`/alerts/${'x'.repeat(9000)}/acknowledge`, 'POST')).body).toEqual({
      error: { code: 'INVALID_ARGUMENT', message: 'a path segment is longer than 8192 characters' },
    });
    expect((await api('/alerts/%E0%A4%A/acknowledge', 'POST')).body).toEqual({
      error: { code: 'INVALID_ARGUMENT', message: 'the URL is not valid (a bad percent-encoding)' },
    });
    // The positive control: a storable id is acknowledged.
    expect((await api('/alerts/0.fine/acknowledge', 'POST')).status).toBe(200);
  });
});
