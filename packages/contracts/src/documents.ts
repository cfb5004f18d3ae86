import { z } from 'zod';
import { createHash } from 'node:crypto';
import { AlertEvent, ProgressStage, RedecisionTrigger, RollbackCommand, RollbackProgress as RollbackProgressSchema } from './events.js';
import { HistoryRollout } from './deploy-history.js';
import { PolicySettings } from './policy-settings.js';
import { EventTypes } from './names.js';

const IsoTime = z.iso.datetime({ offset: true });

export const RuleNames = {
  /** Always passes; says when the event's time was clamped to its receipt time. */
  eventTime: 'event-time',
  enabled: 'enabled',
  incidentOpen: 'incident-open',
  errorRatio: 'error-ratio',
  /** At most one rollback per incident; a failed one is never retried automatically. */
  oneRollbackPerIncident: 'one-rollback-per-incident',
  /** No ping-pong: a burn on the release Burnback returned to escalates. */
  returnedRelease: 'returned-release',
  /** Cloud Monitoring still reads the burn now (when the service names its SLO). */
  burningNow: 'burning-now',
  /** The burn is blamed on the release serving the target with enough confidence. */
  confidence: 'confidence',
  rateLimit: 'rate-limit',
  cooldown: 'cooldown',
  /** Kept so decisions recorded before `mode` replaced dry run still read. */
  dryRun: 'dry-run',
  /** A manual rollback request: who asked and why (instead of the burn rules). */
  manualRequest: 'manual-request',
  /** A human acknowledged the incident: never rolled back automatically afterwards. */
  acknowledged: 'acknowledged',
  /** An operator paused the service's automatic rollbacks until a time. */
  paused: 'paused',
  /** A freeze window from the config is in force. */
  freeze: 'freeze',
  /** Fleet circuit breaker: too many services burning at once, or too many rollbacks in flight. */
  fleetBreaker: 'fleet-breaker',
  /** The service's mode: observe (record only), recommend (validate only), auto. */
  mode: 'mode',
  /** An approval of a recommendation: who, why, which decision, within its time to approve. */
  approval: 'approval',
  /** An approval acts only on the world its recommendation saw: the same rollout (none recorded: the blamed release) still serves. */
  servingUnchanged: 'serving-unchanged',
  /**
   * The bulk lane: an alert that cannot roll back (closed, below its bar, not a burn), decided on the alert and its
   * incident alone; the rules after the one that decided it need the service's history, which that lane does not read.
   */
  lane: 'lane',
} as const;
export const RuleName = z.enum([
  RuleNames.eventTime,
  RuleNames.enabled,
  RuleNames.incidentOpen,
  RuleNames.errorRatio,
  RuleNames.oneRollbackPerIncident,
  RuleNames.returnedRelease,
  RuleNames.burningNow,
  RuleNames.confidence,
  RuleNames.rateLimit,
  RuleNames.cooldown,
  RuleNames.dryRun,
  RuleNames.manualRequest,
  RuleNames.acknowledged,
  RuleNames.paused,
  RuleNames.freeze,
  RuleNames.fleetBreaker,
  RuleNames.mode,
  RuleNames.approval,
  RuleNames.servingUnchanged,
  RuleNames.lane,
]);
export type RuleName = z.infer<typeof RuleName>;

/** One rule's verdict in a decision's explanation trace. */
export const RuleVerdict = z.object({
  rule: RuleName,
  passed: z.boolean(),
  detail: z.string(),
});
export type RuleVerdict = z.infer<typeof RuleVerdict>;

/**
 * What a decision does: `rollback` orders one; `hold` does nothing now (a rule
 * refused, e.g. cooldown; was `none`); `escalate` does nothing automatically and
 * asks a human (e.g. a failed rollback, a burn on the release Burnback returned
 * to); `ignore` is for alerts that measure nothing Burnback acts on;
 * `recommend` (a service in mode recommend) would roll back, and orders only a
 * Cloud Deploy `validate_only` rollback that proves it would be accepted.
 */
export const DecisionActions = {
  rollback: 'rollback',
  hold: 'hold',
  escalate: 'escalate',
  ignore: 'ignore',
  recommend: 'recommend',
} as const;
export const DecisionAction = z.enum([
  DecisionActions.rollback,
  DecisionActions.hold,
  DecisionActions.escalate,
  DecisionActions.ignore,
  DecisionActions.recommend,
]);
export type DecisionAction = z.infer<typeof DecisionAction>;
/** A stored action: decisions recorded before `hold` existed say `none`, which meant the same. */
const StoredDecisionAction = z.preprocess((v) => (v === 'none' ? DecisionActions.hold : v), DecisionAction);

/** The final stages of a rollback, as recorded by the decider from burnback-progress. */
export const RollbackOutcome = z.enum(['succeeded', 'failed', 'superseded']);
export type RollbackOutcome = z.infer<typeof RollbackOutcome>;

/**
 * A rollback recorded in a service's state, for rate limits and cooldowns. The
 * rate limit counts decision times; the cooldown counts from `finishedAt` once
 * the outcome is known.
 */
export const RecentRollback = z.object({
  rollbackId: z.string(),
  decidedAt: IsoTime,
  outcome: RollbackOutcome.nullable().default(null),
  finishedAt: IsoTime.nullable().default(null),
});
export type RecentRollback = z.infer<typeof RecentRollback>;
export type RecentRollbackInput = z.input<typeof RecentRollback>;

/** `services/{service}`: what the decider needs to decide the next event for a service. */
export const ServiceState = z.object({
  service: z.string(),
  recentRollbacks: z.array(RecentRollback).default([]),
  lastDecisionId: z.string().nullable().default(null),
  updatedAt: IsoTime.nullable().default(null),
  /**
   * When a decision last saw an open burn over its bar (the decision's time), for
   * the fleet circuit breaker: it counts services whose lastBurnAt is recent, one
   * document per service, so no single document is written by every decision.
   */
  lastBurnAt: IsoTime.nullable().default(null),
  /** When the service's rollback now in flight was ordered (null when none is), for the breaker's in-flight count. */
  inFlightSince: IsoTime.nullable().default(null),
});
export type ServiceState = z.infer<typeof ServiceState>;

/** An operator's pause of a service's automatic rollbacks: until when, why, by whom. */
export const Pause = z.object({ until: IsoTime, reason: z.string().min(1), by: z.string().min(1), at: IsoTime });
export type Pause = z.infer<typeof Pause>;

/** One operator action on a service's controls, for the audit trail. */
export const ControlAuditEntry = z.object({
  at: IsoTime,
  action: z.enum(['pause', 'resume']),
  by: z.string(),
  reason: z.string(),
  until: IsoTime.nullable(),
});
export type ControlAuditEntry = z.infer<typeof ControlAuditEntry>;

/** `controls/{service}`: the operator's controls of one service (written by the management API, read by every decision). */
export const ServiceControls = z.object({
  service: z.string(),
  pause: Pause.nullable().default(null),
  /** The latest operator actions, oldest first (bounded). */
  audit: z.array(ControlAuditEntry).default([]),
  updatedAt: IsoTime,
});
export type ServiceControls = z.infer<typeof ServiceControls>;

/** `fleet/breaker`: recent burns of rollback-bound decisions, and the rollbacks in flight, fleet-wide (bounded, pruned by time). */
export const BreakerRecord = z.object({
  burns: z.array(z.object({ service: z.string(), at: IsoTime })).default([]),
  inFlight: z.array(z.object({ service: z.string(), rollbackId: z.string(), since: IsoTime })).default([]),
  updatedAt: IsoTime,
});
export type BreakerRecord = z.infer<typeof BreakerRecord>;
export const BREAKER_DOC_ID = 'breaker';

/** `acknowledgements/{incidentId}`: a human has seen the incident; it is never rolled back automatically afterwards. */
export const Acknowledgement = z.object({
  incidentId: z.string(),
  by: z.string().min(1),
  reason: z.string(),
  at: IsoTime,
});
export type Acknowledgement = z.infer<typeof Acknowledgement>;

/**
 * What the fleet circuit breaker reads before a decision: how many other
 * services burned within the breaker's window, and how many rollbacks are in
 * flight fleet-wide. Read outside the decision's transaction (a query across
 * services inside it would lock every service's document).
 */
export const FleetView = z.object({
  /** Other services whose lastBurnAt is within the window. */
  burningServices: z.array(z.string()),
  /** Services with a rollback in flight (ordered within the last hour, outcome not yet known). */
  inFlight: z.array(z.string()),
  readAt: IsoTime,
});
export type FleetView = z.infer<typeof FleetView>;

/** An incident's rollback as the decider knows it: ordered (stage null), then each progress stage. */
export const IncidentRollback = z.object({
  rollbackId: z.string(),
  decisionId: z.string(),
  /** Latest stage reported on burnback-progress; null until the first arrives. */
  stage: ProgressStage.nullable(),
  /** When a final stage (succeeded, failed, superseded) was reported. */
  finishedAt: IsoTime.nullable(),
  releaseId: z.string().nullable(),
  fromReleaseId: z.string().nullable(),
  detail: z.string().nullable(),
});
export type IncidentRollback = z.infer<typeof IncidentRollback>;

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
  /** The incident's one rollback, once ordered, and how far it got (from burnback-progress). */
  rollback: IncidentRollback.nullable().default(null),
  /**
   * Rollbacks of this incident that were superseded before they rolled anything
   * back (the world changed between decision and command): the next rollback of
   * the incident is attempt `supersededRollbacks.length` (ids.ts, rollbackIdFor).
   */
  supersededRollbacks: z.array(z.string()).default([]),
  /** Since when Cloud Monitoring could not answer for this incident (null once it answered): the retry window counts from it. */
  monitoringUnavailableSince: IsoTime.nullable().default(null),
});
export type IncidentRecord = z.infer<typeof IncidentRecord>;

/**
 * A release serving a target: since when (the start of its rollout's first
 * deploy job there), and when a burn on it was first seen (incident start), if
 * ever; the rollout that put it there (the newest, when the release was
 * redeployed) and, while that rollout is in a canary phase, the phase.
 */
export const ServingRelease = z.object({
  releaseId: z.string(),
  since: IsoTime,
  burnedAt: IsoTime.nullable().default(null),
  /** Full rollout name; null in records written before it was kept. */
  rollout: z.string().nullable().default(null),
  /** The phase the rollout is in while it has not finished (`canary-25`), else null. */
  phase: z.string().nullable().default(null),
});
export type ServingRelease = z.infer<typeof ServingRelease>;

/**
 * One stretch of a target's serving history, from Cloud Deploy's rollouts: a
 * release serves from its rollout's first deploy job until a newer release's
 * first deploy job, and stops earlier when its rollout is cancelled (then the
 * release before it serves again). A redeploy of the serving release extends
 * its span. `burnedAt` is Burnback's own: when a burn on it was first seen.
 */
export const ServingSpan = z.object({
  releaseId: z.string(),
  /** The newest rollout of the span (a redeploy replaces it; `from` stays). */
  rollout: z.string(),
  from: IsoTime,
  /** When its rollout was cancelled or halted after deploying (null while it may serve). */
  stoppedAt: IsoTime.nullable(),
  /** The rollout's state and, when it has not finished, the phase it is in. */
  state: z.string(),
  phase: z.string().nullable(),
  /** A Burnback rollback (or anyone's): the rollout rolled another back. */
  rollback: z.boolean(),
  burnedAt: IsoTime.nullable().default(null),
});
export type ServingSpan = z.infer<typeof ServingSpan>;

/** The four factors of a decision's confidence that the burn is the serving release's fault. */
export const ConfidenceFactorNames = {
  burn: 'burn',
  timing: 'timing',
  previousRelease: 'previous-release',
  monitoring: 'monitoring',
} as const;
export const ConfidenceFactor = z.object({
  name: z.enum([
    ConfidenceFactorNames.burn,
    ConfidenceFactorNames.timing,
    ConfidenceFactorNames.previousRelease,
    ConfidenceFactorNames.monitoring,
  ]),
  /** 0 (evidence against) to 1 (full evidence for). */
  value: z.number().min(0).max(1),
  weight: z.number().min(0).max(1),
  detail: z.string(),
});
export type ConfidenceFactor = z.infer<typeof ConfidenceFactor>;
/** How sure a decision is that rolling back fixes the burn: the weighted factors and the bar it is held to. */
export const Confidence = z.object({
  value: z.number().min(0).max(1),
  threshold: z.number().min(0).max(1),
  factors: z.array(ConfidenceFactor),
});
export type Confidence = z.infer<typeof Confidence>;

/** The release a decision blames: the one serving the target when the burn started. */
export const Cause = z.object({ releaseId: z.string(), servingSince: IsoTime });
export type Cause = z.infer<typeof Cause>;

/** What Cloud Monitoring said of the SLO's burn rate when the decider asked, before a rollback. */
export const MonitoringCheck = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('read'),
    slo: z.string(),
    longWindowSeconds: z.number().positive(),
    shortWindowSeconds: z.number().positive(),
    /** The burn-rate bar both windows must exceed. */
    threshold: z.number().positive(),
    long: z.number().nonnegative(),
    short: z.number().nonnegative(),
    readAt: IsoTime,
  }),
  z.object({
    status: z.literal('unavailable'),
    slo: z.string(),
    longWindowSeconds: z.number().positive(),
    shortWindowSeconds: z.number().positive(),
    threshold: z.number().positive(),
    error: z.string(),
    /** The service's onMonitoringUnavailable: what applies once Cloud Monitoring has been asked for long enough. */
    onUnavailable: z.enum(['escalate', 'hold', 'decide-without']),
    /**
     * Since when Cloud Monitoring has not answered for this incident: until
     * policy.monitoringRetryMinutes after it, the decision holds and asks again.
     * Absent in decisions recorded before the retry existed (then onUnavailable applied at once).
     */
    since: IsoTime.optional(),
  }),
]);
export type MonitoringCheck = z.infer<typeof MonitoringCheck>;

/**
 * `targets/{project~region~pipeline~target}`: what Burnback did to one Cloud
 * Deploy target. Releases rolled back away from are quarantined; `returnedTo`
 * is the release the latest successful rollback returned to, and `serving` what
 * Burnback last knew the target to serve (cleared when a rollback was superseded
 * by someone else's rollout).
 */
export const TargetRecord = z.object({
  project: z.string(),
  region: z.string(),
  pipeline: z.string(),
  target: z.string(),
  quarantined: z.array(z.object({ releaseId: z.string(), rollbackId: z.string(), incidentId: z.string(), at: IsoTime })).default([]),
  returnedTo: z.object({ releaseId: z.string(), rollbackId: z.string(), incidentId: z.string(), at: IsoTime }).nullable().default(null),
  serving: ServingRelease.nullable().default(null),
  /** The release that served before `serving`, and until when. */
  previous: ServingRelease.extend({ until: IsoTime }).nullable().default(null),
  /**
   * The target's serving history, oldest first and bounded (policy's
   * TIMELINE_KEPT): what `serving` and `previous` are derived from, rebuilt from
   * Cloud Deploy's rollouts whenever one of its notifications arrives.
   */
  timeline: z.array(ServingSpan).default([]),
  /** The target's newest rollout in any state when the history was read (it may wait for approval, or be queued). */
  latestRollout: z.object({ name: z.string(), releaseId: z.string(), state: z.string() }).nullable().default(null),
  /** When the Cloud Deploy history behind `timeline` was read (the decider's clock); a read older than this changes nothing. */
  historyReadAt: IsoTime.nullable().default(null),
  updatedAt: IsoTime,
});
export type TargetRecord = z.infer<typeof TargetRecord>;

/** `deployEvents/{messageId}`: a Cloud Deploy notification the decider applied to a target, as it arrived. */
export const StoredDeployEvent = z.object({
  messageId: z.string(),
  publishTime: IsoTime,
  attributes: z.record(z.string(), z.string()),
  service: z.string(),
  /**
   * The target's rollouts as the decider read them from Cloud Deploy for this
   * notification (newest first, bounded): a replay answers the decider's read
   * with them. Absent in records written before the history was read.
   */
  read: z.array(HistoryRollout).optional(),
  /**
   * When the decider applied it, by its clock (inside the transaction, as a
   * decision's evaluatedAt): a replay puts it in that order among the decisions.
   * Absent in records written before it was kept.
   */
  appliedAt: IsoTime.optional(),
});
export type StoredDeployEvent = z.infer<typeof StoredDeployEvent>;

/** `progressEvents/{eventId}`: a rollback progress event the decider recorded, as it arrived, and when it applied it (as above). */
export const StoredProgressEvent = z.object({ eventId: z.string(), progress: RollbackProgressSchema, appliedAt: IsoTime.optional() });
export type StoredProgressEvent = z.infer<typeof StoredProgressEvent>;

/** When an incident will be decided again, the rule whose cause lapses then, and the words for it. */
export const RedecideAt = z.object({ at: IsoTime, rule: z.string(), detail: z.string() });
export type RedecideAt = z.infer<typeof RedecideAt>;

/**
 * `redecisions/{incidentId}`: the incident is decided again at `dueAt` (its last
 * decision's hold or escalation lapses, or its rollback was superseded or
 * failed). Written and removed in the decisions' and progress transactions;
 * deciders share the sweep through `dueAt` (the one field it queries) and a
 * lease, as the executor's tracker shares rollbacks.
 */
export const Redecision = z.object({
  incidentId: z.string(),
  service: z.string(),
  /** The decision to decide again: if the incident has a newer one, this schedule is stale and dropped. */
  afterDecisionId: z.string(),
  dueAt: IsoTime,
  trigger: RedecisionTrigger,
  /** The rule whose cause lapses (null for a rollback that ended). */
  rule: z.string().nullable(),
  detail: z.string(),
  /** The decider holding it now (a claim moves dueAt to the lease's end); null between attempts. */
  lease: z.object({ id: z.string().min(1), owner: z.string().min(1) }).nullable(),
  /** Failed attempts in a row (each waits longer). */
  attempts: z.number().int().nonnegative(),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type Redecision = z.infer<typeof Redecision>;

/** JSON with object keys sorted at every level: the same value always gives the same bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The hash of the policy settings a decision was made under (sha256 of their canonical JSON, 16 hex digits). */
export function policyHashOf(policy: PolicySettings): string {
  return createHash('sha256').update(canonicalJson(policy)).digest('hex').slice(0, 16);
}

/** The format version of DecisionEvidence; a reader keeps reading every version it has seen. */
export const EVIDENCE_VERSION = 1;

/** Which lane decided an alert (absent: the fast lane, as every decision before the lanes). */
export const DecisionLanes = { fast: 'fast', bulk: 'bulk' } as const;
export const DecisionLane = z.enum([DecisionLanes.fast, DecisionLanes.bulk]);
export type DecisionLane = z.infer<typeof DecisionLane>;

/**
 * Everything a decision read, so a replay reproduces it with no other source:
 * the normalised alert (and where its raw notification is kept), the policy in
 * force (and its hash), and the service, incident and target documents as the
 * decision's transaction read them. Cloud Monitoring's figures, the controls and
 * the fleet are on the decision record itself. A bulk-lane decision read the
 * incident alone: its `state` and `target` are null, and `lane` says so.
 */
export const DecisionEvidence = z.object({
  version: z.literal(EVIDENCE_VERSION),
  alert: AlertEvent,
  /** `notifications/{id}`: the raw notification exactly as it arrived. */
  notificationId: z.string(),
  policy: PolicySettings,
  policyHash: z.string(),
  /** The service's document as read; null when the decision did not read it (the bulk lane). */
  state: ServiceState.nullable(),
  incident: IncidentRecord.nullable(),
  target: TargetRecord.nullable(),
  /** `bulk` when the bulk lane decided it (policy's decideBulk); absent for the fast lane. */
  lane: DecisionLane.optional(),
});
export type DecisionEvidence = z.infer<typeof DecisionEvidence>;

/** `decisions/{decisionId}`: every decision, with the reason and every rule's verdict. */
export const DecisionRecord = z.object({
  decisionId: z.string(),
  incidentId: z.string(),
  service: z.string(),
  incidentState: z.string(),
  action: StoredDecisionAction,
  reason: z.string(),
  verdicts: z.array(RuleVerdict),
  decidedAt: IsoTime,
  alertEventId: z.string(),
  rollbackId: z.string().nullable(),
  target: z.object({ project: z.string(), region: z.string(), pipeline: z.string(), target: z.string() }).nullable(),
  /** How sure the decision was that the serving release caused the burn (null when there was no burn to blame). */
  confidence: Confidence.nullable().default(null),
  /** The release blamed for the burn (null when none could be). */
  cause: Cause.nullable().default(null),
  /** Cloud Monitoring's reading of the SLO before the decision (null when not asked). */
  monitoring: MonitoringCheck.nullable().default(null),
  /**
   * The operator's controls the decision read (the service's pause, the incident's
   * acknowledgement), and when the decider evaluated it (its clock: freeze windows
   * and the breaker are judged at that time, not the alert's).
   */
  controls: z
    .object({ pause: Pause.nullable(), acknowledgement: Acknowledgement.nullable(), evaluatedAt: IsoTime.nullable().default(null) })
    .nullable()
    .default(null),
  /** The fleet as the circuit breaker read it (null when not read: nothing could roll back). */
  fleet: FleetView.nullable().default(null),
  /** What the decision read, for replay (null on decisions recorded before evidence was kept). */
  evidence: DecisionEvidence.nullable().default(null),
  /** A re-decision: the decision it decided again (null for a decision on a notification). */
  redecisionOf: z.string().nullable().default(null),
  /** When the incident will be decided again, and why: the cause of this hold or escalation lapses then (null when it does not). */
  redecideAt: RedecideAt.nullable().default(null),
  /** A `recommend` decision: until when a human may approve it (`POST /decisions/{id}/approve`); null or absent otherwise. */
  approvableUntil: IsoTime.nullable().optional(),
});
export type DecisionRecord = z.infer<typeof DecisionRecord>;

/** `dev.burnback.decision.v1` on burnback-decisions: every decision, as paging and chat integrations see it. */
export const DecisionEvent = z.object({
  decisionId: z.string().min(1),
  incidentId: z.string().min(1),
  service: z.string().min(1),
  action: DecisionAction,
  reason: z.string(),
  verdicts: z.array(RuleVerdict),
  decidedAt: IsoTime,
  rollbackId: z.string().nullable(),
  target: DecisionRecord.shape.target,
  confidence: Confidence.nullable().default(null),
  cause: Cause.nullable().default(null),
  redecisionOf: z.string().nullable().default(null),
  redecideAt: RedecideAt.nullable().default(null),
  /** The incident's state as the notification said (absent from deciders that predate it): a close resolves a page. */
  incidentState: z.enum(['open', 'closed']).optional(),
  /** A `recommend` decision: until when it may be approved (`approvalHowTo` says how, for chat); null or absent otherwise. */
  approvableUntil: IsoTime.nullable().optional(),
});

/**
 * How a human approves a recommendation, in one line for chat and the CLI:
 * the command, the route, and until when.
 */
export function approvalHowTo(decisionId: string, until: string): string {
  return `approve before ${until} to roll back: npm run burnback -- approve ${decisionId} --reason "…" (or POST /decisions/${decisionId}/approve?reason=… with the management token)`;
}
export type DecisionEvent = z.infer<typeof DecisionEvent>;

const outboxFields = {
  id: z.string(),
  topic: z.string(),
  orderingKey: z.string(),
  eventId: z.string(),
  subject: z.string(),
  time: IsoTime,
  createdAt: IsoTime,
  sentAt: IsoTime.nullable(),
  attempts: z.number().int().nonnegative(),
  /**
   * A command only: when its executor reported it past `accepted` (started, or
   * ended), so it needs no more sending; null until then, and the relay sends
   * it again meanwhile (a command Pub/Sub lost, or dead-lettered after its
   * delivery attempts, would otherwise never roll back). Absent on decision
   * events and on entries written before this field existed.
   */
  confirmedAt: IsoTime.nullable().optional(),
  /**
   * A command only: when the relay stopped sending it (never confirmed after its
   * last automatic send) and failed its rollback; confirmedAt is set then too, so
   * the relay's query for unconfirmed commands no longer returns it.
   */
  gaveUpAt: IsoTime.nullable().optional(),
};

/**
 * `outbox/{id}`: an event written in the same transaction as its decision and
 * published after commit: the RollbackCommand (id = rollback id) and the
 * decision event (id = decision id). The event type says what `data` is.
 */
export const OutboxEntry = z.discriminatedUnion('eventType', [
  z.object({ ...outboxFields, eventType: z.literal(EventTypes.rollbackCommand), data: RollbackCommand }),
  z.object({ ...outboxFields, eventType: z.literal(EventTypes.rollbackValidate), data: RollbackCommand }),
  z.object({ ...outboxFields, eventType: z.literal(EventTypes.decision), data: DecisionEvent }),
]);
export type OutboxEntry = z.infer<typeof OutboxEntry>;

/**
 * Audit lines that are not progress stages: a redelivery resuming, the
 * executor cancelling a rollout (the bad release's still-running rollout before
 * rolling back, or its own rollback left waiting for approval when it gives up),
 * and waiting for Cloud Deploy to allow a call (a permission still propagating).
 */
export const AuditOnlyStages = { resumed: 'resumed', cancelling: 'cancelling', cancelled: 'cancelled', waiting: 'waiting' } as const;
export const AuditStage = ProgressStage.or(
  z.enum([AuditOnlyStages.resumed, AuditOnlyStages.cancelling, AuditOnlyStages.cancelled, AuditOnlyStages.waiting]),
);
export type AuditStage = z.infer<typeof AuditStage>;

/** One line of a rollback's audit trail. */
export const AuditEntry = z.object({ at: IsoTime, stage: AuditStage, detail: z.string() });
export type AuditEntry = z.infer<typeof AuditEntry>;

/** The release a rollback leaves: the one the target's latest rollout that reached traffic deployed. */
export const LeavingRelease = z.object({ releaseId: z.string(), rolloutName: z.string(), state: z.string() });
export type LeavingRelease = z.infer<typeof LeavingRelease>;

/**
 * A rollback the executor still owes work on after its command was acked: its
 * rollout to follow to the end, the serving rollout's cancellation to wait for,
 * or a progress event to publish. Executor replicas share this work through
 * `dueAt` (the one field their sweep queries, ascending) and a lease.
 */
export const RolloutTracking = z.object({
  /** When a tracker should next look at the rollback; while leased, when the lease ends. */
  dueAt: IsoTime,
  /** The tracker working on it now (a claim sets it and moves dueAt to the lease's end); null between checks. */
  lease: z.object({ id: z.string().min(1), owner: z.string().min(1) }).nullable(),
  /** Checks in a row that saw nothing change: the interval to the next check doubles with each, up to a maximum. */
  unchangedChecks: z.number().int().nonnegative(),
  /** The progress of the current status is not yet published (a tracker changed the status and may have died since). */
  reportDue: z.boolean(),
});
export type RolloutTracking = z.infer<typeof RolloutTracking>;

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
  /** Set while the executor's tracker owes this rollback work; null once it has none (and in records written before it existed). */
  tracking: RolloutTracking.nullable().default(null),
  /** Succeeded: when the rollback rollout started deploying, from which the release returned to serves again. */
  servingSince: IsoTime.nullable().default(null),
  /** Superseded: by a newer rollout on the target, or by a control set since the decision. */
  supersededBy: z.enum(['rollout', 'control']).nullable().default(null),
});
export type RollbackRecord = z.infer<typeof RollbackRecord>;
