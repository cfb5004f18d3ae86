import { z } from 'zod';
import { ProgressStage, RollbackCommand } from './events.js';

const IsoTime = z.iso.datetime({ offset: true });

export const RuleNames = {
  enabled: 'enabled',
  incidentOpen: 'incident-open',
  errorRatio: 'error-ratio',
  rateLimit: 'rate-limit',
  cooldown: 'cooldown',
  dryRun: 'dry-run',
} as const;
export const RuleName = z.enum([
  RuleNames.enabled,
  RuleNames.incidentOpen,
  RuleNames.errorRatio,
  RuleNames.rateLimit,
  RuleNames.cooldown,
  RuleNames.dryRun,
]);
export type RuleName = z.infer<typeof RuleName>;

/** One rule's verdict in a decision's explanation trace. */
export const RuleVerdict = z.object({
  rule: RuleName,
  passed: z.boolean(),
  detail: z.string(),
});
export type RuleVerdict = z.infer<typeof RuleVerdict>;

export const DecisionActions = { rollback: 'rollback', none: 'none' } as const;
export const DecisionAction = z.enum([DecisionActions.rollback, DecisionActions.none]);
export type DecisionAction = z.infer<typeof DecisionAction>;

/** A rollback recorded in a service's state, for rate limits and cooldowns. */
export const RecentRollback = z.object({ rollbackId: z.string(), decidedAt: IsoTime });
export type RecentRollback = z.infer<typeof RecentRollback>;

/** `services/{service}`: what the decider needs to decide the next event for a service. */
export const ServiceState = z.object({
  service: z.string(),
  recentRollbacks: z.array(RecentRollback).default([]),
  lastDecisionId: z.string().nullable().default(null),
  updatedAt: IsoTime.nullable().default(null),
});
export type ServiceState = z.infer<typeof ServiceState>;

/**
 * `incidents/{incidentId}`: what the decider knows of one incident. Closed is
 * final (Monitoring never reopens an incident id), so a late "open" cannot undo it.
 */
export const IncidentRecord = z.object({
  incidentId: z.string(),
  service: z.string(),
  state: z.enum(['open', 'closed']),
  startedAt: IsoTime,
  endedAt: IsoTime.nullable(),
  /** The latest observedAt of any notification of this incident. */
  observedAt: IsoTime,
  lastDecisionId: z.string(),
  decisionIds: z.array(z.string()),
});
export type IncidentRecord = z.infer<typeof IncidentRecord>;

/** `decisions/{decisionId}`: every decision, with the reason and every rule's verdict. */
export const DecisionRecord = z.object({
  decisionId: z.string(),
  incidentId: z.string(),
  service: z.string(),
  incidentState: z.string(),
  action: DecisionAction,
  reason: z.string(),
  verdicts: z.array(RuleVerdict),
  decidedAt: IsoTime,
  alertEventId: z.string(),
  rollbackId: z.string().nullable(),
  target: z.object({ project: z.string(), region: z.string(), pipeline: z.string(), target: z.string() }).nullable(),
});
export type DecisionRecord = z.infer<typeof DecisionRecord>;

/** `outbox/{id}`: a command written with its decision, published after commit. */
export const OutboxEntry = z.object({
  id: z.string(),
  topic: z.string(),
  orderingKey: z.string(),
  eventType: z.string(),
  eventId: z.string(),
  subject: z.string(),
  time: IsoTime,
  data: RollbackCommand,
  createdAt: IsoTime,
  sentAt: IsoTime.nullable(),
  attempts: z.number().int().nonnegative(),
});
export type OutboxEntry = z.infer<typeof OutboxEntry>;

/**
 * Audit lines that are not progress stages: a redelivery resuming, and the
 * executor cancelling a rollout (the bad release's still-running rollout before
 * rolling back, or its own rollback left waiting for approval when it gives up).
 */
export const AuditOnlyStages = { resumed: 'resumed', cancelling: 'cancelling', cancelled: 'cancelled' } as const;
export const AuditStage = ProgressStage.or(z.enum([AuditOnlyStages.resumed, AuditOnlyStages.cancelling, AuditOnlyStages.cancelled]));
export type AuditStage = z.infer<typeof AuditStage>;

/** One line of a rollback's audit trail. */
export const AuditEntry = z.object({ at: IsoTime, stage: AuditStage, detail: z.string() });
export type AuditEntry = z.infer<typeof AuditEntry>;

/** The release a rollback leaves: the one the target's latest rollout that reached traffic deployed. */
export const LeavingRelease = z.object({ releaseId: z.string(), rolloutName: z.string(), state: z.string() });
export type LeavingRelease = z.infer<typeof LeavingRelease>;

/** `rollbacks/{rollbackId}`: the executor's state machine and audit trail for one rollback. */
export const RollbackRecord = z.object({
  rollbackId: z.string(),
  command: RollbackCommand,
  status: ProgressStage,
  /** The release rolled back to, once chosen. */
  releaseId: z.string().nullable(),
  /** What the rollback leaves (chosen with releaseId; null before, and in records written before it existed). */
  leaving: LeavingRelease.nullable().default(null),
  /** The target's latest rollout when the releases were chosen: RollbackTarget's rollout_to_roll_back. */
  rolloutToRollBack: z.string().nullable().default(null),
  rolloutName: z.string().nullable(),
  rolloutState: z.string().nullable(),
  failureReason: z.string().nullable(),
  audit: z.array(AuditEntry),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type RollbackRecord = z.infer<typeof RollbackRecord>;
