import { createHash } from 'node:crypto';

const digest = (parts: readonly string[], length: number): string =>
  createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, length);

/**
 * Decision id: one per (incident, state, start time), so a redelivered or
 * replayed notification maps to the decision it already produced.
 */
export function decisionIdFor(incidentId: string, state: string, startedAt: string): string {
  return `dec-${digest([incidentId, state.toLowerCase(), startedAt], 24)}`;
}

/** Rollback id: derived from the decision that ordered it (one rollback per decision). */
export function rollbackIdFor(decisionId: string): string {
  return `rb-${digest(['rollback', decisionId], 24)}`;
}

/**
 * Cloud Deploy rollout id for a rollback: a valid resource id
 * (`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`), the same on every retry, so a
 * repeated RollbackTarget answers ALREADY_EXISTS instead of rolling back twice.
 */
export function rolloutIdFor(rollbackId: string): string {
  return `burnback-rb-${digest(['rollout', rollbackId], 20)}`;
}

/** Cloud Deploy's rule for resource ids (rollouts, releases, targets, pipelines). */
export const CLOUD_DEPLOY_ID = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
