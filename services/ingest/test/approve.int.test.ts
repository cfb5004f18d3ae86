import type { FastifyInstance } from 'fastify';
import {
  approvalNotificationIdFor,
  Collections,
  decisionIdFor,
  type AlertEvent,
  type CloudEvent,
  type DecisionRecord,
  type EventTypes,
} from '@burnback/contracts';
import { createMetrics, type Publisher } from '@burnback/platform';
import { createTestEnvironment, type TestEnvironment } from '@burnback/testkit';
import { createIngestApp } from '../src/index.js';

const TOKEN = 'test-management-token-0123456789';
const REC = 'dec-0123456789abcdef01234567';

/**
 * `POST /decisions/{id}/approve` on the Firestore emulator, with a publisher
 * that records what it was asked to publish: what the front door refuses (and
 * why), and that approvals of one recommendation are one event, however many
 * come at once, until the decider refused one.
 */
describe('the approval route', () => {
  let env: TestEnvironment;
  let app: FastifyInstance;
  let address: string;
  let published: Array<CloudEvent<typeof EventTypes.alert>>;

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'approve');
    published = [];
    const publisher: Publisher = {
      publishEvent: async (_topic, event) => {
        published.push(event as CloudEvent<typeof EventTypes.alert>);
        return `m-${published.length}`;
      },
      publishRaw: async () => 'raw',
    };
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
    await env.close();
  });

  const approve = async (query: string, id = REC, token: string | null = TOKEN) => {
    const res = await fetch(`${address}/decisions/${id}/approve?${query}`, {
      method: 'POST',
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const message = (r: { body: Record<string, unknown> }) => (r.body.error as { message: string }).message;
  /** A decision as the decider stores it (only what the route reads matters here). */
  const decision = (overrides: Partial<DecisionRecord> = {}): DecisionRecord => ({
    decisionId: REC,
    incidentId: '0.rec',
    service: 'api-backend',
    incidentState: 'open',
    action: 'recommend',
    reason: 'recommend a rollback (validate only): …',
    verdicts: [],
    decidedAt: new Date(Date.now() - 60_000).toISOString(),
    alertEventId: 'evt-1',
    rollbackId: 'rv-1',
    target: null,
    confidence: null,
    cause: { releaseId: 'rel-002', servingSince: '2026-11-26T09:00:00.000Z' },
    monitoring: null,
    controls: null,
    fleet: null,
    evidence: null,
    redecisionOf: null,
    redecideAt: null,
    approvableUntil: new Date(Date.now() + 10 * 60_000).toISOString(),
    ...overrides,
  });
  const store = (d: DecisionRecord) =>
    env.db
      .collection(Collections.decisions)
      .doc(d.decisionId)
      .set(JSON.parse(JSON.stringify(d)));

  it('refuses, before reading anything, a caller without the token and a request it cannot take, saying why', async () => {
    expect((await approve('reason=x', REC, null)).status).toBe(401);
    const badId = await approve('reason=x', 'rb-1');
    expect([badId.status, message(badId)]).toEqual([400, 'the id must be a decision id: dec- and 24 hex digits']);
    const noReason = await approve('by=alice');
    expect([noReason.status, message(noReason)]).toEqual([400, 'reason is required: say why, for the audit trail']);
    const badForce = await approve('reason=x&force=yes');
    expect([badForce.status, message(badForce)]).toEqual([400, 'force must be true or false']);
    const twice = await approve('reason=x&by=a&by=b');
    expect(twice.status).toBe(400);
    expect(published).toEqual([]);
  });

  it('refuses what is not an approvable recommendation: unknown (404), another action or service (409), expired (410)', async () => {
    const unknown = await approve('reason=x');
    expect([unknown.status, message(unknown)]).toEqual([404, `no decision ${REC}`]);
    await store(decision({ action: 'hold' }));
    expect(message(await approve('reason=x'))).toBe(`decision ${REC} is a hold, not a recommend: only a recommendation can be approved`);
    await store(decision({ service: 'gone' }));
    const gone = await approve('reason=x');
    expect([gone.status, message(gone)]).toEqual([409, `decision ${REC} is of gone, which is no longer in Burnback's configuration`]);
    const until = new Date(Date.now() - 1000).toISOString();
    await store(decision({ approvableUntil: until }));
    const late = await approve('reason=x');
    expect(late.status).toBe(410);
    expect(published).toEqual([]);
  });

  it('two approvals at once, by different people, are one event: one is accepted, the other told who approved', async () => {
    await store(decision());
    const [a, b] = await Promise.all([approve('reason=bad%20canary&by=alice'), approve('reason=me%20too&by=bob')]);
    const accepted = [a, b].find((r) => r.status === 202)!;
    const refused = [a, b].find((r) => r.status === 409)!;
    expect(accepted).toBeDefined();
    expect(refused).toBeDefined();
    const who = accepted.body.approvedBy as string;
    expect(message(refused)).toMatch(
      new RegExp(
        `^recommendation ${REC} was already approved by ${who} at .*: one recommendation, one rollback; follow it at /rollback/status/dec-`,
      ),
    );
    // Not decided yet: the first approval's event is published again (the decider's dedupe makes it nothing new).
    const ids = new Set(published.map((e) => e.id));
    expect(ids).toEqual(new Set([approvalNotificationIdFor(REC)]));
    expect(new Set(published.map((e) => JSON.stringify(e.data))).size).toBe(1);
    const event: AlertEvent = published[0]!.data;
    expect(event).toMatchObject({
      incidentId: '0.rec',
      service: 'api-backend',
      source: 'manual',
      manual: { approves: { decisionId: REC } },
    });
    expect(accepted.body).toMatchObject({
      status: 'accepted',
      approves: REC,
      decisionId: decisionIdFor('0.rec', 'open', event.startedAt, event.notificationId),
      statusPath: `/rollback/status/${decisionIdFor('0.rec', 'open', event.startedAt, event.notificationId)}`,
    });
  });

  it('after the decider refused an approval (held by a pause), the next one is a new attempt; a rollback ordered is final', async () => {
    await store(decision());
    const first = await approve('reason=bad&by=alice');
    expect(first.status).toBe(202);
    await store(decision({ decisionId: first.body.decisionId as string, action: 'hold', incidentId: '0.rec', rollbackId: null }));
    const forced = await approve('reason=bad&by=alice&force=true');
    expect(forced.status).toBe(202);
    expect(published.map((e) => e.id)).toEqual([approvalNotificationIdFor(REC), approvalNotificationIdFor(REC, 1)]);
    expect(published[1]!.data.manual).toMatchObject({ requestedBy: 'alice', force: true });
    await store(decision({ decisionId: forced.body.decisionId as string, action: 'rollback', rollbackId: 'rb-1' }));
    // The same request again is a retry; the decision ordered the rollback, so nothing is published again.
    const retry = await approve('reason=bad&by=alice&force=true');
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ status: 'already-approved', approvedBy: 'alice', decisionId: forced.body.decisionId });
    expect(published).toHaveLength(2);
    // Superseded before it rolled anything back: another approval may follow.
    await env.db.collection(Collections.rollbacks).doc('rb-1').set({ rollbackId: 'rb-1', status: 'superseded' });
    expect((await approve('reason=again&by=bob')).status).toBe(202);
    expect(published.map((e) => e.id)).toContain(approvalNotificationIdFor(REC, 2));
  });
});
