import type { CloudDeployClient } from '@google-cloud/deploy';
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { EventTypes, Subscriptions } from '@burnback/contracts';
import {
  cloudEventHandler,
  createMetrics,
  PubSubPublisher,
  startHealthServer,
  startSubscriber,
  type Clock,
  type Logger,
  type Metrics,
} from '@burnback/platform';
import { CloudDeployPort } from './deploy.js';
import { createExecutorHandler, type ExecutorDeps } from './handler.js';
import { RollbackStore } from './store.js';

export interface ExecutorService {
  /** http://host:port of health and metrics, when a port was given. */
  address: string | null;
  close(): Promise<void>;
}

/** Wires the executor: burnback-commands in, Cloud Deploy rollbacks, burnback-progress out. */
export async function startExecutorService(deps: {
  pubsub: PubSub;
  db: Firestore;
  deployClient: CloudDeployClient;
  logger: Logger;
  metrics?: Metrics;
  /** Called when the worker can no longer consume (its subscription stream closed on its own). */
  onFatal?: (error: Error) => void;
  /** Port for health and metrics; null = none (in-process tests). */
  port?: number | null;
  pollIntervalMs?: number;
  retry?: ExecutorDeps['retry'];
  /** Default the wall clock; `burnback replay --through-pipeline` gives the recorded timeline. */
  clock?: Clock;
}): Promise<ExecutorService> {
  const { pubsub, db, logger } = deps;
  const metrics = deps.metrics ?? createMetrics('executor');
  // Aborted on close: a rollout being tracked is handed back (nack) instead of holding shutdown for minutes.
  const shutdown = new AbortController();
  const publisher = new PubSubPublisher(pubsub);
  const handle = createExecutorHandler({
    store: new RollbackStore(db),
    deploy: new CloudDeployPort(deps.deployClient),
    publisher,
    logger,
    metrics,
    signal: shutdown.signal,
    ...(deps.pollIntervalMs !== undefined ? { pollIntervalMs: deps.pollIntervalMs } : {}),
    ...(deps.retry ? { retry: deps.retry } : {}),
    ...(deps.clock ? { now: () => deps.clock!.now() } : {}),
  });
  const subscriber = startSubscriber({
    pubsub,
    subscription: Subscriptions.executor.name,
    deadLetter: publisher,
    logger,
    metrics,
    handler: cloudEventHandler([EventTypes.rollbackCommand, EventTypes.rollbackValidate], handle),
    onUnexpectedClose: deps.onFatal,
  });
  logger.info(`executor consuming ${Subscriptions.executor.name}`, { event: 'started' });
  const health = await startHealthServer({ port: deps.port, metrics, logger });
  return {
    address: health.address,
    async close() {
      shutdown.abort();
      await health.close();
      await subscriber.close();
      await publisher.close();
    },
  };
}
