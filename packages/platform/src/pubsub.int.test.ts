import {
  DeadLetterAttributes,
  EventTypes,
  InvalidEventError,
  Subscriptions,
  Topics,
  TransientError,
  decodeCloudEvent,
} from '@burnback/contracts';
import {
  alertCloudEvent,
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
  startSubscriber,
  type ReceivedMessage,
  type RunningSubscriber,
  type SubscriberOptions,
} from './index.js';

describe('the Pub/Sub subscriber on the emulator', () => {
  let env: TestEnvironment;
  let publisher: PubSubPublisher;
  let deadLetters: TopicTap;
  let subscriber: RunningSubscriber | undefined;

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'pubsub');
    publisher = new PubSubPublisher(env.pubsub);
    deadLetters = await tapTopic(env.pubsub, Topics.deadLetter);
  });
  afterEach(async () => {
    await subscriber?.close();
    subscriber = undefined;
    await deadLetters.close();
    await publisher.close();
    await env.close();
  });

  /** The subscriber under test on burnback-decider, dead-lettering through this test's publisher. */
  const subscribe = (options: Pick<SubscriberOptions, 'handler'> & Partial<SubscriberOptions>) =>
    startSubscriber({
      pubsub: env.pubsub,
      subscription: Subscriptions.decider.name,
      deadLetter: publisher,
      logger: env.logger,
      ...options,
    });

  const publishAlert = (incidentId: string) => publisher.publishEvent(Topics.alerts, alertCloudEvent(incidentId), 'api-backend');
  const incidentOf = (m: ReceivedMessage) => decodeCloudEvent(m, [EventTypes.alert]).data.incidentId;
  const MARKER = '0.marker';

  /**
   * The positive control before asserting that nothing else happened: closes the
   * subscriber (the client library then nacks anything it still holds unacked, so
   * it is redelivered at once), starts a new one with the same handler, publishes a
   * marker on the same ordering key and waits until the handler has seen it.
   * Pub/Sub delivers a key in order, so any redelivery comes before the marker.
   */
  const reopenUntilMarker = async (handler: SubscriberOptions['handler'], markerSeen: () => boolean) => {
    await subscriber?.close();
    subscriber = subscribe({ handler });
    await publishAlert(MARKER);
    await waitFor(markerSeen, { timeoutMs: 30_000, what: 'the marker published behind the message under test' });
  };

  it('acks after the handler succeeds, so a handled message is not redelivered', async () => {
    const seen: string[] = [];
    const handler = async (m: ReceivedMessage) => {
      seen.push(incidentOf(m));
    };
    subscriber = subscribe({ handler });
    await publishAlert('0.one');
    await waitFor(() => seen.length === 1, { what: 'one delivery' });
    await reopenUntilMarker(handler, () => seen.includes(MARKER));
    expect(seen).toEqual(['0.one', MARKER]);
  });

  it('dead-letters an invalid message with its reason, acks it, and still handles the valid one behind it', async () => {
    const deliveries: string[] = [];
    const handled: string[] = [];
    const handler = async (m: ReceivedMessage) => {
      deliveries.push(m.attributes['ce-id'] ?? '');
      handled.push(incidentOf(m));
    };
    subscriber = subscribe({ handler });
    await publisher.publishRaw(
      Topics.alerts,
      Buffer.from('{not json'),
      { 'ce-specversion': '1.0', 'ce-type': EventTypes.alert, 'ce-id': 'bad-1', 'ce-source': '//test' },
      'api-backend',
    );
    await publishAlert('0.valid');
    const [dead] = await deadLetters.waitFor(1);
    expect(dead!.data.toString()).toBe('{not json');
    expect(dead!.attributes[DeadLetterAttributes.reason]).toMatch(/event data is not JSON/);
    expect(dead!.attributes[DeadLetterAttributes.source]).toBe(Subscriptions.decider.name);
    expect(dead!.attributes['ce-id']).toBe('bad-1');
    await waitFor(() => handled.includes('0.valid'), { what: 'the valid message' });
    await reopenUntilMarker(handler, () => handled.includes(MARKER));
    expect(deliveries.filter((id) => id === 'bad-1')).toHaveLength(1);
    expect(deadLetters.messages).toHaveLength(1);
  });

  it('nacks on a transient error so the message is redelivered until it succeeds', async () => {
    const attempts: ReceivedMessage[] = [];
    const handler = async (m: ReceivedMessage) => {
      if (incidentOf(m) === MARKER) return;
      attempts.push(m);
      if (attempts.length < 3) throw new TransientError('Firestore is having a moment');
    };
    subscriber = subscribe({ handler });
    await publishAlert('0.retry');
    await waitFor(() => attempts.length >= 3, { timeoutMs: 30_000, what: 'three deliveries' });
    let markerSeen = false;
    await reopenUntilMarker(
      async (m) => {
        if (incidentOf(m) === MARKER) markerSeen = true;
        await handler(m);
      },
      () => markerSeen,
    );
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.id)).size).toBe(1);
    expect(deadLetters.messages).toHaveLength(0);
  });

  it("a message that keeps failing transiently is taken by the subscription's dead-letter policy after 5 deliveries", async () => {
    // On burnback-ingest, which is unordered: the emulator (0.8.20) does not dead-letter from an ordered
    // subscription (after the last attempt it fails the stream with UNKNOWN instead); real Pub/Sub does.
    const attempts: number[] = [];
    subscriber = subscribe({
      subscription: Subscriptions.ingest.name,
      handler: async (m) => {
        attempts.push(m.deliveryAttempt);
        throw new TransientError('Firestore is down for good');
      },
    });
    await publisher.publishRaw(Topics.monitoringIncidents, Buffer.from('{"incident":{}}'), { poison: 'yes' });
    const [dead] = await deadLetters.waitFor(1, undefined, 50_000);
    // Pub/Sub forwarded it itself (the test topology's maxDeliveryAttempts is 5): its delivery count, no reason of ours.
    expect(dead!.attributes).toMatchObject({
      poison: 'yes',
      CloudPubSubDeadLetterSourceDeliveryCount: '5',
      CloudPubSubDeadLetterSourceSubscription: Subscriptions.ingest.name,
    });
    expect(dead!.attributes[DeadLetterAttributes.reason]).toBeUndefined();
    expect(attempts).toEqual([1, 2, 3, 4, 5]);
  }, 90_000);

  it('a failed dead-letter publish nacks the message, and its redelivery is dead-lettered once the topic is back', async () => {
    const attempts: string[] = [];
    const handled: string[] = [];
    const handler = async (m: ReceivedMessage) => {
      const id = incidentOf(m);
      if (id !== '0.bad') return void handled.push(id);
      attempts.push(m.id);
      throw new InvalidEventError('service "ghost" is not configured');
    };
    // The dead-letter topic is gone: the subscriber's dead-letter publish fails with NOT_FOUND.
    await env.pubsub.topic(Topics.deadLetter).delete();
    subscriber = subscribe({ handler });
    await publishAlert('0.bad');
    await waitFor(() => attempts.length >= 2, { timeoutMs: 30_000, what: 'a redelivery after the failed dead-letter publish' });

    // Stop consuming while the topic comes back, so no redelivery can be dead-lettered before the tap listens.
    await subscriber.close();
    await env.pubsub.createTopic(Topics.deadLetter);
    const restored = await tapTopic(env.pubsub, Topics.deadLetter);
    subscriber = subscribe({ handler });
    try {
      const [dead] = await restored.waitFor(1, undefined, 30_000);
      expect(dead!.attributes[DeadLetterAttributes.reason]).toBe('service "ghost" is not configured');
      const deliveriesUntilDeadLettered = attempts.length;
      await reopenUntilMarker(handler, () => handled.includes(MARKER));
      expect(new Set(attempts).size).toBe(1);
      expect(attempts).toHaveLength(deliveriesUntilDeadLettered);
      expect(restored.messages).toHaveLength(1);
    } finally {
      await restored.close();
    }
  });

  it('handles messages with one ordering key one at a time, in order', async () => {
    const events: string[] = [];
    subscriber = subscribe({
      handler: async (m) => {
        const id = decodeCloudEvent(m, [EventTypes.alert]).data.incidentId;
        events.push(`start ${id}`);
        await settle(30);
        events.push(`end ${id}`);
      },
    });
    for (const id of ['0.a', '0.b', '0.c', '0.d']) await publishAlert(id);
    await waitFor(() => events.length === 8, { what: 'four handled messages' });
    expect(events).toEqual(['start 0.a', 'end 0.a', 'start 0.b', 'end 0.b', 'start 0.c', 'end 0.c', 'start 0.d', 'end 0.d']);
  });

  it('after a nack, no later message of the same key overtakes the one being redelivered', async () => {
    const attempts: string[] = [];
    let failedOnce = false;
    subscriber = subscribe({
      handler: async (m) => {
        const id = decodeCloudEvent(m, [EventTypes.alert]).data.incidentId;
        attempts.push(id);
        if (id === '0.a' && !failedOnce) {
          failedOnce = true;
          await settle(100); // let b and c queue up behind a
          throw new TransientError('first attempt fails');
        }
      },
    });
    for (const id of ['0.a', '0.b', '0.c']) await publishAlert(id);
    await waitFor(() => attempts.filter((a) => a !== '0.a').length >= 2 && attempts.filter((a) => a === '0.a').length >= 2, {
      timeoutMs: 30_000,
      what: 'a redelivered, then b and c',
    });
    await publishAlert(MARKER);
    await waitFor(() => attempts.includes(MARKER), { what: 'the marker published behind them' });
    const firstB = attempts.indexOf('0.b');
    const secondA = attempts.indexOf('0.a', 1);
    expect(secondA).toBeGreaterThan(0);
    expect(firstB).toBeGreaterThan(secondA);
    expect(attempts.slice(secondA)).toEqual(['0.a', '0.b', '0.c', MARKER]);
  });

  const REOPENING = 'subscription stream closed; reopening it';
  /** A subscriber that has consumed once (its stream is up), then loses its subscription: what it handled, logged and was told. */
  const subscribeThenDeleteSubscription = async (reopen: SubscriberOptions['reopen']) => {
    const seen = { closed: [] as Error[], handled: [] as string[], log: capturedLogger('pubsub-test') };
    subscriber = subscribe({
      handler: async (m) => void seen.handled.push(incidentOf(m)),
      logger: seen.log.logger,
      reopen,
      onUnexpectedClose: (err) => seen.closed.push(err),
    });
    await publishAlert('0.up');
    await waitFor(() => seen.handled.includes('0.up'), { what: 'the subscriber to consume' });
    await env.pubsub.subscription(Subscriptions.decider.name).delete();
    return seen;
  };

  it('tells its owner when the stream stays closed after every reopen', async () => {
    const { closed, log } = await subscribeThenDeleteSubscription({ attempts: 2, minDelayMs: 50, maxDelayMs: 100 });
    await waitFor(() => closed.length === 1, { timeoutMs: 30_000, what: 'onUnexpectedClose' });
    expect(closed[0]!.message).toMatch(/Subscription does not exist/);
    // It gave up only after reopening twice, each time said.
    expect(log.lines.filter((l) => l.message === REOPENING).map((l) => l.attempt)).toEqual([1, 2]);
  });

  it('reopens a stream the client library closed, and consumes again once the subscription is back', async () => {
    const { closed, handled, log } = await subscribeThenDeleteSubscription({ attempts: 50, minDelayMs: 100, maxDelayMs: 200 });
    await waitFor(() => log.lines.some((l) => l.message === REOPENING), {
      timeoutMs: 30_000,
      what: 'the stream to close and a reopen to be scheduled',
    });
    // The subscription comes back (an operator re-applied infra/, the emulator restarted): the same subscriber consumes.
    await ensureTopology(env.pubsub, { maxDeliveryAttempts: 5, retryPolicy: true });
    await publishAlert('0.after');
    await waitFor(() => handled.includes('0.after'), { timeoutMs: 30_000, what: 'the reopened stream to consume' });
    expect(closed).toEqual([]);
  });

  it('a message Pub/Sub refuses in itself (an attribute over 1,024 bytes) is a permanent publish error; the key still publishes', async () => {
    const refused = publisher.publishRaw(Topics.alerts, Buffer.from('{}'), { big: 'x'.repeat(2_000) }, 'api-backend');
    await expect(refused).rejects.toMatchObject({
      name: 'PermanentError',
      message: 'Pub/Sub would refuse the message for burnback-alerts: attribute "big" is 2000 bytes; Pub/Sub takes at most 1024',
    });
    // The ordering key it paused is resumed: the next message of the key goes through.
    const handled: string[] = [];
    subscriber = subscribe({ handler: async (m) => void handled.push(incidentOf(m)) });
    await publishAlert('0.next');
    await waitFor(() => handled.includes('0.next'), { what: 'the next message of the key' });
  });

  it('close() waits for the message in flight to finish and ack', async () => {
    let finished = false;
    const started: string[] = [];
    subscriber = subscribe({
      handler: async (m) => {
        started.push(incidentOf(m));
        await settle(500);
        finished = true;
      },
    });
    await publishAlert('0.drain');
    await waitFor(() => started.length === 1, { what: 'the handler to start' });
    await subscriber.close();
    expect(finished).toBe(true);
    // Acked, not merely finished: a new subscriber sees only the marker.
    await reopenUntilMarker(
      async (m) => void started.push(incidentOf(m)),
      () => started.includes(MARKER),
    );
    expect(started).toEqual(['0.drain', MARKER]);
  });

  it('a handler slower than the lease keeps its message (the lease is extended), and the lease stays at its 10 s ceiling', async () => {
    // The real client's subscription, to read the lease it asks Pub/Sub for: the 99th percentile of ack times,
    // which this slow ack raises to 12 s without the ceiling, and with it a dead worker's messages wait 12 s.
    const made = jest.spyOn(env.pubsub, 'subscription');
    const handled: string[] = [];
    subscriber = subscribe({
      handler: async (m) => {
        handled.push(incidentOf(m));
        if (incidentOf(m) === '0.slow') await settle(LEASE_CEILING.totalOf('second') * 1000 + 2_000);
      },
    });
    const live = made.mock.results[0]!.value as { _subscriber: { ackDeadline: number } };
    await publishAlert('0.slow');
    await publishAlert(MARKER);
    await waitFor(() => handled.includes(MARKER), { timeoutMs: 40_000, what: 'the marker behind the slow message' });
    expect(handled).toEqual(['0.slow', MARKER]);
    expect(LEASE_CEILING.totalOf('second')).toBe(10);
    expect(live._subscriber.ackDeadline).toBe(10);
    // Extended, not lapsed: a new subscriber sees only a new marker, not the slow message again.
    await reopenUntilMarker(
      async (m) => void handled.push(incidentOf(m)),
      () => handled.filter((h) => h === MARKER).length === 2,
    );
    expect(handled).toEqual(['0.slow', MARKER, MARKER]);
  }, 90_000);

  it('opens the streams it is told to (one for a wide window), and consumes on them', async () => {
    const made = jest.spyOn(env.pubsub, 'subscription');
    const handled: string[] = [];
    subscriber = subscribe({ streams: 1, handler: async (m) => void handled.push(incidentOf(m)) });
    expect(made.mock.calls[0]![1]).toMatchObject({ streamingOptions: { maxStreams: 1 } });
    await publishAlert('0.one-stream');
    await waitFor(() => handled.includes('0.one-stream'), { what: 'the message on the one stream' });
  });

  it('messages that can wait run a bounded number at a time, and one that cannot starts at once beside them', async () => {
    const classified: string[] = [];
    const started: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const canWait = (id: string) => id.startsWith('later.');
    subscriber = subscribe({
      ordered: false,
      later: {
        isLater: (m) => {
          classified.push(incidentOf(m));
          return canWait(incidentOf(m));
        },
        atOnce: 1,
      },
      handler: async (m) => {
        started.push(incidentOf(m));
        if (canWait(incidentOf(m))) await gate;
      },
    });
    const publishUnkeyed = (id: string) => publisher.publishEvent(Topics.alerts, alertCloudEvent(id));
    await publishUnkeyed('later.1');
    await publishUnkeyed('later.2');
    // Both are in the subscriber's hands (classified on arrival) before the one that cannot wait is sent.
    await waitFor(() => classified.includes('later.1') && classified.includes('later.2'), { what: 'both messages that can wait' });
    await publishUnkeyed('now.1');
    await waitFor(() => started.includes('now.1'), { what: 'the message that cannot wait to start' });
    expect(started.filter(canWait)).toHaveLength(1);
    release();
    await waitFor(() => started.includes('later.1') && started.includes('later.2'), { what: 'the second to get its turn' });
    expect(started).toHaveLength(3);
  });

  it('a permanent error that is not an invalid event is dead-lettered too', async () => {
    subscriber = subscribe({
      handler: async () => {
        throw new InvalidEventError('service "ghost" is not configured');
      },
    });
    await publishAlert('0.ghost');
    const [dead] = await deadLetters.waitFor(1);
    expect(dead!.attributes[DeadLetterAttributes.reason]).toBe('service "ghost" is not configured');
  });
});
