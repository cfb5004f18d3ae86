/**
 * Records as the decider and the executor store them, for the console's tests:
 * each built from what a real rollback of api-backend looks like, and parsed with
 * its contract, so a test never feeds the console a record that could not exist.
 */
import {
  DecisionRecord,
  DEFAULT_POLICY,
  IncidentRecord,
  policyHashOf,
  RollbackRecord,
  ServiceControls,
  ServiceState,
  TargetRecord,
  type DecisionRecord as Decision,
  type RollbackRecord as Rollback,
} from '@burnback/contracts';
import { alertEvent, blamedTarget } from '@burnback/testkit/fixtures';

export const T0 = Date.parse('2026-12-06T10:00:00.000Z');
export const at = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();
export const MIN = 60_000;

const PIPELINE = 'projects/burnback-local/locations/us-central1/deliveryPipelines/api-backend-pipeline';
const ROLLOUT = 'burnback-rb-0123456789abcdef0123';

type DeepPartial<T> = { [K in keyof T]?: T[K] };

/** A rollback decision on incident `0.burn` of api-backend, 30 s after its burn started at T0. */
export function decisionRecord(overrides: DeepPartial<Decision> = {}): Decision {
  const alert = alertEvent(overrides.incidentId ?? '0.burn', { startedAt: at(0), observedAt: at(25_000), receivedAt: at(26_000) });
  const target = blamedTarget(alert.startedAt);
  return DecisionRecord.parse({
    decisionId: 'dec-0123456789abcdef01234567',
    incidentId: alert.incidentId,
    service: 'api-backend',
    incidentState: 'open',
    action: 'rollback',
    reason:
      'roll back: error ratio 2.5 % exceeds the threshold of 1 %; caused by rel-002 (confidence 0.925); rate limit and cooldown clear',
    verdicts: [
      { rule: 'event-time', passed: true, detail: 'event time 2026-12-06T10:00:25.000Z' },
      { rule: 'incident-open', passed: true, detail: 'incident 0.burn is open' },
      { rule: 'error-ratio', passed: true, detail: 'error ratio 2.5 % exceeds the threshold of 1 %' },
      { rule: 'confidence', passed: true, detail: 'caused by rel-002 (confidence 0.925, bar 0.8)' },
      { rule: 'cooldown', passed: true, detail: 'no rollback within the 30 min cooldown' },
    ],
    decidedAt: at(30_000),
    alertEventId: alert.notificationId,
    rollbackId: 'rb-0123456789abcdef01234567',
    target: { project: 'burnback-local', region: 'us-central1', pipeline: 'api-backend-pipeline', target: 'production' },
    confidence: {
      value: 0.925,
      threshold: 0.8,
      factors: [
        { name: 'burn', value: 1, weight: 0.2, detail: '2.5× the threshold of 1 % (at the bar 0.5, twice the bar or more 1)' },
        { name: 'timing', value: 1, weight: 0.5, detail: 'the burn started 10 min after rel-002 reached production' },
        { name: 'previous-release', value: 1, weight: 0.15, detail: 'rel-001 served 2 d without a burn' },
        { name: 'monitoring', value: 0.5, weight: 0.15, detail: 'no SLO is configured to confirm the burn with: no evidence either way' },
      ],
    },
    cause: { releaseId: 'rel-002', servingSince: target.serving!.since },
    monitoring: null,
    controls: { pause: null, acknowledgement: null, evaluatedAt: at(30_000) },
    fleet: { burningServices: [], inFlight: [], readAt: at(30_000) },
    evidence: {
      version: 1,
      alert,
      notificationId: alert.notificationId,
      policy: DEFAULT_POLICY,
      policyHash: policyHashOf(DEFAULT_POLICY),
      state: { service: 'api-backend', recentRollbacks: [], lastDecisionId: null, updatedAt: null, lastBurnAt: null, inFlightSince: null },
      incident: null,
      target,
    },
    redecisionOf: null,
    redecideAt: null,
    ...overrides,
  });
}

/** The rollback that decision ordered, succeeded: accepted, started, succeeded. */
export function rollbackRecord(overrides: DeepPartial<Rollback> = {}): Rollback {
  const d = decisionRecord();
  return RollbackRecord.parse({
    rollbackId: d.rollbackId!,
    command: {
      rollbackId: d.rollbackId!,
      decisionId: d.decisionId,
      incidentId: d.incidentId,
      service: 'api-backend',
      project: 'burnback-local',
      region: 'us-central1',
      pipeline: 'api-backend-pipeline',
      target: 'production',
      rolloutId: ROLLOUT,
      releaseId: null,
      reason: d.reason,
      requestedAt: d.decidedAt,
      blamedReleaseId: 'rel-002',
    },
    status: 'succeeded',
    releaseId: 'rel-001',
    leaving: { releaseId: 'rel-002', rolloutName: `${PIPELINE}/releases/rel-002/rollouts/rel-002-to-production-0001`, state: 'SUCCEEDED' },
    rolloutToRollBack: `${PIPELINE}/releases/rel-002/rollouts/rel-002-to-production-0001`,
    rolloutName: `${PIPELINE}/releases/rel-001/rollouts/${ROLLOUT}`,
    rolloutState: 'SUCCEEDED',
    failureReason: null,
    audit: [
      { at: at(31_000), stage: 'accepted', detail: `rollback of production ordered: ${d.reason}` },
      { at: at(31_500), stage: 'accepted', detail: 'leaving rel-002 for rel-001, the last known good release of production' },
      { at: at(32_000), stage: 'started', detail: `Cloud Deploy rollout ${ROLLOUT} created, rolling production back to rel-001` },
      { at: at(34_000), stage: 'succeeded', detail: `production rolled back to rel-001 (rollout ${ROLLOUT} SUCCEEDED)` },
    ],
    createdAt: at(31_000),
    updatedAt: at(34_000),
    servingSince: at(32_500),
    ...overrides,
  });
}

export function incidentRecord(overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  const d = decisionRecord();
  return IncidentRecord.parse({
    incidentId: d.incidentId,
    service: 'api-backend',
    state: 'open',
    startedAt: at(0),
    endedAt: null,
    observedAt: at(25_000),
    lastDecisionId: d.decisionId,
    decisionIds: [d.decisionId],
    rollback: null,
    ...overrides,
  });
}

export function targetRecord(overrides: Partial<TargetRecord> = {}): TargetRecord {
  return TargetRecord.parse({ ...blamedTarget(at(0)), ...overrides });
}

export function serviceState(overrides: Partial<ServiceState> = {}): ServiceState {
  return ServiceState.parse({ service: 'api-backend', ...overrides });
}

export function serviceControls(overrides: Partial<ServiceControls> = {}): ServiceControls {
  return ServiceControls.parse({ service: 'api-backend', updatedAt: at(0), ...overrides });
}

/** A Cloud Deploy notification about the rollback's rollout (clouddeploy-operations attributes). */
export function deployNotice(action: string, offsetMs: number, resourceType = 'Rollout', extra: Record<string, string> = {}) {
  return {
    publishTime: at(offsetMs),
    attributes: {
      Action: action,
      ResourceType: resourceType,
      Resource: `${PIPELINE}/releases/rel-001/rollouts/${ROLLOUT}${resourceType === 'JobRun' ? '/jobRuns/job-1' : ''}`,
      RolloutId: ROLLOUT,
      ReleaseId: 'rel-001',
      TargetId: 'production',
      ...extra,
    },
  };
}
export { ROLLOUT, PIPELINE };
