/**
 * The events, notices and destinations the notifier's unit tests are built from:
 * the integration test's escalation and rollback, with overrides.
 */
import { EventTypes, type CloudEvent, type DecisionEvent, type RollbackProgress } from '@burnback/contracts';
import { NotifyTopics, type NotifyDestination } from '@burnback/contracts';
import { noticeOf, type DecisionNotice, type RollbackNotice } from '../src/pure/notices.js';

export const TARGET = { project: 'burnback-local', region: 'us-central1', pipeline: 'api-backend-pipeline', target: 'production' };

export function decisionData(overrides: Partial<DecisionEvent> = {}): DecisionEvent {
  return {
    decisionId: 'dec-1',
    incidentId: '0.burn-1',
    service: 'api-backend',
    action: 'escalate',
    reason: 'escalate: confidence 0.62 is below 0.80',
    verdicts: [
      { rule: 'error-ratio', passed: true, detail: 'error ratio 5 % > 1 %' },
      { rule: 'confidence', passed: false, detail: 'confidence 0.62 < 0.80' },
    ],
    decidedAt: '2026-12-06T10:00:00.000Z',
    rollbackId: null,
    target: { ...TARGET },
    confidence: {
      value: 0.62,
      threshold: 0.8,
      factors: [
        { name: 'burn', value: 1, weight: 0.5, detail: 'well over' },
        { name: 'timing', value: 0.2, weight: 0.3, detail: 'late' },
      ],
    },
    cause: { releaseId: 'rel-005', servingSince: '2026-12-06T08:00:00.000Z' },
    redecisionOf: null,
    redecideAt: null,
    incidentState: 'open',
    approvableUntil: null,
    ...overrides,
  };
}

export function decisionEvent(overrides: Partial<DecisionEvent> = {}): CloudEvent<typeof EventTypes.decision> {
  const data = decisionData(overrides);
  return {
    id: data.decisionId,
    type: EventTypes.decision,
    source: '//burnback/decider',
    subject: `services/${data.service}/decisions/${data.decisionId}`,
    time: data.decidedAt,
    data,
  };
}

export function progressData(stage: RollbackProgress['stage'], overrides: Partial<RollbackProgress> = {}): RollbackProgress {
  return {
    rollbackId: 'rb-1',
    decisionId: 'dec-2',
    incidentId: '0.burn-1',
    service: 'api-backend',
    target: 'production',
    stage,
    sequence: 2,
    rolloutName: 'burnback-rb-1',
    releaseId: 'rel-004',
    fromReleaseId: 'rel-005',
    detail: `rollback ${stage}`,
    at: '2026-12-06T10:01:00.000Z',
    ...overrides,
  };
}

export function progressEvent(
  stage: RollbackProgress['stage'],
  overrides: Partial<RollbackProgress> = {},
): CloudEvent<typeof EventTypes.rollbackProgress> {
  const data = progressData(stage, overrides);
  return {
    id: `${data.rollbackId}-${stage}`,
    type: EventTypes.rollbackProgress,
    source: '//burnback/executor',
    subject: `rollbacks/${data.rollbackId}`,
    time: data.at,
    data,
  };
}

/** The notice of a decision (its topic from its action and incident state). */
export function decisionNotice(overrides: Partial<DecisionEvent> = {}): DecisionNotice {
  const notice = noticeOf(decisionEvent(overrides));
  if (notice?.of !== 'decision') throw new Error('expected a decision notice');
  return notice;
}

/** The notice of a rollback stage that people hear of (started, succeeded, failed, superseded). */
export function rollbackNotice(stage: RollbackProgress['stage'], overrides: Partial<RollbackProgress> = {}): RollbackNotice {
  const notice = noticeOf(progressEvent(stage, overrides));
  if (notice?.of !== 'rollback') throw new Error('expected a rollback notice');
  return notice;
}

export function destination(overrides: Partial<NotifyDestination> = {}): NotifyDestination {
  return {
    name: 'oncall',
    kind: 'pagerduty',
    url: 'https://events.pagerduty.com',
    routingKey: 'R0UTINGKEY0000000000000000000001',
    secret: null,
    on: NotifyTopics,
    services: null,
    ...overrides,
  };
}
