import type { CloudDeployClient } from '@google-cloud/deploy';
import {
  Collections,
  DeadLetterAttributes,
  EventTypes,
  rolloutIdFor,
  Topics,
  TransientError,
  type CloudEvent,
  type RollbackCommand,
  type RollbackProgress,
} from '@burnback/contracts';
import { defaultDeploySeed, startGcpSim, type GcpSim } from '@burnback/gcp-sim';
import { createDeployClient, PubSubPublisher } from '@burnback/platform';
import { createTestEnvironment, tapTopic, waitFor, type TestEnvironment, type TopicTap } from '@burnback/testkit';
import { CloudDeployPort, createExecutorHandler, RollbackStore, startExecutorService, type DeployPort } from '../src/index.js';

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

  /** RollbackTarget calls that create a rollout (not the validate_only preflight). */
  const rollbacksCreated = () => sim.deploy.callsTo('RollbackTarget').filter((c) => !c.request.validateOnly);

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
    });
  };

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'executor');
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

  it('a command redelivered after the rollback finished does nothing', async () => {
    const handle = await start();
    expect((await handle(command(env.projectId))).record.status).toBe('succeeded');
    const again = await handle(command(env.projectId));
    expect(again.kind).toBe('duplicate');
    expect(rollbacksCreated()).toHaveLength(1);
  });

  it('a delivery that lost Cloud Deploy while tracking is resumed by the redelivery, without a second RollbackTarget', async () => {
    await start();
    const real = new CloudDeployPort(client);
    // The first delivery loses Cloud Deploy right after RollbackTarget, as a crash mid-rollout would.
    const broken: DeployPort = {
      rollbackTarget: (r) => real.rollbackTarget(r),
      readHistory: (p) => real.readHistory(p),
      cancelRollout: (n) => real.cancelRollout(n),
      getRollout: async () => {
        throw new TransientError('connection reset');
      },
    };
    const deps = { store, publisher, logger: env.logger, pollIntervalMs: 20, retry: { retries: 0 } };
    await expect(createExecutorHandler({ ...deps, deploy: broken })(command(env.projectId))).rejects.toThrow(/connection reset/);
    expect((await store.get('rb-test-1'))!.status).toBe('started');

    const outcome = await createExecutorHandler({ ...deps, deploy: real })(command(env.projectId));
    expect(outcome.record.status).toBe('succeeded');
    expect(rollbacksCreated()).toHaveLength(1);
    expect(outcome.record.audit.map((e) => e.stage)).toEqual(['accepted', 'accepted', 'started', 'resumed', 'succeeded']);
    // The redelivery re-publishes 'started' under the same event id: consumers drop the repeat.
    const events = await progress.waitFor(4);
    expect(events.map((m) => m.json<RollbackProgress>().stage)).toEqual(['accepted', 'started', 'started', 'succeeded']);
    expect(new Set(events.map((m) => m.attributes['ce-id'])).size).toBe(3);
  });

  it('a terminal progress event whose publish was lost is sent by the redelivered command', async () => {
    await start();
    const deploy = new CloudDeployPort(client);
    let dropSucceeded = true;
    const lossy: typeof publisher = Object.assign(Object.create(publisher) as PubSubPublisher, {
      publishEvent: async (...args: Parameters<PubSubPublisher['publishEvent']>) => {
        if (dropSucceeded && args[1].type === EventTypes.rollbackProgress && (args[1].data as RollbackProgress).stage === 'succeeded') {
          throw new TransientError('Pub/Sub unavailable');
        }
        return publisher.publishEvent(...args);
      },
    });
    const deps = { store, deploy, logger: env.logger, pollIntervalMs: 20, retry: { retries: 0 } };
    await expect(createExecutorHandler({ ...deps, publisher: lossy })(command(env.projectId))).rejects.toThrow(/Pub\/Sub unavailable/);
    expect((await store.get('rb-test-1'))!.status).toBe('succeeded');
    dropSucceeded = false;
    expect((await createExecutorHandler({ ...deps, publisher })(command(env.projectId))).kind).toBe('duplicate');
    const events = await progress.waitFor(3);
    expect(events.map((m) => m.json<RollbackProgress>().stage)).toEqual(['accepted', 'started', 'succeeded']);
    expect(rollbacksCreated()).toHaveLength(1);
  });

  it('a rollout still running after the tracking window is handed back to the queue, not nacked toward the dead-letter topic', async () => {
    await start({ rolloutStepMs: 400 });
    const commands = await tapTopic(env.pubsub, Topics.commands);
    try {
      const deps = { store, deploy: new CloudDeployPort(client), publisher, logger: env.logger, pollIntervalMs: 20, trackTimeoutMs: 100 };
      const first = await createExecutorHandler(deps)(command(env.projectId));
      expect(first.kind).toBe('handed-off');
      // A second hand-off of the same, unchanged rollout adds nothing to the audit trail.
      expect((await createExecutorHandler(deps)(command(env.projectId))).kind).toBe('handed-off');
      const [requeued] = await commands.waitFor(2);
      expect(requeued!.orderingKey).toBe('api-backend');
      expect(requeued!.json<RollbackCommand>().rollbackId).toBe('rb-test-1');

      const second = await createExecutorHandler({ ...deps, trackTimeoutMs: 10_000 })(command(env.projectId));
      expect(second.kind).toBe('finished');
      expect(second.record.status).toBe('succeeded');
      expect(second.record.audit.filter((a) => /handed back to the queue/.test(a.detail))).toHaveLength(1);
      expect(second.record.audit.map((a) => a.stage)).toEqual(['accepted', 'accepted', 'started', 'resumed', 'succeeded']);
      expect(rollbacksCreated()).toHaveLength(1);
    } finally {
      await commands.close();
    }
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
    await start({ rolloutStepMs: 60_000 });
    const handle = createExecutorHandler({
      store,
      deploy: new CloudDeployPort(client),
      publisher,
      logger: env.logger,
      pollIntervalMs: 20,
      maxTrackingMs: 300,
    });
    const outcome = await handle(command(env.projectId));
    expect(outcome.record).toMatchObject({
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
    // The validate_only preflight was refused: nothing was created, and nothing newer made the command stale.
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
    });
  const stagesOf = (rollbackId: string) =>
    progress.messages
      .map((m) => m.json<RollbackProgress>())
      .filter((p) => p.rollbackId === rollbackId)
      .map((p) => p.stage);

  it('an executor shut down while tracking a rollout hands the command back, and a new instance finishes it', async () => {
    // Each rollout state lasts 2 s: PENDING, IN_PROGRESS, then SUCCEEDED.
    await start({ rolloutStepMs: 2_000 });
    const first = await startService();
    await publisher.publishEvent(Topics.commands, command(env.projectId, 'rb-shutdown'), 'api-backend');
    await waitFor(async () => (await store.get('rb-shutdown'))?.status === 'started' && sim.deploy.callsTo('GetRollout').length > 0, {
      what: 'the first executor to be tracking the rollout',
    });

    await first.close();
    // close() did not sit out the rollout: it stopped tracking, and the rollout is still running in Cloud Deploy.
    const atShutdown = (await store.get('rb-shutdown'))!;
    expect(atShutdown.status).toBe('started');
    expect(['PENDING', 'IN_PROGRESS']).toContain(sim.deploy.getRollout(atShutdown.rolloutName!)!.state);

    const second = await startService();
    try {
      await progress.waitFor(1, (m) => m.json<RollbackProgress>().stage === 'succeeded', 30_000);
      const record = (await store.get('rb-shutdown'))!;
      expect(record).toMatchObject({ status: 'succeeded', rolloutState: 'SUCCEEDED', rolloutName: atShutdown.rolloutName });
      expect(record.audit.map((a) => a.stage)).toEqual(['accepted', 'accepted', 'started', 'resumed', 'succeeded']);
      expect(record.audit[3]!.detail).toMatch(/redelivered in status started; resuming/);
      expect(rollbacksCreated()).toHaveLength(1);
      expect(stagesOf('rb-shutdown')).toEqual(['accepted', 'started', 'started', 'succeeded']);
    } finally {
      await second.close();
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
});
