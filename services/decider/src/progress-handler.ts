import {
  PermanentError,
  RedecisionTriggers,
  type CloudEvent,
  type EventTypes,
  type Redecision,
  targetDocIdFor,
  type RollbackProgress,
} from '@burnback/contracts';
import { systemClock } from '@burnback/platform';
import { recordOutcomeOnService, recordOutcomeOnTarget, recordProgressOnIncident, releaseOnBreaker } from '@burnback/policy';
import { classifyStoreError, type DeciderDeps } from './handler.js';
import { releasesBreaker } from './pure/gates.js';
import { DecisionStore, type ProgressWrite } from './store.js';
import { createKeyedSerializer, type KeyedSerializer } from './serializer.js';

/**
 * The rollback ended without rolling anything back (superseded: the world
 * changed since its decision), or failed: while its incident is open, the
 * incident is decided again at once, on the world as it is now. Superseded, a
 * new attempt may roll back; failed, the re-decision escalates (a failed
 * rollback is never retried), so a human hears of it without waiting for the
 * incident's next notification.
 */
export function redecisionAfter(progress: RollbackProgress, incident: ProgressWrite['incident'], at: string): Redecision | undefined {
  if (progress.validateOnly || (progress.stage !== 'superseded' && progress.stage !== 'failed')) return undefined;
  if (incident === null || incident.state !== 'open' || incident.rollback?.rollbackId !== progress.rollbackId) return undefined;
  return {
    incidentId: progress.incidentId,
    service: progress.service,
    afterDecisionId: incident.lastDecisionId,
    dueAt: at,
    trigger: RedecisionTriggers.rollbackEnded,
    rule: null,
    detail: `rollback ${progress.rollbackId} ${progress.stage}: ${progress.detail}`,
    lease: null,
    attempts: 0,
    createdAt: at,
    updatedAt: at,
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
  deps: Pick<DeciderDeps, 'db' | 'services' | 'logger' | 'metrics' | 'breakerTurn' | 'clock' | 'onScheduled'> & {
    /**
     * Turns per target document, shared with the target history (createTargetHistory's `targetTurn`): a rollout's
     * Cloud Deploy notifications rewrite the target's document while its rollback's progress is recorded on it,
     * and the two transactions at once deadlock on the Firestore emulator until it gives one up (~2 s).
     */
    targetTurn?: KeyedSerializer;
  },
): (event: CloudEvent<typeof EventTypes.rollbackProgress>) => Promise<ProgressWrite> {
  const store = new DecisionStore(deps.db, (t) => deps.metrics?.transactionAttempts.inc({ transaction: t }));
  const clock = deps.clock ?? systemClock;
  const targetTurn = deps.targetTurn ?? createKeyedSerializer();
  return async (cloudEvent) => {
    const progress: RollbackProgress = cloudEvent.data;
    const service = deps.services.get(progress.service);
    if (!service) throw new PermanentError(`progress names service "${progress.service}", which is not in the decider's configuration`);
    if (service.target !== progress.target)
      throw new PermanentError(
        `progress of ${progress.service} names target "${progress.target}", but the service rolls back "${service.target}"`,
      );
    const target = { project: service.project, region: service.region, pipeline: service.pipeline, target: service.target };
    let write: ProgressWrite;
    try {
      const turn = releasesBreaker(progress) && deps.breakerTurn ? deps.breakerTurn : <T>(task: () => Promise<T>) => task();
      // The breaker's turn (a rollback's end), then the target's: nothing in the target's turn waits for the breaker's.
      write = await turn(() =>
        targetTurn(targetDocIdFor(target), () =>
          store.recordProgress(
            cloudEvent.id,
            progress,
            target,
            () => clock.now(),
            (snapshot) => {
              const incident = snapshot.incident ? recordProgressOnIncident(snapshot.incident, progress) : null;
              // Only the progress that moved the incident's rollback to its end schedules it: a repeat changes nothing.
              const ended = incident !== snapshot.incident ? redecisionAfter(progress, incident, clock.now().toISOString()) : undefined;
              return {
                state: recordOutcomeOnService(snapshot.state, progress),
                incident,
                target: recordOutcomeOnTarget(snapshot.target, progress),
                // A real rollback's end takes it out of the breaker's in-flight count.
                breaker:
                  snapshot.breaker && releasesBreaker(progress)
                    ? releaseOnBreaker(snapshot.breaker, progress.rollbackId)
                    : snapshot.breaker,
                ...(ended ? { redecision: ended } : {}),
              };
            },
          ),
        ),
      );
    } catch (err) {
      throw classifyStoreError(err, 'progress transaction');
    }
    if (write.redecision) deps.onScheduled?.(new Date(write.redecision.dueAt));
    deps.logger.info(`rollback ${progress.rollbackId} of ${progress.service}: ${progress.stage} recorded`, {
      event: 'rollback_progress_recorded',
      eventId: cloudEvent.id,
      rollbackId: progress.rollbackId,
      incidentId: progress.incidentId,
      service: progress.service,
      stage: progress.stage,
      quarantined: write.target.quarantined.map((q) => q.releaseId),
      returnedTo: write.target.returnedTo?.releaseId,
      redecideAt: write.redecision?.dueAt,
    });
    return write;
  };
}
