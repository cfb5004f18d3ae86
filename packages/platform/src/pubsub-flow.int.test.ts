import type { Subscription } from '@google-cloud/pubsub';
import { Subscriptions, Topics } from '@burnback/contracts';
import { createTestEnvironment, waitFor, type TestEnvironment } from '@burnback/testkit';
import { capHeldMessages, paceLeaseExtensions } from './pubsub-flow.js';
import { PubSubPublisher, startSubscriber, type RunningSubscriber } from './index.js';

/** The client's own count of the messages it holds (received, not yet acked): read here only, to see the window hold. */
const heldByClient = (subscription: Subscription): number =>
  (subscription as unknown as { _subscriber: { _inventory: { size: number } } })._subscriber._inventory.size;

/**
 * The emulator sends past a subscriber's flow-control window (Pub/Sub does
 * not); the subscriber keeps the rest on the wire instead of in memory.
 */
describe('a subscriber holds a bounded number past its window, whatever the server sends', () => {
  let env: TestEnvironment;
  let publisher: PubSubPublisher;
  let subscriber: RunningSubscriber | undefined;

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'pubsub-flow');
    publisher = new PubSubPublisher(env.pubsub);
  });
  afterEach(async () => {
    await subscriber?.close();
    await publisher.close();
    await env.close();
  });

  it('holds a window of 20 and at most 50 past it while 1,500 messages wait, then handles every one', async () => {
    const total = 1_500;
    const window = 20;
    const past = 50;
    const topic = env.pubsub.topic(Topics.alertsBulk, { batching: { maxMessages: 500, maxMilliseconds: 10 } });
    await Promise.all(Array.from({ length: total }, (_, i) => topic.publishMessage({ data: Buffer.from(`m${i}`) })));
    const open = jest.spyOn(env.pubsub, 'subscription');
    const handled = new Set<string>();
    let started = 0;
    let mostHeld = 0;
    let holding = true;
    const waiting: Array<() => void> = [];
    subscriber = startSubscriber({
      pubsub: env.pubsub,
      subscription: Subscriptions.deciderBulk.name,
      deadLetter: publisher,
      logger: env.logger,
      ordered: false,
      maxInFlight: window,
      heldPastWindow: past,
      handler: async (m) => {
        started += 1;
        mostHeld = Math.max(mostHeld, heldByClient(client));
        if (holding) await new Promise<void>((done) => waiting.push(done));
        handled.add(m.data.toString());
      },
    });
    // The client's subscription startSubscriber opened (no message reaches the handler before this line runs).
    const client = open.mock.results[0]!.value as Subscription;
    // Ten windows, each held until all of it has started: the emulator meanwhile sends what it would.
    for (let round = 1; round <= 10; round++) {
      await waitFor(() => waiting.length === window, { what: () => `window ${round} full (${waiting.length} waiting)` });
      // Held by the client: the window, what may wait past it, and at most what the server's response in hand carried
      // past that (the emulator sends up to 100 a response). Without the cap it held 300 by the first window.
      expect(heldByClient(client)).toBeLessThanOrEqual(window + past + 100);
      for (const done of waiting.splice(0)) done();
    }
    holding = false;
    for (const done of waiting.splice(0)) done();
    await waitFor(() => handled.size === total, { timeoutMs: 60_000, what: () => `all ${total} handled (${handled.size})` });
    expect(started).toBeGreaterThanOrEqual(total);
    expect(mostHeld).toBeLessThanOrEqual(window + past + 100);
  });

  it('extends leases every third of a lease, however fast or slow the server answers its modAcks', async () => {
    const open = jest.spyOn(env.pubsub, 'subscription');
    subscriber = startSubscriber({
      pubsub: env.pubsub,
      subscription: Subscriptions.deciderBulk.name,
      deadLetter: publisher,
      logger: env.logger,
      ordered: false,
      handler: async () => undefined,
    });
    const client = open.mock.results[0]!.value as Subscription;
    const internals = client as unknown as {
      _subscriber: {
        ackDeadline: number;
        _latencies: { percentile(p: number): number };
        _inventory: { _getNextExtensionTimeoutMs(): number };
      };
    };
    const lease = internals._subscriber.ackDeadline * 1000;
    expect(lease).toBe(10_000);
    const nextRounds = () => Array.from({ length: 200 }, () => internals._subscriber._inventory._getNextExtensionTimeoutMs());
    // A server that answers in 50 ms: the client's own plan is anywhere up to 8.9 s, which leaves a held message
    // about a second for the round and its answer; paced, every round a third of a lease.
    internals._subscriber._latencies.percentile = () => 0.05;
    expect(new Set(nextRounds())).toEqual(new Set([lease / 3]));
    // A server 30 s behind: the client's own plan is "now" (below zero), again and again; paced, a third of a lease.
    internals._subscriber._latencies.percentile = () => 30;
    expect(new Set(nextRounds())).toEqual(new Set([lease / 3]));
  });

  it('changes nothing, and says so, for a subscription whose internals are not the client’s it knows', () => {
    const notOpen = env.pubsub.subscription(Subscriptions.deciderBulk.name);
    expect(capHeldMessages(notOpen, 10)).toBe(false);
    expect(paceLeaseExtensions(notOpen)).toBe(false);
    const otherShape = {
      _subscriber: { _inventory: { _pending: [], add() {}, remove() {}, _subscriber: { _stream: { _streams: 'not a list' } } } },
    } as unknown as Subscription;
    expect(capHeldMessages(otherShape, 10)).toBe(false);
    expect(paceLeaseExtensions(otherShape)).toBe(false);
  });
});
