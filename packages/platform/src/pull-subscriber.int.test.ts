import { v1 } from '@google-cloud/pubsub';
import { DeadLetterAttributes, InvalidEventError, Subscriptions, Topics, TransientError } from '@burnback/contracts';
import {
  capturedLogger,
  createTestEnvironment,
  ensureTopology,
  settle,
  tapTopic,
  waitFor,
  type TestEnvironment,
  type TopicTap,
} from '@burnback/testkit';
import {
  LEASE_CEILING,
  PubSubPublisher,
  startPullSubscriber,
  type PullSubscriberOptions,
  type ReceivedMessage,
  type RunningSubscriber,
} from './index.js';

/** The pull subscriber on burnback-ingest (unordered, as the subscriptions it serves are), on the emulator. */
describe('the pull subscriber on the emulator', () => {
  let env: TestEnvironment;
  let publisher: PubSubPublisher;
  let deadLetters: TopicTap;
  const running: RunningSubscriber[] = [];

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'pull');
    publisher = new PubSubPublisher(env.pubsub);
    deadLetters = await tapTopic(env.pubsub, Topics.deadLetter);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.close()));
    await deadLetters.close();
    await publisher.close();
    await env.close();
  });

  const subscribe = (options: Pick<PullSubscriberOptions, 'handler'> & Partial<PullSubscriberOptions>) => {
    const s = startPullSubscriber({
      pubsub: env.pubsub,
      subscription: Subscriptions.ingest.name,
      deadLetter: publisher,
      logger: env.logger,
      maxInFlight: 20,
      ...options,
    });
    running.push(s);
    return s;
  };
  const closeAll = async () => Promise.all(running.splice(0).map((s) => s.close()));
  const publish = (id: string) => publisher.publishRaw(Topics.monitoringIncidents, Buffer.from(id), {});
  const idOf = (m: ReceivedMessage) => m.data.toString();
  const MARKER = 'marker';

  /**
   * The positive control before asserting that nothing else happened: closes every subscriber, takes a marker with a
   * bare Pull and leaves it unanswered for one lease (LEASE_CEILING), then starts a new subscriber with `handler` and
   * waits until the marker comes back to it. Whatever the closed subscribers left unanswered or un-acked had its lease
   * run out before the marker's, so it is handed out again by then: nacked at once, lapsed within a lease.
   */
  const reopenUntilMarker = async (handler: PullSubscriberOptions['handler'], markerSeen: () => boolean) => {
    await closeAll();
    await publish(MARKER);
    const bare = new v1.SubscriberClient((await env.pubsub.getClientConfig()) as ConstructorParameters<typeof v1.SubscriberClient>[0]);
    try {
      const subscription = bare.subscriptionPath(env.pubsub.projectId, Subscriptions.ingest.name);
      await waitFor(
        async () => {
          const [response] = await bare.pull({ subscription, maxMessages: 1 }, { timeout: 5_000 });
          const m = response.receivedMessages?.[0];
          if (!m?.ackId) return false;
          const isMarker = Buffer.from(m.message?.data ?? '').toString() === MARKER;
          // Anything else goes straight back to Pub/Sub for the new subscriber; the marker is leased for one lease.
          const seconds = isMarker ? LEASE_CEILING.totalOf('second') : 0;
          await bare.modifyAckDeadline({ subscription, ackIds: [m.ackId], ackDeadlineSeconds: seconds });
          return isMarker;
        },
        { timeoutMs: 30_000, what: 'the marker, by a bare Pull' },
      );
    } finally {
      await bare.close();
    }
    subscribe({ handler });
    await waitFor(markerSeen, { timeoutMs: 40_000, what: 'the marker back after its lease' });
  };

  it('acks after the handler succeeds, so a handled message is not handed out again', async () => {
    const seen: string[] = [];
    const handler = async (m: ReceivedMessage) => void seen.push(idOf(m));
    subscribe({ handler });
    await publish('one');
    await waitFor(() => seen.length === 1, { what: 'one delivery' });
    expect(seen[0]).toBe('one');
    await reopenUntilMarker(handler, () => seen.includes(MARKER));
    expect(seen).toEqual(['one', MARKER]);
  }, 60_000);

  it('dead-letters a permanently bad message with its reason, acks it, and handles the valid one beside it', async () => {
    const seen: string[] = [];
    const handler = async (m: ReceivedMessage) => {
      seen.push(idOf(m));
      if (idOf(m) === 'bad') throw new InvalidEventError('not a notification');
    };
    subscribe({ handler });
    await publish('bad');
    await publish('good');
    const [dead] = await deadLetters.waitFor(1);
    expect(dead!.data.toString()).toBe('bad');
    expect(dead!.attributes[DeadLetterAttributes.reason]).toBe('not a notification');
    expect(dead!.attributes[DeadLetterAttributes.source]).toBe(Subscriptions.ingest.name);
    await waitFor(() => seen.includes('good'), { what: 'the valid message' });
    await reopenUntilMarker(handler, () => seen.includes(MARKER));
    expect(seen.filter((id) => id === 'bad')).toHaveLength(1);
    expect(deadLetters.messages).toHaveLength(1);
  }, 60_000);

  it('nacks on a transient error, so the message comes back until it succeeds', async () => {
    const attempts: ReceivedMessage[] = [];
    subscribe({
      handler: async (m) => {
        attempts.push(m);
        if (attempts.length < 3) throw new TransientError('Firestore is having a moment');
      },
    });
    await publish('retry');
    await waitFor(() => attempts.length >= 3, { timeoutMs: 30_000, what: 'three deliveries' });
    expect(new Set(attempts.map((a) => a.id)).size).toBe(1);
    expect(attempts.map((a) => a.deliveryAttempt)).toEqual([1, 2, 3]);
    expect(deadLetters.messages).toHaveLength(0);
  }, 60_000);

  it('never takes more than its window from Pub/Sub: what it has no room for stays with Pub/Sub for another consumer', async () => {
    const first: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    subscribe({
      maxInFlight: 5,
      handler: async (m) => {
        first.push(idOf(m));
        await gate;
      },
    });
    for (let i = 0; i < 30; i++) await publish(`m${i}`);
    await waitFor(() => first.length === 5, { what: 'the window to fill' });
    // The positive control: a second consumer gets every message the first left with Pub/Sub, and no other.
    const second: string[] = [];
    subscribe({ maxInFlight: 100, handler: async (m) => void second.push(idOf(m)) });
    await waitFor(() => second.length >= 25, { timeoutMs: 30_000, what: 'the 25 left with Pub/Sub' });
    expect(first).toHaveLength(5);
    expect(new Set([...first, ...second]).size).toBe(30);
    release();
  }, 60_000);

  it('a handler slower than the lease keeps its message: the lease is extended while it runs', async () => {
    const seen: string[] = [];
    const handler = async (m: ReceivedMessage) => {
      seen.push(idOf(m));
      if (idOf(m) === 'slow') await settle(LEASE_CEILING.totalOf('second') * 1000 + 3_000);
    };
    // Two consumers: a lapsed lease would hand the slow message to the other one while the first still holds it.
    subscribe({ handler });
    subscribe({ handler });
    await publish('slow');
    await waitFor(() => seen.includes('slow'), { what: 'the slow message' });
    await publish('after');
    await waitFor(() => seen.includes('after'), { timeoutMs: 30_000, what: 'the message after it' });
    await reopenUntilMarker(handler, () => seen.includes(MARKER));
    expect(seen).toEqual(['slow', 'after', MARKER]);
  }, 90_000);

  it('close() waits for the message in hand to finish, and its ack is sent', async () => {
    let finished = false;
    const seen: string[] = [];
    const s = subscribe({
      handler: async (m) => {
        seen.push(idOf(m));
        await settle(500);
        finished = true;
      },
    });
    await publish('drain');
    await waitFor(() => seen.length === 1, { what: 'the handler to start' });
    await s.close();
    expect(finished).toBe(true);
    await reopenUntilMarker(
      async (m) => void seen.push(idOf(m)),
      () => seen.includes(MARKER),
    );
    expect(seen).toEqual(['drain', MARKER]);
  }, 60_000);

  it('messages that can wait run a bounded number at a time, and one that cannot starts at once beside them', async () => {
    const started: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const canWait = (id: string) => id.startsWith('later.');
    subscribe({
      later: { isLater: (m) => canWait(idOf(m)), atOnce: 1 },
      handler: async (m) => {
        started.push(idOf(m));
        if (canWait(idOf(m))) await gate;
      },
    });
    await publish('later.1');
    await publish('later.2');
    await waitFor(() => started.includes('later.1') || started.includes('later.2'), { what: 'one message that can wait to start' });
    await publish('now.1');
    await waitFor(() => started.includes('now.1'), { what: 'the message that cannot wait to start' });
    expect(started.filter(canWait)).toHaveLength(1);
    release();
    await waitFor(() => started.includes('later.1') && started.includes('later.2'), { what: 'the second to get its turn' });
    expect(started).toHaveLength(3);
  }, 60_000);

  it('pulls again after its subscription comes back, and tells its owner when pulling keeps failing', async () => {
    const handled: string[] = [];
    const closed: Error[] = [];
    const log = capturedLogger('pull-test');
    subscribe({
      handler: async (m) => void handled.push(idOf(m)),
      logger: log.logger,
      reopen: { attempts: 50, minDelayMs: 100, maxDelayMs: 200 },
      onUnexpectedClose: (err) => closed.push(err),
    });
    await publish('up');
    await waitFor(() => handled.includes('up'), { what: 'the subscriber to consume' });
    await env.pubsub.subscription(Subscriptions.ingest.name).delete();
    // A Pull already waiting for messages may end only with its timeout: publishing makes the emulator answer it.
    await waitFor(
      async () => {
        await publish('nudge');
        return log.lines.some((l) => l.message === 'pull failed; pulling again');
      },
      { timeoutMs: 40_000, intervalMs: 500, what: 'a failed pull to be retried' },
    );
    await ensureTopology(env.pubsub, { maxDeliveryAttempts: 5, retryPolicy: true });
    await publish('after');
    await waitFor(() => handled.includes('after'), { timeoutMs: 30_000, what: 'the subscriber to consume again' });
    expect(closed).toEqual([]);

    // Now for good: after its attempts it says so, once.
    await closeAll();
    const gone: Error[] = [];
    await env.pubsub.subscription(Subscriptions.ingest.name).delete();
    subscribe({
      handler: async () => undefined,
      reopen: { attempts: 2, minDelayMs: 50, maxDelayMs: 100 },
      onUnexpectedClose: (err) => gone.push(err),
    });
    await waitFor(() => gone.length === 1, { timeoutMs: 30_000, what: 'onUnexpectedClose' });
    expect(gone[0]!.message).toMatch(/NOT_FOUND|does not exist/i);
  }, 120_000);
});
