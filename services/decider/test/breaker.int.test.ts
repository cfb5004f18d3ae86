import { Collections, DecisionRecord, PolicySettings, rollbackIdFor, Topics, type RollbackProgress } from '@burnback/contracts';
import { createMetrics, PubSubPublisher, type Publisher, type ServiceConfig } from '@burnback/platform';
import { alertCloudEvent, createTestEnvironment, tapTopic, type TestEnvironment, type TopicTap } from '@burnback/testkit';
import { Query } from '@google-cloud/firestore';
import { createDeciderHandler, createProgressHandler, createSerializer } from '../src/index.js';
import { FLEET_READS_AT_ONCE } from '../src/fleet-reads.js';
import { DecisionStore } from '../src/store.js';
import { shipped } from './shipped.js';
import { transactionAttempts } from './attempts.js';

/**
 * The fleet circuit breaker on the Firestore emulator: many services burning at
 * once, or many rollbacks in flight, hold further rollbacks and escalate. Each
 * service counts on its own document; the breaker reads them with two queries.
 */
describe('the fleet circuit breaker', () => {
  let env: TestEnvironment;
  let publisher: PubSubPublisher;
  let commands: TopicTap;
  // The fixtures' burns are observed at 10:05; the decider's clock reads the fleet a minute later.
  const now = () => new Date('2026-11-26T10:06:00.000Z');

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'breaker');
    publisher = new PubSubPublisher(env.pubsub);
    commands = await tapTopic(env.pubsub, Topics.commands);
  });
  afterEach(async () => {
    await commands.close();
    await publisher.close();
    await env.close();
  });

  /** Eight services like api-backend, each on a target of its own, each serving rel-002 since 09:50 (Cloud Deploy's Succeed). */
  const fleet = async (policy: Partial<PolicySettings>): Promise<ReadonlyMap<string, ServiceConfig>> => {
    const base = env.config().services.get('api-backend')!;
    const services = new Map<string, ServiceConfig>();
    for (let i = 0; i < 8; i++) {
      const name = `svc-${i}`;
      services.set(name, { ...base, name, target: `prod-${i}`, policy: PolicySettings.parse({ ...base.policy, ...policy }) });
    }
    for (const s of services.values()) await shipped(env, 'rel-002', '2026-11-26T09:50:00.000Z', s);
    return services;
  };
  const decideFor = (services: ReadonlyMap<string, ServiceConfig>, name: string) =>
    createDeciderHandler({ db: env.db, services, publisher, logger: env.logger, clock: { now, at: (t) => t } })(
      alertCloudEvent(`0.${name}`, { service: name, resourceLabels: { service_name: name } }),
    );

  it('more than 5 services burning within 10 minutes: the 6th escalates, with the services named and the fleet recorded', async () => {
    const services = await fleet({ breakerInFlightRollbacks: 50 });
    for (let i = 0; i < 5; i++) expect((await decideFor(services, `svc-${i}`)).decision.action).toBe('rollback');
    const sixth = (await decideFor(services, 'svc-5')).decision;
    expect(sixth.action).toBe('escalate');
    expect(sixth.reason).toBe(
      "escalate: 6 services burning within 10 min (svc-5, svc-0, svc-1, svc-2, svc-3, svc-4) is more than 5: a fleet-wide problem is not one release's fault",
    );
    const stored = DecisionRecord.parse((await env.db.collection(Collections.decisions).doc(sixth.decisionId).get()).data());
    expect(stored.fleet).toEqual({
      burningServices: ['svc-0', 'svc-1', 'svc-2', 'svc-3', 'svc-4'],
      inFlight: ['svc-0', 'svc-1', 'svc-2', 'svc-3', 'svc-4'],
      readAt: now().toISOString(),
    });
    // Five commands, not six.
    await commands.waitFor(5);
    const rolledBack = (await env.db.collection(Collections.outbox).where('topic', '==', Topics.commands).get()).docs.map(
      (d) => d.get('data.service') as string,
    );
    expect(rolledBack.sort()).toEqual(['svc-0', 'svc-1', 'svc-2', 'svc-3', 'svc-4']);
  });

  it('eight services burning at the same moment: exactly five roll back, the other three escalate (the breaker document serialises them)', async () => {
    const services = await fleet({ breakerInFlightRollbacks: 50 });
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => decideFor(services, `svc-${i}`)));
    const actions = outcomes.map((o) => o.decision.action).sort();
    expect(actions).toEqual(['escalate', 'escalate', 'escalate', 'rollback', 'rollback', 'rollback', 'rollback', 'rollback']);
    for (const o of outcomes.filter((x) => x.decision.action === 'escalate'))
      expect(o.decision.reason).toMatch(/^escalate: [678] services burning within 10 min .* is more than 5/);
    const breaker = (await env.db.collection(Collections.fleet).doc('breaker').get()).data() as { burns: unknown[]; inFlight: unknown[] };
    expect(breaker.burns).toHaveLength(8);
    expect(breaker.inFlight).toHaveLength(5);
  }, 90_000);

  it('through the group commit (the breaker turn the service uses): twenty burning at once, exactly five roll back; two incidents of one service, one rollback', async () => {
    const base = env.config().services.get('api-backend')!;
    const services = new Map<string, ServiceConfig>();
    for (let i = 0; i < 20; i++) {
      const name = `svc-${i}`;
      services.set(name, {
        ...base,
        name,
        target: `prod-${i}`,
        policy: PolicySettings.parse({ ...base.policy, breakerInFlightRollbacks: 50 }),
      });
    }
    await Promise.all([...services.values()].map((s) => shipped(env, 'rel-002', '2026-11-26T09:50:00.000Z', s)));
    const metrics = createMetrics('decider');
    const handle = createDeciderHandler({
      db: env.db,
      services,
      publisher,
      logger: env.logger,
      metrics,
      clock: { now, at: (t) => t },
      breakerTurn: createSerializer(),
    });
    const burn = (name: string, incident = `0.${name}`) =>
      handle(alertCloudEvent(incident, { service: name, resourceLabels: { service_name: name }, notificationId: `ntf-${incident}` }));
    // svc-0 burns twice (two incidents): its second waits for the next group, and reads what the first wrote.
    const outcomes = await Promise.all([...[...services.keys()].map((name) => burn(name)), burn('svc-0', '0.svc-0-again')]);
    const actions = outcomes.map((o) => o.decision.action);
    expect(actions.filter((a) => a === 'rollback')).toHaveLength(5);
    expect(
      outcomes.filter((o) => o.decision.service === 'svc-0').filter((o) => o.decision.action === 'rollback').length,
    ).toBeLessThanOrEqual(1);
    const breaker = (await env.db.collection(Collections.fleet).doc('breaker').get()).data() as { burns: unknown[]; inFlight: unknown[] };
    expect(breaker.inFlight).toHaveLength(5);
    await commands.waitFor(5);
    const rolledBack = (await env.db.collection(Collections.outbox).where('topic', '==', Topics.commands).get()).size;
    expect(rolledBack).toBe(5);
    // 21 decisions in far fewer transactions than decisions: they were grouped.
    expect(await transactionAttempts(metrics, 'decision')).toBeLessThan(21);
  }, 90_000);

  it('a redelivered burn is answered from its record, without a transaction or the breaker turn; what a crash left unsent is published', async () => {
    const services = await fleet({ breakerInFlightRollbacks: 50 });
    const metrics = createMetrics('decider');
    let down = false;
    const flaky: Publisher = {
      publishEvent: (...args) => (down ? Promise.reject(new Error('Pub/Sub unavailable')) : publisher.publishEvent(...args)),
      publishRaw: (...args) => (down ? Promise.reject(new Error('Pub/Sub unavailable')) : publisher.publishRaw(...args)),
    };
    const turn = createSerializer();
    let turns = 0;
    const countedTurn: typeof turn = (task) => {
      turns += 1;
      return turn(task);
    };
    const handle = createDeciderHandler({
      db: env.db,
      services,
      publisher: flaky,
      logger: env.logger,
      metrics,
      clock: { now, at: (t) => t },
      breakerTurn: countedTurn,
    });
    const attempts = () => transactionAttempts(metrics, 'decision');
    const burn = alertCloudEvent('0.svc-0', { service: 'svc-0', resourceLabels: { service_name: 'svc-0' } });

    // Committed, then the publish failed (a crash between them): the command and the decision event are unsent.
    down = true;
    await expect(handle(burn)).rejects.toThrow(/Pub\/Sub unavailable/);
    down = false;
    expect([await attempts(), turns]).toEqual([1, 1]);
    const redelivered = await handle(burn);
    expect(redelivered).toMatchObject({ kind: 'duplicate', republished: true, decision: { action: 'rollback' } });
    const [command] = await commands.waitFor(1);
    expect(command!.attributes['ce-id']).toBe(rollbackIdFor('0.svc-0'));
    const again = await handle(burn);
    expect(again).toMatchObject({ kind: 'duplicate', republished: false });
    // Neither redelivery ran a transaction or took the breaker's turn.
    expect([await attempts(), turns]).toEqual([1, 1]);
    const unsent = (await env.db.collection(Collections.outbox).where('sentAt', '==', null).get()).size;
    expect(unsent).toBe(0);
    expect((await env.db.collection(Collections.decisions).get()).size).toBe(1);
  }, 60_000);

  it('fleet reads are shared by the decisions waiting for them, never joined once running, and each sees the whole fleet', async () => {
    const services = await fleet({ breakerInFlightRollbacks: 50, breakerBurningServices: 50 });
    for (let i = 0; i < 5; i++) expect((await decideFor(services, `svc-${i}`)).decision.action).toBe('rollback');
    const firstFive = ['svc-0', 'svc-1', 'svc-2', 'svc-3', 'svc-4'];
    // Every query run, counted while it runs (a fleet read is two queries at once). Once `hold` is set, that many
    // queries hold their answers until `release`: their reads keep every turn taken.
    let started = 0;
    let running = 0;
    let most = 0;
    let hold = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let allHeld!: () => void;
    const holding = new Promise<void>((resolve) => (allHeld = resolve));
    const get = Query.prototype.get;
    const spy = jest.spyOn(Query.prototype, 'get').mockImplementation(async function (this: Query) {
      started += 1;
      const held = hold > 0;
      if (held) hold -= 1;
      running += 1;
      most = Math.max(most, running);
      try {
        const answer = await get.call(this);
        if (held) {
          if (hold === 0) allHeld();
          await released;
        }
        return answer;
      } finally {
        running -= 1;
      }
    });
    try {
      const store = new DecisionStore(env.db);
      // Twenty at once: one read (its two queries) serves them all, each stamped with its own time.
      const views = await Promise.all(Array.from({ length: 20 }, (_, i) => store.readFleet(new Date(now().getTime() + i), 10)));
      expect(started).toBe(2);
      for (const [i, view] of views.entries()) {
        expect(view.burningServices).toEqual(firstFive);
        expect(view.readAt).toBe(new Date(now().getTime() + i).toISOString());
      }
      // Every turn taken by reads asked one after another, before svc-5 burned: each runs on its own.
      started = 0;
      most = 0;
      hold = 2 * FLEET_READS_AT_ONCE;
      const early: Array<Promise<{ burningServices: string[] }>> = [];
      for (let i = 0; i < FLEET_READS_AT_ONCE; i++) {
        early.push(store.readFleet(now(), 10));
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(started).toBe(2 * FLEET_READS_AT_ONCE);
      await holding;
      expect((await decideFor(services, 'svc-5')).decision.action).toBe('rollback');
      // Asked after svc-5's burn was written: these two share the next read, which starts when a turn is free.
      const late = [store.readFleet(now(), 10), store.readFleet(now(), 10)];
      release();
      for (const view of await Promise.all(early)) expect(view.burningServices).toEqual(firstFive);
      for (const view of await Promise.all(late)) expect(view.burningServices).toEqual([...firstFive, 'svc-5']);
      // The held reads, svc-5's decision's own read (its handler's store), and one shared by the two asked late.
      expect(started).toBe(2 * FLEET_READS_AT_ONCE + 2 + 2);
      expect(most).toBeLessThanOrEqual(2 * FLEET_READS_AT_ONCE + 2);
    } finally {
      spy.mockRestore();
    }
  });

  it('at most M rollbacks in flight fleet-wide; a finished one makes room', async () => {
    const services = await fleet({ breakerInFlightRollbacks: 2, breakerBurningServices: 50 });
    expect((await decideFor(services, 'svc-0')).decision.action).toBe('rollback');
    expect((await decideFor(services, 'svc-1')).decision.action).toBe('rollback');
    const third = (await decideFor(services, 'svc-2')).decision;
    expect(third.reason).toBe('escalate: 2 rollbacks already in flight fleet-wide (at most 2 at once): wait for them or decide by hand');

    const progress: RollbackProgress = {
      rollbackId: rollbackIdFor('0.svc-0'),
      decisionId: 'dec',
      incidentId: '0.svc-0',
      service: 'svc-0',
      target: 'prod-0',
      stage: 'succeeded',
      sequence: 3,
      rolloutName: null,
      releaseId: 'rel-001',
      fromReleaseId: 'rel-002',
      detail: 'rolled back',
      at: '2026-11-26T10:05:30.000Z',
    };
    await createProgressHandler({ db: env.db, services, logger: env.logger })({
      id: 'p1',
      type: 'dev.burnback.rollback.progress.v1',
      source: '//test',
      subject: 's',
      time: progress.at,
      data: progress,
    });
    const state = (await env.db.collection(Collections.services).doc('svc-0').get()).data();
    expect(state).toMatchObject({ inFlightSince: null });
    expect((await decideFor(services, 'svc-3')).decision.action).toBe('rollback');
  });
});
