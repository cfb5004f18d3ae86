import type { Firestore } from '@google-cloud/firestore';
import {
  DecisionActions,
  errorKind,
  ErrorKinds,
  EventTypes,
  PermanentError,
  rollbackIdFor,
  rolloutIdFor,
  decisionIdFor,
  Topics,
  TransientError,
  type AlertEvent,
  type CloudEvent,
  type DecisionRecord,
  type IncidentRecord,
  type OutboxEntry,
  type RollbackCommand,
} from '@burnback/contracts';
import { publishOutboxEntry, type Logger, type Metrics, type Publisher, type ServiceConfig } from '@burnback/platform';
import { applyDecision, decide } from '@burnback/policy';
import { DecisionStore } from './store.js';

export interface DeciderDeps {
  db: Firestore;
  services: Record<string, ServiceConfig>;
  publisher: Publisher;
  logger: Logger;
  metrics?: Metrics;
  /** Wall clock, only for bookkeeping (outbox timestamps); decisions use the event's time. */
  now?: () => Date;
}

/** The incident after this alert: closed is final, times only move forward. */
function mergeIncident(known: IncidentRecord | null, alert: AlertEvent, decisionId: string): IncidentRecord {
  const closed = known?.state === 'closed' || alert.state === 'closed';
  return {
    incidentId: alert.incidentId,
    service: alert.service,
    state: closed ? 'closed' : 'open',
    startedAt: known?.startedAt ?? alert.startedAt,
    endedAt: known?.endedAt ?? alert.endedAt,
    observedAt: known && Date.parse(known.observedAt) > Date.parse(alert.observedAt) ? known.observedAt : alert.observedAt,
    lastDecisionId: decisionId,
    decisionIds: [...(known?.decisionIds ?? []), decisionId],
  };
}

export type DeciderOutcome =
  | { kind: 'decided'; decision: DecisionRecord; command: RollbackCommand | null }
  | { kind: 'duplicate'; decision: DecisionRecord; republished: boolean };

/**
 * AlertEvent in → decision recorded (with its explanation) and, when the rules
 * allow, a RollbackCommand written to the outbox in the same transaction and
 * published after commit.
 */
export function createDeciderHandler(deps: DeciderDeps): (event: CloudEvent<typeof EventTypes.alert>) => Promise<DeciderOutcome> {
  const { logger, publisher } = deps;
  const now = deps.now ?? (() => new Date());
  const store = new DecisionStore(deps.db);

  return async (cloudEvent) => {
    const alert = cloudEvent.data;
    const service = deps.services[alert.service];
    if (!service) throw new PermanentError(`alert names service "${alert.service}", which is not in the decider's configuration`);
    const decisionId = decisionIdFor(alert.incidentId, alert.state, alert.startedAt);
    const meta = { eventId: cloudEvent.id, incidentId: alert.incidentId, decisionId, service: alert.service };

    let result;
    try {
      result = await store.decideOnce(decisionId, alert.service, alert.incidentId, ({ existing, state, incident }) => {
        if (existing) return null;
        const decision = decide(state, alert, service.policy, incident);
        const rollbackId = decision.action === DecisionActions.rollback ? rollbackIdFor(decisionId) : null;
        const target = { project: service.project, region: service.region, pipeline: service.pipeline, target: service.target };
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
        };
        let outbox: OutboxEntry | null = null;
        if (rollbackId) {
          const command: RollbackCommand = {
            rollbackId,
            decisionId,
            incidentId: alert.incidentId,
            service: alert.service,
            ...target,
            rolloutId: rolloutIdFor(rollbackId),
            releaseId: null,
            reason: decision.reason,
            requestedAt: decision.decidedAt,
          };
          outbox = {
            id: rollbackId,
            topic: Topics.commands,
            orderingKey: alert.service,
            eventType: EventTypes.rollbackCommand,
            eventId: rollbackId,
            subject: `services/${alert.service}/rollbacks/${rollbackId}`,
            time: decision.decidedAt,
            data: command,
            createdAt: now().toISOString(),
            sentAt: null,
            attempts: 0,
          };
        }
        return {
          decision: record,
          state: applyDecision(state, decision, decisionId, rollbackId, service.policy),
          incident: mergeIncident(incident, alert, decisionId),
          outbox,
        };
      });
    } catch (err) {
      if (errorKind(err) === ErrorKinds.permanent) throw err;
      // A stored document that no longer fits its schema will not fit on retry either: dead-letter with the reason.
      if ((err as Error).name === 'ZodError')
        throw new PermanentError(`a stored document is invalid: ${(err as Error).message}`, { cause: err });
      throw new TransientError(`decision transaction failed: ${(err as Error).message}`, { cause: err });
    }

    if (!result.written) {
      const existing = result.snapshot.existing!;
      // A crash between commit and publish leaves the command unsent: send it now.
      const unsent =
        result.snapshot.existingOutbox && result.snapshot.existingOutbox.sentAt === null ? result.snapshot.existingOutbox : null;
      if (unsent) await publishOutboxEntry(deps.db, publisher, unsent, now());
      logger.info('alert already decided; nothing new to do', {
        ...meta,
        event: 'decision_duplicate',
        action: existing.action,
        republished: unsent !== null,
      });
      return { kind: 'duplicate', decision: existing, republished: unsent !== null };
    }

    const { decision, outbox } = result.written;
    deps.metrics?.decisions.inc({ service: alert.service, action: decision.action });
    logger.info(`decision for ${alert.service}: ${decision.reason}`, {
      ...meta,
      event: 'decision',
      action: decision.action,
      reason: decision.reason,
      verdicts: decision.verdicts,
      rollbackId: decision.rollbackId ?? undefined,
      target: decision.target,
    });
    if (outbox) await publishOutboxEntry(deps.db, publisher, outbox, now());
    return { kind: 'decided', decision, command: outbox?.data ?? null };
  };
}
