import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import type { FastifyInstance } from 'fastify';
import { DecisionLanes, Subscriptions } from '@burnback/contracts';
import {
  closeHttpServer,
  createMetrics,
  PubSubPublisher,
  startPullSubscriber,
  systemClock,
  type Clock,
  type CrashHook,
  type Config,
  type Logger,
  type Metrics,
  type ReceivedMessage,
} from '@burnback/platform';
import { createAlertmanagerHandler } from './alertmanager.js';
import { createIngestApp } from './app.js';
import { createIngestHandler, laneOfReading, readNotification, type NotificationReading } from './handler.js';
import { createPushTokenVerifier } from './push-auth.js';
import { FirestoreNotificationStore } from './store.js';

/**
 * Notifications ingest holds (it pulls no more than this): wide, so the fast lane's notifications among them are
 * handled as soon as Pub/Sub hands them over, not behind the backlog. Each is a message of a few KB, so the window
 * stays well inside the heap bound; a crashed ingest's window comes back after one lease (at most 10 s, the
 * subscriber's LEASE_CEILING).
 */
export const INGEST_WINDOW = 1_000;
/**
 * The bulk lane's notifications (below threshold, closed, unreadable, not Burnback's) ingest handles at once;
 * their archives go together (FirestoreNotificationStore), so a storm costs a write per batch.
 */
export const INGEST_BULK_AT_ONCE = 100;

export interface IngestService {
  app: FastifyInstance;
  /** http://host:port the front door listens on. */
  address: string;
  close(): Promise<void>;
}

/** Wires ingest: the monitoring-incidents consumer and the HTTP front door. */
export async function startIngestService(deps: {
  config: Pick<Config, 'services' | 'webhookToken' | 'managementToken' | 'port' | 'listenHost' | 'pushAuth'>;
  pubsub: PubSub;
  db: Firestore;
  logger: Logger;
  metrics?: Metrics;
  /** Called when the worker can no longer consume (its subscription stream closed on its own). */
  onFatal?: (error: Error) => void;
  /** Overrides config.listenHost. */
  host?: string;
  /** Default the wall clock; `burnback replay --through-pipeline` gives the recorded timeline. */
  clock?: Clock;
  /** The chaos suite's crash seam (main.ts builds it from BURNBACK_CHAOS_CRASH_AT). */
  crash?: CrashHook;
}): Promise<IngestService> {
  const { config, pubsub, db, logger } = deps;
  const metrics = deps.metrics ?? createMetrics('ingest');
  const clock = deps.clock ?? systemClock;
  const publisher = new PubSubPublisher(pubsub);
  const ingestDeps = {
    services: config.services,
    store: new FirestoreNotificationStore(db),
    publisher,
    logger,
    metrics,
    ...(deps.crash ? { crash: deps.crash } : {}),
  };
  const handle = createIngestHandler(ingestDeps);
  // Each pulled notification is read once: for its lane when it arrives, and again by its handler from here.
  const readings = new WeakMap<ReceivedMessage, NotificationReading>();
  const readingOf = (m: ReceivedMessage): NotificationReading => {
    let reading = readings.get(m);
    if (!reading) {
      reading = readNotification(m.data, config.services, 'pubsub', clock.at(m.publishTime));
      readings.set(m, reading);
    }
    return reading;
  };
  const subscriber = startPullSubscriber({
    pubsub,
    subscription: Subscriptions.ingest.name,
    deadLetter: publisher,
    logger,
    maxInFlight: INGEST_WINDOW,
    later: { isLater: (m) => laneOfReading(readingOf(m), config.services) === DecisionLanes.bulk, atOnce: INGEST_BULK_AT_ONCE },
    handler: async (m) => {
      const reading = readingOf(m);
      readings.delete(m);
      await handle(
        { raw: m.data, source: 'pubsub', observedAt: clock.at(m.publishTime), receivedAt: clock.now(), messageId: m.id },
        reading,
      );
    },
    metrics,
    onUnexpectedClose: deps.onFatal,
  });
  const pushAuth = config.pushAuth;
  if (pushAuth?.kind === 'unsigned')
    logger.warn(
      'BURNBACK_PUSH_ALLOW_UNSIGNED=true: POST /pubsub/push accepts pushes WITHOUT authentication. Local use only (the Pub/Sub emulator sends no token); never set it in a deployment',
      { event: 'push_unsigned_allowed' },
    );
  const app = createIngestApp({
    handle,
    handleAlertmanager: createAlertmanagerHandler(ingestDeps),
    deadLetter: publisher,
    webhookToken: config.webhookToken,
    pushAuth:
      pushAuth?.kind === 'oidc'
        ? { kind: 'oidc', verifier: createPushTokenVerifier({ audience: pushAuth.audience, serviceAccount: pushAuth.serviceAccount }) }
        : pushAuth,
    management: { db: deps.db, token: config.managementToken, services: config.services },
    logger,
    metrics,
    now: () => clock.now(),
  });
  const address = await app.listen({ host: deps.host ?? config.listenHost, port: config.port });
  logger.info(`ingest listening on ${address}, consuming ${Subscriptions.ingest.name}`, {
    event: 'started',
    address,
    services: [...config.services.keys()],
  });
  return {
    app,
    address,
    async close() {
      await closeHttpServer(app, { logger });
      await subscriber.close();
      await publisher.close();
    },
  };
}
