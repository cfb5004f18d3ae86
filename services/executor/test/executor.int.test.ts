import type { CloudDeployClient } from '@google-cloud/deploy';
import {
  Collections,
  DeadLetterAttributes,
  EventTypes,
  isFinalStage,
  rolloutIdFor,
  Topics,
  TransientError,
  type CloudEvent,
  type RollbackCommand,
  type RollbackProgress,
} from '@burnback/contracts';
import { defaultDeploySeed, startGcpSim, type GcpSim } from '@burnback/gcp-sim';
import { createDeployClient, PubSubPublisher } from '@burnback/platform';
import { capturedLogger, createTestEnvironment, tapTopic, waitFor, type TestEnvironment, type TopicTap } from '@burnback/testkit';
import {
  CloudDeployPort,
  createExecutorHandler,
  RollbackStore,
  startExecutorService,
  startRolloutTracker,
  type DeployPort,
  type RolloutTracker,
  type RolloutTrackerDeps,
} from '../src/index.js';

const command = (projectId: string, rollbackId = 'rb-test-1'): CloudEvent<typeof EventTypes.rollbackCommand> => ({
  id: rollbackId,
  type: EventTypes.rollbackCommand,
  source: '//test',
  subject: `services/api-backend/rollbacks/${rollbackId}`,
  time: '2026-11-26T10:05:00.000Z',
  data: {
    rollbackId,
    decisionId: 'dec-test-1',
    incidentId: '0.abc',
    service: 'api-backend',
    project: projectId,
    region: 'us-central1',
    pipeline: 'api-backend-pipeline',
    target: 'production',
    rolloutId: rolloutIdFor(rollbackId),
    releaseId: null,
    reason: 'test',
    requestedAt: '2026-11-26T10:05:00.000Z',
  } satisfies RollbackCommand,
});

describe('the executor on the emulators and gcp-sim', () => {
  let env: TestEnvironment;
  let sim: GcpSim;
  let client: CloudDeployClient;
  let publisher: PubSubPublisher;
  let progress: TopicTap;
  let store: RollbackStore;
  let trackers: RolloutTracker[];

  /** RollbackTarget calls that created a rollout (not the validate_only preflight, not one Cloud Deploy refused). */
  const rollbacksCreated = () => sim.deploy.callsTo('RollbackTarget').filter((c) => !c.request.validateOnly && c.status === 'OK');

  const start = async (seed?: Parameters<typeof startGcpSim>[0]) => {
    sim = await startGcpSim({ projectId: env.projectId, rolloutStepMs: 30, ...seed });
    client = createDeployClient({ projectId: env.projectId, cloudDeployEndpoint: sim.address });
    return createExecutorHandler({
      store,
      deploy: new CloudDeployPort(client),
      publisher,
      logger: env.logger,
      pollIntervalMs: 20,
      retry: { retries: 2, minTimeout: 10, maxTimeout: 50 },
      // As the service wires them: a rollback left to tracking wakes the trackers.
      onTracked: () => trackers.forEach((t) => t.wake()),
    });
  };
  /** A rollout tracker on this test's project (closed after the test), as the service runs one. */
  const track = (over: Partial<RolloutTrackerDeps> = {}) => {
    const tracker = startRolloutTracker({
      store,
      deploy: new CloudDeployPort(client),
      publisher,
      logger: env.logger,
      pollIntervalMs: 20,
      retry: { retries: 2, minTimeout: 10, maxTimeout: 50 },
      // Never in a test: the tracker must follow its own schedule; the idle sweep is for work other replicas schedule.
      idleSweepMs: 600_000,
      ...over,
    });
    trackers.push(tracker);
    return tracker;
  };
  /** The record once the rollback is final and the tracker has let go of it (its outcome published). */
  const settled = (rollbackId: string) =>
    waitFor(
      async () => {
        const record = await store.get(rollbackId);
        return record && isFinalStage(record.status) && record.tracking === null ? record : undefined;
      },
      { what: `rollback ${rollbackId} to end`, timeoutMs: 30_000 },
    );

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'executor');
    publisher = new PubSubPublisher(env.pubsub);
    progress = await tapTopic(env.pubsub, Topics.progress);
    store = new RollbackStore(env.db);
    trackers = [];
  });
  afterEach(async () => {
    await Promise.all(trackers.map((t) => t.close()));
    await progress.close();
    await publisher.close();
    await client.close();
    await sim.stop();
    await env.close();
  });

  it('a command is done once its rollout exists: the handler returns while the rollout runs, and the tracker reports the outcome', async () => {
    const handle = await start({ rolloutStepMs: 200 });
    const outcome = await handle(command(env.projectId));
    expect(outcome.kind).toBe('tracking');
    expect(outcome.record).toMatchObject({ status: 'started', tracking: { lease: null, reportDue: false } });
    // Cloud Deploy has not finished it: the delivery did not wait for the rollout.
    expect(['PENDING', 'IN_PROGRESS']).toContain(sim.deploy.getRollout(outcome.record.rolloutName!)!.state);

    track();
    const record = await settled('rb-test-1');
    expect(record).toMatchObject({ status: 'succeeded', rolloutState: 'SUCCEEDED', tracking: null });
    expect(record.audit.map((e) => e.stage)).toEqual(['accepted', 'accepted', 'started', 'succeeded']);
    const events = await progress.waitFor(3);
    expect(events.map((m) => m.json<RollbackProgress>().stage)).toEqual(['accepted', 'started', 'succeeded']);
    expect(rollbacksCreated()).toHaveLength(1);
    // The rollout left had finished, so nothing was to be cancelled: no validate_only preflight before the rollback.
    expect(sim.deploy.callsTo('RollbackTarget').map((c) => c.request.validateOnly)).toEqual([false]);
  });

  it('a command redelivered after the rollback finished does nothing but publish its outcome again, under the same id', async () => {
    const handle = await start();
    track();
    expect((await handle(command(env.projectId))).kind).toBe('tracking');
    await settled('rb-test-1');
    const again = await handle(command(env.projectId));
    expect(again.kind).toBe('duplicate');
    expect(rollbacksCreated()).toHaveLength(1);
    const succeeded = await progress.waitFor(2, (m) => m.json<RollbackProgress>().stage === 'succeeded');
    expect(new Set(succeeded.map((m) => m.attributes['ce-id']))).toEqual(new Set(['rb-test-1.succeeded']));
  });

  it('a command redelivered while its rollout is tracked re-publishes its stage and leaves the rollout to the tracker', async () => {
    const handle = await start({ rolloutStepMs: 200 });
    await handle(command(env.projectId));
    const again = await handle(command(env.projectId));
    expect(again.kind).toBe('tracking');
    expect(again.record.audit.at(-1)).toMatchObject({ stage: 'resumed', detail: 'redelivered in status started; the tracker follows it' });
    track();
    const record = await settled('rb-test-1');
    expect(record.audit.map((e) => e.stage)).toEqual(['accepted', 'accepted', 'started', 'resumed', 'succeeded']);
    expect(rollbacksCreated()).toHaveLength(1);
    // The repeated 'started' carries the same event id: consumers drop it.
    const events = await progress.waitFor(4);
    expect(events.map((m) => m.json<RollbackProgress>().stage)).toEqual(['accepted', 'started', 'started', 'succeeded']);
    expect(new Set(events.map((m) => m.attributes['ce-id'])).size).toBe(3);
  });

  it('a tracker that loses Cloud Deploy keeps the rollback scheduled, and a later look finishes it without a second RollbackTarget', async () => {
    const handle = await start();
    const real = new CloudDeployPort(client);
    let lost = 0;
    const broken: DeployPort = {
      rollbackTarget: (r) => real.rollbackTarget(r),
      readHistory: (p) => real.readHistory(p),
      cancelRollout: (n) => real.cancelRollout(n),
      getRollout: async () => {
        lost++;
        throw new TransientError('connection reset');
      },
    };
    await handle(command(env.projectId));
    const flaky = track({ deploy: broken, retry: { retries: 0 } });
    await waitFor(() => lost >= 2, { what: 'two failed checks' });
    await flaky.close();
    // Still started and scheduled, looked at less often, and held by nobody.
    const between = (await store.get('rb-test-1'))!;
    expect(between).toMatchObject({ status: 'started', tracking: { lease: null } });
    expect(between.tracking!.unchangedChecks).toBeGreaterThanOrEqual(1);

    track();
    const record = await settled('rb-test-1');
    expect(record.status).toBe('succeeded');
    expect(record.audit.map((e) => e.stage)).toEqual(['accepted', 'accepted', 'started', 'succeeded']);
    expect(rollbacksCreated()).toHaveLength(1);
  });

  it('a tracker that died holding its lease is taken over once the lease ends, and the outcome is reported once', async () => {
    const handle = await start();
    await handle(command(env.projectId));
    // A replica claims the rollback, then dies: it never checks and never lets go.
    const dueAt = Date.parse((await store.get('rb-test-1'))!.tracking!.dueAt);
    const dead = (await store.claim('rb-test-1', 'dead-replica', new Date(Math.max(Date.now(), dueAt)), 400))!;
    expect(dead).not.toBeNull();
    track();
    const record = await settled('rb-test-1');
    expect(record.status).toBe('succeeded');
    const resumed = record.audit.find((a) => a.stage === 'resumed')!;
    expect(resumed.detail).toMatch(/took over in status started: dead-replica did not finish its check/);
    // Nobody touched it before the dead replica's lease ended.
    expect(Date.parse(resumed.at)).toBeGreaterThanOrEqual(Date.parse(dead.record.tracking!.dueAt));
    // Were the dead replica to wake up, it could no longer write.
    expect(await store.updateLeased('rb-test-1', dead.leaseId, { tracking: null }, null, new Date())).toBeNull();
    expect(await progress.waitFor(1, (m) => m.json<RollbackProgress>().stage === 'succeeded')).toHaveLength(1);
    expect(rollbacksCreated()).toHaveLength(1);
  });

  it('a terminal progress event whose publish failed stays owed, and the tracker\u2019s next look publishes it once', async () => {
    const handle = await start();
    let dropped = 0;
    let dropSucceeded = true;
    const lossy: typeof publisher = Object.assign(Object.create(publisher) as PubSubPublisher, {
      publishEvent: async (...args: Parameters<PubSubPublisher['publishEvent']>) => {
        if (dropSucceeded && args[1].type === EventTypes.rollbackProgress && (args[1].data as RollbackProgress).stage === 'succeeded') {
          dropped++;
          throw new TransientError('Pub/Sub unavailable');
        }
        return publisher.publishEvent(...args);
      },
    });
    await handle(command(env.projectId));
    track({ publisher: lossy });
    await waitFor(() => dropped >= 1, { what: 'the succeeded publish to fail' });
    // Succeeded in Firestore, still owed to burnback-progress: the tracker has not let go.
    expect((await store.get('rb-test-1'))!).toMatchObject({ status: 'succeeded', tracking: { reportDue: true } });
    dropSucceeded = false;
    await settled('rb-test-1');
    const events = await progress.waitFor(3);
    expect(events.map((m) => m.json<RollbackProgress>().stage)).toEqual(['accepted', 'started', 'succeeded']);
    expect(rollbacksCreated()).toHaveLength(1);
  });

  it('a tracked record that no longer fits its schema is logged and put off, and the tracker keeps going', async () => {
    const handle = await start();
    const { logger, lines } = capturedLogger('executor');
    // Written by an older release: a status this one does not know, due for tracking.
    const legacy = { rollbackId: 'rb-legacy', status: 'exploded', tracking: { dueAt: new Date(Date.now() - 1000).toISOString() } };
    await env.db.collection(Collections.rollbacks).doc('rb-legacy').set(legacy);
    track({ logger });
    // Positive control: the same tracker carries a good rollback to its end.
    await handle(command(env.projectId));
    expect((await settled('rb-test-1')).status).toBe('succeeded');

    const stored = (await env.db.collection(Collections.rollbacks).doc('rb-legacy').get()).data()!;
    expect(stored).toMatchObject({ rollbackId: 'rb-legacy', status: 'exploded' });
    expect(Date.parse((stored.tracking as { dueAt: string }).dueAt)).toBeGreaterThan(Date.parse(legacy.tracking.dueAt));
    expect(lines).toContainEqual(
      expect.objectContaining({
        severity: 'ERROR',
        event: 'tracking_unreadable',
        message: expect.stringMatching(
          /^rollbacks\/rb-legacy cannot be tracked: rollbacks\/rb-legacy does not fit the RollbackRecord schema/,
        ),
      }),
    );
  });

  it('a delivery whose view went stale (another delivery started the rollout) does not fail it on a refusal', async () => {
    await start();
    const real = new CloudDeployPort(client);
    const racing: DeployPort = {
      readHistory: (p) => real.readHistory(p),
      cancelRollout: (n) => real.cancelRollout(n),
      getRollout: (n) => real.getRollout(n),
      // Meanwhile a concurrent delivery started the rollout; Cloud Deploy now refuses this one.
      rollbackTarget: async (r) => {
        await store.update(
          'rb-test-1',
          { status: 'started', rolloutName: `${r.pipelineName}/releases/${r.releaseId}/rollouts/${r.rolloutId}` },
          { stage: 'started', detail: 'by the other delivery' },
          new Date(),
        );
        throw Object.assign(new Error('a rollout is already in progress on the target'), { code: 9 });
      },
    };
    const handle = createExecutorHandler({
      store,
      deploy: racing,
      publisher,
      logger: env.logger,
      pollIntervalMs: 20,
      retry: { retries: 0 },
    });
    await expect(handle(command(env.projectId))).rejects.toThrow(/moved to started meanwhile/);
    expect((await store.get('rb-test-1'))!.status).toBe('started');
  });

  it('a rollout that never finishes is reported failed after the maximum tracking time, not tracked forever', async () => {
    const handle = await start({ rolloutStepMs: 60_000 });
    await handle(command(env.projectId));
    track({ maxTrackingMs: 300 });
    expect(await settled('rb-test-1')).toMatchObject({
      status: 'failed',
      rolloutState: 'PENDING',
      failureReason: expect.stringMatching(/stopped tracking it/),
    });
  });

  it('the rollback record never goes backwards: the chosen release is kept and a final status stays final', async () => {
    await start();
    const cmd = command(env.projectId).data;
    await store.begin(cmd, new Date());
    await store.update(cmd.rollbackId, { releaseId: 'rel-001' }, { stage: 'accepted', detail: 'first choice' }, new Date());
    const second = await store.update(
      cmd.rollbackId,
      { releaseId: 'rel-002', status: 'started' },
      { stage: 'started', detail: 'late choice' },
      new Date(),
    );
    expect(second).toMatchObject({ releaseId: 'rel-001', status: 'started' });
    const back = await store.update(cmd.rollbackId, { status: 'accepted' }, { stage: 'accepted', detail: 'regression' }, new Date());
    expect(back.status).toBe('started');
    const done = await store.update(cmd.rollbackId, { status: 'succeeded' }, { stage: 'succeeded', detail: 'done' }, new Date());
    const after = await store.update(
      cmd.rollbackId,
      { status: 'failed', failureReason: 'late failure' },
      { stage: 'failed', detail: 'late' },
      new Date(),
    );
    expect(after).toEqual(done);
  });

  it('a target with no earlier good release fails with that reason instead of guessing', async () => {
    // Only the current release ever reached production.
    const seed = defaultDeploySeed(env.projectId, 'us-central1');
    seed.rollouts = seed.rollouts.filter((r) => !(r.targetId === 'production' && r.name.includes('/releases/rel-001/')));
    expect(seed.rollouts.some((r) => r.targetId === 'production')).toBe(true);
    const handle = await start({ seed });
    const outcome = await handle(command(env.projectId));
    expect(outcome.record).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/no last known good release/) });
    expect(rollbacksCreated()).toHaveLength(0);
    const events = (await progress.waitFor(2)).map((m) => m.json<RollbackProgress>().stage);
    expect(events).toEqual(['accepted', 'failed']);
  });

  it('a refusal from Cloud Deploy (not retryable) is recorded as failed with the gRPC reason', async () => {
    const handle = await start();
    sim.deploy.failNextCalls('RollbackTarget', 9 /* FAILED_PRECONDITION */, 1, { message: 'target is suspended' });
    const outcome = await handle(command(env.projectId));
    expect(outcome.record).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/gRPC 9.*target is suspended/) });
    // Nothing to cancel (the rollout left had finished), so no preflight: the rollback itself was refused, nothing was
    // created, and nothing newer made the command stale.
    expect(sim.deploy.callsTo('RollbackTarget')).toHaveLength(1);
    expect(rollbacksCreated()).toHaveLength(0);
  });

  /** The executor as it runs in production: consuming burnback-commands, on this test's project. */
  const startService = (onFatal: (err: Error) => void = () => undefined) =>
    startExecutorService({
      pubsub: env.pubsub,
      db: env.db,
      deployClient: client,
      logger: env.logger,
      onFatal,
      pollIntervalMs: 50,
      retry: { retries: 2, minTimeout: 10, maxTimeout: 50 },
      tracker: { idleSweepMs: 600_000 },
    });
  const stagesOf = (rollbackId: string) =>
    progress.messages
      .map((m) => m.json<RollbackProgress>())
      .filter((p) => p.rollbackId === rollbackId)
      .map((p) => p.stage);

  it('an executor stopped while it tracks a rollout does not wait for it, and a new instance reports the outcome once', async () => {
    // Each rollout step lasts 2 s: the rollback is still running when the first executor stops.
    await start({ rolloutStepMs: 2_000 });
    const first = await startService();
    await publisher.publishEvent(Topics.commands, command(env.projectId, 'rb-shutdown'), 'api-backend');
    await waitFor(async () => (await store.get('rb-shutdown'))?.status === 'started', { what: 'the rollback to start' });

    await first.close();
    // close() did not sit out the rollout: it is still running in Cloud Deploy, scheduled, and held by nobody.
    const atShutdown = (await store.get('rb-shutdown'))!;
    expect(atShutdown).toMatchObject({ status: 'started', tracking: { lease: null } });
    expect(['PENDING', 'IN_PROGRESS']).toContain(sim.deploy.getRollout(atShutdown.rolloutName!)!.state);

    const second = await startService();
    try {
      await progress.waitFor(1, (m) => m.json<RollbackProgress>().stage === 'succeeded', 30_000);
      const record = await settled('rb-shutdown');
      expect(record).toMatchObject({ status: 'succeeded', rolloutState: 'SUCCEEDED', rolloutName: atShutdown.rolloutName });
      expect(record.audit.map((a) => a.stage)).toEqual(['accepted', 'accepted', 'started', 'succeeded']);
      expect(rollbacksCreated()).toHaveLength(1);
      expect(stagesOf('rb-shutdown')).toEqual(['accepted', 'started', 'succeeded']);
    } finally {
      await second.close();
    }
  });

  it('a rollout whose end Cloud Deploy announces is reported at once, before its next scheduled look', async () => {
    await start({ notifications: { projectId: env.projectId, pubsub: env.pubsub } });
    // Left to itself, the tracker would look a minute after the rollback started, and then not for another minute.
    const service = await startExecutorService({
      pubsub: env.pubsub,
      db: env.db,
      deployClient: client,
      logger: env.logger,
      pollIntervalMs: 60_000,
      maxPollIntervalMs: 60_000,
      retry: { retries: 2, minTimeout: 10, maxTimeout: 50 },
      tracker: { idleSweepMs: 60_000 },
    });
    try {
      await publisher.publishEvent(Topics.commands, command(env.projectId, 'rb-announced'), 'api-backend');
      const started = await waitFor(async () => {
        const record = await store.get('rb-announced');
        return record?.status === 'started' ? record : undefined;
      });
      const firstLook = Date.parse(started.audit.find((a) => a.stage === 'started')!.at) + 60_000;
      const record = await settled('rb-announced');
      expect(record.status).toBe('succeeded');
      // Cloud Deploy's Succeed notification brought the look forward: the outcome came before the first scheduled look.
      expect(Date.parse(record.audit.find((a) => a.stage === 'succeeded')!.at)).toBeLessThan(firstLook);
      // Published before the tracker let go of it; the tap receives it a moment later.
      await progress.waitFor(
        1,
        (m) => m.json<RollbackProgress>().rollbackId === 'rb-announced' && m.json<RollbackProgress>().stage === 'succeeded',
      );
      expect(stagesOf('rb-announced')).toEqual(['accepted', 'started', 'succeeded']);
    } finally {
      await service.close();
    }
  });

  it('a stored rollback record that no longer fits its schema dead-letters the command with the reason, and the executor keeps going', async () => {
    await start();
    const deadLetters = await tapTopic(env.pubsub, Topics.deadLetter);
    const fatal: Error[] = [];
    const service = await startService((err) => fatal.push(err));
    try {
      // Written by an older release: a status this one does not know.
      await env.db.collection(Collections.rollbacks).doc('rb-legacy').set({ rollbackId: 'rb-legacy', status: 'exploded' });
      await publisher.publishEvent(Topics.commands, command(env.projectId, 'rb-legacy'), 'api-backend');
      const [dead] = await deadLetters.waitFor(1, undefined, 30_000);
      expect(dead!.attributes['ce-id']).toBe('rb-legacy');
      expect(dead!.attributes[DeadLetterAttributes.source]).toBe('burnback-executor');
      expect(dead!.attributes[DeadLetterAttributes.reason]).toMatch(
        /^rollbacks\/rb-legacy does not fit the RollbackRecord schema: .*status/s,
      );
      expect(dead!.attributes['CloudPubSubDeadLetterSourceDeliveryCount']).toBeUndefined();
      // The stored document is left as it was, for a human to look at.
      expect((await env.db.collection(Collections.rollbacks).doc('rb-legacy').get()).data()).toEqual({
        rollbackId: 'rb-legacy',
        status: 'exploded',
      });

      // Still consuming: the next command on the same key is carried out.
      await publisher.publishEvent(Topics.commands, command(env.projectId, 'rb-next'), 'api-backend');
      await progress.waitFor(
        1,
        (m) => m.json<RollbackProgress>().rollbackId === 'rb-next' && m.json<RollbackProgress>().stage === 'succeeded',
      );
      expect(stagesOf('rb-legacy')).toEqual([]);
      expect(fatal).toEqual([]);
    } finally {
      await service.close();
      await deadLetters.close();
    }
  });

  it('Cloud Deploy denying a permission (an IAM grant still propagating) is waited out, said once, and the rollback goes ahead', async () => {
    const handle = await start();
    sim.deploy.failNextCalls('ListRollouts', 'PERMISSION_DENIED', 3, {
      message:
        "Permission 'clouddeploy.rollouts.list' denied on resource projects/p/locations/us-central1/deliveryPipelines/api-backend-pipeline",
    });
    const outcome = await handle(command(env.projectId));
    // Not failed: left to the tracker's schedule, still accepted.
    expect(outcome).toMatchObject({ kind: 'tracking', record: { status: 'accepted', tracking: { lease: null } } });
    expect(outcome.record.audit.at(-1)).toMatchObject({
      stage: 'waiting',
      detail: expect.stringMatching(
        /^Cloud Deploy denied clouddeploy\.rollouts\.list \(gRPC 7 PERMISSION_DENIED\): .*; trying again until /,
      ),
    });
    track();
    const record = await settled('rb-test-1');
    expect(record.status).toBe('succeeded');
    expect(record.audit.filter((a) => a.stage === 'waiting')).toHaveLength(1);
    expect(rollbacksCreated()).toHaveLength(1);
  });

  it('a permission still denied after the wait fails the rollback for good, naming the permission the executor lacks', async () => {
    sim = await startGcpSim({ projectId: env.projectId, rolloutStepMs: 30 });
    client = createDeployClient({ projectId: env.projectId, cloudDeployEndpoint: sim.address });
    const handle = createExecutorHandler({
      store,
      deploy: new CloudDeployPort(client),
      publisher,
      logger: env.logger,
      retry: { retries: 2, minTimeout: 10, maxTimeout: 50 },
      permissionWaitMs: 0,
    });
    sim.deploy.failNextCalls('RollbackTarget', 'UNAUTHENTICATED', 10, { message: 'Request had invalid authentication credentials.' });
    const outcome = await handle(command(env.projectId));
    expect(outcome.kind).toBe('finished');
    expect(outcome.record.status).toBe('failed');
    expect(outcome.record.failureReason).toMatch(
      /^Cloud Deploy denied clouddeploy\.rollouts\.rollback \(gRPC 16 UNAUTHENTICATED\): .*still denied 0 min after the rollback was ordered: grant the executor's service account clouddeploy\.rollouts\.rollback/,
    );
    expect(rollbacksCreated()).toHaveLength(0);
  });

  it('a shutdown during the history read leaves the rollback to its redelivery, never failed as a refusal', async () => {
    sim = await startGcpSim({ projectId: env.projectId, rolloutStepMs: 30 });
    client = createDeployClient({ projectId: env.projectId, cloudDeployEndpoint: sim.address });
    const shutdown = new AbortController();
    const stopping = createExecutorHandler({
      store,
      deploy: new CloudDeployPort(client),
      publisher,
      logger: env.logger,
      retry: { retries: 2, minTimeout: 10, maxTimeout: 50 },
      signal: shutdown.signal,
    });
    sim.deploy.delayNextCalls('ListRollouts', 3_000, 1);
    const pending = stopping(command(env.projectId));
    // The record is created (accepted) right before the history is read, which Cloud Deploy answers 3 s late.
    await waitFor(async () => ((await store.get('rb-test-1')) ? true : undefined), { what: 'the rollback to be accepted' });
    shutdown.abort();
    await expect(pending).rejects.toMatchObject({ name: 'TransientError', message: expect.stringContaining('stopped by the executor') });
    expect(await store.get('rb-test-1')).toMatchObject({ status: 'accepted', failureReason: null });
    // The stopped executor's Cloud Deploy goes away with it (start() below opens a fresh pair that afterEach closes).
    await client.close();
    await sim.stop();
    // The command comes again to an executor that is not stopping: carried out.
    const handle = await start();
    track();
    await handle(command(env.projectId));
    expect((await settled('rb-test-1')).status).toBe('succeeded');
  });

  it("the executor refuses to leave what Burnback's own successful rollback returned to, unless a human asks", async () => {
    const handle = await start();
    track();
    await handle(command(env.projectId, 'rb-first'));
    await settled('rb-first');
    // A second command for the same target, from a decider that never learnt of the first rollback.
    const outcome = await handle(command(env.projectId, 'rb-second'));
    expect(outcome.record).toMatchObject({ status: 'failed' });
    expect(outcome.record.failureReason).toMatch(/serves rel-001 through Burnback's own rollback .*ping-pong; a human must decide/);
    // A human's request may leave it: it gets past that refusal to the release choice (here nothing is left to return to,
    // rel-002 having been rolled back away from).
    const manual = command(env.projectId, 'rb-manual');
    manual.data.manual = { force: false, requestedBy: 'carol' };
    const asked = await handle(manual);
    expect(asked.record.failureReason).toMatch(
      /^no last known good release on production: .*passed over rel-002 \(it was rolled back away from on production\)/,
    );
    expect(rollbacksCreated()).toHaveLength(1);
  });
});
