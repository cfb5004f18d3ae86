import { DEFAULT_POLICY, RuleNames, type AlertEvent, type IncidentRecord } from '@burnback/contracts';
import { alertEvent } from '@burnback/testkit/fixtures';
import { bulkDecisionEvent, planBulk, type BulkItem, type BulkService } from './bulk-plan.js';

const T0 = '2026-11-26T10:05:00.000Z';
const AT = { evaluatedAt: '2026-11-26T10:05:01.000Z', createdAt: '2026-11-26T10:05:01.500Z' };
const TARGET = { project: 'burnback-local', region: 'us-central1', pipeline: 'api-backend-pipeline', target: 'production' };
const service: BulkService = { policy: DEFAULT_POLICY, target: TARGET };
const serviceOf = (name: string) => (name === 'api-backend' ? service : undefined);

let n = 0;
const item = (incidentId: string, overrides: Partial<AlertEvent> = {}): BulkItem => {
  n += 1;
  const alert = alertEvent(incidentId, { observedAt: T0, observedValue: 0.004, notificationId: `ntf-${n}`, ...overrides });
  return { alert, alertEventId: `ntf-${n}`, decisionId: `dec-${n}` };
};

const openIncident = (incidentId: string, overrides: Partial<IncidentRecord> = {}): IncidentRecord => ({
  incidentId,
  service: 'api-backend',
  state: 'open',
  startedAt: '2026-11-26T10:00:00.000Z',
  endedAt: null,
  observedAt: '2026-11-26T10:01:00.000Z',
  lastDecisionId: 'dec-open',
  decisionIds: ['dec-open'],
  rollback: null,
  supersededRollbacks: [],
  monitoringUnavailableSince: null,
  ...overrides,
});

describe('planBulk', () => {
  it('decides a below-bar open in the bulk lane: the record, its evidence and its decision event', () => {
    const below = item('0.a');
    const plan = planBulk([below], new Set(), new Map([['0.a', null]]), serviceOf, AT);
    expect(plan.duplicates).toEqual([]);
    expect(plan.full).toEqual([]);
    expect(plan.groups).toHaveLength(1);
    const [group] = plan.groups;
    expect(group!.before).toBeNull();
    expect(group!.after).toMatchObject({
      incidentId: '0.a',
      state: 'open',
      lastDecisionId: below.decisionId,
      decisionIds: [below.decisionId],
    });
    const { record, event } = group!.decisions[0]!;
    expect(record).toMatchObject({
      decisionId: below.decisionId,
      incidentId: '0.a',
      service: 'api-backend',
      incidentState: 'open',
      action: 'hold',
      reason: 'no rollback: error ratio 0.4 % does not exceed the threshold of 1 %',
      alertEventId: below.alertEventId,
      rollbackId: null,
      target: TARGET,
      confidence: null,
      cause: null,
      monitoring: null,
      fleet: null,
      controls: { pause: null, acknowledgement: null, evaluatedAt: AT.evaluatedAt },
      redecisionOf: null,
      redecideAt: null,
      approvableUntil: null,
    });
    expect(record.verdicts.at(-1)!.rule).toBe(RuleNames.lane);
    expect(record.evidence).toEqual({
      version: 1,
      alert: below.alert,
      notificationId: below.alert.notificationId,
      policy: DEFAULT_POLICY,
      policyHash: expect.stringMatching(/^[0-9a-f]{16}$/),
      state: null,
      incident: null,
      target: null,
      lane: 'bulk',
    });
    expect(event).toMatchObject({
      id: below.decisionId,
      topic: 'burnback-decisions',
      orderingKey: 'api-backend',
      eventType: 'dev.burnback.decision.v1',
      eventId: below.decisionId,
      subject: `services/api-backend/decisions/${below.decisionId}`,
      time: record.decidedAt,
      createdAt: AT.createdAt,
      sentAt: null,
      attempts: 0,
      data: {
        decisionId: below.decisionId,
        incidentId: '0.a',
        service: 'api-backend',
        action: 'hold',
        reason: record.reason,
        verdicts: record.verdicts,
        decidedAt: record.decidedAt,
        rollbackId: null,
        target: TARGET,
        confidence: null,
        cause: null,
        redecisionOf: null,
        redecideAt: null,
        incidentState: 'open',
      },
    });
  });

  it('a close ends its incident; an open of the same incident behind it in the batch is held as late', () => {
    const close = item('0.b', { state: 'closed', endedAt: T0 });
    const lateOpen = item('0.b', { observedValue: 0.002 });
    const plan = planBulk([close, lateOpen], new Set(), new Map([['0.b', openIncident('0.b')]]), serviceOf, AT);
    const [group] = plan.groups;
    expect(group!.before).toEqual(openIncident('0.b'));
    expect(group!.decisions.map((d) => d.record.reason)).toEqual([
      'no rollback: incident 0.b is closed: the service recovered',
      `no rollback: incident 0.b already closed at ${T0}: this open notification arrived late`,
    ]);
    // The second decision read the incident the first one left: closed.
    expect(group!.decisions[1]!.record.evidence!.incident).toMatchObject({ state: 'closed', lastDecisionId: close.decisionId });
    expect(group!.after).toMatchObject({
      state: 'closed',
      endedAt: T0,
      lastDecisionId: lateOpen.decisionId,
      decisionIds: ['dec-open', close.decisionId, lateOpen.decisionId],
    });
  });

  it('a decision on record, or a repeat in the batch, is a duplicate', () => {
    const once = item('0.c');
    const again = { ...once };
    const recorded = item('0.d');
    const plan = planBulk(
      [once, again, recorded],
      new Set([recorded.decisionId]),
      new Map([
        ['0.c', null],
        ['0.d', null],
      ]),
      serviceOf,
      AT,
    );
    expect(plan.duplicates).toEqual([again, recorded]);
    expect(plan.groups.flatMap((g) => g.decisions.map((d) => d.item))).toEqual([once]);
  });

  it('leaves to the fast lane an alert that could roll back, and every other alert of its incident in the batch', () => {
    const below = item('0.e');
    const burn = item('0.e', { observedValue: 0.05, notificationId: 'ntf-burn' });
    const other = item('0.f');
    const plan = planBulk(
      [below, burn, other],
      new Set(),
      new Map([
        ['0.e', null],
        ['0.f', null],
      ]),
      serviceOf,
      AT,
    );
    expect(plan.full).toEqual([below, burn]);
    expect(plan.groups.map((g) => g.incidentId)).toEqual(['0.f']);
  });

  it('leaves to the fast lane an unconfigured service (whose path says why) and an incident it could not read', () => {
    const stranger = item('0.g', { service: 'nobody' });
    const unread = item('0.h');
    const plan = planBulk([stranger, unread], new Set(), new Map([['0.g', null]]), serviceOf, AT);
    expect(plan.full).toEqual([stranger, unread]);
    expect(plan.groups).toEqual([]);
  });

  it('keeps what the incident knew: its start, its rollback', () => {
    const rollback = {
      rollbackId: 'rb-1',
      decisionId: 'dec-open',
      stage: 'succeeded' as const,
      finishedAt: T0,
      releaseId: 'rel-001',
      fromReleaseId: 'rel-002',
      detail: null,
    };
    const close = item('0.i', { state: 'closed', endedAt: T0 });
    const plan = planBulk([close], new Set(), new Map([['0.i', openIncident('0.i', { rollback })]]), serviceOf, AT);
    expect(plan.groups[0]!.after).toMatchObject({ startedAt: '2026-11-26T10:00:00.000Z', rollback, state: 'closed' });
  });
});

describe('bulkDecisionEvent', () => {
  const decided = (overrides: Partial<AlertEvent> = {}) => {
    const plan = planBulk([item('0.e', overrides)], new Set(), new Map([['0.e', null]]), serviceOf, AT);
    return plan.groups[0]!.decisions[0]!;
  };

  it('rebuilds, from a bulk decision on record, the event the lane published for it (its outbox-entry time aside)', () => {
    for (const state of ['open', 'closed'] as const) {
      const { record, event } = decided(state === 'closed' ? { state, endedAt: T0 } : {});
      expect(bulkDecisionEvent(record)).toEqual({ ...event, createdAt: record.decidedAt });
    }
  });

  it('is null for a fast-lane decision (its outbox entry is on record) and a record without the incident state', () => {
    const { record } = decided();
    expect(bulkDecisionEvent({ ...record, evidence: { ...record.evidence!, lane: undefined } })).toBeNull();
    expect(bulkDecisionEvent({ ...record, evidence: null })).toBeNull();
    expect(bulkDecisionEvent({ ...record, incidentState: 'unknown' })).toBeNull();
  });
});
