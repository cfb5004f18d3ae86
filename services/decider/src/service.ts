import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { EventTypes, Subscriptions } from '@burnback/contracts';
import {
  cloudEventHandler,
  createMetrics,
  PubSubPublisher,
  startHealthServer,
  startOutboxRelay,
  startSubscriber,
  type Clock,
  type Config,
  type CrashHook,
  type Logger,
  type Metrics,
  type MonitoringPort,
} from '@burnback/platform';
import { createDeciderHandler, createDeployEventHandler, createProgressHandler, createSerializer } from './handler.js';

export interface DeciderService {
  /** http://host:port of health and metrics, when a port was given. */
  address: string | null;
  close(): Promise<void>;
}

/** Wires the decider: burnback-alerts, burnback-progress and Cloud Deploy operations in, decisions (commands and decision events) out via the outbox. */
export async function startDeciderService(deps: {
  config: Pick<Config, 'services'>;
  pubsub: PubSub;
  db: Firestore;
  logger: Logger;
  metrics?: Metrics;
  /** Cloud Monitoring, for services that name their SLO (see main.ts); without it their burns cannot be confirmed. */
  monitoring?: MonitoringPort | null;
  /** Called when the worker can no longer consume (its subscription stream closed on its own). */
  onFatal?: (error: Error) => void;
  /** Port for health and metrics; null = none (in-process tests). */
  port?: number | null;
  relayIntervalMs?: number;
  /** Default the wall clock; `burnback replay --through-pipeline` gives the recorded timeline. */
  clock?: Clock;
  /** Test-only crash points (main.ts builds it from BURNBACK_CHAOS_CRASH_AT); none by default. */
  crash?: CrashHook;
  /** An unconfirmed command is sent again this long after its last send (config.commandResendMs; default 120 s). */
  commandResendMs?: number;
}): Promise<DeciderService> {
  const { config, pubsub, db, logger } = deps;
  const metrics = deps.metrics ?? createMetrics('decider');
  const publisher = new PubSubPublisher(pubsub);
  // One turn at a time, across this process's handlers, for the transactions that may touch the breaker's document.
  const breakerTurn = createSerializer();
  const handle = createDeciderHandler({
    db,
    services: config.services,
    publisher,
    logger,
    metrics,
    monitoring: deps.monitoring,
    breakerTurn,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.crash ? { crash: deps.crash } : {}),
  });
  const subscriber = startSubscriber({
    pubsub,
    subscription: Subscriptions.decider.name,
    deadLetter: publisher,
    logger,
    metrics,
    handler: cloudEventHandler([EventTypes.alert], handle),
    onUnexpectedClose: deps.onFatal,
  });
  const handleProgress = createProgressHandler({
    db,
    services: config.services,
    logger,
    metrics,
    breakerTurn,
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  const progressSubscriber = startSubscriber({
    pubsub,
    subscription: Subscriptions.deciderProgress.name,
    deadLetter: publisher,
    logger,
    metrics,
    handler: cloudEventHandler([EventTypes.rollbackProgress], handleProgress),
    onUnexpectedClose: deps.onFatal,
  });
  const deployEvents = startSubscriber({
    pubsub,
    subscription: Subscriptions.deciderDeployEvents.name,
    deadLetter: publisher,
    logger,
    metrics,
    handler: createDeployEventHandler({ db, services: config.services, logger, metrics, ...(deps.clock ? { clock: deps.clock } : {}) }),
    onUnexpectedClose: deps.onFatal,
  });
  const relay = startOutboxRelay({
    db,
    publisher,
    logger,
    intervalMs: deps.relayIntervalMs ?? 10_000,
    ...(deps.commandResendMs !== undefined ? { resendAfterMs: deps.commandResendMs } : {}),
    ...(deps.clock ? { now: () => deps.clock!.now() } : {}),
  });
  logger.info(
    `decider consuming ${Subscriptions.decider.name}, ${Subscriptions.deciderProgress.name} and ${Subscriptions.deciderDeployEvents.name}`,
    {
      event: 'started',
      services: Object.keys(config.services),
    },
  );
  const health = await startHealthServer({ port: deps.port, metrics, logger });
  return {
    address: health.address,
    async close() {
      await health.close();
      await subscriber.close();
      await progressSubscriber.close();
      await deployEvents.close();
      await relay.stop();
      await publisher.close();
    },
  };
}
