import type { CloudDeployClient } from '@google-cloud/deploy';
import {
  EventTypes,
  isFinalStage,
  rolloutIdFor,
  Topics,
  type CloudEvent,
  type RollbackCommand,
  type RollbackProgress,
  type RollbackRecord,
} from '@burnback/contracts';
import {
  CANARY_STRATEGY,
  defaultDeploySeed,
  SeedBuilder,
  STANDARD_STRATEGY,
  startGcpSim,
  type DeploySeed,
  type GcpSim,
  type GcpSimOptions,
  type Rollout,
  type RolloutState,
} from '@burnback/gcp-sim';
import { createDeployClient, PubSubPublisher } from '@burnback/platform';
import { createTestEnvironment, tapTopic, waitFor, type TestEnvironment, type TopicTap } from '@burnback/testkit';
import {
  CloudDeployPort,
  createExecutorHandler,
  RollbackStore,
  startExecutorService,
  startRolloutTracker,
  type DeployPort,
  type ExecutorDeps,
} from '../src/index.js';

const REGION = 'us-central1';
const MINUTE = 60_000;

const command = (projectId: string, rollbackId = 'rb-case-1'): CloudEvent<typeof EventTypes.rollbackCommand> => ({
  id: rollbackId,
  type: EventTypes.rollbackCommand,
  source: '//test',
  subject: `services/api-backend/rollbacks/${rollbackId}`,
  time: '2026-11-26T10:05:00.000Z',
  data: {
    rollbackId,
    decisionId: `dec-${rollbackId}`,
    incidentId: '0.abc',
    service: 'api-backend',
    project: projectId,
    region: REGION,
    pipeline: 'api-backend-pipeline',
    target: 'production',
    rolloutId: rolloutIdFor(rollbackId),
    releaseId: null,
    reason: 'test',
    requestedAt: '2026-11-26T10:05:00.000Z',
  } satisfies RollbackCommand,
});

/**
 * The default world (rel-001 then rel-002 succeeded on staging and production,
 * production a 25/50 canary with verify) plus history written by `add`.
 */
function history(projectId: string, add: (h: HistoryWriter) => void, options: { approval?: boolean } = {}): DeploySeed {
  const anchor = new Date();
  const seed = defaultDeploySeed(projectId, REGION, anchor);
  if (options.approval) seed.targets.find((t) => t.targetId === 'production')!.requireApproval = true;
  const b = new SeedBuilder(projectId, REGION, anchor);
  const pipeline = seed.pipelines[0]!;
  const release = (id: string, createdAgo: number) => {
    const existing = seed.releases.find((r) => r.name.endsWith(`/releases/${id}`));
    if (existing) return existing;
    const created = b.release(pipeline, seed.targets, id, createdAgo, { app: 'api-backend' });
    seed.releases.push(created);
    return created;
  };
  add({
    seed,
    rollout(releaseId, targetId, state, minutesAgo, extra = {}) {
      const r = b.rollout({
        release: release(releaseId, (minutesAgo + 5) * MINUTE),
        rolloutId: extra.rolloutId ?? `${releaseId}-to-${targetId}-0001`,
        targetId,
        strategy: targetId === 'production' ? CANARY_STRATEGY : STANDARD_STRATEGY,
        state,
        createdAgo: minutesAgo * MINUTE,
        durationMs: MINUTE,
        service: targetId === 'production' ? 'api-backend' : 'api-backend-staging',
        requireApproval: options.approval === true && targetId === 'production',
        ...extra,
      });
      seed.rollouts.push(r);
      return r;
    },
  });
  return seed;
}

interface HistoryWriter {
  seed: DeploySeed;
  rollout(
    releaseId: string,
    targetId: string,
    state: RolloutState,
    minutesAgo: number,
    extra?: Partial<Parameters<SeedBuilder['rollout']>[0]>,
  ): Rollout;
}

describe('the executor chooses both releases right, through the real client against gcp-sim', () => {
  let env: TestEnvironment;
  let sim: GcpSim;
  let client: CloudDeployClient;
  let publisher: PubSubPublisher;
  let progress: TopicTap;
  let store: RollbackStore;
  let pipelineName: string;

  const deps = (over: Partial<ExecutorDeps> = {}): ExecutorDeps => ({
    store,
    deploy: new CloudDeployPort(client),
    publisher,
    logger: env.logger,
    pollIntervalMs: 20,
    retry: { retries: 2, minTimeout: 10, maxTimeout: 50 },
    ...over,
  });
  /**
   * Runs a command as the executor does: the handler starts the rollback and a
   * tracker follows it to the end. The record once it is final and let go of.
   */
  const rollBack = async (
    event: CloudEvent<typeof EventTypes.rollbackCommand>,
    over: Partial<ExecutorDeps> = {},
  ): Promise<RollbackRecord> => {
    const outcome = await createExecutorHandler(deps(over))(event);
    if (outcome.kind !== 'tracking') return outcome.record;
    const tracker = startRolloutTracker({ ...deps(over), idleSweepMs: 600_000 });
    try {
      return await waitFor(
        async () => {
          const record = await store.get(event.data.rollbackId);
          return record && isFinalStage(record.status) && record.tracking === null ? record : undefined;
        },
        { what: `rollback ${event.data.rollbackId} to end`, timeoutMs: 30_000 },
      );
    } finally {
      await tracker.close();
    }
  };
  const start = async (options: GcpSimOptions = {}) => {
    sim = await startGcpSim({ projectId: env.projectId, rolloutStepMs: 30, port: 0, ...options });
    client = createDeployClient({ projectId: env.projectId, cloudDeployEndpoint: sim.address });
    pipelineName = `projects/${env.projectId}/locations/${REGION}/deliveryPipelines/api-backend-pipeline`;
  };
  const rolloutName = (release: string, id: string) => `${pipelineName}/releases/${release}/rollouts/${id}`;
  /** RollbackTarget calls that created a rollout (not the validate_only preflight, not one Cloud Deploy refused). */
  const rollbacksCreated = () => sim.deploy.callsTo('RollbackTarget').filter((c) => !c.request.validateOnly && c.status === 'OK');
  const burnbackRollouts = () => sim.deploy.rolloutsOnTarget('production').filter((r) => r.name.includes('/rollouts/burnback-rb-'));

  /** Ships a release to a target with the real client: CreateRelease, then CreateRollout (both LROs). */
  const ship = async (releaseId: string, targetId: string): Promise<string> => {
    if (!sim.deploy.getRelease(`${pipelineName}/releases/${releaseId}`)) {
      const [op] = await client.createRelease({ parent: pipelineName, releaseId, release: { description: releaseId } });
      await op.promise();
    }
    const rolloutId = `${releaseId}-to-${targetId}-${Date.now().toString(36)}`;
    const [op] = await client.createRollout({ parent: `${pipelineName}/releases/${releaseId}`, rolloutId, rollout: { targetId } });
    await op.promise();
    return rolloutName(releaseId, rolloutId);
  };

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'rollback-cases');
    publisher = new PubSubPublisher(env.pubsub);
    progress = await tapTopic(env.pubsub, Topics.progress);
    store = new RollbackStore(env.db);
  });
  afterEach(async () => {
    await progress.close();
    await publisher.close();
    await client.close();
    await sim.stop();
    await env.close();
  });

  it('a canary in progress is serving: it is cancelled first, then production goes back to rel-002', async () => {
    await start();
    const canary = await ship('rel-003', 'production');
    // canary-25 deployed and verified: 25 % of traffic is on rel-003, the rollout waits to be advanced.
    await waitUntil(() => sim.deploy.getRollout(canary)?.phases?.[0]?.state === 'SUCCEEDED', 'canary-25 to finish');
    expect(sim.deploy.getRollout(canary)?.state).toBe('IN_PROGRESS');

    const record = await rollBack(command(env.projectId));

    expect(record).toMatchObject({
      status: 'succeeded',
      releaseId: 'rel-002',
      leaving: { releaseId: 'rel-003', rolloutName: canary, state: 'IN_PROGRESS' },
    });
    expect(sim.deploy.callsTo('CancelRollout').map((c) => c.request.name)).toEqual([canary]);
    expect(sim.deploy.getRollout(canary)?.state).toBe('CANCELLED');
    const stages = record.audit.map((a) => a.stage);
    expect(stages).toEqual(['accepted', 'accepted', 'cancelling', 'cancelled', 'started', 'succeeded']);
    const [rollback] = burnbackRollouts();
    expect(rollback).toMatchObject({ state: 'SUCCEEDED', rollbackOfRollout: canary });
    expect(rollback!.name).toContain('/releases/rel-002/');
  });

  it('a serving canary whose cancellation takes minutes holds no command: the tracker rolls back once it is CANCELLED', async () => {
    await start();
    const canary = await ship('rel-003', 'production');
    await waitUntil(() => sim.deploy.getRollout(canary)?.phases?.[0]?.state === 'SUCCEEDED', 'canary-25 to finish');
    // Aborting the canary's deploy takes an hour, as a stuck Cloud Run revision might.
    sim.deploy.setTimings({ cancelMs: 3_600_000 });

    const outcome = await createExecutorHandler(deps())(command(env.projectId));
    // The command's delivery is over while the cancellation is under way; the tracker waits for it, not the subscription.
    expect(outcome.kind).toBe('tracking');
    expect(outcome.record).toMatchObject({ status: 'accepted', tracking: { lease: null } });
    expect(sim.deploy.getRollout(canary)?.state).toBe('CANCELLING');
    expect(rollbacksCreated()).toHaveLength(0);

    const tracker = startRolloutTracker({ ...deps(), idleSweepMs: 600_000 });
    try {
      // The tracker keeps looking and rolls nothing back while the canary is still CANCELLING.
      await waitUntil(
        () => sim.deploy.callsTo('GetRollout').filter((c) => c.request.name === canary).length >= 4,
        'the tracker to look again',
      );
      expect(rollbacksCreated()).toHaveLength(0);
      sim.deploy.setTimings({ cancelMs: 10 }, { reschedule: true });
      await progress.waitFor(1, (m) => m.json<RollbackProgress>().stage === 'succeeded');
    } finally {
      await tracker.close();
    }
    const record = (await store.get('rb-case-1'))!;
    expect(record).toMatchObject({ status: 'succeeded', releaseId: 'rel-002' });
    expect(record.audit.map((a) => a.stage)).toEqual(['accepted', 'accepted', 'cancelling', 'cancelled', 'started', 'succeeded']);
    // The preflight ran once, before the cancel; the rollback was created once, after it.
    expect(sim.deploy.callsTo('RollbackTarget').map((c) => c.request.validateOnly)).toEqual([true, false]);
    expect(sim.deploy.callsTo('CancelRollout')).toHaveLength(1);
  });

  it('the cancelled canary\u2019s notification lets the rollback go ahead at once, not at the tracker\u2019s next look', async () => {
    await start({ notifications: { projectId: env.projectId, pubsub: env.pubsub } });
    const canary = await ship('rel-003', 'production');
    await waitUntil(() => sim.deploy.getRollout(canary)?.phases?.[0]?.state === 'SUCCEEDED', 'canary-25 to finish');
    const pollIntervalMs = 60_000;
    const service = await startExecutorService({
      pubsub: env.pubsub,
      db: env.db,
      deployClient: client,
      logger: env.logger,
      pollIntervalMs,
      maxPollIntervalMs: pollIntervalMs,
      retry: { retries: 2, minTimeout: 10, maxTimeout: 50 },
      tracker: { idleSweepMs: pollIntervalMs },
    });
    try {
      await publisher.publishEvent(Topics.commands, command(env.projectId), 'api-backend');
      await progress.waitFor(1, (m) => m.json<RollbackProgress>().stage === 'succeeded', 30_000);
    } finally {
      await service.close();
    }
    const record = (await store.get('rb-case-1'))!;
    const at = (stage: string) => Date.parse(record.audit.find((a) => a.stage === stage)!.at);
    expect(record.audit.map((a) => a.stage)).toEqual(['accepted', 'accepted', 'cancelling', 'cancelled', 'started', 'succeeded']);
    // The first look was scheduled a poll interval after the cancel; the Cancelled and Succeed notifications came first.
    expect(at('succeeded')).toBeLessThan(at('cancelling') + pollIntervalMs);
  });

  it('a release whose verify failed after its deploy succeeded is serving, so it is the one left', async () => {
    await start({
      seed: history(env.projectId, (h) => {
        h.rollout('rel-003', 'staging', 'SUCCEEDED', 14);
        h.rollout('rel-003', 'production', 'FAILED', 10, { phaseId: 'stable', failedJob: 'verify', failureReason: 'verify failed' });
      }),
    });
    const record = await rollBack(command(env.projectId));
    expect(record).toMatchObject({ status: 'succeeded', releaseId: 'rel-002', leaving: { releaseId: 'rel-003', state: 'FAILED' } });
    expect(sim.deploy.callsTo('CancelRollout')).toHaveLength(0);
  });

  it('on a target that requires approval, a rel-004 pending approval is not serving: rel-003 is left for rel-002', async () => {
    let rel004 = '';
    await start({
      seed: history(
        env.projectId,
        (h) => {
          h.rollout('rel-003', 'production', 'SUCCEEDED', 10);
          rel004 = h.rollout('rel-004', 'production', 'PENDING_APPROVAL', 5).name;
        },
        { approval: true },
      ),
    });
    // Someone approves Burnback's rollback (it needs approval like any rollout on this target).
    sim.deploy.onRolloutChange((r) => {
      if (r.state === 'PENDING_APPROVAL' && r.name.includes('/rollouts/burnback-rb-'))
        void client.approveRollout({ name: r.name, approved: true }).catch(() => undefined);
    });
    const record = await rollBack(command(env.projectId));
    expect(record).toMatchObject({ status: 'succeeded', releaseId: 'rel-002', leaving: { releaseId: 'rel-003' } });
    // rollout_to_roll_back is the target's latest rollout, as Cloud Deploy requires, even though it never served.
    expect(rollbacksCreated()[0]!.request).toMatchObject({ releaseId: 'rel-002', rolloutToRollBack: rel004 });
    expect(sim.deploy.getRollout(rel004)?.state).toBe('PENDING_APPROVAL');
  });

  it('an abandoned middle release is passed over', async () => {
    await start({
      seed: history(env.projectId, (h) => {
        h.rollout('rel-003', 'production', 'SUCCEEDED', 10);
        h.seed.releases.find((r) => r.name.endsWith('/rel-002'))!.abandoned = true;
      }),
    });
    const record = await rollBack(command(env.projectId));
    expect(record).toMatchObject({ status: 'succeeded', releaseId: 'rel-001', leaving: { releaseId: 'rel-003' } });
    expect(record.audit[1]!.detail).toMatch(/passed over rel-002 \(it is abandoned\)/);
  });

  it('60 staging-only releases do not hide production\u2019s last known good release, read in pages without a call per release', async () => {
    await start({
      seed: history(env.projectId, (h) => {
        for (let i = 3; i < 63; i++) h.rollout(`rel-${String(i).padStart(3, '0')}`, 'staging', 'SUCCEEDED', 100 - i);
      }),
    });
    const record = await rollBack(command(env.projectId), { deploy: new CloudDeployPort(client, { pageSize: 25 }) });
    expect(record).toMatchObject({ status: 'succeeded', releaseId: 'rel-001', leaving: { releaseId: 'rel-002' } });
    const lists = sim.deploy.callsTo('ListRollouts');
    expect(lists.length).toBeGreaterThanOrEqual(3); // 64 rollouts, 25 a page
    expect(lists.every((c) => c.request.parent === `${pipelineName}/releases/-`)).toBe(true);
    expect(sim.deploy.callsTo('ListReleases').length).toBeGreaterThanOrEqual(3);
    expect(sim.deploy.callsTo('GetRelease')).toHaveLength(0);
  });

  it('a second rollback after an earlier one never returns to the release rolled back from', async () => {
    await start({ seed: history(env.projectId, (h) => void h.rollout('rel-003', 'production', 'SUCCEEDED', 10)) });
    // The first rollback (rel-003 → rel-002) fails in Cloud Deploy: rel-003 stays the newest release that succeeded.
    sim.deploy.failNextRollbacks('production', 'deploy job failed');
    const first = await rollBack(command(env.projectId, 'rb-first'));
    expect(first).toMatchObject({ status: 'failed', releaseId: 'rel-002' });
    // rel-004 ships and succeeds, then burns too.
    sim.deploy.setTimings({ autoAdvance: true });
    const rel004 = await ship('rel-004', 'production');
    expect((await sim.deploy.waitForRollout(rel004)).state).toBe('SUCCEEDED');

    const second = await rollBack(command(env.projectId, 'rb-second'));
    expect(second).toMatchObject({ status: 'succeeded', releaseId: 'rel-002', leaving: { releaseId: 'rel-004' } });
    expect(second.audit[1]!.detail).toMatch(/passed over rel-003 \(it was rolled back away from on production\)/);
  });

  it('a stale command (a newer rollout reached the target after the decision) is superseded, not failed', async () => {
    await start({ seed: history(env.projectId, (h) => void h.rollout('rel-003', 'production', 'SUCCEEDED', 10)) });
    const real = new CloudDeployPort(client);
    let shipped = '';
    const racing: DeployPort = {
      // Right after the executor read the history, someone ships rel-004 to production.
      readHistory: async (p) => {
        const h = await real.readHistory(p);
        if (!shipped) shipped = await ship('rel-004', 'production');
        return h;
      },
      rollbackTarget: (r) => real.rollbackTarget(r),
      getRollout: (n) => real.getRollout(n),
      cancelRollout: (n) => real.cancelRollout(n),
    };
    const record = await rollBack(command(env.projectId), { deploy: racing });
    expect(record).toMatchObject({ status: 'superseded', releaseId: 'rel-002', leaving: { releaseId: 'rel-003' } });
    expect(record.failureReason).toContain(`rollout ${shipped}`);
    // The rollout left had finished (nothing to cancel, so no validate_only preflight): the stale rollback itself was refused.
    expect(sim.deploy.callsTo('RollbackTarget').map((c) => [c.request.validateOnly, c.status])).toEqual([[false, 'FAILED_PRECONDITION']]);
    expect(burnbackRollouts()).toHaveLength(0);
    const events = await progress.waitFor(2);
    expect(events.map((m) => m.json<RollbackProgress>().stage)).toEqual(['accepted', 'superseded']);
  });

  it('after a crash between RollbackTarget and the record, a retry refused by Cloud Deploy finds the rollout with GetRollout and tracks it', async () => {
    await start();
    // The call takes effect, then the executor dies before recording it (the answer never arrives).
    sim.deploy.failNextCalls('RollbackTarget', 'DEADLINE_EXCEEDED', 1, { afterApplying: true, when: (r) => r.validateOnly !== true });
    await expect(createExecutorHandler(deps({ retry: { retries: 0 } }))(command(env.projectId))).rejects.toThrow();
    expect((await store.get('rb-case-1'))!.status).toBe('accepted');
    expect(burnbackRollouts()).toHaveLength(1);

    // The redelivery's RollbackTarget is refused: the rollout to roll back is no longer the latest (ours is).
    sim.deploy.failNextCalls('RollbackTarget', 'FAILED_PRECONDITION', 1, { message: 'rollout_to_roll_back is not the latest rollout' });
    const record = await rollBack(command(env.projectId));
    expect(record).toMatchObject({ status: 'succeeded', releaseId: 'rel-001' });
    expect(record.audit.find((a) => a.stage === 'started')!.detail).toMatch(/already exists/);
    expect(sim.deploy.callsTo('GetRollout')[0]!.request.name).toBe(burnbackRollouts()[0]!.name);
    expect(burnbackRollouts()).toHaveLength(1);
  });

  it('two executors with the same command create exactly one rollout', async () => {
    await start();
    // Each with its own tracker, as two replicas would.
    const [a, b] = await Promise.all([rollBack(command(env.projectId)), rollBack(command(env.projectId))]);
    expect(a.status).toBe('succeeded');
    expect(b.status).toBe('succeeded');
    expect(burnbackRollouts()).toHaveLength(1);
    expect((await store.get('rb-case-1'))!.releaseId).toBe('rel-001');
  });

  it('a rollback still pending approval when tracking gives up is cancelled, so it cannot deploy an old release later', async () => {
    await start({ seed: history(env.projectId, () => undefined, { approval: true }) });
    const record = await rollBack(command(env.projectId), { maxTrackingMs: 300 });
    const rollout = burnbackRollouts()[0]!;
    expect(record).toMatchObject({
      status: 'failed',
      rolloutState: 'PENDING_APPROVAL',
      failureReason: expect.stringMatching(/cancelled it, so it cannot deploy rel-001 later/),
    });
    expect(sim.deploy.callsTo('CancelRollout').map((c) => c.request.name)).toEqual([rollout.name]);
    expect((await sim.deploy.waitForRollout(rollout.name)).state).toBe('CANCELLED');
    expect(record.audit.map((a) => a.stage).slice(-3)).toEqual(['cancelling', 'cancelled', 'failed']);
  });
});

async function waitUntil(ok: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
