import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collections, type RollbackProgress, type TargetRecord } from '@burnback/contracts';
import { LOCAL_CONFIG_PATH, openIncident, waitFor } from '@burnback/testkit';
import { startPipeline, type Pipeline } from './pipeline-harness';

/**
 * The "done when": releases shipped with the real client as a team
 * ships them (CreateRelease, CreateRollout, AdvanceRollout through the canary),
 * production burns, and Burnback rolls it back to the last known good release,
 * twice, never to the release it already rolled back away from.
 */
describe('ship, burn, roll back: twice, through the whole pipeline', () => {
  let p: Pipeline;
  let dir: string;

  beforeEach(async () => {
    // The local config with no cooldown, so the second incident may roll back again.
    dir = mkdtempSync(join(tmpdir(), 'burnback-ship-'));
    const config = join(dir, 'burnback.yaml');
    writeFileSync(config, readFileSync(LOCAL_CONFIG_PATH, 'utf8').replace(/cooldownMinutes: \d+/, 'cooldownMinutes: 0'));
    p = await startPipeline(expect.getState().currentTestName ?? 'ship-and-burn', { rolloutStepMs: 40, env: { BURNBACK_CONFIG: config } });
  });
  afterEach(async () => {
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const pipeline = () => `projects/${p.env.projectId}/locations/us-central1/deliveryPipelines/api-backend-pipeline`;

  const phaseSucceeded = (rollout: string, phaseId: string) =>
    waitFor(
      async () => {
        const [r] = await p.deployClient.getRollout({ name: rollout });
        return r.phases?.find((ph) => ph.id === phaseId)?.state === 'SUCCEEDED' ? r : undefined;
      },
      { what: `${rollout} phase ${phaseId}`, timeoutMs: 15_000 },
    );
  const rolloutState = async (rollout: string) => String((await p.deployClient.getRollout({ name: rollout }))[0].state);

  /** Ships `releaseId` to staging, then to production through canary-25, canary-50 and stable; returns the production rollout. */
  const ship = async (releaseId: string): Promise<string> => {
    const [releaseOp] = await p.deployClient.createRelease({
      parent: pipeline(),
      releaseId,
      release: { description: `api-backend ${releaseId}` },
    });
    await releaseOp.promise();
    const parent = `${pipeline()}/releases/${releaseId}`;
    for (const targetId of ['staging', 'production']) {
      const [op] = await p.deployClient.createRollout({ parent, rolloutId: `${releaseId}-to-${targetId}`, rollout: { targetId } });
      await op.promise();
    }
    const staging = `${parent}/rollouts/${releaseId}-to-staging`;
    const production = `${parent}/rollouts/${releaseId}-to-production`;
    await waitFor(async () => ((await rolloutState(staging)) === 'SUCCEEDED' ? true : undefined), { what: `${staging} to succeed` });
    await phaseSucceeded(production, 'canary-25');
    await p.deployClient.advanceRollout({ name: production, phaseId: 'canary-50' });
    await phaseSucceeded(production, 'canary-50');
    await p.deployClient.advanceRollout({ name: production, phaseId: 'stable' });
    await waitFor(async () => ((await rolloutState(production)) === 'SUCCEEDED' ? true : undefined), {
      what: `${production} to succeed`,
      timeoutMs: 15_000,
    });
    // The decider has read Cloud Deploy's Succeed notification: it knows the new release serves production.
    await waitFor(
      async () => {
        const targets = await p.env.db.collection(Collections.targets).get();
        return targets.docs.some((d) => (d.data() as TargetRecord).target === 'production' && d.data().serving?.releaseId === releaseId);
      },
      { what: `the decider to know that ${releaseId} serves production`, timeoutMs: 15_000 },
    );
    return production;
  };

  const terminal = async (count: number) => {
    const done = await p.progress.waitFor(
      count,
      (m) => ['succeeded', 'failed', 'superseded'].includes(m.json<RollbackProgress>().stage),
      60_000,
    );
    return done[count - 1]!.json<RollbackProgress>();
  };

  it('rel-003 burns and production goes back to rel-002; rel-004 burns and production goes back to rel-002 again, never to rel-003', async () => {
    const rel003 = await ship('rel-003');

    await p.notify(openIncident({ projectId: p.env.projectId, incidentId: '0.burn-rel-003', startedAt: Math.ceil(Date.now() / 1000) }));
    const first = await terminal(1);
    expect(first).toMatchObject({ stage: 'succeeded', releaseId: 'rel-002' });
    // The decision blames rel-003, shipped just before the burn, and gives each factor of its confidence.
    const decision = (await p.decisions()).find((d) => d.incidentId === '0.burn-rel-003')!;
    expect(decision.action).toBe('rollback');
    expect(decision.cause?.releaseId).toBe('rel-003');
    expect(decision.confidence!.value).toBeGreaterThanOrEqual(0.8);
    expect(decision.confidence!.factors.map((f) => [f.name, f.value])).toEqual([
      ['burn', 1],
      ['timing', 1],
      ['previous-release', expect.any(Number)],
      ['monitoring', 0.5],
    ]);
    expect(decision.reason).toMatch(/; caused by rel-003 \(confidence 0\.\d+\); /);
    const [firstRollback] = await p.deployClient.getRollout({ name: first.rolloutName! });
    expect(firstRollback).toMatchObject({ state: 'SUCCEEDED', rollbackOfRollout: rel003 });

    // The decider has recorded the rollback's outcome: rel-002 serves again, by Burnback's hand. (Progress and Cloud
    // Deploy's notifications come on different subscriptions; on a loaded machine either may be retried seconds later,
    // and a release shipped before the decider knows rel-002 served would see rel-003, which burned, as its predecessor:
    // a realistic but different case, where the decision rightly escalates.)
    await waitFor(
      async () => {
        const targets = await p.env.db.collection(Collections.targets).get();
        return targets.docs.some((d) => {
          const t = d.data() as TargetRecord;
          return t.target === 'production' && t.serving?.releaseId === 'rel-002' && t.returnedTo?.rollbackId === first.rollbackId;
        });
      },
      { what: 'the decider to record that the first rollback returned production to rel-002', timeoutMs: 30_000 },
    );
    await ship('rel-004');
    await p.notify(openIncident({ projectId: p.env.projectId, incidentId: '0.burn-rel-004', startedAt: Math.ceil(Date.now() / 1000) }));
    // The decision first, so that a refusal fails here with its reason rather than as a missing progress event.
    const secondDecision = await waitFor(async () => (await p.decisions()).find((d) => d.incidentId === '0.burn-rel-004'), {
      what: 'the decision on the rel-004 burn',
      timeoutMs: 30_000,
    });
    // On failure, say what the decider knew of the target.
    const knew = (await p.env.db.collection(Collections.targets).get()).docs
      .map((d) => d.data() as TargetRecord)
      .find((t) => t.target === 'production');
    expect(
      `${secondDecision.action}: ${secondDecision.reason} (target: ${JSON.stringify({ serving: knew?.serving, previous: knew?.previous })})`,
    ).toMatch(/^rollback: roll back: /);
    expect(secondDecision.cause?.releaseId).toBe('rel-004');
    const second = await terminal(2);
    expect(second).toMatchObject({ stage: 'succeeded', releaseId: 'rel-002' });
    expect(second.rollbackId).not.toBe(first.rollbackId);

    const records = await p.rollbacks();
    expect(records.map((r) => [r.leaving?.releaseId, r.releaseId, r.status]).sort()).toEqual([
      ['rel-003', 'rel-002', 'succeeded'],
      ['rel-004', 'rel-002', 'succeeded'],
    ]);
    // What serves production now is rel-002, from Burnback's second rollback.
    const latest = p.sim.deploy.rolloutsOnTarget('production')[0]!;
    expect(latest).toMatchObject({ name: second.rolloutName, state: 'SUCCEEDED' });
    expect(
      p.sim.deploy
        .callsTo('RollbackTarget')
        .filter((c) => !c.request.validateOnly)
        .map((c) => c.request.releaseId),
    ).toEqual(['rel-002', 'rel-002']);
  });
});
