import type { CloudDeployClient } from '@google-cloud/deploy';
import { Collections, EventTypes, StoredDeployEvent, TargetRecord, targetDocIdFor, type RollbackProgress } from '@burnback/contracts';
import { servicesFromConfigFile, startGcpSim, type GcpSim } from '@burnback/gcp-sim';
import { CloudDeployHistory, createDeployClient, createMetrics, type DeployHistoryReader, type ServiceConfig } from '@burnback/platform';
import { createTestEnvironment, LOCAL_CONFIG_PATH, ManualClock, waitFor, type TestEnvironment } from '@burnback/testkit';
import {
  createDeployEventHandler,
  createKeyedSerializer,
  createProgressHandler,
  createTargetHistory,
  learnProjectNumbers,
} from '../src/index.js';
import { transactionAttempts } from './attempts.js';

/**
 * What serves each target, read from Cloud Deploy's history through the real
 * client against gcp-sim: at start, and on each of Cloud Deploy's notifications
 * of a rollout or job run on a configured target, matched by project id or number.
 */
describe('the decider reads what serves from Cloud Deploy', () => {
  let env: TestEnvironment;
  let sim: GcpSim;
  let client: CloudDeployClient;
  let services: ReadonlyMap<string, ServiceConfig>;
  const clock = new ManualClock('2026-11-26T10:00:00.000Z');

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'deploy-events');
    sim = await startGcpSim({ projectId: env.projectId, port: 0, rolloutStepMs: 20, services: servicesFromConfigFile(LOCAL_CONFIG_PATH) });
    client = createDeployClient({ projectId: env.projectId, cloudDeployEndpoint: sim.address });
    services = env.config().services;
  });
  afterEach(async () => {
    await client.close();
    await sim.stop();
    await env.close();
  });

  const pipelineOf = (s: ServiceConfig) => `projects/${s.project}/locations/${s.region}/deliveryPipelines/${s.pipeline}`;
  const targetOf = async (s: ServiceConfig) => {
    const doc = await env.db.collection(Collections.targets).doc(targetDocIdFor(s)).get();
    return doc.exists ? TargetRecord.parse(doc.data()) : null;
  };
  const seededRel002 = (s: ServiceConfig) =>
    sim.deploy
      .rolloutsOnTarget('production')
      .find((r) => r.name === `${pipelineOf(s)}/releases/rel-002/rollouts/rel-002-to-production-0001`)!;
  const seconds = (t: { seconds?: string | number | null } | null | undefined) => new Date(Number(t?.seconds ?? 0) * 1000).toISOString();
  /** rel-002, already serving, deployed again (rollout `again`): its name. */
  const redeployRel002 = async (s: ServiceConfig) => {
    const [op] = await client.createRollout({
      parent: `${pipelineOf(s)}/releases/rel-002`,
      rolloutId: 'again',
      rollout: { targetId: 'production' },
    });
    await op.promise();
    return `${pipelineOf(s)}/releases/rel-002/rollouts/again`;
  };

  // First in this file: google-gax prints each kind of warning once per process.
  it('reads the history page by page as the client’s paging guide says, with no AutopaginateTrueWarning', async () => {
    const emitted = jest.spyOn(process, 'emitWarning');
    try {
      const [s] = [...services.values()];
      const paged = await new CloudDeployHistory(client, { pageSize: 1 }).readHistory(pipelineOf(s!));
      expect(paged.rollouts.length).toBeGreaterThan(1);
      expect(paged).toEqual(await new CloudDeployHistory(client).readHistory(pipelineOf(s!)));
      expect(await new CloudDeployHistory(client).rolloutsOnTarget(pipelineOf(s!), 'production')).toContainEqual(
        expect.objectContaining({ name: seededRel002(s!).name }),
      );
      await new CloudDeployHistory(client).projectNumberOf(pipelineOf(s!));
      const types = emitted.mock.calls.map(([message, options]) =>
        typeof options === 'string' ? options : (options?.type ?? String(message)),
      );
      expect(types).toEqual([]);
    } finally {
      emitted.mockRestore();
    }
  });

  it('at start, every configured target is read: what serves it since its first deploy job, and what served before', async () => {
    const history = createTargetHistory({ db: env.db, services, logger: env.logger, deploy: new CloudDeployHistory(client), clock });
    expect(await history.rebuildAll()).toBe(2);
    for (const s of services.values()) {
      const t = (await targetOf(s))!;
      const rel002 = seededRel002(s);
      expect(t.serving).toEqual({
        releaseId: 'rel-002',
        since: seconds(rel002.deployStartTime),
        burnedAt: null,
        rollout: rel002.name,
        phase: null,
      });
      expect(t.previous).toMatchObject({ releaseId: 'rel-001', until: seconds(rel002.deployStartTime) });
      expect(t.latestRollout).toEqual({ name: rel002.name, releaseId: 'rel-002', state: 'SUCCEEDED' });
      expect(t.historyReadAt).toBe('2026-11-26T10:00:00.000Z');
    }
  });

  it('a rollback’s progress and a Cloud Deploy notification on one target take turns: neither transaction is given up and retried', async () => {
    // Both read the target's document and write it back: at once, they deadlock on the emulator's locks until it
    // gives one up (~2 s) and the client retries it. In turns (the decider shares one history and its turns with the
    // progress handler, as service.ts wires them), each commits at its first attempt.
    const metrics = createMetrics('decider');
    const targetTurn = createKeyedSerializer();
    const deploy = new CloudDeployHistory(client);
    const history = createTargetHistory({ db: env.db, services, logger: env.logger, metrics, deploy, clock, targetTurn });
    const handle = createDeployEventHandler({ db: env.db, services, logger: env.logger, metrics, deploy, clock, history });
    const handleProgress = createProgressHandler({ db: env.db, services, logger: env.logger, metrics, clock, targetTurn });
    const s = services.get('api-backend')!;
    const rollout = seededRel002(s).name;
    const rounds = 20;
    for (let i = 0; i < rounds; i++) {
      const progress: RollbackProgress = {
        rollbackId: 'rb-turns',
        decisionId: 'dec-turns',
        incidentId: '0.turns',
        service: s.name,
        target: s.target,
        stage: 'started',
        sequence: 2,
        rolloutName: null,
        releaseId: 'rel-001',
        fromReleaseId: 'rel-002',
        detail: 'rolling back',
        at: '2026-11-26T10:00:00.000Z',
      };
      await Promise.all([
        handle({
          id: `m-${i}`,
          publishTime: new Date('2026-11-26T10:00:00.000Z'),
          attributes: {
            Action: 'Succeed',
            ResourceType: 'Rollout',
            Resource: rollout,
            TargetId: 'production',
            RolloutId: 'rel-002-to-production-0001',
          },
        }),
        handleProgress({
          id: `p-${i}`,
          type: EventTypes.rollbackProgress,
          source: '//test',
          subject: 's',
          time: progress.at,
          data: progress,
        }),
      ]);
    }
    expect({ target: await transactionAttempts(metrics, 'target'), progress: await transactionAttempts(metrics, 'progress') }).toEqual({
      target: rounds,
      progress: rounds,
    });
    expect((await env.db.collection(Collections.deployEvents).get()).size).toBe(rounds);
    expect((await targetOf(s))!.serving).toMatchObject({ releaseId: 'rel-002' });
  }, 90_000);

  it('a job run starting is read at once, kept with what was read, and applied when read', async () => {
    const handle = createDeployEventHandler({ db: env.db, services, logger: env.logger, deploy: new CloudDeployHistory(client), clock });
    const s = services.get('api-backend')!;
    const again = await redeployRel002(s);
    await sim.deploy.waitForRollout(again, ['IN_PROGRESS']);
    const jobRun = sim.deploy.getRollout(again)!.phases![0]!.deploymentJobs!.deployJob!.jobRun!;
    clock.set('2026-11-26T10:01:00.000Z');
    await handle({
      id: 'm-1',
      publishTime: new Date('2026-11-26T10:00:59.000Z'),
      attributes: { Action: 'Start', ResourceType: 'JobRun', Resource: jobRun, TargetId: 'production', RolloutId: 'again' },
    });
    const t = (await targetOf(s))!;
    // A redeploy of the release already serving: it has served since its first rollout, and the newest rollout is named.
    expect(t.serving).toMatchObject({
      releaseId: 'rel-002',
      since: seconds(seededRel002(s).deployStartTime),
      rollout: again,
      phase: 'canary-25',
    });
    const stored = StoredDeployEvent.parse((await env.db.collection(Collections.deployEvents).doc('m-1').get()).data());
    expect(stored).toMatchObject({
      service: 'api-backend',
      appliedAt: '2026-11-26T10:01:00.000Z',
      publishTime: '2026-11-26T10:00:59.000Z',
    });
    expect(stored.read!.map((r) => r.name)).toEqual(expect.arrayContaining([again, seededRel002(s).name]));
    expect(stored.read!.every((r) => r.targetId === 'production' && r.name.startsWith(pipelineOf(s)))).toBe(true);
    expect(t.historyReadAt).toBe(stored.appliedAt);
  });

  it('notifications that arrive while their target’s read waits for its turn share one read, made after the last of them', async () => {
    const real = new CloudDeployHistory(client);
    let reads = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The first read returns only once released: the notifications below arrive while it is in progress.
    const deploy: DeployHistoryReader = {
      readHistory: (p) => real.readHistory(p),
      projectNumberOf: (p) => real.projectNumberOf(p),
      rolloutsOnTarget: async (p, t) => {
        reads += 1;
        const rollouts = await real.rolloutsOnTarget(p, t);
        if (reads === 1) await held;
        return rollouts;
      },
    };
    const handle = createDeployEventHandler({ db: env.db, services, logger: env.logger, deploy, clock });
    const s = services.get('api-backend')!;
    const notify = (id: string) =>
      handle({
        id,
        publishTime: new Date('2026-11-26T10:00:59.000Z'),
        attributes: { Action: 'Succeed', ResourceType: 'Rollout', Resource: seededRel002(s).name, TargetId: 'production' },
      });
    const first = notify('m-1');
    await waitFor(() => reads === 1 || undefined, { what: 'the first read' });
    // A rollout the first read did not see, then three notifications while that read is still in progress.
    const again = await redeployRel002(s);
    const rest = ['m-2', 'm-3', 'm-4'].map(notify);
    release();
    await Promise.all([first, ...rest]);
    expect(reads).toBe(2);
    const stored = async (id: string) => StoredDeployEvent.parse((await env.db.collection(Collections.deployEvents).doc(id).get()).data());
    expect((await stored('m-1')).read!.map((r) => r.name)).not.toContain(again);
    const shared = await Promise.all(['m-2', 'm-3', 'm-4'].map(stored));
    for (const e of shared) {
      expect(e.read!.map((r) => r.name)).toContain(again);
      expect(e).toMatchObject({ service: 'api-backend', appliedAt: shared[0]!.appliedAt, read: shared[0]!.read });
    }
    expect((await targetOf(s))!.latestRollout).toMatchObject({ name: again });
  });

  it('a notification naming the project by number is matched by the number, and another project’s is ignored', async () => {
    const numbers = await learnProjectNumbers([...services.values()], new CloudDeployHistory(client), env.logger);
    // gcp-sim writes the number in release snapshots' names, as Cloud Deploy's own names carry it.
    expect(numbers.get('api-backend')).toBe(sim.projectNumber);
    const handle = createDeployEventHandler({
      db: env.db,
      services,
      logger: env.logger,
      deploy: new CloudDeployHistory(client),
      projectNumbers: numbers,
      clock,
    });
    const s = services.get('api-backend')!;
    const byNumber = (number: string) => seededRel002(s).name.replace(`projects/${env.projectId}/`, `projects/${number}/`);
    const notify = (id: string, resource: string) =>
      handle({
        id,
        publishTime: new Date(),
        attributes: { Action: 'Succeed', ResourceType: 'Rollout', Resource: resource, TargetId: 'production' },
      });
    await notify('other-project', byNumber('999999999999'));
    await notify('ours', byNumber(sim.projectNumber));
    expect((await env.db.collection(Collections.deployEvents).doc('ours').get()).exists).toBe(true);
    expect((await env.db.collection(Collections.deployEvents).doc('other-project').get()).exists).toBe(false);
    expect((await targetOf(s))!.serving).toMatchObject({ releaseId: 'rel-002' });
  });

  it('a notification of a release render, another topic’s action or a target no service rolls back changes nothing', async () => {
    const handle = createDeployEventHandler({ db: env.db, services, logger: env.logger, deploy: new CloudDeployHistory(client), clock });
    const s = services.get('api-backend')!;
    const release = `${pipelineOf(s)}/releases/rel-002`;
    for (const [id, attributes] of [
      ['render', { Action: 'Succeed', ResourceType: 'Release', Resource: release }],
      ['approval', { Action: 'Required', ResourceType: 'Rollout', Resource: seededRel002(s).name, TargetId: 'production' }],
      [
        'staging',
        { Action: 'Succeed', ResourceType: 'Rollout', Resource: `${release}/rollouts/rel-002-to-staging-0001`, TargetId: 'staging' },
      ],
    ] as const)
      await handle({ id, publishTime: new Date(), attributes });
    // The positive control: a notification that does concern a target is applied.
    await handle({
      id: 'real',
      publishTime: new Date(),
      attributes: { Action: 'Succeed', ResourceType: 'Rollout', Resource: seededRel002(s).name, TargetId: 'production' },
    });
    await waitFor(async () => ((await env.db.collection(Collections.deployEvents).doc('real').get()).exists ? true : undefined), {
      what: 'the real notification to be applied',
    });
    expect((await env.db.collection(Collections.deployEvents).get()).docs.map((d) => d.id)).toEqual(['real']);
  });
});
