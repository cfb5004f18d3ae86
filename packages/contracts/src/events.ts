import { z } from 'zod';
import { CLOUD_DEPLOY_ID } from './ids.js';

const IsoTime = z.iso.datetime({ offset: true });
const NonEmpty = z.string().min(1);

export const IncidentStates = { open: 'open', closed: 'closed' } as const;
export const IncidentState = z.enum([IncidentStates.open, IncidentStates.closed]);
export type IncidentState = z.infer<typeof IncidentState>;

export const AlertSources = { pubsub: 'pubsub', webhook: 'webhook', manual: 'manual' } as const;
export const AlertSource = z.enum([AlertSources.pubsub, AlertSources.webhook, AlertSources.manual]);
export type AlertSource = z.infer<typeof AlertSource>;

/**
 * What the alert's value measures: an error ratio (the runbook's 1 % rule) or an
 * SLO burn rate (`select_slo_burn_rate` conditions: 1.0 = exactly on budget).
 */
export const SignalKinds = { errorRatio: 'error-ratio', burnRate: 'burn-rate' } as const;
export const SignalKind = z.enum([SignalKinds.errorRatio, SignalKinds.burnRate]);
export type SignalKind = z.infer<typeof SignalKind>;

/** A Cloud Monitoring incident, normalised by ingest and mapped to a Burnback service. */
export const AlertEvent = z.object({
  incidentId: NonEmpty,
  service: NonEmpty,
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
});
export type AlertEvent = z.infer<typeof AlertEvent>;

/** What the decider orders the executor to do: roll `target` of `pipeline` back. */
export const RollbackCommand = z.object({
  rollbackId: NonEmpty,
  decisionId: NonEmpty,
  incidentId: NonEmpty,
  service: NonEmpty,
  project: NonEmpty,
  region: NonEmpty,
  pipeline: NonEmpty,
  target: NonEmpty,
  /** Cloud Deploy rollout id, derived from rollbackId. */
  rolloutId: z.string().regex(CLOUD_DEPLOY_ID),
  /** Release to roll back to; null means the last release that succeeded on the target before the current one. */
  releaseId: z.string().min(1).nullable(),
  reason: z.string(),
  requestedAt: IsoTime,
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
} as const;
export const ProgressStage = z.enum([
  ProgressStages.accepted,
  ProgressStages.started,
  ProgressStages.succeeded,
  ProgressStages.failed,
  ProgressStages.superseded,
]);
export type ProgressStage = z.infer<typeof ProgressStage>;

/** Sequence of each stage, so consumers can order and dedupe progress; succeeded, failed and superseded are all final. */
export const progressSequence: Record<ProgressStage, number> = {
  accepted: 1,
  started: 2,
  succeeded: 3,
  failed: 3,
  superseded: 3,
};

/** True for the stages after which a rollback never changes again. */
export function isFinalStage(stage: ProgressStage): boolean {
  return progressSequence[stage] === progressSequence.succeeded;
}

export const RollbackProgress = z.object({
  rollbackId: NonEmpty,
  decisionId: NonEmpty,
  incidentId: NonEmpty,
  service: NonEmpty,
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
});
export type RollbackProgress = z.infer<typeof RollbackProgress>;
