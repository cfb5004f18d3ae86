process.env.METADATA_SERVER_DETECTION = 'none';

import { CloudDeployClient } from '@google-cloud/deploy';
import { cloudDeployClientOptions, startGcpSim, type GcpSim, type GcpSimOptions, type Rollout } from '../index.js';

const PROJECT = 'gcp-sim-life';
const REGION = 'us-central1';
const LOCATION = `projects/${PROJECT}/locations/${REGION}`;
const PIPELINE = `${LOCATION}/deliveryPipelines/api-backend-pipeline`;
const release = (id: string) => `${PIPELINE}/releases/${id}`;
const rolloutOf = (releaseId: string, id: string) => `${release(releaseId)}/rollouts/${id}`;

const sims: GcpSim[] = [];
const clients: CloudDeployClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

async function world(options: GcpSimOptions = {}): Promise<{ sim: GcpSim; client: CloudDeployClient }> {
  const sim = await startGcpSim({ projectId: PROJECT, region: REGION, rolloutStepMs: 20, ...options });
  const client = new CloudDeployClient(cloudDeployClientOptions(sim));
  sims.push(sim);
  clients.push(client);
  return { sim, client };
}

/** The gRPC status code a call fails with. */
async function codeOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (err) {
    return (err as { code: number }).code;
  }
  throw new Error('expected the call to fail');
}

/** An LRO result (a protobufjs message: enums as numbers) as plain JSON with enum names. */
const plain = <T>(message: unknown): T => (message as { toJSON(): T }).toJSON();

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const phaseStates = (r: { phases?: Array<{ id?: string | null; state?: unknown }> | null }) =>
  Object.fromEntries((r.phases ?? []).map((p) => [p.id, String(p.state)]));

/** Ships rel-003 (CreateRelease, then CreateRollout to `target`) and returns the rollout name. */
async function ship(client: CloudDeployClient, target: string, rolloutId = `rel-003-to-${target}`): Promise<string> {
  const [releaseOp] = await client.createRelease({
    parent: PIPELINE,
    releaseId: 'rel-003',
    release: { description: 'api-backend at c0ffee1', buildArtifacts: [{ image: 'api-backend', tag: 'api-backend:c0ffee1' }] },
  });
  await releaseOp.promise();
  const [rolloutOp] = await client.createRollout({ parent: release('rel-003'), rolloutId, rollout: { targetId: target } });
  const [rollout] = await rolloutOp.promise();
  return plain<Rollout>(rollout).name;
}

describe('shipping releases through the real CloudDeployClient', () => {
  it('creates a release and a rollout as long-running operations that op.promise() resolves through GetOperation', async () => {
    const { sim, client } = await world();
    const [releaseOp] = await client.createRelease({ parent: PIPELINE, releaseId: 'rel-003', release: { description: 'c0ffee1' } });
    expect(releaseOp.done).toBe(false);
    const [created, metadata] = await releaseOp.promise();
    expect(plain(created)).toMatchObject({ name: release('rel-003'), renderState: 'SUCCEEDED', abandoned: false, description: 'c0ffee1' });
    expect(plain(metadata)).toMatchObject({ target: release('rel-003'), verb: 'create', apiVersion: 'v1' });
    expect(releaseOp.name).toMatch(new RegExp(`^${LOCATION}/operations/operation-`));

    const [rolloutOp] = await client.createRollout({
      parent: release('rel-003'),
      rolloutId: 'rel-003-to-staging',
      rollout: { targetId: 'staging' },
    });
    const [rollout] = await rolloutOp.promise();
    const name = rolloutOf('rel-003', 'rel-003-to-staging');
    expect(plain(rollout)).toMatchObject({ name, targetId: 'staging' });
    expect(sim.deploy.callsTo('GetOperation').length).toBeGreaterThanOrEqual(2);

    const done = await sim.deploy.waitForRollout(name);
    expect(done).toMatchObject({ state: 'SUCCEEDED', phases: [{ id: 'stable', state: 'SUCCEEDED' }] });
    expect(done.deployStartTime).toBeDefined();
    expect(done.deployEndTime).toBeDefined();
    expect(done.metadata?.cloudRun?.revision).toMatch(/^api-backend-staging-00003-/);
    // The newest release is listed first.
    const [releases] = await client.listReleases({ parent: PIPELINE });
    expect(releases[0]?.name).toBe(release('rel-003'));
  });

  it('runs a production canary 25 → 50 → stable, waiting for AdvanceRollout between phases', async () => {
    const { sim, client } = await world();
    const name = await ship(client, 'production');
    const waiting = async (phase: string) =>
      until(
        async () => (await client.getRollout({ name }))[0],
        (r) =>
          String(r.state) === 'IN_PROGRESS' &&
          phaseStates(r)[phase] === 'PENDING' &&
          !Object.values(phaseStates(r)).includes('IN_PROGRESS'),
        `${name} to wait for ${phase}`,
      );
    expect(phaseStates(await waiting('canary-50'))).toEqual({ 'canary-25': 'SUCCEEDED', 'canary-50': 'PENDING', stable: 'PENDING' });
    expect(await codeOf(client.advanceRollout({ name, phaseId: 'stable' }))).toBe(9);
    expect(await codeOf(client.advanceRollout({ name, phaseId: 'nope' }))).toBe(3);
    await client.advanceRollout({ name, phaseId: 'canary-50' });
    expect(phaseStates(await waiting('stable'))).toEqual({ 'canary-25': 'SUCCEEDED', 'canary-50': 'SUCCEEDED', stable: 'PENDING' });
    await client.advanceRollout({ name, phaseId: 'stable' });
    const done = await sim.deploy.waitForRollout(name);
    expect(done.state).toBe('SUCCEEDED');
    expect(done.phases?.every((p) => p.state === 'SUCCEEDED' && p.deploymentJobs?.verifyJob?.state === 'SUCCEEDED')).toBe(true);
  });

  it('advances canary phases by itself with timings.autoAdvance', async () => {
    const { sim, client } = await world({ timings: { autoAdvance: true } });
    const name = await ship(client, 'production');
    expect((await sim.deploy.waitForRollout(name)).state).toBe('SUCCEEDED');
    expect(sim.deploy.callsTo('AdvanceRollout')).toHaveLength(0);
  });

  it('fails a rollout in the verify job of a chosen phase with the injected cause, aborting the phases after it', async () => {
    const { sim, client } = await world({ timings: { autoAdvance: true } });
    sim.deploy.failNextRollouts('production', {
      phaseId: 'canary-50',
      jobId: 'verify',
      cause: 'VERIFICATION_CONFIG_NOT_FOUND',
      reason: '5xx rate 7 %',
    });
    const name = await ship(client, 'production');
    await sim.deploy.waitForRollout(name);
    const [failed] = await client.getRollout({ name });
    expect(failed).toMatchObject({ state: 'FAILED', deployFailureCause: 'VERIFICATION_CONFIG_NOT_FOUND', failureReason: '5xx rate 7 %' });
    expect(phaseStates(failed)).toEqual({ 'canary-25': 'SUCCEEDED', 'canary-50': 'FAILED', stable: 'ABORTED' });
    expect(failed.phases?.[1]?.deploymentJobs).toMatchObject({ deployJob: { state: 'SUCCEEDED' }, verifyJob: { state: 'FAILED' } });
  });

  it('holds rollouts on a target that requires approval until ApproveRollout, and ends a rejected one APPROVAL_REJECTED', async () => {
    const { sim, client } = await world({
      timings: { autoAdvance: true },
      scenario: {
        targets: [{ id: 'production', requireApproval: true }],
        pipelines: [
          {
            id: 'api-backend-pipeline',
            suspended: false,
            stages: [
              { target: 'staging', verify: false },
              { target: 'production', canary: [25, 50], verify: true },
            ],
            releases: [],
          },
        ],
      },
    });
    const name = await ship(client, 'production', 'first');
    const [held] = await client.getRollout({ name });
    expect(held).toMatchObject({ state: 'PENDING_APPROVAL', approvalState: 'NEEDS_APPROVAL' });
    await client.approveRollout({ name, approved: true });
    const approved = await sim.deploy.waitForRollout(name);
    expect(approved).toMatchObject({ state: 'SUCCEEDED', approvalState: 'APPROVED' });
    expect(approved.approveTime).toBeDefined();
    expect(await codeOf(client.approveRollout({ name, approved: true }))).toBe(9);

    const [op] = await client.createRollout({ parent: release('rel-003'), rolloutId: 'second', rollout: { targetId: 'production' } });
    await op.promise();
    const second = rolloutOf('rel-003', 'second');
    await client.approveRollout({ name: second, approved: false });
    const [rejected] = await client.getRollout({ name: second });
    expect(rejected).toMatchObject({ state: 'APPROVAL_REJECTED', approvalState: 'REJECTED' });
    expect(Object.values(phaseStates(rejected))).toEqual(['ABORTED', 'ABORTED', 'ABORTED']);
  });

  it('cancels a canary waiting to be advanced: CANCELLING, then CANCELLED; a finished rollout cannot be cancelled', async () => {
    const { sim, client } = await world();
    const name = await ship(client, 'production');
    await until(
      async () => (await client.getRollout({ name }))[0],
      (r) => phaseStates(r)['canary-25'] === 'SUCCEEDED',
      'the first canary phase',
    );
    const seen: string[] = [];
    sim.deploy.onRolloutChange((r) => r.name === name && seen.push(r.state));
    await client.cancelRollout({ name });
    // The listener sees every transition; a GetRollout here would race the sim's cancel timer under load.
    const cancelled = await sim.deploy.waitForRollout(name);
    expect(seen).toEqual(['CANCELLING', 'CANCELLED']);
    expect(phaseStates(cancelled)).toEqual({ 'canary-25': 'SUCCEEDED', 'canary-50': 'ABORTED', stable: 'ABORTED' });
    expect(await codeOf(client.cancelRollout({ name }))).toBe(9);
  });

  it('abandons a release: its flag is set, no rollout of it can be created, and abandoning twice is refused', async () => {
    const { sim, client } = await world();
    const name = await ship(client, 'staging');
    await client.abandonRelease({ name: release('rel-003') });
    const [abandoned] = await client.getRelease({ name: release('rel-003') });
    expect(abandoned.abandoned).toBe(true);
    expect(
      await codeOf(client.createRollout({ parent: release('rel-003'), rolloutId: 'again', rollout: { targetId: 'production' } })),
    ).toBe(9);
    expect(await codeOf(client.abandonRelease({ name: release('rel-003') }))).toBe(9);
    // A rollout already under way continues (Cloud Deploy does not cancel it).
    expect((await sim.deploy.waitForRollout(name)).state).toBe('SUCCEEDED');
    // And it cannot be rolled back to.
    expect(await codeOf(client.rollbackTarget({ name: PIPELINE, targetId: 'staging', rolloutId: 'rb-1', releaseId: 'rel-003' }))).toBe(9);
  });

  it('queues a rollout PENDING while another is in progress on the same pipeline and target', async () => {
    const { sim, client } = await world({ rolloutStepMs: 60 });
    const first = await ship(client, 'staging', 'first');
    const [op] = await client.createRollout({ parent: release('rel-003'), rolloutId: 'second', rollout: { targetId: 'staging' } });
    await op.promise();
    const second = rolloutOf('rel-003', 'second');
    await sim.deploy.waitForRollout(first, ['IN_PROGRESS']);
    expect(String((await client.getRollout({ name: second }))[0].state)).toBe('PENDING');
    await sim.deploy.waitForRollout(first);
    expect((await sim.deploy.waitForRollout(second)).state).toBe('SUCCEEDED');
    const a = sim.deploy.getRollout(first)!;
    const b = sim.deploy.getRollout(second)!;
    expect(Number(b.deployStartTime!.seconds) * 1e9 + b.deployStartTime!.nanos).toBeGreaterThanOrEqual(
      Number(a.deployEndTime!.seconds) * 1e9 + a.deployEndTime!.nanos,
    );
  });

  it('queues a rollback behind a canary still in progress, and marks both rollouts', async () => {
    const { sim, client } = await world();
    const canary = await ship(client, 'production');
    const [rb] = await client.rollbackTarget({ name: PIPELINE, targetId: 'production', rolloutId: 'rb-1', rolloutToRollBack: canary });
    const rollback = rb.rollbackConfig!.rollout!.name!;
    expect(rb.rollbackConfig?.rollout).toMatchObject({ state: 'PENDING', rollbackOfRollout: canary });
    expect(sim.deploy.getRollout(canary)?.rolledBackByRollouts).toEqual([rollback]);
    // It waits for the canary (which waits for AdvanceRollout) until the canary is cancelled.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(sim.deploy.getRollout(rollback)?.state).toBe('PENDING');
    await client.cancelRollout({ name: canary });
    expect((await sim.deploy.waitForRollout(rollback)).state).toBe('SUCCEEDED');
  });

  it('refuses RollbackTarget with a stale rollout_to_roll_back, and validate_only creates nothing', async () => {
    const { sim, client } = await world();
    const stale = rolloutOf('rel-002', 'rel-002-to-production-0001');
    const shipped = await ship(client, 'staging');
    await sim.deploy.waitForRollout(shipped);
    const [checked] = await client.rollbackTarget({
      name: PIPELINE,
      targetId: 'production',
      rolloutId: 'rb-1',
      rolloutToRollBack: stale,
      validateOnly: true,
    });
    expect(checked.rollbackConfig?.rollout).toMatchObject({ name: rolloutOf('rel-001', 'rb-1'), rollbackOfRollout: stale });
    expect(sim.deploy.getRollout(rolloutOf('rel-001', 'rb-1'))).toBeUndefined();
    expect(sim.deploy.getRollout(stale)?.rolledBackByRollouts).toEqual([]);

    const [op] = await client.createRollout({ parent: release('rel-003'), rolloutId: 'newer', rollout: { targetId: 'production' } });
    await op.promise();
    const error = await client
      .rollbackTarget({ name: PIPELINE, targetId: 'production', rolloutId: 'rb-1', rolloutToRollBack: stale })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 9, details: expect.stringContaining('is not the latest rollout on target "production"') });
  });

  it('injects an RPC error for a count of calls and a latency into answers', async () => {
    const { sim, client } = await world();
    sim.deploy.failNextCalls('CreateRelease', 'UNAVAILABLE', 2);
    expect(await codeOf(client.createRelease({ parent: PIPELINE, releaseId: 'rel-003', release: {} }, { retry: null as never }))).toBe(14);
    expect(await codeOf(client.createRelease({ parent: PIPELINE, releaseId: 'rel-003', release: {} }, { retry: null as never }))).toBe(14);
    expect(sim.deploy.getRelease(release('rel-003'))).toBeUndefined();
    const [op] = await client.createRelease({ parent: PIPELINE, releaseId: 'rel-003', release: {} });
    await op.promise();

    sim.deploy.delayNextCalls('GetRollout', 300);
    const started = Date.now();
    await client.getRollout({ name: rolloutOf('rel-002', 'rel-002-to-production-0001') });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    sim.deploy.injectFault('GetOperation', { code: 'INTERNAL', count: 1, latencyMs: 50 });
    const [rolloutOp] = await client.createRollout({ parent: release('rel-003'), rolloutId: 'r1', rollout: { targetId: 'staging' } });
    await expect(rolloutOp.promise()).rejects.toMatchObject({ code: 13 });
    expect(sim.deploy.callsTo('GetOperation').at(-1)?.status).toBe('INTERNAL');
  });

  it('injects a fault only into the calls it matches, e.g. RollbackTarget without validate_only', async () => {
    const { sim, client } = await world();
    sim.deploy.failNextCalls('RollbackTarget', 'UNAVAILABLE', 1, { afterApplying: true, when: (r) => r.validateOnly !== true });
    const request = { name: PIPELINE, targetId: 'production', rolloutId: 'rb-1', releaseId: 'rel-001' };
    await client.rollbackTarget({ ...request, validateOnly: true });
    expect(await codeOf(client.rollbackTarget(request, { retry: null as never }))).toBe(14);
    expect(sim.deploy.getRollout(rolloutOf('rel-001', 'rb-1'))).toBeDefined();
    expect(sim.deploy.callsTo('RollbackTarget').map((c) => c.status)).toEqual(['OK', 'UNAVAILABLE']);
  });

  it('answers NOT_FOUND for an unknown operation and UNIMPLEMENTED for the Operations methods it does not serve', async () => {
    const { client } = await world();
    expect(await codeOf(client.checkCreateRolloutProgress(`${LOCATION}/operations/operation-nope`))).toBe(5);
    expect(await codeOf(client.operationsClient.cancelOperation({ name: `${LOCATION}/operations/operation-nope` } as never))).toBe(12);
  });
});
