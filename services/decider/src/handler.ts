import type { Firestore } from '@google-cloud/firestore';
import {
  DecisionActions,
  errorKind,
  ErrorKinds,
  EventTypes,
  PermanentError,
  rollbackIdFor,
  recommendationIdFor,
  rolloutIdFor,
  decisionIdFor,
  redecisionIdFor,
  RedecisionTriggers,
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
  type Redecision,
  type RollbackCommand,
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
  type ServiceConfig,
} from '@burnback/platform';
import {
  applyDecision,
  applyIncident,
  confirmationWindows,
  decide,
  measuredValue,
  recordBurnOnTarget,
  rollbackAttemptOf,
  thresholdFor,
  withUnavailableSince,
  mergeFleet,
  recordOnBreaker,
} from '@burnback/policy';
import { DecisionStore } from './store.js';

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
  /** Told when a decision scheduled its incident to be decided again (the redecider then looks sooner). */
  onScheduled?: (dueAt: Date) => void;
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
export function openOverItsBar(alert: AlertEvent, service: ServiceConfig): boolean {
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

/** What a re-decision adds to deciding an alert: the decision it decides again, which must still be the incident's latest. */
export interface RedecisionOf {
  previous: DecisionRecord;
  trigger: Redecision['trigger'];
  rule: string | null;
}

/** A re-decision whose incident has a newer decision (or none any more) since it was scheduled: nothing to do. */
export type RedecideOutcome = DeciderOutcome | { kind: 'stale'; reason: string };

/** Maps a failed transaction to ack or retry: a stored document that no longer fits will not fit on retry either. */
export function classifyStoreError(err: unknown, what: string): Error {
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
  const core = createDecisionCore(deps);
  return (cloudEvent) => core.decideAlert(cloudEvent.data, cloudEvent.id) as Promise<DeciderOutcome>;
}

/**
 * Deciding one alert, for a notification (createDeciderHandler) or again for an
 * incident whose hold lapsed or whose rollback was superseded or failed
 * (`redecide`, the redecider's): the same reads, the same transaction, the same
 * record. A re-decision's alert is the decision's own, observed now, and its
 * decision id is derived from the decision it decides again.
 */
export function createDecisionCore(deps: DeciderDeps) {
  const { logger, publisher } = deps;
  const clock = deps.clock ?? systemClock;
  const now = () => clock.now();
  const store = new DecisionStore(deps.db, (t) => deps.metrics?.transactionAttempts.inc({ transaction: t }));

  const decideAlert = async (alert: AlertEvent, alertEventId: string, again?: RedecisionOf): Promise<RedecideOutcome> => {
    const service = deps.services[alert.service];
    if (!service) throw new PermanentError(`alert names service "${alert.service}", which is not in the decider's configuration`);
    // A redelivery of the same bytes has the same notification id, so the same decision id: it changes nothing.
    const decisionId = again
      ? redecisionIdFor(again.previous.decisionId)
      : decisionIdFor(alert.incidentId, alert.state, alert.startedAt, alert.notificationId);
    const meta = { eventId: alertEventId, incidentId: alert.incidentId, decisionId, service: alert.service };
    const target = { project: service.project, region: service.region, pipeline: service.pipeline, target: service.target };

    // Independent reads, both before the transaction: at once, so the alert waits for the slower one only.
    const [monitoring, fleet] = await Promise.all([
      alert.manual ? null : checkMonitoring(service, alert, deps.monitoring, now),
      readFleetFor(store, service, alert, now, logger),
    ]);
    let stale: string | null = null;
    let result;
    try {
      const mayTouchBreaker = Boolean(alert.manual) || openOverItsBar(alert, service);
      const turn = mayTouchBreaker && deps.breakerTurn ? deps.breakerTurn : <T>(task: () => Promise<T>) => task();
      result = await turn(() =>
        store.decideOnce(decisionId, alert.service, alert.incidentId, target, async (snapshot) => {
          if (snapshot.existing) return null;
          // A re-decision decides the incident's latest decision again, or nothing: a newer one has decided since.
          if (again && snapshot.incident?.lastDecisionId !== again.previous.decisionId) {
            stale = snapshot.incident
              ? `incident ${alert.incidentId} was decided since (${snapshot.incident.lastDecisionId})`
              : `incident ${alert.incidentId} is not on record`;
            return null;
          }
          // A re-decision's alert is observed at the moment it is decided again: one time for both, which a replay sets.
          const evaluatedAt = again ? alert.observedAt : now().toISOString();
          const controls = { pause: snapshot.controls?.pause ?? null, acknowledgement: snapshot.acknowledgement, evaluatedAt };
          // Cloud Monitoring that could not answer: the retry window counts from the first time it could not.
          const reading = withUnavailableSince(monitoring, snapshot.incident, evaluatedAt);
          const decideWith = (f: FleetView | null) =>
            decide(snapshot.state, alert, service.policy, snapshot.incident, snapshot.target, reading, { ...controls, fleet: f });
          // What the breaker saw: the per-service stamps, joined below with the breaker's document (each attempt afresh).
          let seen = fleet;
          let decision = decideWith(seen);
          // Would roll back: count it exactly on the breaker's document, in this transaction, so decisions of many
          // services at once see each other (the per-service stamps read before it cannot).
          let breaker: BreakerRecord | undefined;
          // Derived from the incident: its one rollback, whichever notification orders it (a new attempt only after
          // one was superseded). A recommendation (validate only) is derived from its decision.
          const incidentRollbackId = rollbackIdFor(alert.incidentId, rollbackAttemptOf(snapshot.incident));
          if (decision.action === DecisionActions.rollback) {
            const known = await snapshot.readBreaker();
            seen = mergeFleet(fleet, known, Date.parse(evaluatedAt), service.policy.breakerWindowMinutes);
            decision = decideWith(seen);
            breaker = recordOnBreaker(
              known,
              alert.service,
              evaluatedAt,
              decision.action === DecisionActions.rollback ? incidentRollbackId : null,
            );
          }
          const rollbackId =
            decision.action === DecisionActions.rollback
              ? incidentRollbackId
              : decision.action === DecisionActions.recommend
                ? recommendationIdFor(decisionId)
                : null;
          const redecideAt = decision.redecideAt;
          const record: DecisionRecord = {
            decisionId,
            incidentId: alert.incidentId,
            service: alert.service,
            incidentState: alert.state,
            action: decision.action,
            reason: decision.reason,
            verdicts: decision.verdicts,
            decidedAt: decision.decidedAt,
            alertEventId,
            rollbackId,
            target,
            confidence: decision.confidence,
            cause: decision.cause,
            monitoring: reading,
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
            redecisionOf: again?.previous.decisionId ?? null,
            redecideAt,
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
            redecisionOf: record.redecisionOf,
            redecideAt,
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
              // The world the decision saw: the executor acts on it, or ends the rollback superseded.
              blamedReleaseId: decision.cause?.releaseId ?? null,
              servingRollout: snapshot.target?.serving?.rollout ?? null,
              evaluatedAt,
              manual: alert.manual ? { force: alert.manual.force, requestedBy: alert.manual.requestedBy } : null,
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
          const redecision: Redecision | null =
            redecideAt === null
              ? null
              : {
                  incidentId: alert.incidentId,
                  service: alert.service,
                  afterDecisionId: decisionId,
                  // Never before the decision: a cause that lapsed while it was decided is looked at again at once.
                  dueAt: Date.parse(redecideAt.at) > Date.parse(evaluatedAt) ? redecideAt.at : evaluatedAt,
                  trigger: RedecisionTriggers.lapsed,
                  rule: redecideAt.rule,
                  detail: redecideAt.detail,
                  lease: null,
                  attempts: 0,
                  createdAt,
                  updatedAt: createdAt,
                };
          return {
            decision: record,
            state: applyDecision(snapshot.state, decision, decisionId, rollbackId, service.policy),
            incident: applyIncident(snapshot.incident, alert, decision, decisionId, rollbackId, reading),
            // The release serving when the burn started has burned: it never counts as a good one to return to.
            target: snapshot.target && decision.burnStartedAt !== null ? recordBurnOnTarget(snapshot.target, decision.burnStartedAt) : null,
            outbox,
            breaker,
            redecision,
          };
        }),
      );
    } catch (err) {
      throw classifyStoreError(err, 'decision transaction');
    }

    if (!result.written && stale !== null) return { kind: 'stale', reason: stale };
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
      redecisionOf: decision.redecisionOf ?? undefined,
      redecideAt: decision.redecideAt ?? undefined,
    });
    if (result.written.redecision) deps.onScheduled?.(new Date(result.written.redecision.dueAt));
    // Committed, nothing published: a crash here leaves the outbox to the alert's redelivery (or the relay).
    deps.crash?.(CrashPoints.decidedBeforePublish, { decisionId, incidentId: alert.incidentId, service: alert.service });
    for (const entry of outbox) await publishOutboxEntry(deps.db, publisher, entry, now());
    let command: RollbackCommand | null = null;
    for (const e of outbox) if (e.eventType !== EventTypes.decision) command = e.data;
    return { kind: 'decided', decision, command };
  };

  /**
   * Decides an incident again on the world as it is now: its latest decision's
   * alert, observed now (so the rate limit, the cooldown, a pause and a freeze
   * are judged now), Cloud Monitoring read again.
   */
  const redecide = (again: RedecisionOf): Promise<RedecideOutcome> => {
    const evidence = again.previous.evidence;
    if (evidence === null)
      throw new PermanentError(
        `decision ${again.previous.decisionId} was recorded without its evidence: its incident cannot be decided again`,
      );
    const at = now().toISOString();
    const alert: AlertEvent = {
      ...evidence.alert,
      observedAt: at,
      receivedAt: at,
      redecision: { of: again.previous.decisionId, trigger: again.trigger, rule: again.rule },
    };
    return decideAlert(alert, `redecision-${redecisionIdFor(again.previous.decisionId)}`, again);
  };

  return { decideAlert, redecide, store };
}
