import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { Collections, IncidentRecord, TargetRecord, type DecisionRecord, type RollbackProgress } from '@burnback/contracts';
import { closedIncident, LOCAL_CONFIG_PATH, openIncident, waitFor } from '@burnback/testkit';
import { runApprove } from '../src/commands/approve';
import { MANAGEMENT_TOKEN, startPipeline, type Pipeline } from './pipeline-harness';

/**
 * Approving a recommendation, on the whole pipeline (emulators, gcp-sim's Cloud
 * Deploy through the real client): every service is in mode recommend, so a
 * burn is only proven with validate_only; `burnback approve` turns it into one
 * real rollback, judged again at approval time, exactly once however often it
 * is approved; refused when the incident closed or the time to approve is over,
 * and held by a pause unless forced. `ttl-svc` may be approved for 3 s only.
 */
describe('burnback approve: a recommendation becomes one rollback', () => {
  let p: Pipeline;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'burnback-approve-'));
    const config = parseYaml(readFileSync(LOCAL_CONFIG_PATH, 'utf8')) as {
      policy: Record<string, unknown>;
      services: Record<string, Record<string, unknown>>;
    };
    config.policy.mode = 'recommend';
    config.services['ttl-svc'] = {
      ...config.services.checkout,
      pipeline: 'ttl-svc-pipeline',
      match: { resourceType: 'cloud_run_revision', resourceLabels: { service_name: 'ttl-svc' } },
      policy: { approvalTtlMinutes: 0.05 },
    };
    config.services['hotfix-svc'] = {
      ...config.services.checkout,
      pipeline: 'hotfix-svc-pipeline',
      match: { resourceType: 'cloud_run_revision', resourceLabels: { service_name: 'hotfix-svc' } },
    };
    const path = join(dir, 'burnback.yaml');
    writeFileSync(path, toYaml(config));
    p = await startPipeline('approve', { rolloutStepMs: 40, env: { BURNBACK_CONFIG: path } });
  }, 90_000);
  afterAll(async () => {
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const nowSeconds = () => Math.ceil(Date.now() / 1000);
  const recommended = async (service: string, incidentId: string, startedAt = nowSeconds()) => {
    await p.notify(openIncident({ ...p.fixture, service, incidentId, startedAt }));
    const decision = await waitFor(async () => (await p.decisions()).find((d) => d.incidentId === incidentId), {
      what: `the decision on ${incidentId}`,
    });
    expect(decision.action).toBe('recommend');
    return decision;
  };
  /** `burnback approve`, as a person runs it against the stack, its lines captured. */
  const approve = async (args: string[], user = 'alice') => {
    const out: string[] = [];
    const err: string[] = [];
    const env = { INGEST_URL: p.ingest.address, BURNBACK_MANAGEMENT_TOKEN: MANAGEMENT_TOKEN, USER: user };
    const code = await runApprove([...args, '--wait', '30'], env, {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    });
    return { code, out, err };
  };
  /** The route itself, for its status codes. */
  const route = async (id: string, query: string) => {
    const res = await fetch(`${p.ingest.address}/decisions/${id}/approve?${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MANAGEMENT_TOKEN}` },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  /** RollbackTarget calls that create a rollout on a pipeline (not validate_only). */
  const rollbacksOn = (pipeline: string) =>
    p.sim.deploy
      .callsTo('RollbackTarget')
      .filter((c) => !c.request.validateOnly && String(c.request.name).endsWith(`/deliveryPipelines/${pipeline}`));
  const succeeded = (rollbackId: string) =>
    p.progress.waitFor(
      1,
      (m) => m.json<RollbackProgress>().rollbackId === rollbackId && m.json<RollbackProgress>().stage === 'succeeded',
      60_000,
    );

  it('held by a pause, then forced: one real rollback, audited with who approved; a second approval rolls nothing back again', async () => {
    const rec = await recommended('api-backend', '0.approve7paused');
    expect(Date.parse(rec.approvableUntil!) - Date.parse(rec.controls!.evaluatedAt!)).toBe(30 * 60_000);
    const paused = await fetch(`${p.ingest.address}/services/api-backend/pause?minutes=30&reason=db%20migration&by=ops`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MANAGEMENT_TOKEN}` },
    });
    expect(paused.status).toBe(200);

    const held = await approve([rec.decisionId, '--reason', 'the canary is bad']);
    expect(held.code).toBe(1);
    expect(held.out[0]).toMatch(
      new RegExp(`^approved ${rec.decisionId} \\(api-backend, incident 0\\.approve7paused\\) by alice: the canary is bad`),
    );
    expect(held.err).toEqual([
      expect.stringMatching(/^refused by the decider \(hold\): no rollback: api-backend is paused until .* by ops: db migration$/),
    ]);

    const forced = await approve([rec.decisionId, '--reason', 'the canary is bad', '--force']);
    expect(forced.err).toEqual([]);
    expect(forced.code).toBe(0);
    expect(forced.out[1]).toMatch(/^rollback rb-[0-9a-f]{24} ordered \(.*\): roll back: approval: alice approved recommendation /);
    const decisions = await p.decisions();
    const approval = decisions.find((d) => d.incidentId === '0.approve7paused' && d.action === 'rollback')!;
    expect(approval.reason).toBe(
      `roll back: approval: alice approved recommendation ${rec.decisionId} to roll back rel-002: the canary is bad (force)`,
    );
    expect(approval.verdicts.find((v) => v.rule === 'paused')!.detail).toMatch(
      /^bypassed by force \(the canary is bad\): api-backend is paused/,
    );
    expect(approval.verdicts.find((v) => v.rule === 'mode')!.detail).toBe("mode recommend: alice's approval is the human step it asks for");
    expect(approval.cause).toEqual(rec.cause);
    await succeeded(approval.rollbackId!);

    // The same approval again is a retry (200); another person's is refused, saying who approved (409).
    const again = await route(rec.decisionId, 'reason=the%20canary%20is%20bad&by=alice&force=true');
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'already-approved', approvedBy: 'alice', decisionId: approval.decisionId });
    const bob = await approve([rec.decisionId, '--reason', 'me too'], 'bob');
    expect(bob.code).toBe(1);
    expect(bob.err[0]).toMatch(
      new RegExp(
        `^refused \\(409\\): recommendation ${rec.decisionId} was already approved by alice at .* \\(the canary is bad, force\\): one recommendation, one rollback`,
      ),
    );
    await p.drain();
    // Exactly one real rollback, through Cloud Deploy, audited with the approval.
    expect(rollbacksOn('api-backend-pipeline')).toHaveLength(1);
    const real = (await p.rollbacks()).filter((r) => r.command.incidentId === '0.approve7paused' && !r.command.validateOnly);
    expect(real.map((r) => [r.status, r.releaseId, r.leaving?.releaseId])).toEqual([['succeeded', 'rel-001', 'rel-002']]);
    expect(real[0]!.command.manual).toEqual({ force: true, requestedBy: 'alice', approves: rec.decisionId });
    expect(real[0]!.audit[0]!.detail).toContain(`approval: alice approved recommendation ${rec.decisionId}`);
    const newest = p.sim.deploy.rolloutsOnTarget('production').filter((r) => r.name.includes('/api-backend-pipeline/'))[0]!;
    expect(newest.name).toMatch(/\/releases\/rel-001\/rollouts\/burnback-rb-/);
  }, 120_000);

  it('refused with the reason once the incident closed; approved in time, one rollback', async () => {
    const startedAt = nowSeconds();
    const closing = await recommended('checkout', '0.approve7closed', startedAt);
    await p.notify(closedIncident({ ...p.fixture, service: 'checkout', incidentId: '0.approve7closed', startedAt }));
    await waitFor(
      async () => {
        const doc = await p.env.db.collection(Collections.incidents).doc('0.approve7closed').get();
        return doc.exists && IncidentRecord.parse(doc.data()).state === 'closed' ? true : undefined;
      },
      { what: 'the incident to close' },
    );
    const refused = await approve([closing.decisionId, '--reason', 'late']);
    expect(refused.code).toBe(1);
    expect(refused.err).toEqual([
      expect.stringMatching(
        new RegExp(`^refused \\(409\\): incident 0\\.approve7closed of decision ${closing.decisionId} closed at .*: the service recovered`),
      ),
    ]);

    const rec = await recommended('checkout', '0.approve7plain');
    const approved = await approve([rec.decisionId, '--reason', 'checkout errors since rel-002']);
    expect(approved.err).toEqual([]);
    expect(approved.code).toBe(0);
    const decision = (await p.decisions()).find((d: DecisionRecord) => d.incidentId === '0.approve7plain' && d.action === 'rollback')!;
    await succeeded(decision.rollbackId!);
    await p.drain('checkout');
    expect(rollbacksOn('checkout-pipeline')).toHaveLength(1);
  }, 120_000);

  it('a recommendation that recorded no serving rollout, approved from the old page after a hotfix shipped: held, the hotfix not rolled back', async () => {
    const rec = await recommended('hotfix-svc', '0.approve7hotfix');
    expect(rec.cause).toMatchObject({ releaseId: 'rel-002' });
    // As a target record written before rollouts were kept: the recommendation saw no rollout.
    await p.env.db.collection(Collections.decisions).doc(rec.decisionId).update({ 'evidence.target.serving.rollout': null });
    const pipeline = `projects/${p.env.projectId}/locations/us-central1/deliveryPipelines/hotfix-svc-pipeline`;
    const [release] = await p.deployClient.createRelease({ parent: pipeline, releaseId: 'rel-009', release: {} });
    await release.promise();
    const [rollout] = await p.deployClient.createRollout({
      parent: `${pipeline}/releases/rel-009`,
      rolloutId: 'hotfix',
      rollout: { targetId: 'production' },
    });
    await rollout.promise();
    await waitFor(
      async () => {
        const docs = (await p.env.db.collection(Collections.targets).get()).docs.map((d) => TargetRecord.parse(d.data()));
        return docs.some((t) => t.pipeline === 'hotfix-svc-pipeline' && t.serving?.releaseId === 'rel-009') ? true : undefined;
      },
      { what: 'the decider to learn the hotfix serves' },
    );

    const held = await approve([rec.decisionId, '--reason', 'from the old page']);
    expect(held.code).toBe(1);
    expect(held.err).toEqual([
      `refused by the decider (hold): no rollback: rel-009 serves production now (rollout ${pipeline}/releases/rel-009/rollouts/hotfix), not rel-002 as when it was recommended (it recorded no rollout): the world changed, the approval does not apply`,
    ]);
    await p.drain('hotfix-svc');
    expect(rollbacksOn('hotfix-svc-pipeline')).toEqual([]);
  }, 60_000);

  it('refused with the reason once the time to approve is over (approvalTtlMinutes)', async () => {
    const rec = await recommended('ttl-svc', '0.approve7late');
    expect(Date.parse(rec.approvableUntil!) - Date.parse(rec.controls!.evaluatedAt!)).toBe(3000);
    await waitFor(() => Date.now() > Date.parse(rec.approvableUntil!), { what: 'the time to approve to pass', intervalMs: 200 });
    const late = await approve([rec.decisionId, '--reason', 'too late']);
    expect(late.code).toBe(1);
    expect(late.err).toEqual([
      `refused (410): recommendation ${rec.decisionId} could be approved until ${rec.approvableUntil} (approvalTtlMinutes): it expired; a new burn brings a new recommendation`,
    ]);
    await p.drain('ttl-svc');
    expect(rollbacksOn('ttl-svc-pipeline')).toEqual([]);
  }, 60_000);
});
