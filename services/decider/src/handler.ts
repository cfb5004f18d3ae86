import type { Firestore } from '@google-cloud/firestore';
import {
  DecisionActions,
  errorKind,
  ErrorKinds,
  EventTypes,
  PermanentError,
  parseRolloutName,
  rollbackIdFor,
  recommendationIdFor,
  rolloutIdFor,
  decisionIdFor,
  EVIDENCE_VERSION,
  policyHashOf,
  Topics,
  TransientError,
  type CloudEvent,
  type DecisionEvent,
  type AlertEvent,
  type DecisionRecord,
  type BreakerRecord,
  type FleetView,
  type MonitoringCheck,
  type OutboxEntry,
  type RollbackCommand,
  type RollbackProgress,
} from '@burnback/contracts';
import {
  CrashPoints,
  publishOutboxEntry,
  systemClock,
  type Clock,
  type CrashHook,
  type Logger,
  type Metrics,
  type MonitoringPort,
  type Publisher,
  type ReceivedMessage,
  type ServiceConfig,
} from '@burnback/platform';
import {
  applyDecision,
  applyIncident,
  confirmationWindows,
  decide,
  measuredValue,
  recordBurnOnTarget,
  recordFailedRolloutOnTarget,
  thresholdFor,
  recordOutcomeOnService,
  recordOutcomeOnTarget,
  recordProgressOnIncident,
  recordServingOnTarget,
  mergeFleet,
  recordOnBreaker,
  releaseOnBreaker,
} from '@burnback/policy';
import { DecisionStore, releasesBreaker, type ProgressWrite } from './store.js';

export interface DeciderDeps {
  db: Firestore;
  services: Record<string, ServiceConfig>;
  publisher: Publisher;
  logger: Logger;
  metrics?: Metrics;
  /** Cloud Monitoring, asked to confirm a burn for services that name their SLO. */
  monitoring?: MonitoringPort | null;
  /**
   * The clock (default the wall clock): when a decision was evaluated (freezes and the fleet breaker are judged
   * then), when Monitoring was read, outbox timestamps, and what a Cloud Deploy notification's publish time means.
   * Rate limit and cooldown use the event's own time. A replay through the pipeline gives the recorded timeline.
   */
  clock?: Clock;
  /**
   * Takes turns for the transactions that may touch the fleet breaker's document (a decision that could roll back,
   * a real rollback's end): one at a time in this process, so they do not contend with each other, each contention
   * costing a Firestore retry of a second or more. Shared by the decider's handlers (startDeciderService does).
   */
  breakerTurn?: Serializer;
  /** Test-only fault injection (`npm run test:chaos`): may kill the process between the commit and the outbox's publish. */
  crash?: CrashHook;
}

/** Runs tasks one at a time, in the order they arrive; a failed task does not stop the next. */
export type Serializer = <T>(task: () => Promise<T>) => Promise<T>;

export function createSerializer(): Serializer {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** An open alert whose value is over its bar: the only kind that could roll back, so the only one worth a read before deciding. */
function openOverItsBar(alert: AlertEvent, service: ServiceConfig): boolean {
  const bar = thresholdFor(alert, service.policy);
  const measured = measuredValue(alert);
  return alert.state === 'open' && bar !== null && measured !== null && measured > bar.value;
}

/**
 * Asks Cloud Monitoring whether the service still burns, on the alert policy's
 * two windows, before a decision that could roll back: only for a service that
 * names its SLO, and only for an open alert over its bar (nothing else can roll
 * back, so nothing else is worth the call). The answer, or why there is none,
 * is an input of the pure decision and is recorded with it.
 */
export async function checkMonitoring(
  service: ServiceConfig,
  alert: AlertEvent,
  monitoring: MonitoringPort | null | undefined,
  now: () => Date,
): Promise<MonitoringCheck | null> {
  if (service.slo === null) return null;
  const windows = confirmationWindows(alert, service.policy);
  if (windows === null || !openOverItsBar(alert, service)) return null;
  const base = { slo: service.slo, ...windows };
  const unavailable = (error: string): MonitoringCheck => ({
    status: 'unavailable',
    ...base,
    error,
    onUnavailable: service.onMonitoringUnavailable,
  });
  if (!monitoring) return unavailable('no Cloud Monitoring client is configured');
  try {
    const [long, short] = await Promise.all([
      monitoring.readBurnRate(service.slo, windows.longWindowSeconds),
      monitoring.readBurnRate(service.slo, windows.shortWindowSeconds),
    ]);
    if (long === null || short === null)
      return unavailable(
        `no current burn-rate point for the ${long === null ? windows.longWindowSeconds : windows.shortWindowSeconds} s window`,
      );
    return { status: 'read', ...base, long: long.value, short: short.value, readAt: now().toISOString() };
  } catch (err) {
    return unavailable((err as Error).message);
  }
}

/**
 * Reads the fleet for the circuit breaker, only for an alert that could roll
 * back (a manual request, or an open alert over its bar): nothing else needs it.
 * A read that fails leaves the breaker unable to trip, and the decision says so;
 * it never blocks a decision (the breaker is a guard against storms, not a gate).
 */
async function readFleetFor(
  store: DecisionStore,
  service: ServiceConfig,
  alert: AlertEvent,
  now: () => Date,
  logger: Logger,
): Promise<FleetView | null> {
  if (!alert.manual && !openOverItsBar(alert, service)) return null;
  try {
    return await store.readFleet(now(), service.policy.breakerWindowMinutes);
  } catch (err) {
    logger.warn('the fleet could not be read for the circuit breaker', { event: 'fleet_unreadable', error: err });
    return null;
  }
}

export type DeciderOutcome =
  | { kind: 'decided'; decision: DecisionRecord; command: RollbackCommand | null }
  | { kind: 'duplicate'; decision: DecisionRecord; republished: boolean };

/** Maps a failed transaction to ack or retry: a stored document that no longer fits will not fit on retry either. */
function classifyStoreError(err: unknown, what: string): Error {
  if (errorKind(err) === ErrorKinds.permanent) return err as Error;
  if ((err as Error).name === 'ZodError')
    return new PermanentError(`a stored document is invalid: ${(err as Error).message}`, { cause: err });
  return new TransientError(`${what} failed: ${(err as Error).message}`, { cause: err });
}

/** Command first: the rollback is what is waiting; the decision event is for people. */
const publishOrder = (entry: OutboxEntry): number => (entry.eventType === EventTypes.decision ? 1 : 0);

/**
 * AlertEvent in → decision recorded (with its explanation) and, in the same
 * transaction, written to the outbox: the decision event (every decision) and,
 * when the rules allow, a RollbackCommand; both are published after commit.
 */
export function createDeciderHandler(deps: DeciderDeps): (event: CloudEvent<typeof EventTypes.alert>) => Promise<DeciderOutcome> {
  const { logger, publisher } = deps;
  const clock = deps.clock ?? systemClock;
  const now = () => clock.now();
  const store = new DecisionStore(deps.db, (t) => deps.metrics?.transactionAttempts.inc({ transaction: t }));

  return async (cloudEvent) => {
    const alert = cloudEvent.data;
    const service = deps.services[alert.service];
    if (!service) throw new PermanentError(`alert names service "${alert.service}", which is not in the decider's configuration`);
    // A redelivery of the same bytes has the same notification id, so the same decision id: it changes nothing.
    const decisionId = decisionIdFor(alert.incidentId, alert.state, alert.startedAt, alert.notificationId);
    const meta = { eventId: cloudEvent.id, incidentId: alert.incidentId, decisionId, service: alert.service };
    const target = { project: service.project, region: service.region, pipeline: service.pipeline, target: service.target };

    // Independent reads, both before the transaction: at once, so the alert waits for the slower one only.
    const [monitoring, fleet] = await Promise.all([
      alert.manual ? null : checkMonitoring(service, alert, deps.monitoring, now),
      readFleetFor(store, service, alert, now, logger),
    ]);
    let result;
    try {
      const mayTouchBreaker = Boolean(alert.manual) || openOverItsBar(alert, service);
      const turn = mayTouchBreaker && deps.breakerTurn ? deps.breakerTurn : <T>(task: () => Promise<T>) => task();
      result = await turn(() =>
        store.decideOnce(decisionId, alert.service, alert.incidentId, target, async (snapshot) => {
          if (snapshot.existing) return null;
          const evaluatedAt = now().toISOString();
          const controls = { pause: snapshot.controls?.pause ?? null, acknowledgement: snapshot.acknowledgement, evaluatedAt };
          const decideWith = (f: FleetView | null) =>
            decide(snapshot.state, alert, service.policy, snapshot.incident, snapshot.target, monitoring, { ...controls, fleet: f });
          // What the breaker saw: the per-service stamps, joined below with the breaker's document (each attempt afresh).
          let seen = fleet;
          let decision = decideWith(seen);
          // Would roll back: count it exactly on the breaker's document, in this transaction, so decisions of many
          // services at once see each other (the per-service stamps read before it cannot).
          let breaker: BreakerRecord | undefined;
          if (decision.action === DecisionActions.rollback) {
            const known = await snapshot.readBreaker();
            seen = mergeFleet(fleet, known, Date.parse(evaluatedAt), service.policy.breakerWindowMinutes);
            decision = decideWith(seen);
            breaker = recordOnBreaker(
              known,
              alert.service,
              evaluatedAt,
              decision.action === DecisionActions.rollback ? rollbackIdFor(alert.incidentId) : null,
            );
          }
          // Derived from the incident: its one rollback, whichever notification orders it. A recommendation
          // (validate only) is derived from its decision, and never takes the incident's rollback id.
          const rollbackId =
            decision.action === DecisionActions.rollback
              ? rollbackIdFor(alert.incidentId)
              : decision.action === DecisionActions.recommend
                ? recommendationIdFor(decisionId)
                : null;
          const record: DecisionRecord = {
            decisionId,
            incidentId: alert.incidentId,
            service: alert.service,
            incidentState: alert.state,
            action: decision.action,
            reason: decision.reason,
            verdicts: decision.verdicts,
            decidedAt: decision.decidedAt,
            alertEventId: cloudEvent.id,
            rollbackId,
            target,
            confidence: decision.confidence,
            cause: decision.cause,
            monitoring,
            controls,
            fleet: seen,
            evidence: {
              version: EVIDENCE_VERSION,
              alert,
              notificationId: alert.notificationId,
              policy: service.policy,
              policyHash: policyHashOf(service.policy),
              state: snapshot.state,
              incident: snapshot.incident,
              target: snapshot.target,
            },
          };
          const createdAt = now().toISOString();
          const decisionEvent: DecisionEvent = {
            decisionId,
            incidentId: alert.incidentId,
            service: alert.service,
            action: decision.action,
            reason: decision.reason,
            verdicts: decision.verdicts,
            decidedAt: decision.decidedAt,
            rollbackId,
            target,
            confidence: decision.confidence,
            cause: decision.cause,
          };
          const outbox: OutboxEntry[] = [
            {
              id: decisionId,
              topic: Topics.decisions,
              orderingKey: alert.service,
              eventType: EventTypes.decision,
              eventId: decisionId,
              subject: `services/${alert.service}/decisions/${decisionId}`,
              time: decision.decidedAt,
              data: decisionEvent,
              createdAt,
              sentAt: null,
              attempts: 0,
            },
          ];
          if (rollbackId) {
            const command: RollbackCommand = {
              rollbackId,
              decisionId,
              incidentId: alert.incidentId,
              service: alert.service,
              ...target,
              rolloutId: rolloutIdFor(rollbackId),
              // A manual request may name the release to return to; otherwise the executor chooses the last good one.
              releaseId: alert.manual?.releaseId ?? null,
              reason: decision.reason,
              requestedAt: decision.decidedAt,
              ...(decision.action === DecisionActions.recommend ? { validateOnly: true } : {}),
            };
            outbox.unshift({
              id: rollbackId,
              topic: Topics.commands,
              orderingKey: alert.service,
              // A validate-only command goes under its own type: an older executor dead-letters it, never rolls back.
              ...(decision.action === DecisionActions.recommend
                ? { eventType: EventTypes.rollbackValidate }
                : { eventType: EventTypes.rollbackCommand }),
              eventId: rollbackId,
              subject: `services/${alert.service}/rollbacks/${rollbackId}`,
              time: decision.decidedAt,
              data: command,
              createdAt,
              sentAt: null,
              attempts: 0,
              confirmedAt: null,
            });
          }
          return {
            decision: record,
            state: applyDecision(snapshot.state, decision, decisionId, rollbackId, service.policy),
            incident: applyIncident(snapshot.incident, alert, decision, decisionId, rollbackId),
            // The release serving when the burn started has burned: it never counts as a good one to return to.
            target: snapshot.target && decision.burnStartedAt !== null ? recordBurnOnTarget(snapshot.target, decision.burnStartedAt) : null,
            outbox,
            breaker,
          };
        }),
      );
    } catch (err) {
      throw classifyStoreError(err, 'decision transaction');
    }

    if (!result.written) {
      const existing = result.snapshot.existing!;
      // A crash between commit and publish leaves entries unsent: send them now.
      const unsent = result.snapshot.existingOutbox.filter((e) => e.sentAt === null).sort((a, b) => publishOrder(a) - publishOrder(b));
      for (const entry of unsent) await publishOutboxEntry(deps.db, publisher, entry, now());
      logger.info('alert already decided; nothing new to do', {
        ...meta,
        event: 'decision_duplicate',
        action: existing.action,
        republished: unsent.length,
      });
      return { kind: 'duplicate', decision: existing, republished: unsent.some((e) => e.eventType !== EventTypes.decision) };
    }

    const { decision, outbox } = result.written;
    deps.metrics?.decisions.inc({ service: alert.service, action: decision.action });
    const log = decision.action === DecisionActions.escalate ? logger.warn.bind(logger) : logger.info.bind(logger);
    log(`decision for ${alert.service}: ${decision.reason}`, {
      ...meta,
      event: 'decision',
      action: decision.action,
      reason: decision.reason,
      verdicts: decision.verdicts,
      confidence: decision.confidence ?? undefined,
      cause: decision.cause?.releaseId,
      monitoring: decision.monitoring ?? undefined,
      rollbackId: decision.rollbackId ?? undefined,
      target: decision.target,
    });
    // Committed, nothing published: a crash here leaves the outbox to the alert's redelivery (or the relay).
    deps.crash?.(CrashPoints.decidedBeforePublish, { decisionId, incidentId: alert.incidentId, service: alert.service });
    for (const entry of outbox) await publishOutboxEntry(deps.db, publisher, entry, now());
    let command: RollbackCommand | null = null;
    for (const e of outbox) if (e.eventType !== EventTypes.decision) command = e.data;
    return { kind: 'decided', decision, command };
  };
}

/**
 * RollbackProgress in → the rollback's real outcome recorded: on the service
 * state (the cooldown counts from the finish), on the incident (its one
 * rollback, never retried automatically once failed) and on the target (the
 * release left is quarantined; the release returned to is remembered, so a burn
 * on it escalates). Idempotent: stages only move forward, the first final one wins.
 */
export function createProgressHandler(
  deps: Pick<DeciderDeps, 'db' | 'services' | 'logger' | 'metrics' | 'breakerTurn' | 'clock'>,
): (event: CloudEvent<typeof EventTypes.rollbackProgress>) => Promise<ProgressWrite> {
  const store = new DecisionStore(deps.db, (t) => deps.metrics?.transactionAttempts.inc({ transaction: t }));
  const clock = deps.clock ?? systemClock;
  return async (cloudEvent) => {
    const progress: RollbackProgress = cloudEvent.data;
    const service = deps.services[progress.service];
    if (!service) throw new PermanentError(`progress names service "${progress.service}", which is not in the decider's configuration`);
    if (service.target !== progress.target)
      throw new PermanentError(
        `progress of ${progress.service} names target "${progress.target}", but the service rolls back "${service.target}"`,
      );
    const target = { project: service.project, region: service.region, pipeline: service.pipeline, target: service.target };
    let write: ProgressWrite;
    try {
      const turn = releasesBreaker(progress) && deps.breakerTurn ? deps.breakerTurn : <T>(task: () => Promise<T>) => task();
      write = await turn(() =>
        store.recordProgress(
          cloudEvent.id,
          progress,
          target,
          () => clock.now(),
          (snapshot) => ({
            state: recordOutcomeOnService(snapshot.state, progress),
            incident: snapshot.incident ? recordProgressOnIncident(snapshot.incident, progress) : null,
            target: recordOutcomeOnTarget(snapshot.target, progress),
            // A real rollback's end takes it out of the breaker's in-flight count.
            breaker:
              snapshot.breaker && releasesBreaker(progress) ? releaseOnBreaker(snapshot.breaker, progress.rollbackId) : snapshot.breaker,
          }),
        ),
      );
    } catch (err) {
      throw classifyStoreError(err, 'progress transaction');
    }
    deps.logger.info(`rollback ${progress.rollbackId} of ${progress.service}: ${progress.stage} recorded`, {
      event: 'rollback_progress_recorded',
      eventId: cloudEvent.id,
      rollbackId: progress.rollbackId,
      incidentId: progress.incidentId,
      service: progress.service,
      stage: progress.stage,
      quarantined: write.target.quarantined.map((q) => q.releaseId),
      returnedTo: write.target.returnedTo?.releaseId,
    });
    return write;
  };
}

/**
 * Cloud Deploy's operation notifications (clouddeploy-operations; everything is
 * in the attributes) in → what serves each configured target since when, what
 * served before it, and how the latest rollout went: a rollout that succeeded
 * on it, whoever shipped it, or one that failed. This is what lets a release shipped after
 * Burnback's rollback be rolled back in turn, while a burn on the release
 * Burnback returned to escalates. Other notifications, and targets no service
 * rolls back, are acknowledged and ignored. The project in the rollout name may
 * be the project number (real Cloud Deploy) or id (gcp-sim): a number matches
 * by location, pipeline and target alone, which the config keeps unique.
 */
export function createDeployEventHandler(
  deps: Pick<DeciderDeps, 'db' | 'services' | 'logger' | 'clock' | 'metrics'>,
): (message: Pick<ReceivedMessage, 'attributes' | 'publishTime' | 'id'>) => Promise<void> {
  const store = new DecisionStore(deps.db, (t) => deps.metrics?.transactionAttempts.inc({ transaction: t }));
  const clock = deps.clock ?? systemClock;
  return async (message) => {
    const a = message.attributes;
    if ((a.Action !== 'Succeed' && a.Action !== 'Failure') || a.ResourceType !== 'Rollout' || !a.TargetId) return;
    const name = parseRolloutName(a.Resource);
    if (!name) return;
    const { project, location, pipeline, releaseId } = name;
    const service = Object.values(deps.services).find(
      (s) =>
        s.region === location && s.pipeline === pipeline && s.target === a.TargetId && (s.project === project || /^\d+$/.test(project)),
    );
    if (!service) return;
    const target = { project: service.project, region: service.region, pipeline: service.pipeline, target: service.target };
    const since = clock.at(message.publishTime).toISOString();
    try {
      await store.updateTarget(
        target,
        since,
        (current) =>
          a.Action === 'Succeed'
            ? recordServingOnTarget(current, releaseId, since, a.Resource!)
            : recordFailedRolloutOnTarget(current, releaseId, since, a.Resource!),
        { event: { messageId: message.id, publishTime: since, attributes: { ...a }, service: service.name }, now: () => clock.now() },
      );
    } catch (err) {
      throw classifyStoreError(err, 'target transaction');
    }
    const text =
      a.Action === 'Succeed'
        ? `${service.target} of ${service.pipeline} serves ${releaseId}`
        : `a rollout of ${releaseId} to ${service.target} of ${service.pipeline} failed`;
    deps.logger.info(text, {
      event: a.Action === 'Succeed' ? 'target_serving' : 'target_rollout_failed',
      eventId: message.id,
      service: service.name,
      releaseId,
      rollout: a.Resource,
    });
  };
}
