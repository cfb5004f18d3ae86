import type { Firestore } from '@google-cloud/firestore';
import {
  DecisionActions,
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
  type CloudEvent,
  type AlertEvent,
  type DecisionRecord,
  type BreakerRecord,
  type FleetView,
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
  commandServingRollout,
  decide,
  recordBurnOnTarget,
  rollbackAttemptOf,
  withUnavailableSince,
  mergeFleet,
  recordOnBreaker,
} from '@burnback/policy';
import { checkMonitoring, readFleetFor } from './evidence.js';
import { mayTouchBreaker } from './pure/gates.js';
import type { Serializer } from './serializer.js';
import { DecisionStore, type DecisionSnapshot, type DecisionWrite } from './store.js';
import { createBreakerGroups } from './breaker-groups.js';
import { classifyStoreError } from './pure/store-errors.js';
import { decisionOutboxEntry } from './pure/bulk-plan.js';
import { publishOwedEvents } from './owed-events.js';

export { checkMonitoring, openOverItsBar } from './evidence.js';
export { createSerializer, type Serializer } from './serializer.js';
export { classifyStoreError } from './pure/store-errors.js';

export interface DeciderDeps {
  db: Firestore;
  services: ReadonlyMap<string, ServiceConfig>;
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
  const groups = deps.breakerTurn ? createBreakerGroups(store, deps.breakerTurn, logger) : null;

  /** A decision already on record: publishes what it still owes (owed-events.ts), nothing else. */
  const answerDuplicate = async (
    known: { existing: DecisionRecord; existingOutbox: OutboxEntry[] },
    meta: Record<string, string>,
  ): Promise<RedecideOutcome> => {
    const owed = await publishOwedEvents({ db: deps.db, publisher, now }, known.existing, known.existingOutbox);
    logger.info('alert already decided; nothing new to do', {
      ...meta,
      event: 'decision_duplicate',
      action: known.existing.action,
      republished: owed.length,
    });
    return { kind: 'duplicate', decision: known.existing, republished: owed.some((e) => e.eventType !== EventTypes.decision) };
  };

  const decideAlert = async (alert: AlertEvent, alertEventId: string, again?: RedecisionOf): Promise<RedecideOutcome> => {
    const service = deps.services.get(alert.service);
    if (!service) throw new PermanentError(`alert names service "${alert.service}", which is not in the decider's configuration`);
    // A redelivery of the same bytes has the same notification id, so the same decision id: it changes nothing.
    const decisionId = again
      ? redecisionIdFor(again.previous.decisionId)
      : decisionIdFor(alert.incidentId, alert.state, alert.startedAt, alert.notificationId);
    const meta = { eventId: alertEventId, incidentId: alert.incidentId, decisionId, service: alert.service };
    const target = { project: service.project, region: service.region, pipeline: service.pipeline, target: service.target };

    const started = performance.now();
    let queuedAt: number;
    let transactionAt = 0;
    // Independent reads, all before the transaction: at once, so the alert waits for the slowest only. An alert that
    // may touch the breaker asks first whether it was decided already (a redelivery): a duplicate is then answered from
    // that read alone, without a transaction and without queueing for the breaker's turn behind the decisions that
    // need it (a storm of redeliveries would otherwise hold the turn and lock the documents those decisions read).
    const decidedRead =
      mayTouchBreaker(alert, service) && deps.breakerTurn ? store.readDecided(decisionId).catch(() => null) : Promise.resolve(null);
    const reads = Promise.all([
      alert.manual ? null : checkMonitoring(service, alert, deps.monitoring, now),
      readFleetFor(store, service, alert, now, logger),
    ]);
    const known = await decidedRead;
    if (known) {
      reads.catch(() => undefined);
      return answerDuplicate(known, meta);
    }
    const [monitoring, fleet] = await reads;
    let stale: string | null = null;
    let result;
    try {
      const touchesBreaker = mayTouchBreaker(alert, service);
      queuedAt = performance.now();
      const decideFn = async (snapshot: DecisionSnapshot): Promise<DecisionWrite | null> => {
        transactionAt ||= performance.now();
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
          approvableUntil: decision.approvableUntil,
        };
        const createdAt = now().toISOString();
        // The decision event, as the bulk lane builds it too (one shape for both lanes).
        const outbox: OutboxEntry[] = [decisionOutboxEntry(alert.state, record, createdAt)];
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
            // An approval acts on the world its recommendation saw, as recorded (never today's rollout in its place).
            servingRollout: commandServingRollout(alert, snapshot.target),
            evaluatedAt,
            manual: alert.manual
              ? {
                  force: alert.manual.force,
                  requestedBy: alert.manual.requestedBy,
                  ...(alert.manual.approves ? { approves: alert.manual.approves.decisionId } : {}),
                }
              : null,
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
      };
      const request = {
        decisionId,
        service: alert.service,
        incidentId: alert.incidentId,
        target,
        decideFn,
        fleetNames: fleet ? fleet.burningServices.length + fleet.inFlight.length : 0,
      };
      // May touch the breaker: under its turn, in a group commit with the others waiting (breaker-groups.ts).
      result =
        touchesBreaker && groups
          ? await groups.decide(request)
          : await store.decideOnce(decisionId, alert.service, alert.incidentId, target, decideFn);
    } catch (err) {
      throw classifyStoreError(err, 'decision transaction');
    }

    if (!result.written && stale !== null) return { kind: 'stale', reason: stale };
    if (!result.written)
      return answerDuplicate({ existing: result.snapshot.existing!, existingOutbox: result.snapshot.existingOutbox }, meta);

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
      // Where its time went: the reads before it, waiting for the breaker's turn, the transaction.
      timings: {
        readsMs: Math.round(queuedAt - started),
        turnMs: Math.round(transactionAt - queuedAt),
        transactionMs: Math.round(performance.now() - transactionAt),
      },
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
