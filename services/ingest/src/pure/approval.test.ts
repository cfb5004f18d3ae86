import { AlertEvent, approvalNotificationIdFor, type DecisionRecord } from '@burnback/contracts';
import { approvalAlert, approvalRefusal, DECISION_ID, MAX_APPROVAL_ATTEMPTS, priorApproval } from './approval.js';

const ID = 'dec-0123456789abcdef01234567';
const NOW = new Date('2026-11-26T10:00:00.000Z');
const UNTIL = '2026-11-26T10:30:00.000Z';
const recommendation = { action: 'recommend' as const, approvableUntil: UNTIL, incidentId: '0.rec' };
const open = { state: 'open' as const, endedAt: null };

describe('whether a decision may be approved now (POST /decisions/{id}/approve)', () => {
  it('a recommendation of an open incident, within its time to approve, may be', () => {
    expect(approvalRefusal(ID, recommendation, open, NOW)).toBeNull();
    expect(approvalRefusal(ID, recommendation, null, new Date(Date.parse(UNTIL) - 1))).toBeNull();
  });

  it.each([
    ['no decision', null, open, NOW, { status: 404, message: `no decision ${ID}` }],
    [
      'a rollback',
      { ...recommendation, action: 'rollback' as const },
      open,
      NOW,
      { status: 409, message: `decision ${ID} is a rollback, not a recommend: only a recommendation can be approved` },
    ],
    [
      'a closed incident',
      recommendation,
      { state: 'closed' as const, endedAt: '2026-11-26T09:59:00.000Z' },
      NOW,
      {
        status: 409,
        message: `incident 0.rec of decision ${ID} closed at 2026-11-26T09:59:00.000Z: the service recovered, the recommendation no longer applies`,
      },
    ],
    [
      'a closed incident without its end',
      recommendation,
      { state: 'closed' as const, endedAt: null },
      NOW,
      { status: 409, message: `incident 0.rec of decision ${ID} closed: the service recovered, the recommendation no longer applies` },
    ],
    [
      'a recommendation recorded before approvals',
      { ...recommendation, approvableUntil: undefined },
      open,
      NOW,
      { status: 409, message: `decision ${ID} was recorded before recommendations could be approved: it has no time to approve` },
    ],
    [
      'its time to approve over, to the millisecond',
      recommendation,
      open,
      new Date(UNTIL),
      {
        status: 410,
        message: `recommendation ${ID} could be approved until ${UNTIL} (approvalTtlMinutes): it expired; a new burn brings a new recommendation`,
      },
    ],
  ])('refuses %s, saying why', (_what, decision, incident, now, refusal) => {
    expect(approvalRefusal(ID, decision, incident, now)).toEqual(refusal);
  });

  it('decision ids are dec- and 24 hex digits, nothing around them', () => {
    expect(DECISION_ID.test(ID)).toBe(true);
    for (const bad of [`x${ID}`, `${ID}x`, 'dec-0123', ID.toUpperCase(), 'rb-0123456789abcdef01234567'])
      expect(DECISION_ID.test(bad)).toBe(false);
  });
});

describe('the alert an approval publishes', () => {
  const serving = 'projects/p/locations/r/deliveryPipelines/api/releases/rel-002/rollouts/rel-002-to-production-0001';
  const recorded = {
    decisionId: ID,
    incidentId: '0.rec',
    service: 'api-backend',
    approvableUntil: UNTIL,
    cause: { releaseId: 'rel-002', servingSince: '2026-11-26T09:00:00.000Z' },
    evidence: {
      alert: { startedAt: '2026-11-26T09:50:00.000Z', manual: null },
      target: { serving: { rollout: serving } },
    },
  } as unknown as Pick<DecisionRecord, 'decisionId' | 'incidentId' | 'service' | 'approvableUntil' | 'cause' | 'evidence'>;
  const approver = { by: 'alice', reason: 'bad canary', force: true };
  const notificationId = approvalNotificationIdFor(ID);

  it("is the recommendation's incident, judged on who approved and why, carrying the world the recommendation saw", () => {
    const event = approvalAlert(recorded, { startedAt: '2026-11-26T09:49:00.000Z' }, 'burnback-local', approver, notificationId, NOW);
    expect(event).toEqual({
      incidentId: '0.rec',
      service: 'api-backend',
      state: 'open',
      startedAt: '2026-11-26T09:49:00.000Z',
      endedAt: null,
      observedAt: NOW.toISOString(),
      receivedAt: NOW.toISOString(),
      observedValue: null,
      thresholdValue: null,
      signal: 'unsupported',
      lookbackSeconds: null,
      comparison: null,
      signalValue: null,
      signalThreshold: null,
      sloName: null,
      sloSelector: null,
      burnPolicy: null,
      burnPolicySource: null,
      burnWindows: null,
      unsupportedReason: `an approval of recommendation ${ID}, judged on who approved and why`,
      policyName: 'approval of a recommendation',
      conditionName: '',
      severity: '',
      resourceType: '',
      resourceLabels: {},
      policyUserLabels: {},
      scopingProjectId: 'burnback-local',
      url: '',
      source: 'manual',
      notificationId,
      manual: {
        requestedBy: 'alice',
        reason: 'bad canary',
        force: true,
        releaseId: null,
        approves: { decisionId: ID, until: UNTIL, cause: recorded.cause, servingRollout: serving },
      },
    });
    // What the decider reads it as: the schema takes it as it is.
    expect(AlertEvent.parse(event)).toEqual(event);
  });

  it("starts when the incident started; without the incident, when the recommendation's alert did; without either, now", () => {
    expect(approvalAlert(recorded, null, 'p', approver, notificationId, NOW).startedAt).toBe('2026-11-26T09:50:00.000Z');
    const bare = { ...recorded, evidence: null };
    const event = approvalAlert(bare, null, 'p', approver, notificationId, NOW);
    expect(event.startedAt).toBe(NOW.toISOString());
    expect(event.manual!.approves!.servingRollout).toBeNull();
    expect(event.manual!.releaseId).toBeNull();
    // A target not read, or read with nothing serving: no serving rollout to hold the approval to.
    for (const target of [null, { serving: null }]) {
      const unknown = { ...recorded, evidence: { ...recorded.evidence!, target } } as typeof recorded;
      expect(approvalAlert(unknown, null, 'p', approver, notificationId, NOW).manual!.approves!.servingRollout).toBeNull();
    }
  });

  it('keeps the release a recommended manual request asked for', () => {
    const manual = {
      ...recorded,
      evidence: { ...recorded.evidence!, alert: { ...recorded.evidence!.alert, manual: { releaseId: 'rel-001' } } },
    } as typeof recorded;
    expect(approvalAlert(manual, null, 'p', approver, notificationId, NOW).manual!.releaseId).toBe('rel-001');
  });
});

describe('what an earlier approval of the same recommendation came to', () => {
  it.each([
    ['not decided yet', null, null, 'deciding'],
    ['a rollback ordered', { action: 'rollback' as const }, null, 'ordered'],
    ['a rollback under way', { action: 'rollback' as const }, 'started', 'ordered'],
    ['a rollback that succeeded', { action: 'rollback' as const }, 'succeeded', 'ordered'],
    ['a rollback superseded before it rolled anything back', { action: 'rollback' as const }, 'superseded', 'refused'],
    ['held (a pause, the cooldown)', { action: 'hold' as const }, null, 'refused'],
    ['escalated (a freeze, the breaker)', { action: 'escalate' as const }, null, 'refused'],
  ])('%s: %s', (_what, decision, status, outcome) => {
    expect(priorApproval(decision, status)).toBe(outcome);
  });

  it('a few refused approvals may be followed by another, not endlessly', () => {
    expect(MAX_APPROVAL_ATTEMPTS).toBe(5);
  });
});
