import { createHash } from 'node:crypto';
import { BURNBACK_ROLLOUT_PREFIX } from './deploy-history.js';

const digest = (parts: readonly string[], length: number): string =>
  createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, length);

/**
 * Decision id: one per (incident, state, start time, notification). The
 * notification id is a hash of the raw bytes, so a redelivered or replayed
 * notification maps to the decision it already produced, while a
 * re-notification of the same incident with new figures is decided again.
 */
export function decisionIdFor(incidentId: string, state: string, startedAt: string, notificationId: string): string {
  return `dec-${digest([incidentId, state.toLowerCase(), startedAt, notificationId], 24)}`;
}

/**
 * A re-decision's id: one per decision it re-decides (a hold whose cause lapsed,
 * a rollback superseded or failed), so a re-decision retried after a crash finds
 * the decision it already made.
 */
export function redecisionIdFor(previousDecisionId: string): string {
  return `dec-${digest(['redecision', previousDecisionId], 24)}`;
}

/**
 * Rollback id: derived from the incident, not the decision, so an incident can
 * have at most one rollback: a second one, even from a racing replica, would
 * need the same outbox document and cannot be created. `attempt` counts the
 * incident's rollbacks that were superseded before they rolled anything back
 * (the world changed between decision and command): only then may the incident
 * be decided, and rolled back, again. The first attempt's id is the id every
 * earlier release derived.
 */
export function rollbackIdFor(incidentId: string, attempt = 0): string {
  return `rb-${digest(attempt === 0 ? ['rollback', incidentId] : ['rollback', incidentId, String(attempt)], 24)}`;
}

/**
 * Id of a validate-only rollback (mode recommend): derived from the decision, so
 * every recommendation is proven once, and never takes the incident's rollback id.
 */
export function recommendationIdFor(decisionId: string): string {
  return `rv-${digest(['recommendation', decisionId], 24)}`;
}

/**
 * Notification id of an approval of a recommendation (`notifications/{id}`, and
 * so its decision): derived from the recommendation's decision id only, so any
 * number of approvals, by anyone, are one event and one decision. `attempt`
 * moves on only past approvals the decider refused (a pause, the cooldown), so
 * a human may approve again; the first attempt is the decision's own.
 */
export function approvalNotificationIdFor(decisionId: string, attempt = 0): string {
  return `approval-${digest(attempt === 0 ? ['approval', decisionId] : ['approval', decisionId, String(attempt)], 24)}`;
}

/** Id of `targets/{id}`: one document per Cloud Deploy target (project, region, pipeline, target). */
export function targetDocIdFor(target: { project: string; region: string; pipeline: string; target: string }): string {
  return [target.project, target.region, target.pipeline, target.target].join('~');
}

/**
 * Cloud Deploy rollout id for a rollback: a valid resource id
 * (`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`), the same on every retry, so a
 * repeated RollbackTarget answers ALREADY_EXISTS instead of rolling back twice.
 */
export function rolloutIdFor(rollbackId: string): string {
  return `${BURNBACK_ROLLOUT_PREFIX}${digest(['rollout', rollbackId], 20)}`;
}

/** Cloud Deploy's rule for resource ids (rollouts, releases, targets, pipelines). */
export const CLOUD_DEPLOY_ID = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
