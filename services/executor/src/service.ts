import { setMaxListeners } from 'node:events';
import type { CloudDeployClient } from '@google-cloud/deploy';
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { EventTypes, Subscriptions, type RollbackCommand } from '@burnback/contracts';
import {
  cloudEventHandler,
  createMetrics,
  PubSubPublisher,
  startHealthServer,
  startSubscriber,
  type Clock,
  type CrashHook,
  type Logger,
  type Metrics,
  type ServiceConfig,
} from '@burnback/platform';
import { CloudDeployPort } from './deploy.js';
import { createDeployEventHandler } from './deploy-events.js';
import { createExecutorHandler } from './handler.js';
import type { RollbackStepsDeps } from './rollback-steps.js';
import { RollbackStore } from './store.js';
import { startRolloutTracker, type RolloutTrackerDeps } from './tracker.js';

export interface ExecutorService {
  /** http://host:port of health and metrics, when a port was given. */
  address: string | null;
  /**
   * Looks at a rollback now instead of at its next scheduled look, as a Cloud
   * Deploy notification that its rollout ended makes it: how a replay has the
   * executor see a rollout end at the moment the recording saw it. True when the
   * look was brought forward; false when the rollback is unknown, no longer
   * tracked, already due, or being looked at.
   */
  lookNow(rollbackId: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Commands handled at once: each holds one flow-control slot only while it starts a rollback (seconds), never while it
 * runs. With 20, the 10,000 storm's 100 commands waited up to 4.4 s for a slot; 50 takes them in two waves (the fleet
 * breaker, not this window, bounds how many rollbacks run at once).
 */
const MAX_COMMANDS_IN_FLIGHT = 50;

/**
 * Wires the executor: burnback-commands in (each command starts its rollback
 * and is acked), the rollout tracker following every started rollback from
 * Firestore (woken early by Cloud Deploy's notifications of rollouts that
 * ended), Cloud Deploy rollbacks, burnback-progress out.
 */
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
  maxPollIntervalMs?: number;
  maxTrackingMs?: number;
  retry?: RollbackStepsDeps['retry'];
  /** The tracker's settings (tests shorten the lease and the idle sweep). */
  tracker?: Pick<RolloutTrackerDeps, 'owner' | 'concurrency' | 'leaseMs' | 'idleSweepMs' | 'drainMs'>;
  /** Default the wall clock; `burnback replay --through-pipeline` gives the recorded timeline (the tracker's schedule runs on it too). */
  clock?: Clock;
  /** Test-only crash points (main.ts builds it from BURNBACK_CHAOS_CRASH_AT); none by default. */
  crash?: CrashHook;
  /**
   * The services' policies (mode, freeze windows), from the config the decider reads too: a command is re-checked
   * against them right before it rolls back. Without them only the pause and the acknowledgement are re-checked.
   */
  services?: ReadonlyMap<string, Pick<ServiceConfig, 'policy'>>;
  /** How long a denied permission is waited out before a rollback fails (default 10 min). */
  permissionWaitMs?: number;
}): Promise<ExecutorService> {
  const { pubsub, db, logger } = deps;
  const metrics = deps.metrics ?? createMetrics('executor');
  // Aborted on close: a command still starting its rollback stops retrying Cloud Deploy and is nacked (redelivery resumes it).
  const shutdown = new AbortController();
  // One retry wait at a time per command in flight may listen to it: a bound, declared.
  setMaxListeners(MAX_COMMANDS_IN_FLIGHT + 1, shutdown.signal);
  const publisher = new PubSubPublisher(pubsub);
  const store = new RollbackStore(db);
  const deploy = new CloudDeployPort(deps.deployClient);
  const now = () => deps.clock?.now() ?? new Date();
  const shared = {
    store,
    deploy,
    publisher,
    logger,
    metrics,
    ...(deps.pollIntervalMs !== undefined ? { pollIntervalMs: deps.pollIntervalMs } : {}),
    ...(deps.maxPollIntervalMs !== undefined ? { maxPollIntervalMs: deps.maxPollIntervalMs } : {}),
    ...(deps.maxTrackingMs !== undefined ? { maxTrackingMs: deps.maxTrackingMs } : {}),
    ...(deps.retry ? { retry: deps.retry } : {}),
    now,
    ...(deps.crash ? { crash: deps.crash } : {}),
    controls: (command: RollbackCommand) => store.controlsOf(command),
    ...(deps.services ? { policies: new Map([...deps.services].map(([name, s]) => [name, s.policy])) } : {}),
    ...(deps.permissionWaitMs !== undefined ? { permissionWaitMs: deps.permissionWaitMs } : {}),
  };
  const tracker = startRolloutTracker({ ...shared, ...deps.tracker });
  const handle = createExecutorHandler({ ...shared, signal: shutdown.signal, onTracked: () => tracker.wake() });
  const subscriber = startSubscriber({
    pubsub,
    subscription: Subscriptions.executor.name,
    deadLetter: publisher,
    logger,
    metrics,
    maxInFlight: MAX_COMMANDS_IN_FLIGHT,
    handler: cloudEventHandler([EventTypes.rollbackCommand, EventTypes.rollbackValidate], handle),
    onUnexpectedClose: deps.onFatal,
  });
  // A hint only: without it the tracker still finds every ending on its own looks, so losing it is logged, not fatal.
  const deployEvents = startSubscriber({
    pubsub,
    subscription: Subscriptions.executorDeployEvents.name,
    deadLetter: publisher,
    logger,
    metrics,
    handler: createDeployEventHandler({ store, logger, now, onNudged: () => tracker.wake() }),
    onUnexpectedClose: (error) =>
      logger.error(
        `${Subscriptions.executorDeployEvents.name} closed: rollout endings are now noticed on the tracker's own looks only (${error.message})`,
        { event: 'deploy_events_stopped', error },
      ),
  });
  logger.info(`executor consuming ${Subscriptions.executor.name} and ${Subscriptions.executorDeployEvents.name}`, { event: 'started' });
  const health = await startHealthServer({ port: deps.port, metrics, logger });
  return {
    address: health.address,
    async lookNow(rollbackId) {
      const nudged = await store.nudge(rollbackId, now());
      if (nudged) tracker.wake();
      return nudged;
    },
    async close() {
      shutdown.abort();
      await health.close();
      await Promise.all([subscriber.close(), deployEvents.close(), tracker.close()]);
      await publisher.close();
    },
  };
}
