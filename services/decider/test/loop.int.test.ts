import {
  Collections,
  EventTypes,
  Topics,
  targetDocIdFor,
  type DecisionEvent,
  type IncidentRecord,
  type ProgressStage,
  type RollbackProgress,
  type ServiceState,
  type TargetRecord,
} from '@burnback/contracts';
import { PubSubPublisher } from '@burnback/platform';
import {
  alertCloudEvent,
  arrivalOf,
  createTestEnvironment,
  ManualClock,
  redelivering,
  tapTopic,
  waitFor,
  type TestEnvironment,
  type TopicTap,
} from '@burnback/testkit';
import { createDeciderHandler, startDeciderService, type DeciderService } from '../src/index.js';
import { shipped } from './shipped.js';

const T0 = Date.parse('2026-11-26T10:05:00.000Z');
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

/**
 * Judgement closes its loop: the decider consumes burnback-progress (the real
 * subscription on the Pub/Sub emulator) and decides later notifications from
 * the outcome; every decision is published on burnback-decisions.
 */
describe('the decider closes the loop on the emulators', () => {
  let env: TestEnvironment;
  let publisher: PubSubPublisher;
  let commands: TopicTap;
  let decisions: TopicTap;
  let decider: DeciderService;
  let handle: ReturnType<typeof createDeciderHandler>;
  // The fixtures' incidents are from November 2026: each is decided as if it had just arrived.
  let clock: ManualClock;

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'decider-loop');
    publisher = new PubSubPublisher(env.pubsub);
    commands = await tapTopic(env.pubsub, Topics.commands);
    decisions = await tapTopic(env.pubsub, Topics.decisions);
    clock = new ManualClock(at(0));
    decider = await startDeciderService({
      config: env.config(),
      pubsub: env.pubsub,
      db: env.db,
      logger: env.logger,
      relayIntervalMs: 0,
      clock,
    });
    const decideNow = createDeciderHandler({ db: env.db, services: env.config().services, publisher, logger: env.logger, clock });
    handle = (event) => {
      clock.set(arrivalOf(event.data));
      return decideNow(event);
    };
    // rel-002 has served production since 10 min before the fixtures' burns start.
    await shipped(env, 'rel-002', '2026-11-26T09:50:00.000Z');
  });
  afterEach(async () => {
    await decider.close();
    await decisions.close();
    await commands.close();
    await publisher.close();
    await env.close();
  });

  const service = () => env.config().services.get('api-backend')!;
  const incident = async (id: string) =>
    (await env.db.collection(Collections.incidents).doc(id).get()).data() as IncidentRecord | undefined;

  /** Publishes progress as the executor does, and waits until the decider has recorded it on the incident. */
  const progress = async (incidentId: string, rollbackId: string, stage: ProgressStage, overrides: Partial<RollbackProgress> = {}) => {
    const data: RollbackProgress = {
      rollbackId,
      decisionId: 'dec-x',
      incidentId,
      service: 'api-backend',
      target: 'production',
      stage,
      sequence: stage === 'accepted' ? 1 : stage === 'started' ? 2 : 3,
      rolloutName: null,
      releaseId: 'rel-002',
      fromReleaseId: 'rel-003',
      detail: `rollback ${stage}`,
      at: at(0),
      ...overrides,
    };
    await publisher.publishEvent(
      Topics.progress,
      { id: `${rollbackId}.${stage}`, type: EventTypes.rollbackProgress, source: '//test', subject: '', time: data.at, data },
      'api-backend',
    );
    return waitFor(async () => ((await incident(incidentId))?.rollback?.stage === stage ? incident(incidentId) : false), {
      what: `${stage} recorded on ${incidentId}`,
    });
  };

  it('a command counts as delivered once its rollback is past accepted: until then the relay sends it again', async () => {
    const first = await handle(alertCloudEvent('0.confirm', { observedAt: at(0), receivedAt: at(0) }));
    const rollbackId = first.decision.rollbackId!;
    const command = () => env.db.collection(Collections.outbox).doc(rollbackId).get();
    expect((await command()).get('confirmedAt')).toBeNull();
    // accepted: the executor may yet die before it starts the rollout, and only a new delivery would resume it.
    await progress('0.confirm', rollbackId, 'accepted');
    expect((await command()).get('confirmedAt')).toBeNull();
    await progress('0.confirm', rollbackId, 'started', { at: at(1) });
    expect((await command()).get('confirmedAt')).toBe(at(1));
    // A later stage keeps the first confirmation.
    await progress('0.confirm', rollbackId, 'succeeded', { at: at(4) });
    expect((await command()).get('confirmedAt')).toBe(at(1));
    // The decision event is never confirmed (nothing reports on it), so the relay never sends it again.
    expect((await env.db.collection(Collections.outbox).doc(first.decision.decisionId).get()).get('confirmedAt')).toBeUndefined();
  });

  it('a rollback finishing late restarts the cooldown from its finish time', async () => {
    const first = await handle(alertCloudEvent('0.a', { observedAt: at(0), receivedAt: at(0) }));
    expect(first.decision.action).toBe('rollback');
    // A long canary that failed in the end: nothing changed on the target, so only the cooldown speaks.
    await progress('0.a', first.decision.rollbackId!, 'failed', { at: at(25), releaseId: null, fromReleaseId: null });
    const state = (await env.db.collection(Collections.services).doc('api-backend').get()).data() as ServiceState;
    expect(state.recentRollbacks).toEqual([
      { rollbackId: first.decision.rollbackId, decidedAt: at(0), outcome: 'failed', finishedAt: at(25) },
    ]);

    // 35 min after the decision but 10 min after the rollback finished: still cooling down.
    const next = await handle(alertCloudEvent('0.b', { observedAt: at(35), receivedAt: at(35) }));
    expect(next.decision.action).toBe('hold');
    expect(next.decision.reason).toBe('no rollback: last rollback failed 10 min ago is within the 30 min cooldown');
    const after = await handle(alertCloudEvent('0.c', { startedAt: at(50), observedAt: at(56), receivedAt: at(56) }));
    expect(after.decision.action).toBe('rollback');
  });

  it('a failed rollback is never retried for the same incident: its re-notification escalates, saying why', async () => {
    const first = await handle(alertCloudEvent('0.fail', { observedAt: at(0) }));
    await progress('0.fail', first.decision.rollbackId!, 'failed', { at: at(3), releaseId: null, fromReleaseId: null });
    const again = await handle(alertCloudEvent('0.fail', { notificationId: 'ntf-0.fail-2', observedValue: 0.2, observedAt: at(60) }));
    expect(again.decision).toMatchObject({
      action: 'escalate',
      rollbackId: null,
      reason: `escalate: incident 0.fail already has its one rollback ${first.decision.rollbackId}, which failed at ${at(3)}: a failed rollback is never retried automatically`,
    });
    expect(again).toMatchObject({ kind: 'decided', command: null });
    expect((await env.db.collection(Collections.outbox).where('topic', '==', Topics.commands).get()).size).toBe(1);
  });

  it('a release rolled back away from is quarantined, and a burn on the release returned to escalates', async () => {
    const first = await handle(alertCloudEvent('0.first', { observedAt: at(0) }));
    await progress('0.first', first.decision.rollbackId!, 'succeeded', { at: at(4) });
    const target = (await env.db.collection(Collections.targets).doc(targetDocIdFor(service())).get()).data() as TargetRecord;
    expect(target).toMatchObject({
      quarantined: [{ releaseId: 'rel-003', rollbackId: first.decision.rollbackId, incidentId: '0.first' }],
      returnedTo: { releaseId: 'rel-002', rollbackId: first.decision.rollbackId },
      serving: { releaseId: 'rel-002' },
    });

    const burnOnReturned = await handle(alertCloudEvent('0.second', { observedAt: at(90) }));
    expect(burnOnReturned.decision.action).toBe('escalate');
    expect(burnOnReturned.decision.reason).toMatch(
      /production serves rel-002, the release Burnback returned to .*ping-pong; quarantined: rel-003/,
    );
    expect(burnOnReturned).toMatchObject({ kind: 'decided', command: null });
  });

  it('a re-notification of an open incident with new figures is decided again, but never rolls back twice', async () => {
    const first = await handle(alertCloudEvent('0.live', { observedValue: 0.02, observedAt: at(0) }));
    const again = await handle(alertCloudEvent('0.live', { notificationId: 'ntf-0.live-2', observedValue: 0.4, observedAt: at(45) }));
    expect(first.decision.action).toBe('rollback');
    expect(again.kind).toBe('decided');
    expect(again.decision.decisionId).not.toBe(first.decision.decisionId);
    expect(again.decision).toMatchObject({
      action: 'hold',
      reason: expect.stringMatching(/already has its one rollback .*still in progress/),
    });
    const inc = await incident('0.live');
    expect(inc!.decisionIds).toEqual([first.decision.decisionId, again.decision.decisionId]);
    expect((await env.db.collection(Collections.outbox).where('topic', '==', Topics.commands).get()).size).toBe(1);
  });

  it('a redelivery of the same notification changes nothing and publishes no second decision event', async () => {
    const first = await handle(alertCloudEvent('0.dup', { observedAt: at(0) }));
    const redelivered = await handle(alertCloudEvent('0.dup', { observedAt: at(0), receivedAt: at(7) }));
    expect(redelivered).toMatchObject({ kind: 'duplicate', republished: false });
    // Marker: a later decision on the same ordering key; once its event is here, any second event of 0.dup would be too.
    const marker = await handle(alertCloudEvent('0.marker', { observedAt: at(1) }));
    await decisions.waitFor(1, (m) => m.attributes['ce-id'] === marker.decision.decisionId);
    expect(decisions.messages.map((m) => m.attributes['ce-id'])).toEqual([first.decision.decisionId, marker.decision.decisionId]);
    expect((await env.db.collection(Collections.decisions).get()).size).toBe(2);
  });

  it('an observed time in the future is clamped to the receipt time, the decision says so, and later rollbacks are not blocked', async () => {
    const future = await handle(alertCloudEvent('0.future', { observedAt: '2999-01-01T00:00:00.000Z', receivedAt: at(0) }));
    expect(future.decision.decidedAt).toBe(at(0));
    expect(future.decision.verdicts[0]).toEqual({
      rule: 'event-time',
      passed: true,
      detail: `observed time 2999-01-01T00:00:00.000Z is after the receipt time ${at(0)}: clamped to ${at(0)}`,
    });
    const later = await handle(alertCloudEvent('0.later', { observedAt: at(40) }));
    expect(later.decision.action).toBe('rollback');
  });

  it('every decision, rollback or refusal, arrives on burnback-decisions as dev.burnback.decision.v1', async () => {
    const rollback = await handle(alertCloudEvent('0.ev1', { observedAt: at(0) }));
    const hold = await handle(alertCloudEvent('0.ev2', { observedAt: at(5) }));
    // The failed rollback: the open incident is decided again at once, and escalates without waiting for a notification.
    clock.set(at(6));
    await progress('0.ev1', rollback.decision.rollbackId!, 'failed', { at: at(6) });
    const [, , again] = await decisions.waitFor(3);
    const escalate = await handle(alertCloudEvent('0.ev1', { notificationId: 'ntf-0.ev1-2', startedAt: at(0), observedAt: at(50) }));
    const events = await decisions.waitFor(4);
    expect(events.map((m) => m.attributes['ce-type'])).toEqual(Array(4).fill(EventTypes.decision));
    expect(events.map((m) => m.orderingKey)).toEqual(Array(4).fill('api-backend'));
    const data = events.map((m) => m.json<DecisionEvent>());
    expect(data.map((d) => [d.decisionId, d.action])).toEqual([
      [rollback.decision.decisionId, 'rollback'],
      [hold.decision.decisionId, 'hold'],
      [again!.attributes['ce-id'], 'escalate'],
      [escalate.decision.decisionId, 'escalate'],
    ]);
    expect(data[2]).toMatchObject({
      redecisionOf: rollback.decision.decisionId,
      reason: expect.stringContaining('which failed at'),
      redecideAt: null,
    });
    expect(data[0]).toEqual({
      decisionId: rollback.decision.decisionId,
      incidentId: '0.ev1',
      service: 'api-backend',
      action: 'rollback',
      reason: rollback.decision.reason,
      verdicts: rollback.decision.verdicts,
      decidedAt: at(0),
      rollbackId: rollback.decision.rollbackId,
      target: { project: service().project, region: 'us-central1', pipeline: 'api-backend-pipeline', target: 'production' },
      confidence: rollback.decision.confidence,
      cause: { releaseId: 'rel-002', servingSince: '2026-11-26T09:50:00.000Z' },
      redecisionOf: null,
      redecideAt: null,
      // The notifier resolves a page when the incident closes: every decision event says which state it decided on.
      incidentState: 'open',
    });
    // Burn 1, timing 1, rel-001 ran a day clean before rel-002 (1), no SLO (0.5).
    expect(data[0]!.confidence).toMatchObject({ value: 0.925, threshold: 0.8 });
    // The relay marks an entry sent after Pub/Sub took it, so a subscriber may see the event a moment before.
    await waitFor(
      async () => {
        const entries = (await env.db.collection(Collections.outbox).get()).docs.map((d) => d.data());
        return entries.length >= 4 && entries.every((e) => e.sentAt !== null) ? true : undefined;
      },
      { what: 'every outbox entry to be marked sent' },
    );
  });

  it('two decider processes racing on one service alerts produce exactly one rollback', async () => {
    const second = await startDeciderService({
      config: env.config(),
      pubsub: env.pubsub,
      db: env.db,
      logger: env.logger,
      relayIntervalMs: 0,
      clock,
    });
    const otherHandler = createDeciderHandler({ db: env.db, services: env.config().services, publisher, logger: env.logger, clock });
    // Racing transactions may fail transiently: each call is redelivered as its subscriber's event would be.
    try {
      // Two handler instances at once on notifications of one incident and of another.
      const direct = await Promise.all([
        redelivering(handle)(alertCloudEvent('0.race', { notificationId: 'ntf-r1', observedAt: at(0) })),
        redelivering(otherHandler)(alertCloudEvent('0.race', { notificationId: 'ntf-r2', observedValue: 0.3, observedAt: at(0) })),
        redelivering(otherHandler)(alertCloudEvent('0.race-b', { observedAt: at(0) })),
      ]);
      expect(direct.filter((o) => o.decision.action === 'rollback')).toHaveLength(1);
      // And two subscribers of burnback-decider, fed through Pub/Sub.
      const published = ['0.race', '0.race-c', '0.race-d'].map((id, i) =>
        alertCloudEvent(id, { notificationId: `ntf-sub-${i}`, observedAt: at(1) }),
      );
      for (const e of published) await publisher.publishEvent(Topics.alerts, e, 'api-backend');
      await waitFor(async () => (await env.db.collection(Collections.decisions).get()).size === 6, {
        what: 'six decisions',
        timeoutMs: 30_000,
      });
      const all = (await env.db.collection(Collections.decisions).get()).docs.map((d) => d.data());
      expect(all.filter((d) => d.action === 'rollback')).toHaveLength(1);
      const marker = await handle(alertCloudEvent('0.race-marker', { observedAt: at(2) }));
      await decisions.waitFor(1, (m) => m.attributes['ce-id'] === marker.decision.decisionId, 30_000);
      expect(commands.messages).toHaveLength(1);
      expect((await env.db.collection(Collections.outbox).where('topic', '==', Topics.commands).get()).size).toBe(1);
    } finally {
      await second.close();
    }
  });
});
