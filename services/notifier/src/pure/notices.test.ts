import fc from 'fast-check';
import { DecisionAction, EventTypes, ProgressStage, type CloudEvent, type RollbackProgress } from '@burnback/contracts';
import { decisionData, decisionEvent, progressData, progressEvent } from '../../test/fixtures.js';
import { decisionTopic, noticeOf, progressTopic } from './notices.js';

const ACTIONS: DecisionAction[] = ['escalate', 'recommend', 'rollback', 'hold', 'ignore'];
const STAGES: RollbackProgress['stage'][] = ['accepted', 'started', 'succeeded', 'failed', 'superseded', 'validated'];

describe('decisionTopic', () => {
  it.each([
    ['escalate', 'open', 'escalate'],
    ['recommend', 'open', 'recommend'],
    ['rollback', 'open', 'rollback'],
    ['hold', 'open', 'hold'],
    ['ignore', 'open', null],
    ['escalate', undefined, 'escalate'],
    ['recommend', undefined, 'recommend'],
    ['rollback', undefined, 'rollback'],
    ['hold', undefined, 'hold'],
    ['ignore', undefined, null],
    ['escalate', 'closed', 'close'],
    ['recommend', 'closed', 'close'],
    ['rollback', 'closed', 'close'],
    ['hold', 'closed', 'close'],
    ['ignore', 'closed', 'close'],
  ] as const)('action %s on an incident %s is heard of as %s', (action, incidentState, topic) => {
    expect(decisionTopic(decisionData({ action, incidentState }))).toBe(topic);
  });

  it('covers every decision action the contracts know', () => {
    expect([...ACTIONS].sort()).toEqual([...DecisionAction.options].sort());
  });
});

describe('progressTopic', () => {
  it.each([
    ['accepted', null],
    ['started', 'rollback-started'],
    ['succeeded', 'rollback-succeeded'],
    ['failed', 'rollback-failed'],
    ['superseded', 'rollback-superseded'],
    ['validated', null],
  ] as const)('a rollback %s is heard of as %s, and not at all when it was validate-only', (stage, topic) => {
    expect(progressTopic(progressData(stage))).toBe(topic);
    expect(progressTopic(progressData(stage, { validateOnly: false }))).toBe(topic);
    expect(progressTopic(progressData(stage, { validateOnly: true }))).toBeNull();
  });

  it('covers every progress stage the contracts know', () => {
    expect([...STAGES].sort()).toEqual([...ProgressStage.options].sort());
  });
});

describe('noticeOf', () => {
  it('an escalation is a notice of its decision, keyed by the decision id', () => {
    const event = decisionEvent();
    expect(noticeOf(event)).toEqual({
      of: 'decision',
      topic: 'escalate',
      key: 'dec-1',
      service: 'api-backend',
      incidentId: '0.burn-1',
      decisionId: 'dec-1',
      rollbackId: null,
      reason: 'escalate: confidence 0.62 is below 0.80',
      at: '2026-12-06T10:00:00.000Z',
      event,
      decision: event.data,
    });
  });

  it("a rollback decision carries its rollback's id; every field comes from the decision, not the envelope", () => {
    const event = {
      ...decisionEvent({
        decisionId: 'dec-9',
        incidentId: '7.burn-9',
        service: 'checkout',
        action: 'rollback',
        rollbackId: 'rb-9',
        reason: 'rolling back rel-009',
        decidedAt: '2026-12-07T11:00:00.000Z',
      }),
      id: 'envelope-id',
      time: '2000-01-01T00:00:00.000Z',
    };
    expect(noticeOf(event)).toEqual({
      of: 'decision',
      topic: 'rollback',
      key: 'dec-9',
      service: 'checkout',
      incidentId: '7.burn-9',
      decisionId: 'dec-9',
      rollbackId: 'rb-9',
      reason: 'rolling back rel-009',
      at: '2026-12-07T11:00:00.000Z',
      event,
      decision: event.data,
    });
  });

  it('the decision that closed an incident is a notice of topic close, whatever its action', () => {
    const event = decisionEvent({ decisionId: 'dec-close', action: 'ignore', incidentState: 'closed', reason: 'incident closed' });
    expect(noticeOf(event)).toMatchObject({ of: 'decision', topic: 'close', key: 'dec-close', reason: 'incident closed' });
  });

  it('an ignored decision on an open incident is no notice', () => {
    expect(noticeOf(decisionEvent({ action: 'ignore' }))).toBeNull();
    expect(noticeOf(decisionEvent({ action: 'ignore', incidentState: undefined }))).toBeNull();
  });

  it("a rollback's start is a notice of the rollback, keyed by rollback id and stage", () => {
    const event = progressEvent('started', { detail: 'RollbackTarget accepted: rel-005 → rel-004' });
    expect(noticeOf(event)).toEqual({
      of: 'rollback',
      topic: 'rollback-started',
      key: 'rb-1/started',
      service: 'api-backend',
      incidentId: '0.burn-1',
      decisionId: 'dec-2',
      rollbackId: 'rb-1',
      reason: 'RollbackTarget accepted: rel-005 → rel-004',
      at: '2026-12-06T10:01:00.000Z',
      event,
      progress: event.data,
    });
  });

  it.each([
    ['started', 'rollback-started'],
    ['succeeded', 'rollback-succeeded'],
    ['failed', 'rollback-failed'],
    ['superseded', 'rollback-superseded'],
  ] as const)('a rollback %s is a notice of topic %s, keyed by the rollback id and the stage', (stage, topic) => {
    const notice = noticeOf(
      progressEvent(stage, {
        rollbackId: 'rb-7',
        service: 'checkout',
        incidentId: '3.x',
        decisionId: 'dec-7',
        at: '2026-12-08T00:00:00.000Z',
      }),
    );
    expect(notice).toMatchObject({
      of: 'rollback',
      topic,
      key: `rb-7/${stage}`,
      service: 'checkout',
      incidentId: '3.x',
      decisionId: 'dec-7',
      rollbackId: 'rb-7',
      reason: `rollback ${stage}`,
      at: '2026-12-08T00:00:00.000Z',
    });
  });

  it.each(['accepted', 'validated'] as const)("a rollback's %s stage is no notice", (stage) => {
    expect(noticeOf(progressEvent(stage))).toBeNull();
  });

  it.each(STAGES)('a validate-only rollback %s is no notice: its recommendation is what a person hears', (stage) => {
    expect(noticeOf(progressEvent(stage, { validateOnly: true }))).toBeNull();
  });

  it('an event of any other type is no notice, even with the body of a decision or of a rollback start', () => {
    const other = (event: CloudEvent, type: CloudEvent['type']): CloudEvent => ({ ...event, type });
    for (const type of [EventTypes.alert, EventTypes.rollbackCommand, EventTypes.rollbackValidate]) {
      expect(noticeOf(other(decisionEvent(), type))).toBeNull();
      expect(noticeOf(other(progressEvent('started'), type))).toBeNull();
    }
  });

  it('every notice has a key of its own: the decision id, or the rollback id and stage', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.constantFrom(...ACTIONS),
        fc.constantFrom('open' as const, 'closed' as const),
        (decisionId, action, incidentState) => {
          const notice = noticeOf(decisionEvent({ decisionId, action, incidentState }));
          if (action === 'ignore' && incidentState === 'open') return notice === null;
          return notice !== null && notice.key === decisionId && notice.decisionId === decisionId;
        },
      ),
    );
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.constantFrom(...STAGES), (rollbackId, stage) => {
        const notice = noticeOf(progressEvent(stage, { rollbackId }));
        if (stage === 'accepted' || stage === 'validated') return notice === null;
        return notice !== null && notice.key === `${rollbackId}/${stage}` && notice.rollbackId === rollbackId;
      }),
    );
  });
});
