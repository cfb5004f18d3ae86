import { Collections, RuleNames, Topics, type DecisionRecord, type IncidentRecord } from '@burnback/contracts';
import { PubSubPublisher } from '@burnback/platform';
import {
  alertCloudEvent,
  createTestEnvironment,
  ManualClock,
  tapTopic,
  waitFor,
  type TestEnvironment,
  type TopicTap,
} from '@burnback/testkit';
import { createDecisionCore, startBulkLane, startDeciderService } from '../src/index.js';
import { shipped } from './shipped.js';

const alert = alertCloudEvent;
const clock = new ManualClock('2026-11-26T10:05:01.000Z');
const CLOSED_AT = '2026-11-26T10:20:00.000Z';

const decisionsOf = async (env: TestEnvironment, incidentId: string) =>
  (await env.db.collection(Collections.decisions).where('incidentId', '==', incidentId).get()).docs.map((d) => d.data() as DecisionRecord);
const incidentOf = async (env: TestEnvironment, incidentId: string) =>
  (await env.db.collection(Collections.incidents).doc(incidentId).get()).data() as IncidentRecord | undefined;

describe('the bulk lane on the emulators', () => {
  let env: TestEnvironment;
  let publisher: PubSubPublisher;
  let decisions: TopicTap;
  let commands: TopicTap;
  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'bulk-lane');
    publisher = new PubSubPublisher(env.pubsub);
    decisions = await tapTopic(env.pubsub, Topics.decisions);
    commands = await tapTopic(env.pubsub, Topics.commands);
    await shipped(env, 'rel-002', '2026-11-26T09:50:00.000Z');
  });
  afterEach(async () => {
    await Promise.all([decisions.close(), commands.close()]);
    await publisher.close();
    await env.close();
  });

  it('decides a backlog of alerts that cannot roll back, once each, and a burn behind it rolls back', async () => {
    const decider = await startDeciderService({
      config: env.config(),
      pubsub: env.pubsub,
      db: env.db,
      logger: env.logger,
      clock,
      relayIntervalMs: 0,
    });
    try {
      const noise = Array.from({ length: 300 }, (_, i) =>
        i % 2 === 0
          ? alert(`0.calm-${i}`, { observedValue: 0.004 })
          : alert(`0.calm-${i}`, { state: 'closed', endedAt: CLOSED_AT, observedAt: '2026-11-26T10:20:05.000Z', observedValue: 0.002 }),
      );
      await Promise.all(noise.map((e) => publisher.publishEvent(Topics.alertsBulk, e, e.data.service)));
      // The same notification delivered twice more: still one decision each.
      await Promise.all(noise.slice(0, 20).map((e) => publisher.publishEvent(Topics.alertsBulk, e, e.data.service)));
      await publisher.publishEvent(Topics.alerts, alert('0.burn'), 'api-backend');

      const [command] = await commands.waitFor(1, undefined, 60_000);
      expect(command!.json()).toMatchObject({ incidentId: '0.burn', service: 'api-backend' });
      // Each decision's event at least once: a notification delivered again while its first decision's event was
      // being sent sends that event again (at least once; consumers go by its id), so count distinct ids.
      const eventIds = () => decisions.messages.map((e) => e.attributes['ce-id']!);
      await waitFor(() => new Set(eventIds()).size >= 301, {
        timeoutMs: 60_000,
        what: () => `301 decision events (${new Set(eventIds()).size})`,
      });
      const records = (await env.db.collection(Collections.decisions).get()).docs.map((d) => d.data() as DecisionRecord);
      expect(records).toHaveLength(301);
      const bulk = records.filter((r) => r.incidentId !== '0.burn');
      expect(bulk.every((r) => r.evidence?.lane === 'bulk' && r.evidence.state === null && r.action === 'hold')).toBe(true);
      expect(bulk.every((r) => r.verdicts.at(-1)!.rule === RuleNames.lane)).toBe(true);
      expect(
        bulk
          .filter((r) => r.incidentState === 'open')
          .every((r) => r.reason === 'no rollback: error ratio 0.4 % does not exceed the threshold of 1 %'),
      ).toBe(true);
      expect(bulk.filter((r) => r.incidentState === 'closed').every((r) => r.reason.endsWith('is closed: the service recovered'))).toBe(
        true,
      );
      // Every decision's event went out; one went out again only for a notification that was delivered again.
      expect(new Set(eventIds()).size).toBe(301);
      const incidentOfDecision = new Map(records.map((r) => [r.decisionId, r.incidentId]));
      const deliveredAgain = new Set(noise.slice(0, 20).map((e) => e.data.incidentId));
      const repeated = eventIds().filter((id, i, all) => all.indexOf(id) !== i);
      expect(repeated.filter((id) => !deliveredAgain.has(incidentOfDecision.get(id)!))).toEqual([]);
      const burn = records.find((r) => r.incidentId === '0.burn')!;
      expect(burn.action).toBe('rollback');
      expect(burn.evidence!.lane).toBeUndefined();
      // The outbox holds the burn's entries (its command, its decision event), all sent; the bulk lane wrote none.
      const outbox = await env.db.collection(Collections.outbox).get();
      expect(outbox.docs.map((d) => d.id).sort()).toEqual([burn.decisionId, burn.rollbackId!].sort());
      expect(outbox.docs.every((d) => d.get('sentAt') !== null)).toBe(true);
      // A close ends its incident; an open below its bar leaves it open.
      expect(await incidentOf(env, '0.calm-1')).toMatchObject({ state: 'closed', endedAt: CLOSED_AT });
      expect(await incidentOf(env, '0.calm-0')).toMatchObject({ state: 'open' });
    } finally {
      await decider.close();
    }
  }, 120_000);

  it('a close in the bulk lane ends an incident the fast lane held, and cancels its next decision; a late open is held', async () => {
    const decider = await startDeciderService({
      config: env.config(),
      pubsub: env.pubsub,
      db: env.db,
      logger: env.logger,
      clock,
      relayIntervalMs: 0,
      redecisions: { sweep: false },
    });
    try {
      // Paused: the burn is held, and decided again when the pause ends.
      await env.db
        .collection(Collections.controls)
        .doc('api-backend')
        .set({
          service: 'api-backend',
          pause: { until: '2026-11-26T11:00:00.000Z', reason: 'deploy', by: 'sre', at: '2026-11-26T10:00:00.000Z' },
          audit: [],
          updatedAt: '2026-11-26T10:00:00.000Z',
        });
      await publisher.publishEvent(Topics.alerts, alert('0.held'), 'api-backend');
      await waitFor(async () => (await decisionsOf(env, '0.held')).length === 1 || undefined, { what: 'the held decision' });
      expect((await env.db.collection(Collections.redecisions).doc('0.held').get()).exists).toBe(true);

      const close = alert('0.held', { state: 'closed', endedAt: CLOSED_AT, observedAt: '2026-11-26T10:20:05.000Z', observedValue: 0.002 });
      await publisher.publishEvent(Topics.alertsBulk, close, 'api-backend');
      await waitFor(async () => (await decisionsOf(env, '0.held')).length === 2 || undefined, { what: 'the close decision' });
      const incident = await incidentOf(env, '0.held');
      expect(incident).toMatchObject({ state: 'closed', endedAt: CLOSED_AT });
      expect(incident!.decisionIds).toHaveLength(2);
      expect((await env.db.collection(Collections.redecisions).doc('0.held').get()).exists).toBe(false);

      // An open over its bar after the close: the fast lane reads the incident the bulk lane closed.
      await publisher.publishEvent(
        Topics.alerts,
        alert('0.held', { notificationId: 'ntf-late', observedAt: '2026-11-26T10:21:00.000Z' }),
        'api-backend',
      );
      await waitFor(async () => (await decisionsOf(env, '0.held')).length === 3 || undefined, { what: 'the late open' });
      const late = (await decisionsOf(env, '0.held')).find(
        (d) => d.alertEventId === 'ntf-late' || d.evidence?.alert.notificationId === 'ntf-late',
      )!;
      expect(late.action).toBe('hold');
      expect(late.reason).toMatch(/already closed at 2026-11-26T10:20:00.000Z: this open notification arrived late/);
      expect(commands.messages).toHaveLength(0);
    } finally {
      await decider.close();
    }
  }, 60_000);

  it('when the fast lane decides an incident while a batch is being written, the batch gives way and is decided again on what the fast lane left', async () => {
    const core = createDecisionCore({ db: env.db, services: env.config().services, publisher, logger: env.logger, clock });
    let race: Promise<unknown> | null = null;
    const lane = startBulkLane({
      db: env.db,
      services: env.config().services,
      publisher,
      logger: env.logger,
      clock,
      decideAlert: core.decideAlert,
      // Between the batch's read and its write, the fast lane decides a burn on the same incident.
      beforeWrite: async () => {
        race ??= core.decideAlert(alert('0.raced').data, 'ntf-raced-burn');
        await race;
      },
    });
    const below = alert('0.raced', { observedValue: 0.004, notificationId: 'ntf-raced-below' });
    const elsewhere = alert('0.quiet', { observedValue: 0.004 });
    await Promise.all([lane.decide(below.data, below.id), lane.decide(elsewhere.data, elsewhere.id)]);
    await lane.close();
    const raced = await decisionsOf(env, '0.raced');
    expect(raced.map((d) => d.action).sort()).toEqual(['hold', 'rollback']);
    // Decided after the burn, planned again on a fresh read: on the incident the burn left, which it does not undo.
    const held = raced.find((d) => d.action === 'hold')!;
    expect(held.evidence!.lane).toBe('bulk');
    expect(held.evidence!.incident).toMatchObject({ lastDecisionId: raced.find((d) => d.action === 'rollback')!.decisionId });
    expect(await incidentOf(env, '0.raced')).toMatchObject({
      decisionIds: [raced.find((d) => d.action === 'rollback')!.decisionId, held.decisionId],
      rollback: { rollbackId: raced.find((d) => d.action === 'rollback')!.rollbackId },
    });
    expect((await decisionsOf(env, '0.quiet')).map((d) => d.action)).toEqual(['hold']);
  }, 60_000);

  it('a batch that keeps conflicting is decided by the fast lane, alert by alert', async () => {
    const core = createDecisionCore({ db: env.db, services: env.config().services, publisher, logger: env.logger, clock });
    const below = alert('0.busy', { observedValue: 0.004 });
    let writes = 0;
    const incident: IncidentRecord = {
      incidentId: '0.busy',
      service: 'api-backend',
      state: 'open',
      startedAt: '2026-11-26T10:00:00.000Z',
      endedAt: null,
      observedAt: '2026-11-26T10:01:00.000Z',
      lastDecisionId: 'dec-earlier',
      decisionIds: ['dec-earlier'],
      rollback: null,
      supersededRollbacks: [],
      monitoringUnavailableSince: null,
    };
    await env.db.collection(Collections.incidents).doc('0.busy').set(incident);
    const lane = startBulkLane({
      db: env.db,
      services: env.config().services,
      publisher,
      logger: env.logger,
      clock,
      decideAlert: core.decideAlert,
      // Something writes the incident between every read and write of the batch.
      beforeWrite: async () => {
        writes += 1;
        await env.db
          .collection(Collections.incidents)
          .doc('0.busy')
          .update({ observedAt: `2026-11-26T10:0${writes}:30.000Z` });
      },
    });
    await lane.decide(below.data, below.id);
    await lane.close();
    expect(writes).toBe(3);
    const [decision] = await decisionsOf(env, '0.busy');
    expect(decision).toMatchObject({ action: 'hold', reason: 'no rollback: error ratio 0.4 % does not exceed the threshold of 1 %' });
    expect(decision!.evidence!.lane).toBeUndefined();
    await decisions.waitFor(1, (m) => m.attributes['ce-id'] === decision!.decisionId);
  }, 60_000);

  it('a decision event that did not go out after its batch was written goes out when the alert is delivered again', async () => {
    const core = createDecisionCore({ db: env.db, services: env.config().services, publisher, logger: env.logger, clock });
    let refusals = 1;
    // Pub/Sub refuses the first decision event the lane publishes, as when the decider dies between commit and publish.
    const flaky = {
      publishEvent: (...args: Parameters<PubSubPublisher['publishEvent']>) =>
        refusals-- > 0 ? Promise.reject(new Error('Pub/Sub unavailable')) : publisher.publishEvent(...args),
    } as unknown as PubSubPublisher;
    const lane = startBulkLane({
      db: env.db,
      services: env.config().services,
      publisher: flaky,
      logger: env.logger,
      clock,
      decideAlert: core.decideAlert,
    });
    const below = alert('0.lost', { observedValue: 0.004 });
    await expect(lane.decide(below.data, below.id)).rejects.toThrow('Pub/Sub unavailable');
    const [decision] = await decisionsOf(env, '0.lost');
    expect(decision).toMatchObject({ action: 'hold', incidentState: 'open' });
    expect(decision!.evidence!.lane).toBe('bulk');
    expect((await env.db.collection(Collections.outbox).doc(decision!.decisionId).get()).exists).toBe(false);

    // The redelivery: the decision is on record, so nothing is decided again and its event goes out, as the lane builds it.
    await lane.decide(below.data, below.id);
    await lane.close();
    expect(await decisionsOf(env, '0.lost')).toHaveLength(1);
    const [event] = await decisions.waitFor(1, (m) => m.attributes['ce-id'] === decision!.decisionId);
    expect(event!.json()).toMatchObject({
      decisionId: decision!.decisionId,
      action: 'hold',
      incidentState: 'open',
      reason: decision!.reason,
    });
    // And through the fast lane's path, should the same notification take that lane when delivered once more.
    const outcome = await core.decideAlert(below.data, below.id);
    expect(outcome.kind).toBe('duplicate');
    await decisions.waitFor(2, (m) => m.attributes['ce-id'] === decision!.decisionId);
  }, 60_000);
});
