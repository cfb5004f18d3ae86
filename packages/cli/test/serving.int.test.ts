import type { CloudDeployClient } from '@google-cloud/deploy';
import { Collections, TargetRecord, type DecisionRecord, type RollbackProgress } from '@burnback/contracts';
import { openIncident, waitFor } from '@burnback/testkit';
import { startPipeline, type Pipeline } from './pipeline-harness';

/**
 * What serves a target, from Cloud Deploy's own record, through the real Deploy
 * client against gcp-sim: a release is to blame from its first deploy job (a
 * canary phase counts, with its share), through verify and after a failed
 * verify, and a fresh stack knows what serves without being told.
 */
describe('what serves a target, learnt from Cloud Deploy', () => {
  let p: Pipeline;
  let pipeline: string;
  afterEach(async () => {
    await p.close();
  });
  const start = async (name: string) => {
    p = await startPipeline(name);
    pipeline = `projects/${p.env.projectId}/locations/us-central1/deliveryPipelines/api-backend-pipeline`;
  };

  /** Ships `releaseId` to staging then production through the real client; production stops where `until` says. */
  const ship = async (client: CloudDeployClient, releaseId: string) => {
    const [op] = await client.createRelease({ parent: pipeline, releaseId, release: {} });
    await op.promise();
    for (const targetId of ['staging', 'production']) {
      const [rollout] = await client.createRollout({
        parent: `${pipeline}/releases/${releaseId}`,
        rolloutId: `${releaseId}-to-${targetId}`,
        rollout: { targetId },
      });
      await rollout.promise();
      if (targetId === 'staging') await p.sim.deploy.waitForRollout(`${pipeline}/releases/${releaseId}/rollouts/${releaseId}-to-staging`);
    }
    return `${pipeline}/releases/${releaseId}/rollouts/${releaseId}-to-production`;
  };
  /** Advances a canary through every phase it waits for, until it ends. */
  const advanceToTheEnd = async (client: CloudDeployClient, rollout: string) => {
    for (const phaseId of ['canary-50', 'stable']) {
      await waitFor(
        async () =>
          p.sim.deploy.getRollout(rollout)!.phases!.find((ph) => ph.id === phaseId)?.state === 'PENDING' &&
          p.sim.deploy.getRollout(rollout)!.phases!.every((ph) => ph.state !== 'IN_PROGRESS')
            ? true
            : undefined,
        {
          what: `${rollout} to wait for ${phaseId}`,
        },
      );
      await client.advanceRollout({ name: rollout, phaseId });
    }
    return p.sim.deploy.waitForRollout(rollout, undefined, 20_000);
  };
  const target = async () =>
    waitFor(async () => {
      const docs = (await p.env.db.collection(Collections.targets).get()).docs.map((d) => TargetRecord.parse(d.data()));
      return docs.find((t) => t.pipeline === 'api-backend-pipeline');
    });
  const servingIs = (releaseId: string, check: (t: TargetRecord) => boolean = () => true) =>
    waitFor(
      async () => {
        const t = await target();
        return t.serving?.releaseId === releaseId && check(t) ? t : undefined;
      },
      { what: `the decider to record that ${releaseId} serves production`, timeoutMs: 20_000 },
    );
  const terminal = async () =>
    (
      await p.progress.waitFor(1, (m) => ['succeeded', 'failed', 'superseded'].includes(m.json<RollbackProgress>().stage), 30_000)
    )[0]!.json<RollbackProgress>();
  const nowSeconds = () => Math.ceil(Date.now() / 1000);

  it('a fresh stack knows what serves production from Cloud Deploy at start, and rolls back the release shipped before it', async () => {
    await start('fresh stack');
    // Nobody announced anything: the decider read the history at start.
    const seeded = p.sim.deploy.rolloutsOnTarget('production').find((r) => r.name.startsWith(`${pipeline}/releases/rel-002/`))!;
    const t = await servingIs('rel-002');
    expect(t.serving).toMatchObject({
      since: new Date(Number(seeded.deployStartTime!.seconds) * 1000).toISOString(),
      rollout: seeded.name,
    });
    expect(t.previous).toMatchObject({ releaseId: 'rel-001' });
    expect(t.historyReadAt).not.toBeNull();
    await p.notify(openIncident({ ...p.fixture, startedAt: nowSeconds() }));
    const done = await terminal();
    expect(done).toMatchObject({ stage: 'succeeded', releaseId: 'rel-001', fromReleaseId: 'rel-002' });
    const [decision] = await p.decisions();
    expect(decision!.cause).toMatchObject({ releaseId: 'rel-002' });
  });

  it('a burn during a canary at 25 % is blamed on the canary: it is cancelled and production returns to the last good release', async () => {
    await start('canary burn');
    const client = p.deployClient;
    const canary = await ship(client, 'rel-005');
    // The canary's first phase deployed and verified; it waits to be advanced, serving 25 %.
    const t = await servingIs('rel-005', (x) => x.serving?.phase === 'canary-25');
    expect(t.previous).toMatchObject({ releaseId: 'rel-002' });
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.canary', startedAt: nowSeconds() }));
    const done = await terminal();
    expect(done).toMatchObject({ stage: 'succeeded', releaseId: 'rel-002', fromReleaseId: 'rel-005' });
    const [decision] = await p.decisions();
    expect(decision).toMatchObject({ action: 'rollback', cause: { releaseId: 'rel-005' } });
    expect(decision!.reason).toContain('caused by rel-005');
    expect(decision!.confidence!.factors.find((f) => f.name === 'timing')!.detail).toContain('its rollout is in canary-25');
    expect(p.sim.deploy.getRollout(canary)!.state).toBe('CANCELLED');
    const [record] = await p.rollbacks();
    expect(record!.audit.map((a) => a.stage)).toEqual(['accepted', 'accepted', 'cancelling', 'cancelled', 'started', 'succeeded']);
    // rel-002, which served before the canary, was not blamed: it is what production returned to.
    const after = await servingIs('rel-002', (x) => x.returnedTo?.releaseId === 'rel-002');
    expect(after.quarantined.map((q) => q.releaseId)).toEqual(['rel-005']);
  });

  it('a burn that began between the first deploy job and Succeed is blamed on that release and rolled back', async () => {
    await start('burn during rollout');
    const client = p.deployClient;
    const rollout = await ship(client, 'rel-008');
    await servingIs('rel-008');
    const started = p.sim.deploy.getRollout(rollout)!.deployStartTime!;
    // The burn began two seconds after the first deploy job, long before the rollout succeeded.
    const burnStart = Number(started.seconds) + 2;
    const done = await advanceToTheEnd(client, rollout);
    expect(done.state).toBe('SUCCEEDED');
    await servingIs('rel-008', (x) => x.serving?.phase === null && x.timeline.at(-1)?.state === 'SUCCEEDED');
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.during', startedAt: burnStart }));
    expect(await terminal()).toMatchObject({ stage: 'succeeded', releaseId: 'rel-002', fromReleaseId: 'rel-008' });
    const [decision] = await p.decisions();
    expect(decision).toMatchObject({ action: 'rollback', cause: { releaseId: 'rel-008' } });
    expect(decision!.confidence!.factors.find((f) => f.name === 'timing')).toMatchObject({ value: 1 });
  });

  it('a release whose verify failed keeps serving: a burn on it is blamed on it and rolled back', async () => {
    await start('verify failed');
    p.sim.deploy.failNextRollouts('production', { phaseId: 'canary-25', jobId: 'verify', reason: 'verify: 12 % errors' });
    const rollout = await ship(p.deployClient, 'rel-007');
    await p.sim.deploy.waitForRollout(rollout);
    expect(p.sim.deploy.getRollout(rollout)!.state).toBe('FAILED');
    await servingIs('rel-007', (x) => x.timeline.at(-1)?.state === 'FAILED');
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.verify', startedAt: nowSeconds() }));
    expect(await terminal()).toMatchObject({ stage: 'succeeded', releaseId: 'rel-002', fromReleaseId: 'rel-007' });
    const decisions: DecisionRecord[] = await p.decisions();
    expect(decisions[0]).toMatchObject({ action: 'rollback', cause: { releaseId: 'rel-007' } });
  });
});
