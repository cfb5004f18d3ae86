import type { CloudDeployClient } from '@google-cloud/deploy';
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { decodeCloudEvent, EventTypes, Subscriptions } from '@burnback/contracts';
import { PubSubPublisher, startSubscriber, type Logger } from '@burnback/platform';
import { CloudDeployPort } from './deploy.js';
import { createExecutorHandler, type ExecutorDeps } from './handler.js';
import { RollbackStore } from './store.js';

export interface ExecutorService {
  close(): Promise<void>;
}

/** Wires the executor: burnback-commands in, Cloud Deploy rollbacks, burnback-progress out. */
export function startExecutorService(deps: {
  pubsub: PubSub;
  db: Firestore;
  deployClient: CloudDeployClient;
  logger: Logger;
  pollIntervalMs?: number;
  retry?: ExecutorDeps['retry'];
}): ExecutorService {
  const { pubsub, db, logger } = deps;
  const publisher = new PubSubPublisher(pubsub);
  const handle = createExecutorHandler({
    store: new RollbackStore(db),
    deploy: new CloudDeployPort(deps.deployClient),
    publisher,
    logger,
    ...(deps.pollIntervalMs !== undefined ? { pollIntervalMs: deps.pollIntervalMs } : {}),
    ...(deps.retry ? { retry: deps.retry } : {}),
  });
  const subscriber = startSubscriber({
    pubsub,
    subscription: Subscriptions.executor.name,
    deadLetter: publisher,
    logger,
    handler: async (m) => {
      await handle(decodeCloudEvent(m, [EventTypes.rollbackCommand]));
    },
  });
  logger.info(`executor consuming ${Subscriptions.executor.name}`, { event: 'started' });
  return {
    async close() {
      await subscriber.close();
      await publisher.close();
    },
  };
}
