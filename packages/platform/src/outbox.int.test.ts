import { Collections, EventTypes, Topics, type OutboxEntry, type RollbackCommand } from '@burnback/contracts';
import { capturedLogger, createTestEnvironment, tapTopic, waitFor, type TestEnvironment, type TopicTap } from '@burnback/testkit';
import { MAX_COMMAND_SENDS, PubSubPublisher, startOutboxRelay, toFirestoreData, type OutboxRelay } from './index.js';

/** An outbox entry as the decider writes it, left unsent (a crash between commit and publish). */
const unsentEntry = (rollbackId: string, createdAt: Date): OutboxEntry => {
  const command: RollbackCommand = {
    rollbackId,
    decisionId: `dec-${rollbackId}`,
    incidentId: '0.outbox',
    service: 'api-backend',
    project: 'p',
    region: 'us-central1',
    pipeline: 'api-backend-pipeline',
    target: 'production',
    rolloutId: `burnback-rb-${rollbackId}`,
    releaseId: null,
    reason: 'test',
    requestedAt: createdAt.toISOString(),
  };
  return {
    id: rollbackId,
    topic: Topics.commands,
    orderingKey: 'api-backend',
    eventType: EventTypes.rollbackCommand,
    eventId: rollbackId,
    subject: `services/api-backend/rollbacks/${rollbackId}`,
    time: createdAt.toISOString(),
    data: command,
    createdAt: createdAt.toISOString(),
    sentAt: null,
    attempts: 0,
  };
};

describe('the outbox relay on the emulators', () => {
  let env: TestEnvironment;
  let publisher: PubSubPublisher;
  let relay: OutboxRelay | undefined;
  let commands: TopicTap | undefined;

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'outbox');
    publisher = new PubSubPublisher(env.pubsub);
  });
  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
    await commands?.close();
    commands = undefined;
    await publisher.close();
    await env.close();
  });

  const write = (entry: OutboxEntry) => env.db.collection(Collections.outbox).doc(entry.id).set(toFirestoreData(entry));
  const read = async (id: string) => (await env.db.collection(Collections.outbox).doc(id).get()).data() as OutboxEntry;
  const sentIds = () => commands!.messages.map((m) => m.attributes['ce-id']);

  it('on its own timer, sends an unsent entry only once it is older than the age guard, and only once', async () => {
    commands = await tapTopic(env.pubsub, Topics.commands);
    const minAgeMs = 2_000;
    const young = unsentEntry('rb-young', new Date());
    const old = unsentEntry('rb-old', new Date(Date.now() - 60_000));
    await write(young);
    await write(old);
    relay = startOutboxRelay({ db: env.db, publisher, logger: env.logger, intervalMs: 100, minAgeMs });

    await commands.waitFor(2, undefined, 20_000);
    const [sentYoung, sentOld] = [await read('rb-young'), await read('rb-old')];
    // The young entry waited out the guard (the decider's own publish right after commit gets that head start).
    expect(Date.parse(sentYoung.sentAt!) - Date.parse(sentYoung.createdAt)).toBeGreaterThanOrEqual(minAgeMs);
    expect(Date.parse(sentOld.sentAt!)).toBeLessThan(Date.parse(sentYoung.sentAt!));
    expect(sentIds()).toEqual(['rb-old', 'rb-young']);

    // Positive control: an entry written now and sorted after the others is sent by a later scan,
    // on the same ordering key; a scan that re-sent anything would have published it first.
    await write(unsentEntry('rb-marker', new Date(Date.parse(young.createdAt) + 1)));
    await commands.waitFor(1, (m) => m.attributes['ce-id'] === 'rb-marker');
    expect(sentIds()).toEqual(['rb-old', 'rb-young', 'rb-marker']);
    expect((await read('rb-young')).attempts).toBe(1);
  });

  it('sends a command again while nothing confirms it, one resend interval after its last send; never a confirmed one', async () => {
    commands = await tapTopic(env.pubsub, Topics.commands);
    const created = new Date(Date.now() - 600_000);
    const sentAt = Date.parse(created.toISOString()) + 1_000;
    const sent = (id: string, confirmedAt?: string | null): OutboxEntry => ({
      ...unsentEntry(id, created),
      sentAt: new Date(sentAt).toISOString(),
      attempts: 1,
      ...(confirmedAt !== undefined ? { confirmedAt } : {}),
    });
    await write(sent('rb-lost', null));
    await write(sent('rb-confirmed', new Date(sentAt + 2_000).toISOString()));
    // Written before commands were confirmed: no field, never sent again (the relay cannot tell).
    await write(sent('rb-legacy'));
    let clock = sentAt + 9_999;
    relay = startOutboxRelay({
      db: env.db,
      publisher,
      logger: env.logger,
      intervalMs: 0,
      minAgeMs: 0,
      resendAfterMs: 10_000,
      now: () => new Date(clock),
    });
    expect(await relay.runOnce()).toBe(0);
    clock = sentAt + 10_000;
    expect(await relay.runOnce()).toBe(1);
    await commands.waitFor(1, (m) => m.attributes['ce-id'] === 'rb-lost');
    expect(await read('rb-lost')).toMatchObject({ attempts: 2, sentAt: new Date(clock).toISOString(), confirmedAt: null });
    // Just sent: the next send waits for another interval from now.
    clock += 9_999;
    expect(await relay.runOnce()).toBe(0);

    // Positive control before "nothing else was sent": an unsent entry, sent by the same scan, arrives after them.
    await write(unsentEntry('rb-marker', created));
    expect(await relay.runOnce()).toBe(1);
    await commands.waitFor(1, (m) => m.attributes['ce-id'] === 'rb-marker');
    expect(sentIds()).toEqual(['rb-lost', 'rb-marker']);
  });

  it(`stops sending an unconfirmed command after ${MAX_COMMAND_SENDS} sends and hands it over to be failed, saying so at error`, async () => {
    commands = await tapTopic(env.pubsub, Topics.commands);
    const { logger, lines } = capturedLogger('decider');
    const created = new Date(Date.now() - 600_000);
    await write({ ...unsentEntry('rb-last', created), sentAt: created.toISOString(), attempts: MAX_COMMAND_SENDS - 1, confirmedAt: null });
    const givenUp: string[] = [];
    relay = startOutboxRelay({
      db: env.db,
      publisher,
      logger,
      intervalMs: 0,
      minAgeMs: 0,
      resendAfterMs: 1_000,
      onGiveUp: async (entry) => void givenUp.push(entry.id),
    });
    expect(await relay.runOnce()).toBe(1);
    await commands.waitFor(1, (m) => m.attributes['ce-id'] === 'rb-last');
    await waitFor(() => lines.find((l) => l.event === 'outbox_resent'), { what: 'the last resend to be logged' });
    expect(lines.find((l) => l.event === 'outbox_resent')).toMatchObject({
      severity: 'ERROR',
      message: expect.stringMatching(
        /^command rb-last sent again: .*that was its last automatic send \(20\): unconfirmed after the next interval, its rollback is failed$/,
      ),
    });
    // Still unconfirmed a resend interval after that last send: handed over to be failed, and never sent again.
    await write({ ...(await read('rb-last')), sentAt: created.toISOString() });
    expect(await relay.runOnce()).toBe(0);
    expect(givenUp).toEqual(['rb-last']);
    const entry = await read('rb-last');
    expect(entry.gaveUpAt).toEqual(expect.any(String));
    expect(entry.confirmedAt).toBe(entry.gaveUpAt);
    await waitFor(() => lines.find((l) => l.event === 'outbox_given_up'), { what: 'the give-up to be logged' });
    expect(lines.find((l) => l.event === 'outbox_given_up')).toMatchObject({
      severity: 'ERROR',
      message:
        'command rb-last was sent 20 times and never confirmed: Burnback stopped sending it and failed its rollback (look at the executor)',
    });
    // A newer command behind it is not crowded out: it goes out, and the given-up one is neither sent nor handed over again.
    await write({ ...unsentEntry('rb-newer', created), sentAt: created.toISOString(), attempts: 1, confirmedAt: null });
    expect(await relay.runOnce()).toBe(1);
    await commands.waitFor(1, (m) => m.attributes['ce-id'] === 'rb-newer');
    expect(givenUp).toEqual(['rb-last']);
    expect(commands.messages.filter((m) => m.attributes['ce-id'] === 'rb-last')).toHaveLength(1);
  });

  it('a give-up that fails is tried again on the next run, and the entry is not marked meanwhile', async () => {
    const created = new Date(Date.now() - 600_000);
    await write({ ...unsentEntry('rb-flaky', created), sentAt: created.toISOString(), attempts: MAX_COMMAND_SENDS, confirmedAt: null });
    let failures = 1;
    const givenUp: string[] = [];
    relay = startOutboxRelay({
      db: env.db,
      publisher,
      logger: env.logger,
      intervalMs: 0,
      minAgeMs: 0,
      resendAfterMs: 1_000,
      onGiveUp: async (entry) => {
        if (failures-- > 0) throw new Error('Firestore unavailable');
        givenUp.push(entry.id);
      },
    });
    expect(await relay.runOnce()).toBe(0);
    expect((await read('rb-flaky')).gaveUpAt ?? null).toBeNull();
    expect(await relay.runOnce()).toBe(0);
    expect(givenUp).toEqual(['rb-flaky']);
    expect((await read('rb-flaky')).gaveUpAt).toEqual(expect.any(String));
  });

  it('a relay publish that fails leaves the entry unsent and counts the attempt; it goes out once the topic exists', async () => {
    await env.pubsub.topic(Topics.commands).delete();
    await write(unsentEntry('rb-stuck', new Date(Date.now() - 60_000)));
    relay = startOutboxRelay({ db: env.db, publisher, logger: env.logger, intervalMs: 100, minAgeMs: 0 });
    const stuck = await waitFor(
      async () => {
        const entry = await read('rb-stuck');
        return entry.attempts >= 2 ? entry : undefined;
      },
      { what: 'two failed relay attempts counted' },
    );
    expect(stuck.sentAt).toBeNull();

    // No relay runs while the topic and our subscription come back (a message published in between would be dropped).
    await relay.stop();
    await env.pubsub.createTopic(Topics.commands);
    commands = await tapTopic(env.pubsub, Topics.commands);
    const failed = (await read('rb-stuck')).attempts;
    relay = startOutboxRelay({ db: env.db, publisher, logger: env.logger, intervalMs: 100, minAgeMs: 0 });

    const [command] = await commands.waitFor(1);
    expect(command!.attributes['ce-id']).toBe('rb-stuck');
    const sent = await waitFor(async () => {
      const entry = await read('rb-stuck');
      return entry.sentAt ? entry : undefined;
    });
    expect(sent.attempts).toBe(failed + 1);
  });

  it('an entry that no longer fits its schema is reported by name and does not hold up the others', async () => {
    commands = await tapTopic(env.pubsub, Topics.commands);
    const { logger, lines } = capturedLogger('decider');
    // Written by an older release: no command data, a numeric createdAt.
    await env.db
      .collection(Collections.outbox)
      .doc('rb-legacy')
      .set({ id: 'rb-legacy', topic: Topics.commands, sentAt: null, createdAt: 1 });
    await write(unsentEntry('rb-valid', new Date(Date.now() - 60_000)));

    relay = startOutboxRelay({ db: env.db, publisher, logger, intervalMs: 0, minAgeMs: 0 });
    expect(await relay.runOnce()).toBe(1);
    await commands.waitFor(1, (m) => m.attributes['ce-id'] === 'rb-valid');
    await waitFor(() => lines.find((l) => l.event === 'outbox_invalid'), { what: 'the invalid entry to be logged' });
    expect(lines.find((l) => l.event === 'outbox_invalid')).toMatchObject({
      severity: 'ERROR',
      message: expect.stringMatching(/^outbox\/rb-legacy does not fit the OutboxEntry schema.*eventType/s),
    });
    expect((await env.db.collection(Collections.outbox).doc('rb-legacy').get()).data()).toMatchObject({ sentAt: null });
  });
});
