import { PubSub } from '@google-cloud/pubsub';
import { Subscriptions } from '@burnback/contracts';
import { EMULATOR_MAX_DELIVERY_ATTEMPTS, ensureTopology } from '../src/topology.js';

// On the Pub/Sub emulator (globalSetup); each case in a project of its own, so each creates the subscriptions afresh.
const projects: PubSub[] = [];
const pubsubFor = (name: string) => {
  const pubsub = new PubSub({ projectId: `topology-${name}-${process.pid}-${Date.now()}` });
  projects.push(pubsub);
  return pubsub;
};
afterAll(async () => {
  await Promise.all(projects.map((p) => p.close()));
});

const subscriptionsOf = async (pubsub: PubSub) =>
  Promise.all(Object.values(Subscriptions).map(async (s) => ({ s, meta: (await pubsub.subscription(s.name).getMetadata())[0] })));

describe('ensureTopology on the emulator', () => {
  it('by default: no retry policy (the emulator mishandles one), 100 delivery attempts, ordering where the code relies on it', async () => {
    const pubsub = pubsubFor('default');
    await ensureTopology(pubsub);
    const subs = await subscriptionsOf(pubsub);
    expect(subs).toHaveLength(Object.keys(Subscriptions).length);
    for (const { s, meta } of subs) {
      expect({ name: s.name, retryPolicy: meta.retryPolicy ?? null }).toEqual({ name: s.name, retryPolicy: null });
      expect(meta.deadLetterPolicy?.maxDeliveryAttempts).toBe(EMULATOR_MAX_DELIVERY_ATTEMPTS);
      expect(meta.deadLetterPolicy?.deadLetterTopic).toMatch(/\/topics\/burnback-dead-letter$/);
      expect(Boolean(meta.enableMessageOrdering)).toBe(s.ordered);
    }
    // Idempotent: a second run over existing resources changes nothing and does not fail.
    await expect(ensureTopology(pubsub)).resolves.toBeUndefined();
  });

  it('asked for the retry policy (the integration tests): 1 s to 60 s backoff and 10 attempts unless told', async () => {
    const pubsub = pubsubFor('retry');
    await ensureTopology(pubsub, { retryPolicy: true });
    for (const { meta } of await subscriptionsOf(pubsub)) {
      expect(Number(meta.retryPolicy?.minimumBackoff?.seconds)).toBe(1);
      expect(Number(meta.retryPolicy?.maximumBackoff?.seconds)).toBe(60);
      expect(meta.deadLetterPolicy?.maxDeliveryAttempts).toBe(10);
    }
  });
});
