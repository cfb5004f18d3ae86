import { z } from 'zod';
import { CLOUD_DEPLOY_ID } from './ids.js';
import { incidentIdProblem, serviceNameProblem } from './storable.js';

const IsoTime = z.iso.datetime({ offset: true });
const NonEmpty = z.string().min(1);
/** An id that becomes a Firestore document id and part of Pub/Sub attributes: refused with the reason when it cannot. */
const storable = (problem: (id: string) => string | null) =>
  z.string().superRefine((id, ctx) => {
    const why = problem(id);
    if (why !== null) ctx.addIssue({ code: 'custom', message: why });
  });
/** An incident id Burnback can store and send (storable.ts). */
export const IncidentId = storable(incidentIdProblem);
/** A service name Burnback can store and send. */
export const ServiceName = storable(serviceNameProblem);

export const IncidentStates = { open: 'open', closed: 'closed' } as const;
export const IncidentState = z.enum([IncidentStates.open, IncidentStates.closed]);
export type IncidentState = z.infer<typeof IncidentState>;

/** Where an alert came in: Monitoring's Pub/Sub channel or webhook, a manual request, or Prometheus Alertmanager's webhook. */
export const AlertSources = { pubsub: 'pubsub', webhook: 'webhook', manual: 'manual', alertmanager: 'alertmanager' } as const;
export const AlertSource = z.enum([AlertSources.pubsub, AlertSources.webhook, AlertSources.manual, AlertSources.alertmanager]);

/**
 * Why the decider decided an incident again without a new notification: the
 * cause of its last hold or escalation lapsed (`lapsed`), or its rollback was
 * superseded before it rolled anything back, or failed (`rollback-ended`).
 */
export const RedecisionTriggers = { lapsed: 'lapsed', rollbackEnded: 'rollback-ended' } as const;
export const RedecisionTrigger = z.enum([RedecisionTriggers.lapsed, RedecisionTriggers.rollbackEnded]);
export type RedecisionTrigger = z.infer<typeof RedecisionTrigger>;
export type AlertSource = z.infer<typeof AlertSource>;

/**
 * What the alert measures, as ingest classified it from the notification
 * (services/ingest/README.md has the rules):
 * - `error-ratio`: a ratio of bad to total requests on a metric the service's
 *   config names (`signals.errorRatio`), direction applied (a success ratio
 *   alerting below its threshold is turned into 1 − value);
 * - `burn-rate`: an SLO burn rate (`select_slo_burn_rate`; 1.0 = exactly on budget);
 * - `budget`: an SLO budget signal (`select_slo_budget_fraction`, `select_slo_health`),
 *   cumulative over the compliance period rather than a fresh burn: never a rollback on its own;
 * - `unsupported`: anything else (CPU, latency, request rates, PromQL, MQL, a ratio the
 *   config does not name): published so the decider records why it was ignored, never a rollback.
 */
export const SignalKinds = { errorRatio: 'error-ratio', burnRate: 'burn-rate', budget: 'budget', unsupported: 'unsupported' } as const;
export const SignalKind = z.enum([SignalKinds.errorRatio, SignalKinds.burnRate, SignalKinds.budget, SignalKinds.unsupported]);
export type SignalKind = z.infer<typeof SignalKind>;

/** The multi-window burn-rate alerting policy (Google SRE workbook) a burn-rate alert belongs to. */
export const BurnPolicies = { fast: 'fast', slow: 'slow' } as const;
export const BurnPolicy = z.enum([BurnPolicies.fast, BurnPolicies.slow]);
export type BurnPolicy = z.infer<typeof BurnPolicy>;

/**
 * How ingest knew the burn policy, most trusted first: the alert policy's
 * `burnback-burn-policy` user label; the word fast/slow in the policy's or the
 * condition's display name; the pair of windows in the condition's filter (or in
 * an Alertmanager alert's Sloth or Pyrra rule); or
 * only the condition's own window (`window`: inferred, the weakest).
 */
export const BurnPolicySources = {
  policyLabel: 'policy-label',
  displayName: 'display-name',
  siblingWindows: 'sibling-windows',
  window: 'window',
} as const;
export const BurnPolicySource = z.enum([
  BurnPolicySources.policyLabel,
  BurnPolicySources.displayName,
  BurnPolicySources.siblingWindows,
  BurnPolicySources.window,
]);
export type BurnPolicySource = z.infer<typeof BurnPolicySource>;

/** A threshold condition's comparison (google.monitoring.v3.ComparisonType), as the notification spells it. */
export const Comparisons = {
  gt: 'COMPARISON_GT',
  ge: 'COMPARISON_GE',
  lt: 'COMPARISON_LT',
  le: 'COMPARISON_LE',
  eq: 'COMPARISON_EQ',
  ne: 'COMPARISON_NE',
  unspecified: 'COMPARISON_UNSPECIFIED',
} as const;
export const Comparison = z.enum([
  Comparisons.gt,
  Comparisons.ge,
  Comparisons.lt,
  Comparisons.le,
  Comparisons.eq,
  Comparisons.ne,
  Comparisons.unspecified,
]);
export type Comparison = z.infer<typeof Comparison>;

/**
 * The windows of a multi-window burn-rate alert: the long window, the short one
 * that confirms it, and the burn rate both must exceed (the service's
 * fastBurnRate or slowBurnRate when ingest classified it).
 */
export const BurnWindows = z.object({
  longSeconds: z.number().positive(),
  shortSeconds: z.number().positive(),
  threshold: z.number().positive(),
});
export type BurnWindows = z.infer<typeof BurnWindows>;

/** A Cloud Monitoring incident (or a Prometheus Alertmanager alert), normalised by ingest and mapped to a Burnback service. */
export const AlertEvent = z.object({
  incidentId: IncidentId,
  service: ServiceName,
  state: IncidentState,
  startedAt: IsoTime,
  endedAt: IsoTime.nullable(),
  /** When the notification was observed (Pub/Sub publish time, or webhook receipt). Decisions use this time, never the wall clock. */
  observedAt: IsoTime,
  /**
   * When ingest received the notification (its wall clock). An observedAt after
   * it is impossible and is clamped to it by the decision, which says so.
   * Absent in events published before it existed.
   */
  receivedAt: IsoTime.optional(),
  observedValue: z.number().finite().nullable(),
  thresholdValue: z.number().finite().nullable(),
  signal: SignalKind,
  /** For burn-rate signals: the lookback window of the `select_slo_burn_rate` condition, in seconds (null when unknown). */
  lookbackSeconds: z.number().positive().nullable(),
  /*
   * The classification's details. Each defaults to null so an AlertEvent
   * published by an older ingest (in flight during a deploy) still decodes.
   */
  /** The threshold condition's comparison; null when the notification carries none. */
  comparison: Comparison.nullable().default(null),
  /**
   * observedValue in the signal's own measure: the error ratio (1 − value for a
   * success ratio), the burn rate, or the budget figure; null for unsupported signals.
   */
  signalValue: z.number().finite().nullable().default(null),
  /** thresholdValue in the same measure as signalValue. */
  signalThreshold: z.number().finite().nullable().default(null),
  /** The SLO (`projects/P/services/S/serviceLevelObjectives/O`) of a `select_slo_*` condition. */
  sloName: z.string().min(1).nullable().default(null),
  /** The time-series selector of an SLO condition (`select_slo_burn_rate`, `select_slo_health`, …). */
  sloSelector: z.string().min(1).nullable().default(null),
  /** For burn-rate signals: the fast or the slow policy; null for other signals. */
  burnPolicy: BurnPolicy.nullable().default(null),
  /** How burnPolicy was known; `window` means it was only inferred from the condition's window. */
  burnPolicySource: BurnPolicySource.nullable().default(null),
  /** For burn-rate signals: both windows of the policy and its threshold. */
  burnWindows: BurnWindows.nullable().default(null),
  /** Why an `unsupported` signal is not acted on (null for every other signal). */
  unsupportedReason: z.string().min(1).nullable().default(null),
  policyName: z.string(),
  conditionName: z.string(),
  severity: z.string(),
  resourceType: z.string(),
  resourceLabels: z.record(z.string(), z.string()),
  policyUserLabels: z.record(z.string(), z.string()),
  scopingProjectId: z.string(),
  url: z.string(),
  source: AlertSource,
  /** Id of the raw notification kept in `notifications/` for replay. */
  notificationId: NonEmpty,
  /**
   * A manual rollback request (`POST /rollback/manual/{service}`, source `manual`):
   * judged by the decider like any alert, but on who asked and why instead of a burn.
   */
  manual: z
    .object({
      requestedBy: NonEmpty,
      reason: NonEmpty,
      /** Bypasses pause, freeze, the fleet breaker, the rate limit and the cooldown; only with a reason. */
      force: z.boolean(),
      /** The release to return to; null = the last good one, as for automatic rollbacks. */
      releaseId: z.string().regex(CLOUD_DEPLOY_ID).nullable(),
      /**
       * An approval of a `recommend` decision (`POST /decisions/{id}/approve`): the
       * recommendation, until when it may be approved, and the world it saw (the
       * release it blamed, the rollout that served). The alert is then the
       * recommendation's incident's, and is judged again at approval time.
       */
      approves: z
        .object({
          decisionId: NonEmpty,
          until: IsoTime,
          cause: z.object({ releaseId: z.string(), servingSince: IsoTime }).nullable(),
          servingRollout: z.string().min(1).nullable(),
        })
        .nullable()
        .optional(),
    })
    .nullable()
    .optional(),
  /**
   * Set on the alert of a re-decision: the decision it decides again and why. The
   * alert is otherwise that decision's, with observedAt and receivedAt moved to
   * when it was decided again.
   */
  redecision: z
    .object({ of: NonEmpty, trigger: RedecisionTrigger, rule: z.string().min(1).nullable() })
    .nullable()
    .optional(),
});
export type AlertEvent = z.infer<typeof AlertEvent>;
export type AlertEventInput = z.input<typeof AlertEvent>;

/** What the decider orders the executor to do: roll `target` of `pipeline` back. */
export const RollbackCommand = z.object({
  rollbackId: NonEmpty,
  decisionId: NonEmpty,
  incidentId: IncidentId,
  service: ServiceName,
  project: NonEmpty,
  region: NonEmpty,
  pipeline: NonEmpty,
  target: NonEmpty,
  /** Cloud Deploy rollout id, derived from rollbackId. */
  rolloutId: z.string().regex(CLOUD_DEPLOY_ID),
  /** Release to roll back to; null means the last release that succeeded on the target before the current one. */
  releaseId: z.string().min(1).nullable(),
  reason: z.string(),
  /** The decision's time (its event time). */
  requestedAt: IsoTime,
  /**
   * Mode recommend: only Cloud Deploy's `validate_only` RollbackTarget, proving the
   * rollback would be accepted; nothing changes on the target.
   */
  validateOnly: z.boolean().optional(),
  /**
   * What the decision saw, so the executor acts on that world or not at all
   * (absent from commands of deciders that predate them): the release it blamed,
   * the rollout that served the target when it decided (RollbackTarget's
   * rollout_to_roll_back; a newer one makes the command `superseded`), and when
   * the decider evaluated it (a control set after that supersedes it).
   */
  blamedReleaseId: z.string().min(1).nullable().optional(),
  servingRollout: z.string().min(1).nullable().optional(),
  evaluatedAt: IsoTime.optional(),
  /**
   * A manual request: `force` bypassed pause and freeze, so the executor's re-read of the controls does too.
   * `approves`: the recommendation a human approved, so a service in mode recommend still rolls back.
   */
  manual: z.object({ force: z.boolean(), requestedBy: NonEmpty, approves: NonEmpty.nullable().optional() }).nullable().optional(),
});
export type RollbackCommand = z.infer<typeof RollbackCommand>;

export const ProgressStages = {
  accepted: 'accepted',
  started: 'started',
  succeeded: 'succeeded',
  failed: 'failed',
  /**
   * Cloud Deploy refused the rollback because the rollout it was to roll back is
   * no longer the target's latest: someone shipped after the decision. Final,
   * and not a failure: the command is stale, nothing was rolled back.
   */
  superseded: 'superseded',
  /**
   * A validate-only command (mode recommend): Cloud Deploy's `validate_only`
   * RollbackTarget accepted the rollback; nothing changed. Final. A refusal is `failed`.
   */
  validated: 'validated',
} as const;
export const ProgressStage = z.enum([
  ProgressStages.accepted,
  ProgressStages.started,
  ProgressStages.succeeded,
  ProgressStages.failed,
  ProgressStages.superseded,
  ProgressStages.validated,
]);
export type ProgressStage = z.infer<typeof ProgressStage>;

/** Sequence of each stage, so consumers can order and dedupe progress; succeeded, failed and superseded are all final. */
export const progressSequence: Record<ProgressStage, number> = {
  accepted: 1,
  started: 2,
  succeeded: 3,
  failed: 3,
  superseded: 3,
  validated: 3,
};

/** True for the stages after which a rollback never changes again. */
export function isFinalStage(stage: ProgressStage): boolean {
  return progressSequence[stage] === progressSequence.succeeded;
}

export const RollbackProgress = z.object({
  rollbackId: NonEmpty,
  decisionId: NonEmpty,
  incidentId: IncidentId,
  service: ServiceName,
  target: NonEmpty,
  stage: ProgressStage,
  sequence: z.number().int().positive(),
  rolloutName: z.string().nullable(),
  /** The release rolled back to, once chosen. */
  releaseId: z.string().nullable(),
  /** The release the rollback leaves (the one found serving), once chosen; absent from executors that predate it. */
  fromReleaseId: z.string().nullable().optional(),
  detail: z.string(),
  at: IsoTime,
  /** Progress of a validate-only command (mode recommend): it never changes the incident, the service or the target. */
  validateOnly: z.boolean().optional(),
  /**
   * `succeeded`: when the rollback rollout started deploying (Cloud Deploy's
   * deploy_start_time), from which the release returned to serves the target again.
   */
  servingSince: IsoTime.nullable().optional(),
  /**
   * `superseded`: what made the command stale: a rollout newer than the one the
   * decision saw (`rollout`), or an operator's control set since (`control`).
   */
  supersededBy: z.enum(['rollout', 'control']).optional(),
});
export type RollbackProgress = z.infer<typeof RollbackProgress>;
