import { Collections, DeadLetterAttributes, Topics, TransientError, type OutboxEntry, type RollbackRecord } from '@burnback/contracts';
import { MAX_COMMAND_SENDS, PubSubPublisher, startOutboxRelay, type Publisher } from '@burnback/platform';
import {
  alertCloudEvent,
  createTestEnvironment,
  ManualClock,
  redelivering,
  tapTopic,
  waitFor,
  type TestEnvironment,
  type TopicTap,
} from '@burnback/testkit';
import { createDeciderHandler, startDeciderService } from '../src/index.js';
import { shipped } from './shipped.js';

const alert = alertCloudEvent;
/** The fixtures' burns are observed at 10:05; the decider evaluates them a second later, as if they had just arrived. */
const clock = new ManualClock('2026-11-26T10:05:01.000Z');

/** A publisher whose publishes fail while `down` is set: a crash between commit and publish. */
class FlakyPublisher implements Publisher {
  down = false;
  constructor(private readonly inner: Publisher) {}
  publishEvent: Publisher['publishEvent'] = async (...args) => {
    if (this.down) throw new TransientError('Pub/Sub unavailable');
    return this.inner.publishEvent(...args);
  };
  publishRaw: Publisher['publishRaw'] = async (...args) => {
    if (this.down) throw new TransientError('Pub/Sub unavailable');
    return this.inner.publishRaw(...args);
  };
}

describe('the decider on the Firestore emulator', () => {
  let env: TestEnvironment;
  let publisher: PubSubPublisher;
  let commands: TopicTap;
  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'decider');
    publisher = new PubSubPublisher(env.pubsub);
    commands = await tapTopic(env.pubsub, Topics.commands);
    // rel-002 has served production since 10 min before the fixtures' burns start.
    await shipped(env, 'rel-002', '2026-11-26T09:50:00.000Z');
  });
  afterEach(async () => {
    await commands.close();
    await publisher.close();
    await env.close();
  });

  it('two incidents of one service decided at the same moment yield exactly one rollback', async () => {
    // Racing transactions may fail transiently: each call is redelivered as its subscriber's event would be.
    const handle = redelivering(
      createDeciderHandler({ db: env.db, services: env.config().services, publisher, logger: env.logger, clock }),
    );
    const outcomes = await Promise.all([handle(alert('0.one')), handle(alert('0.two')), handle(alert('0.three'))]);
    const actions = outcomes.map((o) => o.decision.action).sort();
    expect(actions).toEqual(['hold', 'hold', 'rollback']);
    expect(outcomes.filter((o) => o.decision.action === 'hold').every((o) => /cooldown/.test(o.decision.reason))).toBe(true);
    await commands.waitFor(1);
    const state = (await env.db.collection(Collections.services).doc('api-backend').get()).data();
    expect(state!.recentRollbacks).toHaveLength(1);
  });

  it('a command whose publish was lost is sent by the relay, once', async () => {
    const flaky = new FlakyPublisher(publisher);
    const handle = createDeciderHandler({ db: env.db, services: env.config().services, publisher: flaky, logger: env.logger, clock });
    flaky.down = true;
    await expect(handle(alert('0.lost'))).rejects.toThrow(/Pub\/Sub unavailable/);
    const entries = (await env.db.collection(Collections.outbox).get()).docs.map((d) => d.data() as OutboxEntry);
    const entry = entries.find((e) => e.topic === Topics.commands);
    expect(entry).toMatchObject({ sentAt: null, topic: Topics.commands, orderingKey: 'api-backend' });
    // The decision event was written in the same transaction, and is unsent too.
    expect(
      entries
        .filter((e) => e.sentAt === null)
        .map((e) => e.topic)
        .sort(),
    ).toEqual([Topics.commands, Topics.decisions]);

    flaky.down = false;
    const relay = startOutboxRelay({ db: env.db, publisher, logger: env.logger, intervalMs: 0, minAgeMs: 0 });
    expect(await relay.runOnce()).toBe(2);
    expect(await relay.runOnce()).toBe(0);
    await relay.stop();
    const [command] = await commands.waitFor(1);
    expect(command!.attributes['ce-id']).toBe(entry!.id);
    expect(command!.attributes['ce-type']).toBe('dev.burnback.rollback.command.v1');
    expect(command!.json()).toMatchObject({
      rollbackId: entry!.id,
      target: 'production',
      pipeline: 'api-backend-pipeline',
      releaseId: null,
    });
  });

  it('a redelivered alert whose command was never published publishes it instead of deciding again', async () => {
    const flaky = new FlakyPublisher(publisher);
    const handle = createDeciderHandler({ db: env.db, services: env.config().services, publisher: flaky, logger: env.logger, clock });
    flaky.down = true;
    await expect(handle(alert('0.redelivered'))).rejects.toThrow();
    flaky.down = false;
    const outcome = await handle(alert('0.redelivered'));
    expect(outcome).toMatchObject({ kind: 'duplicate', republished: true });
    await commands.waitFor(1);
    const again = await handle(alert('0.redelivered'));
    expect(again).toMatchObject({ kind: 'duplicate', republished: false });
    expect((await env.db.collection(Collections.decisions).get()).size).toBe(1);
  });

  it('an open notification delivered after its closed one does not roll back a recovered service', async () => {
    const handle = createDeciderHandler({ db: env.db, services: env.config().services, publisher, logger: env.logger, clock });
    const closed = await handle(
      alert('0.late', {
        state: 'closed',
        endedAt: '2026-11-26T10:20:00.000Z',
        observedAt: '2026-11-26T10:20:05.000Z',
        observedValue: 0.002,
      }),
    );
    expect(closed.decision.action).toBe('hold');
    const lateOpen = await handle(alert('0.late'));
    expect(lateOpen.decision).toMatchObject({
      action: 'hold',
      reason: expect.stringMatching(/already closed at 2026-11-26T10:20:00.000Z: this open notification arrived late/),
    });
    const incident = (await env.db.collection(Collections.incidents).doc('0.late').get()).data();
    expect(incident).toMatchObject({ state: 'closed', endedAt: '2026-11-26T10:20:00.000Z', observedAt: '2026-11-26T10:20:05.000Z' });
    expect(incident!.decisionIds).toHaveLength(2);
    expect((await env.db.collection(Collections.outbox).where('topic', '==', Topics.commands).get()).size).toBe(0);
  });

  it('an alert for a service the decider does not know is a permanent error naming it', async () => {
    const handle = createDeciderHandler({ db: env.db, services: env.config().services, publisher, logger: env.logger, clock });
    await expect(handle(alert('0.ghost', { service: 'ghost' }))).rejects.toMatchObject({
      kind: 'permanent',
      message: expect.stringMatching(/"ghost"/),
    });
  });

  it('mode observe records the decision with what it would have done and orders nothing', async () => {
    const services = new Map(env.config().services);
    const apiBackend = services.get('api-backend')!;
    services.set('api-backend', { ...apiBackend, policy: { ...apiBackend.policy, mode: 'observe' } });
    const handle = createDeciderHandler({ db: env.db, services, publisher, logger: env.logger, clock });
    const outcome = await handle(alert('0.dry'));
    expect(outcome.decision).toMatchObject({
      action: 'hold',
      reason: expect.stringMatching(/^no rollback \(mode observe\), would roll back: /),
    });
    expect((await env.db.collection(Collections.outbox).where('topic', '==', Topics.commands).get()).size).toBe(0);
  });

  it('a stored service state that no longer fits its schema dead-letters the alert with the reason, and the decider keeps going', async () => {
    const deadLetters = await tapTopic(env.pubsub, Topics.deadLetter);
    const fatal: Error[] = [];
    const decider = await startDeciderService({
      config: env.config(),
      pubsub: env.pubsub,
      db: env.db,
      logger: env.logger,
      relayIntervalMs: 0,
      clock,
      onFatal: (err) => fatal.push(err),
    });
    try {
      // Written by an older release: the rollback history as a count instead of a list.
      await env.db.collection(Collections.services).doc('api-backend').set({ service: 'api-backend', recentRollbacks: 2 });
      await publisher.publishEvent(Topics.alerts, alert('0.legacy'), 'api-backend');
      const [dead] = await deadLetters.waitFor(1, undefined, 30_000);
      expect(dead!.attributes['ce-id']).toBe('ntf-0.legacy');
      expect(dead!.attributes[DeadLetterAttributes.source]).toBe('burnback-decider');
      expect(dead!.attributes[DeadLetterAttributes.reason]).toMatch(/^a stored document is invalid: .*recentRollbacks/s);
      expect((await env.db.collection(Collections.decisions).get()).size).toBe(0);

      // Still consuming the same ordering key: once the document is repaired, the next alert is decided.
      await env.db.collection(Collections.services).doc('api-backend').delete();
      await publisher.publishEvent(Topics.alerts, alert('0.next'), 'api-backend');
      await commands.waitFor(1);
      const decisions = (await env.db.collection(Collections.decisions).get()).docs.map((d) => d.data());
      expect(decisions).toEqual([expect.objectContaining({ incidentId: '0.next', action: 'rollback' })]);
      expect(fatal).toEqual([]);
    } finally {
      await decider.close();
      await deadLetters.close();
    }
  });

  it('a command no executor ever took is failed when the relay gives up on it, and its incident escalates without a new notification', async () => {
    const handle = createDeciderHandler({ db: env.db, services: env.config().services, publisher, logger: env.logger, clock });
    const decided = await handle(alert('0.abandoned'));
    const rollbackId = decided.decision.rollbackId!;
    // Sent the most times the relay sends a command, long ago, never confirmed.
    await env.db.collection(Collections.outbox).doc(rollbackId).update({ attempts: MAX_COMMAND_SENDS, sentAt: '2026-11-26T10:00:00.000Z' });
    const decider = await startDeciderService({
      config: env.config(),
      pubsub: env.pubsub,
      db: env.db,
      logger: env.logger,
      relayIntervalMs: 200,
      clock,
      redecisions: { idleSweepMs: 200 },
    });
    try {
      // The rollback is failed where the executor would keep it, so a late delivery of the command does nothing.
      const record = await waitFor(async () => {
        const doc = await env.db.collection(Collections.rollbacks).doc(rollbackId).get();
        return doc.exists ? (doc.data() as RollbackRecord) : undefined;
      });
      expect(record).toMatchObject({
        status: 'failed',
        failureReason: expect.stringMatching(/^the command was sent 20 times .* and no executor took it/),
      });
      const escalation = await waitFor(
        async () => (await env.db.collection(Collections.decisions).where('redecisionOf', '==', decided.decision.decisionId).get()).docs[0],
        { what: 'the incident to be decided again' },
      );
      expect(escalation.data()).toMatchObject({ action: 'escalate', incidentId: '0.abandoned' });
      expect(escalation.get('reason')).toMatch(/which failed at .*: a failed rollback is never retried automatically/);
      const outbox = (await env.db.collection(Collections.outbox).doc(rollbackId).get()).data() as OutboxEntry;
      expect(outbox.gaveUpAt).toEqual(expect.any(String));
    } finally {
      await decider.close();
    }
  });
});
