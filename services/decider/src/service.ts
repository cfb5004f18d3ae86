import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { EventTypes, Subscriptions } from '@burnback/contracts';
import {
  cloudEventHandler,
  createMetrics,
  HELD_PAST_WINDOW_SMALL,
  PubSubPublisher,
  startHealthServer,
  startOutboxRelay,
  startPullSubscriber,
  startSubscriber,
  type Clock,
  type Config,
  type CrashHook,
  type DeployHistoryReader,
  type Logger,
  type Metrics,
  type MonitoringPort,
} from '@burnback/platform';
import { createDecisionCore, createSerializer } from './handler.js';
import { createKeyedSerializer } from './serializer.js';
import { createProgressHandler } from './progress-handler.js';
import { createDeployEventHandler, createTargetHistory, learnProjectNumbers } from './deploy-events.js';
import { failAbandonedCommand } from './abandoned-commands.js';
import { startRedecider, type Redecider } from './redecider.js';
import { startBulkLane } from './bulk-lane.js';

/**
 * Bulk-lane messages in flight at once: enough for full batches (BULK_BATCH_MAX) to form while earlier ones are
 * written, few enough that what the decider holds stays bounded (the fast lane keeps its own window, FAST_IN_FLIGHT).
 */
export const BULK_IN_FLIGHT = 300;
/**
 * Fast-lane messages in flight at once. The lane is ordered by service, so a service's redeliveries hold places in
 * the window while they wait behind its first (answered from its record, they cost a read each): with 100, a storm of
 * 100 burning services each delivered three times was decided in waves of a third of them, ~10 s apart. 400 takes
 * such a storm in one go (its decisions share the breaker's group commits); each message is an alert of a few KB.
 */
export const FAST_IN_FLIGHT = 400;
/** Cloud Deploy notifications in flight at once (the streaming subscriber's default window, which they had). */
export const DEPLOY_EVENTS_IN_FLIGHT = 20;

export interface DeciderService {
  /** http://host:port of health and metrics, when a port was given. */
  address: string | null;
  /** Decides an incident again now, as its schedule would when due (a replay at the recorded moment). */
  redecideNow: Redecider['redecideNow'];
  /** Resolves once what serves every configured target was read from Cloud Deploy at start (or could not be). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Wires the decider: burnback-alerts, burnback-progress and Cloud Deploy
 * operations in, decisions (commands and decision events) out via the outbox;
 * what serves every target read from Cloud Deploy at start and on each of its
 * notifications; incidents whose holds lapse decided again.
 */
export async function startDeciderService(deps: {
  config: Pick<Config, 'services'>;
  pubsub: PubSub;
  db: Firestore;
  logger: Logger;
  metrics?: Metrics;
  /** Cloud Monitoring, for services that name their SLO (see main.ts); without it their burns cannot be confirmed. */
  monitoring?: MonitoringPort | null;
  /**
   * Cloud Deploy's history (what serves each target). Without it the decider learns only from its own rollbacks'
   * progress: every burn on a release it has not seen escalates.
   */
  deploy?: DeployHistoryReader | null;
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
  /** Read what serves every target from Cloud Deploy at start (default); a replay restores it from the recording instead. */
  readTargetsAtStart?: boolean;
  /**
   * The redecider's settings: `sweep: false` leaves re-decisions to redecideNow (a replay); `readTargets: false`
   * decides again on the target as recorded instead of reading Cloud Deploy first (a replay restores what was read);
   * tests shorten the idle sweep.
   */
  redecisions?: { sweep?: boolean; readTargets?: boolean; idleSweepMs?: number; leaseMs?: number };
}): Promise<DeciderService> {
  const { config, pubsub, db, logger } = deps;
  const metrics = deps.metrics ?? createMetrics('decider');
  const publisher = new PubSubPublisher(pubsub);
  const clock = deps.clock ? { clock: deps.clock } : {};
  // One turn at a time, across this process's handlers, for the transactions that may touch the breaker's document.
  const breakerTurn = createSerializer();
  // Turns per target document: what serves it (Cloud Deploy's notifications) and rollback progress both rewrite it.
  const targetTurn = createKeyedSerializer();
  let redecider: Redecider | null = null;
  const onScheduled = (dueAt: Date) => redecider?.wake(dueAt);
  const core = createDecisionCore({
    db,
    services: config.services,
    publisher,
    logger,
    metrics,
    monitoring: deps.monitoring,
    breakerTurn,
    onScheduled,
    ...clock,
    ...(deps.crash ? { crash: deps.crash } : {}),
  });
  // The bulk lane: alerts that cannot roll back, in batches, on a subscription and flow control of its own, so its
  // backlog never stands between a burning alert and its decision (docs/architecture.md, "The storm lane").
  // Fast-lane alerts being decided right now: while there are any, the bulk lane's batches wait (bounded).
  let fastInFlight = 0;
  const bulkLane = startBulkLane({
    fastLaneBusy: () => fastInFlight > 0,
    db,
    services: config.services,
    publisher,
    logger,
    metrics,
    decideAlert: core.decideAlert,
    ...clock,
    ...(deps.crash ? { crash: deps.crash } : {}),
  });
  // Pulled, never more than its window: a bulk backlog of any size waits with Pub/Sub, not in the decider's heap.
  const bulkSubscriber = startPullSubscriber({
    pubsub,
    subscription: Subscriptions.deciderBulk.name,
    deadLetter: publisher,
    logger,
    metrics,
    maxInFlight: BULK_IN_FLIGHT,
    handler: cloudEventHandler([EventTypes.alert], (event) => bulkLane.decide(event.data, event.id)),
    onUnexpectedClose: deps.onFatal,
  });
  const projectNumbers = deps.deploy
    ? await learnProjectNumbers([...config.services.values()], deps.deploy, logger)
    : new Map<string, string>();
  const history = deps.deploy
    ? createTargetHistory({ db, services: config.services, logger, metrics, deploy: deps.deploy, projectNumbers, targetTurn, ...clock })
    : null;
  const subscriber = startSubscriber({
    pubsub,
    subscription: Subscriptions.decider.name,
    deadLetter: publisher,
    logger,
    metrics,
    maxInFlight: FAST_IN_FLIGHT,
    handler: cloudEventHandler([EventTypes.alert], async (event) => {
      fastInFlight += 1;
      try {
        return await core.decideAlert(event.data, event.id);
      } finally {
        fastInFlight -= 1;
      }
    }),
    onUnexpectedClose: deps.onFatal,
  });
  const handleProgress = createProgressHandler({
    db,
    services: config.services,
    logger,
    metrics,
    breakerTurn,
    targetTurn,
    onScheduled,
    ...clock,
  });
  const progressSubscriber = startSubscriber({
    pubsub,
    subscription: Subscriptions.deciderProgress.name,
    deadLetter: publisher,
    logger,
    metrics,
    // Ordered, so streamed; a storm's rollbacks send thousands of stages, and what waits past the window waits in heap.
    heldPastWindow: HELD_PAST_WINDOW_SMALL,
    handler: cloudEventHandler([EventTypes.rollbackProgress], handleProgress),
    onUnexpectedClose: deps.onFatal,
  });
  // Unordered: pulled, never more than its window (each rollout sends several notifications; a storm's, thousands).
  const deployEvents = startPullSubscriber({
    pubsub,
    subscription: Subscriptions.deciderDeployEvents.name,
    deadLetter: publisher,
    logger,
    metrics,
    maxInFlight: DEPLOY_EVENTS_IN_FLIGHT,
    handler:
      deps.deploy && history
        ? createDeployEventHandler({
            db,
            services: config.services,
            logger,
            metrics,
            deploy: deps.deploy,
            projectNumbers,
            // One history for the notifications, the re-decisions and the start: one set of turns per target document.
            history,
            ...clock,
          })
        : async () => undefined,
    onUnexpectedClose: deps.onFatal,
  });
  const relay = startOutboxRelay({
    db,
    publisher,
    logger,
    intervalMs: deps.relayIntervalMs ?? 10_000,
    ...(deps.commandResendMs !== undefined ? { resendAfterMs: deps.commandResendMs } : {}),
    ...(deps.clock ? { now: () => deps.clock!.now() } : {}),
    onGiveUp: (entry) => failAbandonedCommand({ db, publisher, logger, ...clock }, entry),
  });
  redecider = startRedecider({
    db,
    services: config.services,
    logger,
    core,
    history: deps.redecisions?.readTargets === false ? null : history,
    ...clock,
    ...(deps.redecisions?.sweep !== undefined ? { sweep: deps.redecisions.sweep } : {}),
    ...(deps.redecisions?.idleSweepMs !== undefined ? { idleSweepMs: deps.redecisions.idleSweepMs } : {}),
    ...(deps.redecisions?.leaseMs !== undefined ? { leaseMs: deps.redecisions.leaseMs } : {}),
  });
  logger.info(
    `decider consuming ${Subscriptions.decider.name}, ${Subscriptions.deciderBulk.name}, ${Subscriptions.deciderProgress.name} and ${Subscriptions.deciderDeployEvents.name}`,
    {
      event: 'started',
      services: [...config.services.keys()],
    },
  );
  if (!deps.deploy)
    logger.warn('no Cloud Deploy client: what serves each target is known only from Burnback’s own rollbacks', {
      event: 'no_deploy_history',
    });
  // A fresh install protects production at once: what serves every target, from Cloud Deploy's own record.
  const ready = history && deps.readTargetsAtStart !== false ? history.rebuildAll().then(() => undefined) : Promise.resolve();
  const health = await startHealthServer({ port: deps.port, metrics, logger });
  return {
    address: health.address,
    redecideNow: (incidentId) => redecider.redecideNow(incidentId),
    ready,
    async close() {
      await health.close();
      await ready.catch(() => undefined);
      await subscriber.close();
      await bulkSubscriber.close();
      await bulkLane.close();
      await progressSubscriber.close();
      await deployEvents.close();
      await redecider.close();
      await relay.stop();
      await publisher.close();
    },
  };
}
