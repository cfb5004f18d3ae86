import { EventTypes, Subscriptions, Topics, decodeCloudEvent } from '@burnback/contracts';
import { alertCloudEvent, createTestEnvironment, waitFor, type TestEnvironment } from '@burnback/testkit';
import {
  createMetrics,
  PubSubPublisher,
  startPullSubscriber,
  startSubscriber,
  type PullSubscriberOptions,
  type RunningSubscriber,
} from './index.js';

type Start = (options: Omit<PullSubscriberOptions, 'maxInFlight'>) => RunningSubscriber;
const subscribers: Array<[string, Start]> = [
  ['streaming', (options) => startSubscriber({ ...options, ordered: false })],
  ['pull', (options) => startPullSubscriber({ ...options, maxInFlight: 20 })],
];

/** burnback_message_wait_seconds: where a message waited, in Pub/Sub or in the worker (on the emulator). */
describe.each(subscribers)('the %s subscriber records where each message waited', (_kind, start) => {
  let env: TestEnvironment;
  let publisher: PubSubPublisher;
  let subscriber: RunningSubscriber | undefined;

  beforeEach(async () => {
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'pubsub-wait');
    publisher = new PubSubPublisher(env.pubsub);
  });
  afterEach(async () => {
    await subscriber?.close();
    await publisher.close();
    await env.close();
  });

  it('in Pub/Sub until received, then in the worker until its handler started', async () => {
    const metrics = createMetrics('test');
    const value = async (stage: string, suffix: '_count' | '_sum') =>
      (await metrics.messageWait.get()).values.find(
        (v) =>
          v.labels.subscription === Subscriptions.deciderBulk.name &&
          v.labels.stage === stage &&
          v.metricName === `burnback_message_wait_seconds${suffix}`,
      )?.value ?? 0;
    let release!: () => void;
    const gate = new Promise<void>((done) => (release = done));
    const seen: string[] = [];
    // An unordered subscription whose messages run one at a time: the second waits in the worker behind the first.
    subscriber = start({
      pubsub: env.pubsub,
      subscription: Subscriptions.deciderBulk.name,
      deadLetter: publisher,
      logger: env.logger,
      later: { isLater: () => true, atOnce: 1 },
      metrics,
      handler: async (m) => {
        seen.push(decodeCloudEvent(m, [EventTypes.alert]).data.incidentId);
        if (seen.length === 1) await gate;
      },
    });
    await publisher.publishEvent(Topics.alertsBulk, alertCloudEvent('0.first'));
    await publisher.publishEvent(Topics.alertsBulk, alertCloudEvent('0.second'));
    // Both received (the second now waits for the first's turn), and only the first handled.
    await waitFor(async () => (await value('delivery', '_count')) === 2, { what: 'both messages received' });
    expect(seen).toHaveLength(1);
    await new Promise((done) => setTimeout(done, 300)); // what the second waits in the worker
    release();
    await waitFor(() => seen.length === 2, { what: 'the second handled' });
    expect(await value('queue', '_count')).toBe(2);
    expect(await value('queue', '_sum')).toBeGreaterThanOrEqual(0.3);
  });
});
