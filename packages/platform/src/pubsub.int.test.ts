import {
  DeadLetterAttributes,
  EventTypes,
  InvalidEventError,
  Subscriptions,
  Topics,
  TransientError,
  decodeCloudEvent,
} from '@burnback/contracts';
import { alertCloudEvent, createTestEnvironment, settle, tapTopic, waitFor, type TestEnvironment, type TopicTap } from '@burnback/testkit';
import { PubSubPublisher, startSubscriber, type ReceivedMessage, type RunningSubscriber, type SubscriberOptions } from './index.js';

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

  it('acks after the handler succeeds, so a handled message is not redelivered', async () => {
    const seen: string[] = [];
    subscriber = subscribe({
      handler: async (m) => {
        seen.push(decodeCloudEvent(m, [EventTypes.alert]).data.incidentId);
      },
    });
    await publishAlert('0.one');
    await waitFor(() => seen.length === 1, { what: 'one delivery' });
    await settle(1500);
    expect(seen).toEqual(['0.one']);
  });

  it('dead-letters an invalid message with its reason, acks it, and still handles the valid one behind it', async () => {
    const handled: string[] = [];
    subscriber = subscribe({
      handler: async (m) => {
        handled.push(decodeCloudEvent(m, [EventTypes.alert]).data.incidentId);
      },
    });
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
    await settle(1000);
    expect(deadLetters.messages).toHaveLength(1);
  });

  it('nacks on a transient error so the message is redelivered until it succeeds', async () => {
    const attempts: ReceivedMessage[] = [];
    subscriber = subscribe({
      handler: async (m) => {
        attempts.push(m);
        if (attempts.length < 3) throw new TransientError('Firestore is having a moment');
      },
    });
    await publishAlert('0.retry');
    await waitFor(() => attempts.length >= 3, { timeoutMs: 30_000, what: 'three deliveries' });
    await settle(1500);
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.id)).size).toBe(1);
    expect(deadLetters.messages).toHaveLength(0);
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
    await settle(500);
    const firstB = attempts.indexOf('0.b');
    const secondA = attempts.indexOf('0.a', 1);
    expect(secondA).toBeGreaterThan(0);
    expect(firstB).toBeGreaterThan(secondA);
    expect(attempts.slice(secondA)).toEqual(['0.a', '0.b', '0.c']);
  });

  it('tells its owner when the client library closes the stream on its own', async () => {
    const closed: Error[] = [];
    subscriber = subscribe({
      handler: async () => undefined,
      onUnexpectedClose: (err) => closed.push(err),
    });
    await settle(500);
    await env.pubsub.subscription(Subscriptions.decider.name).delete();
    await waitFor(() => closed.length === 1, { timeoutMs: 30_000, what: 'onUnexpectedClose' });
    expect(closed[0]!.message).toMatch(/Subscription does not exist/);
  });

  it('close() waits for the message in flight to finish and ack', async () => {
    let finished = false;
    let started = false;
    subscriber = subscribe({
      handler: async () => {
        started = true;
        await settle(500);
        finished = true;
      },
    });
    await publishAlert('0.drain');
    await waitFor(() => started, { what: 'the handler to start' });
    await subscriber.close();
    subscriber = undefined;
    expect(finished).toBe(true);
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
