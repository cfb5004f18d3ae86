import { randomBytes } from 'node:crypto';
import type { CloudDeployClient } from '@google-cloud/deploy';
import {
  Collections,
  EventTypes,
  isFinalStage,
  RollbackRecord,
  rolloutIdFor,
  Topics,
  type CloudEvent,
  type RollbackCommand,
  type RollbackProgress,
} from '@burnback/contracts';
import { startGcpSim, type GcpSim } from '@burnback/gcp-sim';
import { createDeployClient, PubSubPublisher } from '@burnback/platform';
import { createTestEnvironment, tapTopic, waitFor, type TestEnvironment, type TopicTap } from '@burnback/testkit';
import { startExecutorService, type ExecutorService } from '../src/index.js';

const REGION = 'us-central1';
/** Long enough that a rollout's deploy job never ends during a test unless the test reschedules it. */
const HELD_MS = 3_600_000;

const serviceNames = (count: number, prefix = 'svc') => Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

const commandFor = (projectId: string, service: string): CloudEvent<typeof EventTypes.rollbackCommand> => {
  const rollbackId = `rb-${service}`;
  return {
    id: rollbackId,
    type: EventTypes.rollbackCommand,
    source: '//test',
    subject: `services/${service}/rollbacks/${rollbackId}`,
    time: new Date().toISOString(),
    data: {
      rollbackId,
      decisionId: `dec-${service}`,
      incidentId: `0.${service}`,
      service,
      project: projectId,
      region: REGION,
      pipeline: `${service}-pipeline`,
      target: 'production',
      rolloutId: rolloutIdFor(rollbackId),
      releaseId: null,
      reason: 'test',
      requestedAt: new Date().toISOString(),
    } satisfies RollbackCommand,
  };
};

/**
 * The executor service with many rollouts in flight at once: each service has
 * its own pipeline in gcp-sim, and every rollback's deploy job is held for an
 * hour until the test lets them finish (setTimings with reschedule).
 */
describe('the executor tracks rollouts from Firestore, not from the command subscription', () => {
  let env: TestEnvironment;
  let sim: GcpSim;
  let client: CloudDeployClient;
  let publisher: PubSubPublisher;
  let progress: TopicTap;
  let executors: ExecutorService[];

  const start = async (services: string[]) => {
    sim = await startGcpSim({
      projectId: env.projectId,
      region: REGION,
      services: services.map((name) => ({ name, pipeline: `${name}-pipeline`, target: 'production' })),
      rolloutStepMs: 20,
      timings: { deployMs: HELD_MS },
    });
    client = createDeployClient({ projectId: env.projectId, cloudDeployEndpoint: sim.address });
  };
  const startExecutor = async (owner: string) => {
    const executor = await startExecutorService({
      pubsub: env.pubsub,
      db: env.db,
      deployClient: client,
      logger: env.logger,
      pollIntervalMs: 250,
      maxPollIntervalMs: 2_000,
      retry: { retries: 3, minTimeout: 20, maxTimeout: 200 },
      tracker: { owner, idleSweepMs: 600_000 },
    });
    executors.push(executor);
    return executor;
  };
  const stop = async (executor: ExecutorService) => {
    executors = executors.filter((e) => e !== executor);
    await executor.close();
  };

  const records = async () => (await env.db.collection(Collections.rollbacks).get()).docs.map((d) => RollbackRecord.parse(d.data()));
  const rolloutOf = (record: RollbackRecord) => sim.deploy.getRollout(record.rolloutName!);
  /** Rollouts of these rollbacks that the executor has looked at with GetRollout (it is tracking them). */
  const lookedAt = (names: string[]) => {
    const asked = new Set(sim.deploy.callsTo('GetRollout').map((c) => c.request.name));
    return names.every((n) => asked.has(n));
  };
  /** Burnback rollouts created (not the validate_only preflights, not calls Cloud Deploy refused). */
  const rollbacksCreated = () => sim.deploy.callsTo('RollbackTarget').filter((c) => !c.request.validateOnly && c.status === 'OK');
  const progressOf = (stage: string) =>
    progress.messages
      .filter((m) => m.attributes['ce-type'] === EventTypes.rollbackProgress)
      .map((m) => ({ id: m.attributes['ce-id'], progress: m.json<RollbackProgress>() }))
      .filter((p) => p.progress.stage === stage);

  /**
   * A positive control for "nothing more was published": a marker behind every
   * service's progress, in that service's ordering key. Once every marker is
   * back, every progress event published before it has been received too.
   */
  const drainProgress = async (services: string[]) => {
    const marker = randomBytes(4).toString('hex');
    await Promise.all(services.map((s) => publisher.publishRaw(Topics.progress, Buffer.from('{}'), { 'test-marker': marker }, s)));
    await progress.waitFor(services.length, (m) => m.attributes['test-marker'] === marker, 60_000);
  };

  /** Each rollback's outcome was recorded once and published once, under its deterministic id. */
  const expectEachSucceededOnce = async (services: string[]) => {
    await drainProgress(services);
    const succeeded = progressOf('succeeded');
    expect(succeeded.map((p) => p.progress.service).sort()).toEqual([...services].sort());
    expect(new Set(succeeded.map((p) => p.id)).size).toBe(services.length);
    for (const record of (await records()).filter((r) => services.includes(r.command.service))) {
      expect(record.audit.filter((a) => a.stage === 'succeeded')).toHaveLength(1);
    }
  };

  const allSettled = (services: string[], timeoutMs: number) =>
    waitFor(
      async () => {
        const done = (await records()).filter((r) => services.includes(r.command.service) && isFinalStage(r.status) && r.tracking === null);
        return done.length === services.length ? done : undefined;
      },
      { what: `${services.length} rollbacks to end`, timeoutMs, intervalMs: 500 },
    );

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'tracking');
    publisher = new PubSubPublisher(env.pubsub);
    progress = await tapTopic(env.pubsub, Topics.progress);
    executors = [];
  });
  afterEach(async () => {
    await Promise.all(executors.map((e) => e.close()));
    await progress.close();
    await publisher.close();
    await client.close();
    await sim.stop();
    await env.close();
  });

  it('100 slow rollbacks in flight do not delay another service\u2019s rollback, and each then finishes exactly once', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const slow = serviceNames(100);
      const late = 'late-service';
      await start([...slow, late]);
      await startExecutor('replica-a');

      for (const service of slow) await publisher.publishEvent(Topics.commands, commandFor(env.projectId, service), service);
      // Every one of the 100 started, its rollout IN_PROGRESS in Cloud Deploy (held there), and tracked.
      const started = await waitFor(
        async () => {
          const all = (await records()).filter((r) => r.status === 'started');
          return all.length === slow.length && all.every((r) => rolloutOf(r)?.state === 'IN_PROGRESS') ? all : undefined;
        },
        { what: '100 rollbacks to start', timeoutMs: 180_000, intervalMs: 500 },
      );
      const slowRollouts = started.map((r) => r.rolloutName!);
      await waitFor(() => lookedAt(slowRollouts), { what: 'the tracker to look at all 100 rollouts', timeoutMs: 60_000, intervalMs: 200 });

      await publisher.publishEvent(Topics.commands, commandFor(env.projectId, late), late);
      await waitFor(async () => (await records()).find((r) => r.command.service === late && r.status === 'started'), {
        what: 'the late service\u2019s rollback to start',
        timeoutMs: 60_000,
        intervalMs: 200,
      });
      // The late rollback started while all 100 were still running: none of them has ended, in Cloud Deploy or in Burnback.
      const atThatPoint = (await records()).filter((r) => slow.includes(r.command.service));
      expect(atThatPoint.map((r) => r.status)).toEqual(slow.map(() => 'started'));
      expect(atThatPoint.map((r) => rolloutOf(r)?.state)).toEqual(slow.map(() => 'IN_PROGRESS'));
      expect(progressOf('succeeded')).toEqual([]);

      // Cloud Deploy lets them all finish.
      sim.deploy.setTimings({ deployMs: 20 }, { reschedule: true });
      const ended = await allSettled([...slow, late], 180_000);
      expect(ended.map((r) => r.status)).toEqual(ended.map(() => 'succeeded'));
      await expectEachSucceededOnce([...slow, late]);
      expect(rollbacksCreated()).toHaveLength(slow.length + 1);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  }, 600_000);

  it('an executor restarted while it tracks rollouts reports each outcome exactly once', async () => {
    const services = serviceNames(5, 'restart');
    await start(services);
    const first = await startExecutor('first');
    for (const service of services) await publisher.publishEvent(Topics.commands, commandFor(env.projectId, service), service);
    const started = await waitFor(
      async () => {
        const all = (await records()).filter((r) => r.status === 'started');
        return all.length === services.length ? all : undefined;
      },
      { what: 'the rollbacks to start', timeoutMs: 60_000, intervalMs: 200 },
    );
    await waitFor(() => lookedAt(started.map((r) => r.rolloutName!)), { what: 'the first executor to track them', timeoutMs: 30_000 });

    await stop(first);
    // Still running in Cloud Deploy; in Firestore started, scheduled, and held by nobody.
    for (const record of await records()) {
      expect(record).toMatchObject({ status: 'started', tracking: { lease: null } });
      expect(rolloutOf(record)?.state).toBe('IN_PROGRESS');
    }

    await startExecutor('second');
    sim.deploy.setTimings({ deployMs: 20 }, { reschedule: true });
    const ended = await allSettled(services, 60_000);
    expect(ended.map((r) => r.audit.map((a) => a.stage))).toEqual(services.map(() => ['accepted', 'accepted', 'started', 'succeeded']));
    await expectEachSucceededOnce(services);
    expect(rollbacksCreated()).toHaveLength(services.length);
  });

  it('two executor replicas share the tracked rollouts and report each outcome exactly once', async () => {
    const services = serviceNames(20, 'replica');
    await start(services);
    await startExecutor('replica-a');
    await startExecutor('replica-b');
    for (const service of services) await publisher.publishEvent(Topics.commands, commandFor(env.projectId, service), service);
    const started = await waitFor(
      async () => {
        const all = (await records()).filter((r) => r.status === 'started');
        return all.length === services.length ? all : undefined;
      },
      { what: 'the rollbacks to start', timeoutMs: 60_000, intervalMs: 200 },
    );
    await waitFor(() => lookedAt(started.map((r) => r.rolloutName!)), { what: 'the replicas to track them', timeoutMs: 30_000 });
    sim.deploy.setTimings({ deployMs: 20 }, { reschedule: true });
    await allSettled(services, 60_000);
    await expectEachSucceededOnce(services);
    expect(rollbacksCreated()).toHaveLength(services.length);
  });

  it('lookNow has a rollback looked at at once instead of at its next scheduled look', async () => {
    const [service] = serviceNames(1, 'look');
    await start([service!]);
    // An hour between looks, and no Cloud Deploy notifications: only lookNow can have the end seen within the test.
    const executor = await startExecutorService({
      pubsub: env.pubsub,
      db: env.db,
      deployClient: client,
      logger: env.logger,
      pollIntervalMs: HELD_MS,
      retry: { retries: 3, minTimeout: 20, maxTimeout: 200 },
      tracker: { owner: 'look', idleSweepMs: 600_000 },
    });
    executors.push(executor);
    await publisher.publishEvent(Topics.commands, commandFor(env.projectId, service!), service);
    const [started] = await waitFor(
      async () => {
        const all = (await records()).filter((r) => r.status === 'started' && r.tracking !== null);
        return all.length === 1 ? all : undefined;
      },
      { what: 'the rollback to start', timeoutMs: 30_000 },
    );
    sim.deploy.setTimings({ deployMs: 20 }, { reschedule: true });
    await sim.deploy.waitForRollout(started!.rolloutName!);
    expect(await executor.lookNow('rb-nobody')).toBe(false);
    expect(await executor.lookNow(started!.rollbackId)).toBe(true);
    await allSettled([service!], 30_000);
    await expectEachSucceededOnce([service!]);
    // Ended and let go: there is nothing left to look at.
    expect(await executor.lookNow(started!.rollbackId)).toBe(false);
  });
});
