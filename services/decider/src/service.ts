import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { decodeCloudEvent, EventTypes, Subscriptions } from '@burnback/contracts';
import { PubSubPublisher, startOutboxRelay, startSubscriber, type Config, type Logger } from '@burnback/platform';
import { createDeciderHandler } from './handler.js';

export interface DeciderService {
  close(): Promise<void>;
}

/** Wires the decider: burnback-alerts in, decisions and the outbox relay. */
export function startDeciderService(deps: {
  config: Pick<Config, 'services'>;
  pubsub: PubSub;
  db: Firestore;
  logger: Logger;
  relayIntervalMs?: number;
}): DeciderService {
  const { config, pubsub, db, logger } = deps;
  const publisher = new PubSubPublisher(pubsub);
  const handle = createDeciderHandler({ db, services: config.services, publisher, logger });
  const subscriber = startSubscriber({
    pubsub,
    subscription: Subscriptions.decider.name,
    deadLetter: publisher,
    logger,
    handler: async (m) => {
      await handle(decodeCloudEvent(m, [EventTypes.alert]));
    },
  });
  const relay = startOutboxRelay({ db, publisher, logger, intervalMs: deps.relayIntervalMs ?? 10_000 });
  logger.info(`decider consuming ${Subscriptions.decider.name}`, { event: 'started', services: Object.keys(config.services) });
  return {
    async close() {
      await subscriber.close();
      await relay.stop();
      await publisher.close();
    },
  };
}
