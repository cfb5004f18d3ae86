import { randomUUID } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { EventTypes, Subscriptions } from '@burnback/contracts';
import {
  cloudEventHandler,
  createMetrics,
  HELD_PAST_WINDOW_SMALL,
  PubSubPublisher,
  startHealthServer,
  startSubscriber,
  type Clock,
  type Logger,
  type Metrics,
  type NotifyDestination,
} from '@burnback/platform';
import { createNotifierHandler, type NotifierHandlerDeps } from './handler.js';
import { httpSender, type Sender } from './send.js';
import { DeliveryStore } from './store.js';

export interface NotifierService {
  address: string | null;
  close(): Promise<void>;
}

/** Events handled at once per subscription: each holds its slot for one attempt per destination, never for its retries. */
const MAX_IN_FLIGHT = 20;

/**
 * Wires the notifier: burnback-decisions and burnback-progress in (each on its own
 * subscription, ordered by service, so a page is triggered before it is resolved),
 * deliveries to the configured destinations out, deliveries/{id} in Firestore.
 */
export async function startNotifierService(deps: {
  pubsub: PubSub;
  db: Firestore;
  logger: Logger;
  destinations: readonly NotifyDestination[];
  retryMinutes: number;
  metrics?: Metrics;
  onFatal?: (error: Error) => void;
  port?: number | null;
  clock?: Clock;
  /** Default: HTTP POST with Node's fetch. */
  send?: Sender;
  backoff?: NotifierHandlerDeps['backoff'];
  leaseMs?: number;
  /** How often deliveries due for another attempt are looked for (default 2 s). */
  sweepMs?: number;
}): Promise<NotifierService> {
  const { pubsub, logger } = deps;
  const metrics = deps.metrics ?? createMetrics('notifier');
  const publisher = new PubSubPublisher(pubsub);
  const notifier = createNotifierHandler({
    destinations: deps.destinations,
    store: new DeliveryStore(deps.db),
    send: deps.send ?? httpSender,
    publisher,
    logger,
    metrics,
    now: () => deps.clock?.now() ?? new Date(),
    owner: `notifier-${randomUUID().slice(0, 8)}`,
    retryMs: deps.retryMinutes * 60_000,
    ...(deps.backoff ? { backoff: deps.backoff } : {}),
    ...(deps.leaseMs !== undefined ? { leaseMs: deps.leaseMs } : {}),
  });
  const handle = (event: Parameters<typeof notifier.handle>[0]) => notifier.handle(event);
  // Deliveries whose destination failed are attempted again here, never while an event waits: one slow
  // destination holds no other notice, of its service or any other.
  let stopped = false;
  let sweeping: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  const sweepLoop = () => {
    if (stopped) return;
    sweeping = notifier
      .sweep()
      .catch((err: unknown) =>
        logger.warn(`looking for deliveries to retry failed: ${(err as Error).message}`, { event: 'notification_sweep_failed' }),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(sweepLoop, deps.sweepMs ?? 2_000);
      });
  };
  sweepLoop();
  const subscribers = [
    startSubscriber({
      pubsub,
      subscription: Subscriptions.notifierDecisions.name,
      deadLetter: publisher,
      logger,
      metrics,
      maxInFlight: MAX_IN_FLIGHT,
      heldPastWindow: HELD_PAST_WINDOW_SMALL,
      handler: cloudEventHandler([EventTypes.decision], handle),
      onUnexpectedClose: deps.onFatal,
    }),
    startSubscriber({
      pubsub,
      subscription: Subscriptions.notifierProgress.name,
      deadLetter: publisher,
      logger,
      metrics,
      maxInFlight: MAX_IN_FLIGHT,
      heldPastWindow: HELD_PAST_WINDOW_SMALL,
      handler: cloudEventHandler([EventTypes.rollbackProgress], handle),
      onUnexpectedClose: deps.onFatal,
    }),
  ];
  const names = deps.destinations.map((d) => `${d.name} (${d.kind})`).join(', ');
  logger.info(
    `notifier consuming ${Subscriptions.notifierDecisions.name} and ${Subscriptions.notifierProgress.name}; destinations: ${names || 'none (the config has no notify: block)'}`,
    { event: 'started', destinations: deps.destinations.map((d) => d.name) },
  );
  const health = await startHealthServer({ port: deps.port, metrics, logger });
  return {
    address: health.address,
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await sweeping;
      await health.close();
      await Promise.all(subscribers.map((s) => s.close()));
      await publisher.close();
    },
  };
}
