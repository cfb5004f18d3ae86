process.env.METADATA_SERVER_DETECTION = 'none';

import { CloudDeployClient } from '@google-cloud/deploy';
import { cloudDeployClientOptions, startGcpSim, type GcpSim, type Rollout, type RolloutState } from '../index.js';

const PROJECT = 'gcp-sim-test';
const REGION = 'us-central1';
const LOCATION = `projects/${PROJECT}/locations/${REGION}`;
const PIPELINE = `${LOCATION}/deliveryPipelines/api-backend-pipeline`;
const release = (id: string) => `${PIPELINE}/releases/${id}`;
const rollout = (releaseId: string, id: string) => `${release(releaseId)}/rollouts/${id}`;
const REL_002_ON_PRODUCTION = rollout('rel-002', 'rel-002-to-production-0001');
const STEP_MS = 20;

let sim: GcpSim;
let client: CloudDeployClient;

beforeAll(async () => {
  sim = await startGcpSim({ projectId: PROJECT, region: REGION, rolloutStepMs: STEP_MS });
  client = new CloudDeployClient(cloudDeployClientOptions(sim));
});

afterAll(async () => {
  await client.close();
  await sim.stop();
});

// Each test starts from the seed: no test sees another's rollouts or calls.
beforeEach(() => sim.deploy.reset());

/** The gRPC status code a call fails with. */
async function codeOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (err) {
    return (err as { code: number }).code;
  }
  throw new Error('expected the call to fail');
}

/** Polls GetRollout until the rollout is terminal; returns every state it saw, in order, and the last rollout. */
async function pollUntilDone(name: string, timeoutMs = 5000): Promise<{ seen: string[]; last: Rollout }> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [current] = await client.getRollout({ name });
    const state = String(current.state);
    if (seen[seen.length - 1] !== state) seen.push(state);
    if (['SUCCEEDED', 'FAILED'].includes(state)) return { seen, last: current as Rollout };
    if (Date.now() > deadline) throw new Error(`rollout ${name} still ${state} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const rollbackProduction = (rolloutId: string, extra: Record<string, unknown> = {}) =>
  client.rollbackTarget({ name: PIPELINE, targetId: 'production', rolloutId, ...extra });

describe('gcp-sim Cloud Deploy with the real CloudDeployClient', () => {
  it('serves the seeded delivery pipeline: staging, then production with a 25/50 canary and verify', async () => {
    const [pipeline] = await client.getDeliveryPipeline({ name: PIPELINE });
    // proto-loader-style oneof name; protos.d.ts does not type it.
    expect((pipeline as { pipeline?: string }).pipeline).toBe('serialPipeline');
    expect(pipeline.serialPipeline?.stages?.map((s) => s.targetId)).toEqual(['staging', 'production']);
    expect(pipeline.serialPipeline?.stages?.[1]?.strategy?.canary?.canaryDeployment).toMatchObject({
      percentages: [25, 50],
      verify: true,
    });
    expect(pipeline.serialPipeline?.stages?.[1]?.strategy?.canary?.runtimeConfig?.cloudRun?.automaticTrafficControl).toBe(true);
  });

  it('serves the seeded targets as Cloud Run targets in the project region', async () => {
    const [target] = await client.getTarget({ name: `${LOCATION}/targets/production` });
    expect(target).toMatchObject({ targetId: 'production', deploymentTarget: 'run', run: { location: LOCATION } });
  });

  it('answers NOT_FOUND for unknown resources and INVALID_ARGUMENT for malformed names', async () => {
    expect(await codeOf(client.getDeliveryPipeline({ name: `${LOCATION}/deliveryPipelines/nope` }))).toBe(5);
    await expect(client.getTarget({ name: `${LOCATION}/targets/nope` })).rejects.toThrow(/Target ".*\/targets\/nope" not found/);
    expect(await codeOf(client.getRollout({ name: rollout('rel-001', 'nope') }))).toBe(5);
    expect(await codeOf(client.getTarget({ name: 'targets/production' }))).toBe(3);
    expect(await codeOf(client.getRollout({ name: PIPELINE }))).toBe(3);
  });

  it('lists releases newest first, page by page', async () => {
    const [all] = await client.listReleases({ parent: PIPELINE });
    expect(all.map((r) => r.name)).toEqual([release('rel-002'), release('rel-001')]);

    const [first, next] = await client.listReleases({ parent: PIPELINE, pageSize: 1 }, { autoPaginate: false });
    expect(first.map((r) => r.name)).toEqual([release('rel-002')]);
    expect(next?.pageToken).toBeTruthy();
    const [second, after] = await client.listReleases(next!, { autoPaginate: false });
    expect(second.map((r) => r.name)).toEqual([release('rel-001')]);
    expect(after).toBeNull();
  });

  it('lists the rollouts of one release, and of every release with the "-" wildcard, newest first', async () => {
    const [ofRel001] = await client.listRollouts({ parent: release('rel-001') });
    expect(ofRel001.map((r) => r.name)).toEqual([
      rollout('rel-001', 'rel-001-to-production-0001'),
      rollout('rel-001', 'rel-001-to-staging-0001'),
    ]);

    // Pages of 3: the async iterator follows next_page_token across the two pages. (gax warns unless
    // autoPaginate is explicitly false, although async iteration never auto-paginates.)
    const all: Array<{ name?: string | null; state?: unknown }> = [];
    for await (const r of client.listRolloutsAsync({ parent: release('-'), pageSize: 3 }, { autoPaginate: false })) all.push(r);
    expect(all.map((r) => r.name)).toEqual([
      REL_002_ON_PRODUCTION,
      rollout('rel-002', 'rel-002-to-staging-0001'),
      rollout('rel-001', 'rel-001-to-production-0001'),
      rollout('rel-001', 'rel-001-to-staging-0001'),
    ]);
    expect(all.every((r) => r.state === 'SUCCEEDED')).toBe(true);
    expect(sim.deploy.callsTo('ListRollouts').filter((c) => c.request.parent === release('-'))).toHaveLength(2);
    expect(await codeOf(client.listRollouts({ parent: release('nope') }))).toBe(5);
  });

  it('rolls production back to rel-001 by default and drives the rollout PENDING → IN_PROGRESS → SUCCEEDED', async () => {
    const changes: Array<[string, RolloutState, RolloutState | null]> = [];
    const unsubscribe = sim.deploy.onRolloutChange((r, previous) => changes.push([r.name, r.state, previous]));
    const [response] = await rollbackProduction('burnback-rb-1');

    const name = rollout('rel-001', 'burnback-rb-1');
    expect(response.rollbackConfig?.startingPhaseId).toBe('stable');
    expect(response.rollbackConfig?.rollout).toMatchObject({
      name,
      targetId: 'production',
      state: 'PENDING',
      rollbackOfRollout: REL_002_ON_PRODUCTION,
    });

    const { seen, last } = await pollUntilDone(name);
    unsubscribe();
    // Polling can miss a 20 ms step on a loaded machine (the PENDING answer above is the first);
    // what it saw must still be in order, and the change events miss nothing.
    expect(seen).toEqual(['PENDING', 'IN_PROGRESS', 'SUCCEEDED'].filter((state) => seen.includes(state)));
    expect(seen.at(-1)).toBe('SUCCEEDED');
    expect(changes).toEqual([
      [name, 'PENDING', null],
      [name, 'IN_PROGRESS', 'PENDING'],
      [name, 'SUCCEEDED', 'IN_PROGRESS'],
    ]);
    expect(last.deployStartTime).toBeTruthy();
    expect(last.deployEndTime).toBeTruthy();
    expect(last.phases?.find((p) => p.id === 'stable')?.state).toBe('SUCCEEDED');

    const [rolledBack] = await client.getRollout({ name: REL_002_ON_PRODUCTION });
    expect(rolledBack.rolledBackByRollouts).toEqual([name]);
    const calls = sim.deploy.callsTo('RollbackTarget');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      code: 0,
      request: { name: PIPELINE, targetId: 'production', rolloutId: 'burnback-rb-1' },
    });
    expect(sim.deploy.rolloutsOnTarget('production')[0]?.name).toBe(name);
  });

  it('fires onRolloutChange for creation and every state change, given as a start option', async () => {
    const seen: Array<[RolloutState, RolloutState | null]> = [];
    const other = await startGcpSim({
      projectId: PROJECT,
      region: REGION,
      rolloutStepMs: 1,
      onRolloutChange: (r, previous) => seen.push([r.state, previous]),
    });
    const otherClient = new CloudDeployClient(cloudDeployClientOptions(other));
    try {
      await otherClient.rollbackTarget({ name: PIPELINE, targetId: 'staging', rolloutId: 'rb-staging' });
      const deadline = Date.now() + 5000;
      while (seen.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(seen).toEqual([
        ['PENDING', null],
        ['IN_PROGRESS', 'PENDING'],
        ['SUCCEEDED', 'IN_PROGRESS'],
      ]);
    } finally {
      await otherClient.close();
      await other.stop();
    }
  });

  it('answers ALREADY_EXISTS (6) for a rollout id that is taken, and creates nothing', async () => {
    await rollbackProduction('burnback-rb-1');
    const before = sim.deploy.listRollouts().length;
    expect(await codeOf(rollbackProduction('burnback-rb-1'))).toBe(6);
    expect(await codeOf(rollbackProduction('burnback-rb-1', { releaseId: 'rel-001' }))).toBe(6);
    // Ids are unique per pipeline, whatever the release.
    expect(await codeOf(client.rollbackTarget({ name: PIPELINE, targetId: 'production', rolloutId: 'rel-001-to-staging-0001' }))).toBe(6);
    expect(sim.deploy.listRollouts()).toHaveLength(before);
  });

  it('returns the would-be rollout for validateOnly and creates nothing', async () => {
    const [response] = await rollbackProduction('burnback-rb-1', { validateOnly: true });
    expect(response.rollbackConfig?.rollout).toMatchObject({
      name: rollout('rel-001', 'burnback-rb-1'),
      state: 'PENDING',
    });
    expect(await codeOf(client.getRollout({ name: rollout('rel-001', 'burnback-rb-1') }))).toBe(5);
    expect(sim.deploy.listRollouts()).toHaveLength(4);
    const [rolledBack] = await client.getRollout({ name: REL_002_ON_PRODUCTION });
    expect(rolledBack.rolledBackByRollouts).toEqual([]);
    // The id is still free for the real call.
    await rollbackProduction('burnback-rb-1');
  });

  it.each(['Rb-1', '1rb', 'rb_1', 'rb-', 'r'.repeat(64)])('answers INVALID_ARGUMENT (3) for the rollout id %j', async (rolloutId) => {
    expect(await codeOf(rollbackProduction(rolloutId))).toBe(3);
  });

  it('answers INVALID_ARGUMENT (3) when the pipeline name is malformed or target_id is missing', async () => {
    expect(await codeOf(client.rollbackTarget({ name: 'api-backend-pipeline', targetId: 'production', rolloutId: 'rb-1' }))).toBe(3);
    expect(await codeOf(client.rollbackTarget({ name: PIPELINE, rolloutId: 'rb-1' }))).toBe(3);
  });

  it('answers NOT_FOUND (5) for an unknown target, pipeline or release', async () => {
    expect(await codeOf(client.rollbackTarget({ name: PIPELINE, targetId: 'nope', rolloutId: 'rb-1' }))).toBe(5);
    expect(
      await codeOf(
        client.rollbackTarget({
          name: `${LOCATION}/deliveryPipelines/nope`,
          targetId: 'production',
          rolloutId: 'rb-1',
        }),
      ),
    ).toBe(5);
    expect(await codeOf(rollbackProduction('rb-1', { releaseId: 'rel-999' }))).toBe(5);
  });

  it('answers FAILED_PRECONDITION (9) for an explicit releaseId that is already current on the target', async () => {
    await expect(rollbackProduction('rb-1', { releaseId: 'rel-002' })).rejects.toMatchObject({ code: 9 });
    expect(sim.deploy.listRollouts()).toHaveLength(4);
  });

  it('answers FAILED_PRECONDITION (9) when rolloutToRollBack is not the latest rollout on the target', async () => {
    const stale = rollout('rel-001', 'rel-001-to-production-0001');
    expect(await codeOf(rollbackProduction('rb-1', { rolloutToRollBack: stale }))).toBe(9);
    const [response] = await rollbackProduction('rb-1', { rolloutToRollBack: REL_002_ON_PRODUCTION });
    expect(response.rollbackConfig?.rollout?.rollbackOfRollout).toBe(REL_002_ON_PRODUCTION);
  });

  it('ends an injected rollback failure FAILED with the reason, leaving rel-002 current', async () => {
    sim.deploy.failNextRollbacks('production', 'revision api-backend-00003 failed its health check');
    const [response] = await rollbackProduction('burnback-rb-1');
    const { last } = await pollUntilDone(response.rollbackConfig!.rollout!.name!);
    expect(last.deployStartTime).toBeTruthy();
    expect(last).toMatchObject({
      failureReason: 'revision api-backend-00003 failed its health check',
      deployFailureCause: 'EXECUTION_FAILED',
    });

    // Only the next rollback fails; the next one goes to rel-001 again and succeeds.
    const [retry] = await rollbackProduction('burnback-rb-2');
    expect(retry.rollbackConfig?.rollout?.name).toBe(rollout('rel-001', 'burnback-rb-2'));
    expect((await pollUntilDone(retry.rollbackConfig!.rollout!.name!)).last.state).toBe('SUCCEEDED');
  });

  it("after a successful rollback to rel-001, a second default rollback goes forward to rel-002 (loop protection is the caller's job)", async () => {
    const [first] = await rollbackProduction('burnback-rb-1');
    await pollUntilDone(first.rollbackConfig!.rollout!.name!);

    const [second] = await rollbackProduction('burnback-rb-2');
    expect(second.rollbackConfig?.rollout).toMatchObject({
      name: rollout('rel-002', 'burnback-rb-2'),
      rollbackOfRollout: rollout('rel-001', 'burnback-rb-1'),
    });
    expect((await pollUntilDone(second.rollbackConfig!.rollout!.name!)).last.state).toBe('SUCCEEDED');
  });

  it('answers an injected UNAVAILABLE (14) once without applying the call, then the retry succeeds', async () => {
    sim.deploy.failNextCalls('RollbackTarget', 14);
    expect(await codeOf(rollbackProduction('burnback-rb-1'))).toBe(14);
    expect(sim.deploy.listRollouts()).toHaveLength(4);
    await rollbackProduction('burnback-rb-1');
    expect(sim.deploy.callsTo('RollbackTarget').map((c) => [c.code, c.status])).toEqual([
      [14, 'UNAVAILABLE'],
      [0, 'OK'],
    ]);
  });

  it('can apply a call and still answer an error, so the retry sees ALREADY_EXISTS', async () => {
    sim.deploy.failNextCalls('RollbackTarget', 'DEADLINE_EXCEEDED', 1, { afterApplying: true });
    expect(await codeOf(rollbackProduction('burnback-rb-1'))).toBe(4);
    expect(sim.deploy.getRollout(rollout('rel-001', 'burnback-rb-1'))).toBeDefined();
    expect(await codeOf(rollbackProduction('burnback-rb-1'))).toBe(6);
  });

  it('answers UNIMPLEMENTED (12) for RPCs it does not simulate', async () => {
    expect(await codeOf(client.listJobRuns({ parent: REL_002_ON_PRODUCTION }))).toBe(12);
  });

  it('resets to the seed: rollouts, calls and injected failures', async () => {
    sim.deploy.failNextCalls('GetTarget', 'INTERNAL');
    await rollbackProduction('burnback-rb-1');
    sim.deploy.reset();
    expect(sim.deploy.calls).toHaveLength(0);
    expect(sim.deploy.listRollouts()).toHaveLength(4);
    await client.getTarget({ name: `${LOCATION}/targets/production` });
  });
});
