import { Collections, TargetRecord, type RollbackProgress } from '@burnback/contracts';
import { openIncident, waitFor } from '@burnback/testkit';
import { MANAGEMENT_TOKEN, startPipeline, type Pipeline } from './pipeline-harness';

/**
 * A command never acts on a world that changed since its decision: the
 * executor ends it `superseded` (audited, with what changed) when a hotfix
 * shipped, a human rolled back, or an operator paused the service after the
 * decision, and the still-open incident is decided again on the new world.
 * The executor is started only after the world changed, so the command waits
 * in its subscription meanwhile, as a slow delivery would.
 */
describe('a command decided on one world and carried out on another', () => {
  let p: Pipeline;
  let pipeline: string;
  beforeEach(async () => {
    p = await startPipeline(expect.getState().currentTestName ?? 'superseded', { executor: false });
    pipeline = `projects/${p.env.projectId}/locations/us-central1/deliveryPipelines/api-backend-pipeline`;
  });
  afterEach(async () => {
    await p.close();
  });

  const nowSeconds = () => Math.ceil(Date.now() / 1000);
  /** Decided to roll back, the command published; nothing carried out yet. */
  const decidedToRollBack = async () => {
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.moved', startedAt: nowSeconds() }));
    return waitFor(async () => (await p.decisions()).find((d) => d.action === 'rollback'), { what: 'the rollback decision' });
  };
  const servesNow = (releaseId: string) =>
    waitFor(
      async () => {
        const docs = (await p.env.db.collection(Collections.targets).get()).docs.map((d) => TargetRecord.parse(d.data()));
        return docs.some((t) => t.pipeline === 'api-backend-pipeline' && t.serving?.releaseId === releaseId) ? true : undefined;
      },
      { what: `the decider to learn ${releaseId} serves` },
    );
  const superseded = async () =>
    (await p.progress.waitFor(1, (m) => m.json<RollbackProgress>().stage === 'superseded', 30_000))[0]!.json<RollbackProgress>();
  const redecided = (previous: string) =>
    waitFor(async () => (await p.decisions()).find((d) => d.redecisionOf === previous), {
      what: `the incident to be decided again after ${previous}`,
    });
  /** RollbackTarget calls that created a rollout (not the validate_only preflight, not one Cloud Deploy refused). */
  const rollbacksCreated = () => p.sim.deploy.callsTo('RollbackTarget').filter((c) => !c.request.validateOnly && c.status === 'OK');

  it('a hotfix shipped between decision and command: superseded, nothing rolled back, and decided again on the hotfix', async () => {
    const decision = await decidedToRollBack();
    expect(decision.cause).toMatchObject({ releaseId: 'rel-002' });
    // A hotfix goes out, through the canary to the end, while the command waits.
    p.sim.deploy.setTimings({ autoAdvance: true });
    const [release] = await p.deployClient.createRelease({ parent: pipeline, releaseId: 'rel-009', release: {} });
    await release.promise();
    const [rollout] = await p.deployClient.createRollout({
      parent: `${pipeline}/releases/rel-009`,
      rolloutId: 'hotfix',
      rollout: { targetId: 'production' },
    });
    await rollout.promise();
    await p.sim.deploy.waitForRollout(`${pipeline}/releases/rel-009/rollouts/hotfix`, undefined, 20_000);
    await servesNow('rel-009');

    await p.startExecutor();
    const ended = await superseded();
    expect(ended).toMatchObject({ rollbackId: decision.rollbackId, supersededBy: 'rollout' });
    expect(ended.detail).toMatch(
      /^superseded: rel-009 serves production now \(rollout .*\/rollouts\/hotfix, since .*\), not rollout .*rel-002.*which the decision blamed/,
    );
    expect(rollbacksCreated()).toHaveLength(0);
    const [record] = await p.rollbacks();
    expect(record).toMatchObject({ status: 'superseded', supersededBy: 'rollout' });
    expect(record!.audit.map((a) => a.stage)).toEqual(['accepted', 'superseded']);
    // Decided again on the new world: the burn began before the hotfix served, so it blames something else.
    const again = await redecided(decision.decisionId);
    expect(again).toMatchObject({ action: 'escalate', incidentId: '0.moved' });
    expect(again.reason).toMatch(/confidence .* is below 0\.8/);
    expect(again.evidence!.target!.serving).toMatchObject({ releaseId: 'rel-009' });
    await p.drain();
    expect(rollbacksCreated()).toHaveLength(0);
  });

  it("a human's rollback between decision and command: superseded, and nothing is rolled back on top of it", async () => {
    const decision = await decidedToRollBack();
    // Someone rolls production back in the console (Cloud Deploy's RollbackTarget) before Burnback's command is carried out.
    await p.deployClient.rollbackTarget({ name: pipeline, targetId: 'production', rolloutId: 'console-rollback', releaseId: 'rel-001' });
    await p.sim.deploy.waitForRollout(`${pipeline}/releases/rel-001/rollouts/console-rollback`, undefined, 20_000);
    await servesNow('rel-001');

    await p.startExecutor();
    const ended = await superseded();
    expect(ended.detail).toMatch(/^superseded: rel-001 serves production now \(rollout .*\/rollouts\/console-rollback/);
    const created = rollbacksCreated();
    expect(created).toHaveLength(1);
    expect(created[0]!.request.rolloutId).toBe('console-rollback');
    const again = await redecided(decision.decisionId);
    expect(again.action).toBe('escalate');
    expect(again.evidence!.target!.serving).toMatchObject({ releaseId: 'rel-001', rollout: expect.stringMatching(/console-rollback$/) });
  });

  it('a pause set between decision and command: superseded by the control, and the incident held by the pause', async () => {
    const decision = await decidedToRollBack();
    const res = await fetch(`${p.ingest.address}/services/api-backend/pause?minutes=60&reason=migration&by=alice`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MANAGEMENT_TOKEN}` },
    });
    expect(res.status).toBe(200);

    await p.startExecutor();
    const ended = await superseded();
    expect(ended).toMatchObject({ supersededBy: 'control' });
    expect(ended.detail).toMatch(/^superseded: api-backend was paused until .* by alice at .* \(migration\) since the decision/);
    expect(rollbacksCreated()).toHaveLength(0);
    const again = await redecided(decision.decisionId);
    expect(again).toMatchObject({ action: 'hold', redecideAt: { rule: 'paused' } });
  });
});
