import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RollbackProgress } from '@burnback/contracts';
import { LOCAL_CONFIG_PATH, openIncident, waitFor } from '@burnback/testkit';
import { MANAGEMENT_TOKEN, startPipeline, WEBHOOK_TOKEN, type Pipeline } from './pipeline-harness';

/**
 * The operator's controls through the front door, on the whole pipeline: pause
 * and resume, acknowledge, a manual rollback (idempotent, forced), metrics; and
 * mode recommend, which proves a rollback with validate_only and changes nothing.
 */
describe('operator controls through the management API', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline('controls', { rolloutStepMs: 40 });
  }, 60_000);
  afterAll(async () => {
    await p.close();
  });

  const api = async (method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${p.ingest.address}${path}`, { method, headers: { authorization: `Bearer ${MANAGEMENT_TOKEN}`, ...headers } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const decisionOf = (incidentId: string) =>
    waitFor(async () => (await p.decisions()).find((d) => d.incidentId === incidentId), { what: `the decision on ${incidentId}` });

  it('a paused service records a paused decision and orders nothing; resume lifts the pause', async () => {
    const paused = await api('POST', '/services/api-backend/pause?minutes=30&reason=database%20migration&by=alice');
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ service: 'api-backend', pause: { reason: 'database migration', by: 'alice' } });
    const until = (paused.body.pause as { until: string }).until;
    expect(Date.parse(until) - Date.now()).toBeGreaterThan(29 * 60_000);

    await p.notify(openIncident({ ...p.fixture, incidentId: '0.paused' }));
    const decision = await decisionOf('0.paused');
    expect(decision.action).toBe('hold');
    expect(decision.reason).toBe(`no rollback: api-backend is paused until ${until} by alice: database migration`);
    expect(decision.controls?.pause).toMatchObject({ until, by: 'alice' });
    // The positive control: everything the notification caused was handled, and no rollback came of it.
    await p.drain();
    expect(await p.rollbacks()).toEqual([]);

    const resumed = await api('POST', '/services/api-backend/resume?by=alice&reason=migration%20done');
    expect(resumed.body).toEqual({ service: 'api-backend', pause: null, wasPaused: true });
  }, 60_000);

  it('an acknowledged incident is never rolled back automatically', async () => {
    const acked = await api('POST', '/alerts/0.acked/acknowledge?reason=I%20am%20on%20it', { 'x-burnback-user': 'bob' });
    expect(acked.status).toBe(200);
    expect(acked.body).toMatchObject({
      acknowledgement: { incidentId: '0.acked', by: 'bob' },
      alreadyAcknowledged: false,
      incidentKnown: false,
    });
    expect((await api('POST', '/alerts/0.acked/acknowledge?by=carol')).body).toMatchObject({
      acknowledgement: { by: 'bob' },
      alreadyAcknowledged: true,
    });
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.acked' }));
    const decision = await decisionOf('0.acked');
    expect(decision.reason).toMatch(/^no rollback: incident 0\.acked was acknowledged by bob at .* \(I am on it\): a human owns it/);
    await p.drain();
    expect(await p.rollbacks()).toEqual([]);
  }, 60_000);

  it('a manual rollback is judged and audited once, however often it is posted with its Idempotency-Key', async () => {
    const path = '/rollback/manual/api-backend?target_revision=rel-001&reason=bad%20feature%20flag&by=carol';
    const first = await api('POST', path, { 'idempotency-key': 'change-1234' });
    const again = await api('POST', path, { 'idempotency-key': 'change-1234' });
    expect(first.status).toBe(202);
    expect(again.body).toEqual({ ...first.body, replayed: true });
    expect(first.body.replayed).toBe(false);
    // The same key with another reason is a mistake, not a retry.
    const reused = await api('POST', '/rollback/manual/api-backend?target_revision=rel-001&reason=other&by=carol', {
      'idempotency-key': 'change-1234',
    });
    expect(reused.status).toBe(409);
    expect((reused.body.error as { message: string }).message).toMatch(
      /^Idempotency-Key change-1234 was used for another request \(carol: bad feature flag, to rel-001\); use a new key$/,
    );
    const decisionId = first.body.decisionId as string;

    const status = await waitFor(
      async () => {
        const s = await api('GET', `/rollback/status/${decisionId}`);
        return s.body.status === 'succeeded' ? s.body : undefined;
      },
      { what: 'the manual rollback to succeed', timeoutMs: 30_000 },
    );
    expect(status).toMatchObject({ releases: { from: 'rel-002', to: 'rel-001' }, decision: { action: 'rollback' } });
    const verdicts = (status.decision as { verdicts: Array<{ rule: string; detail: string }> }).verdicts;
    expect(verdicts.find((v) => v.rule === 'manual-request')!.detail).toBe(
      'carol asked to roll api-backend back to rel-001: bad feature flag',
    );
    await p.drain();
    expect((await p.rollbacks()).map((r) => [r.command.incidentId, r.command.releaseId, r.status])).toEqual([
      [first.body.incidentId, 'rel-001', 'succeeded'],
    ]);

    // Without force, the cooldown that rollback started applies; with force it is bypassed, and the trace says so.
    const cooled = await api('POST', '/rollback/manual/api-backend?reason=still%20bad');
    expect((await decisionOf(cooled.body.incidentId as string)).reason).toMatch(
      /^no rollback: last rollback .* within the 30 min cooldown$/,
    );
    // force=true needs a key: a retried forced request must not roll back twice.
    expect((await api('POST', '/rollback/manual/api-backend?reason=on-call%20decision&force=true')).status).toBe(400);
    const forced = await api('POST', '/rollback/manual/api-backend?reason=on-call%20decision&force=true', {
      'idempotency-key': 'oncall-1',
    });
    const forcedDecision = await decisionOf(forced.body.incidentId as string);
    expect(forcedDecision.action).toBe('rollback');
    expect(forcedDecision.verdicts.find((v) => v.rule === 'cooldown')!.detail).toMatch(
      /^bypassed by force \(on-call decision\): last rollback/,
    );
  }, 60_000);

  it('GET /rollback/metrics counts outcomes and times from alert to start and finish, per service', async () => {
    // The forced rollback has no good release left to return to (rel-002 was rolled back away from): it fails.
    await waitFor(
      async () =>
        (await p.rollbacks()).length === 2 && (await p.rollbacks()).every((r) => r.status !== 'accepted' && r.status !== 'started')
          ? true
          : undefined,
      {
        what: 'both rollbacks to finish',
        timeoutMs: 30_000,
      },
    );
    const metrics = await api('GET', '/rollback/metrics?hours=1');
    expect(metrics.status).toBe(200);
    const svc = (metrics.body.services as Record<string, Record<string, unknown>>)['api-backend']!;
    expect(svc).toMatchObject({ rollbacks: 2, byOutcome: { succeeded: 1, failed: 1 }, successRate: 0.5, validated: 0 });
    expect(svc.alertToStartSeconds).toMatchObject({ count: 1, p50: expect.any(Number), p95: expect.any(Number) });
    expect(svc.alertToFinishSeconds).toMatchObject({ count: 2 });
    expect(svc.decisions).toMatchObject({ hold: 3, rollback: 2 });
    expect(metrics.body.total).toMatchObject({ rollbacks: 2 });
  }, 60_000);

  it('refuses bad requests with a reason, in the one error shape, and without the management token', async () => {
    expect(await api('POST', '/services/api-backend/pause?reason=x&until=tomorrow')).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_ARGUMENT', message: 'until must be an RFC 3339 time with a zone, e.g. 2026-11-26T18:00:00Z' } },
    });
    expect((await api('POST', '/services/api-backend/pause?minutes=5')).body).toEqual({
      error: { code: 'INVALID_ARGUMENT', message: 'reason is required: say why, for the audit trail' },
    });
    expect((await api('POST', '/services/api-backend/pause?reason=a&reason=b')).body).toEqual({
      error: { code: 'INVALID_ARGUMENT', message: 'give reason once (got it 2 times)' },
    });
    expect((await api('POST', '/services/nope/pause?reason=x')).status).toBe(404);
    expect((await api('POST', '/rollback/manual/api-backend?reason=x&target_revision=Not_A_Release')).status).toBe(400);
    expect((await api('POST', '/rollback/manual/api-backend?reason=x&force=yes', { 'idempotency-key': 'k' })).status).toBe(400);
    const capped = await api('POST', '/services/api-backend/pause?reason=long&minutes=100000');
    expect(capped.body).toMatchObject({ capped: 'at most 1440 min (pauseMaxMinutes)' });
    expect((await api('POST', '/services/api-backend/resume')).body).toMatchObject({ wasPaused: true });
    const webhookToken = await fetch(`${p.ingest.address}/services/api-backend/pause?reason=x`, {
      method: 'POST',
      headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` },
    });
    expect(webhookToken.status).toBe(403);
    await webhookToken.arrayBuffer();
    // Authentication comes before the body: a caller without the token gets 401 for a body over the 1 MiB limit, not 413.
    const big = await fetch(`${p.ingest.address}/services/api-backend/pause?reason=x`, {
      method: 'POST',
      body: 'x'.repeat(2 * 1024 * 1024),
    });
    expect(big.status).toBe(401);
    // Answered before its body was read: the connection ends with the answer, so the server's close never waits on it.
    expect(big.headers.get('connection')).toBe('close');
    await big.arrayBuffer();
  });
});

describe('mode recommend', () => {
  let p: Pipeline;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'burnback-recommend-'));
    const config = join(dir, 'burnback.yaml');
    writeFileSync(config, readFileSync(LOCAL_CONFIG_PATH, 'utf8').replace(/mode: auto/, 'mode: recommend'));
    p = await startPipeline('recommend', { rolloutStepMs: 40, env: { BURNBACK_CONFIG: config } });
  }, 60_000);
  afterAll(async () => {
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('proves the rollback with validate_only and changes nothing', async () => {
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.recommend' }));
    const validated = await p.progress.waitFor(1, (m) => m.json<RollbackProgress>().stage === 'validated', 30_000);
    expect(validated[0]!.json<RollbackProgress>()).toMatchObject({ validateOnly: true, releaseId: 'rel-001', fromReleaseId: 'rel-002' });
    const decision = (await p.decisions()).find((d) => d.incidentId === '0.recommend')!;
    expect(decision.action).toBe('recommend');
    expect(decision.reason).toMatch(
      /^recommend a rollback \(validate only\): error ratio 2\.5 % exceeds the threshold of 1 %; caused by rel-002/,
    );
    await p.drain();
    const calls = p.sim.deploy.callsTo('RollbackTarget');
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => c.request.validateOnly)).toBe(true);
    expect(p.sim.deploy.callsTo('CancelRollout')).toEqual([]);
    // Production still serves rel-002, and the decider has no rollback in flight or cooldown from it.
    expect(p.sim.deploy.rolloutsOnTarget('production')[0]!.name).toMatch(/\/releases\/rel-002\/rollouts\//);
    const state = (await p.env.db.collection('services').doc('api-backend').get()).data();
    expect(state).toMatchObject({ recentRollbacks: [], inFlightSince: null });
    expect((await p.rollbacks()).map((r) => [r.status, r.command.validateOnly])).toEqual([['validated', true]]);
  }, 60_000);
});
