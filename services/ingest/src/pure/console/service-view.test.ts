import { at, decisionRecord, incidentRecord, MIN, rollbackRecord, T0, targetRecord } from '../../../test/console-fixtures.js';
import type { FleetInput } from './fleet.js';
import { finishedAt, hoursParam, servicePage, timelineInput, type ServiceInput } from './service-view.js';

const NOW = T0 + 5 * MIN;

const fleet: FleetInput = {
  name: 'api-backend',
  mode: 'auto',
  target: 'api-backend-pipeline/production',
  serving: { releaseId: 'rel-001', since: at(32_500), phase: null },
  pause: null,
  freeze: null,
  inFlight: null,
  lastDecision: null,
  recentDecisions: [],
  failedRollbacks: [],
};

const input = (overrides: Partial<ServiceInput> = {}): ServiceInput => ({
  fleet,
  target: targetRecord(),
  decisions: [decisionRecord()],
  incidents: [incidentRecord()],
  rollbacks: [rollbackRecord()],
  hours: 6,
  truncated: false,
  ...overrides,
});

describe('the service page', () => {
  it('puts the service’s releases, incident (with its burn), decision and rollback on the axis', () => {
    const t = timelineInput(input(), NOW);
    expect(t.spans.map((s) => s.releaseId)).toEqual(['rel-001', 'rel-002']);
    expect(t.incidents).toEqual([{ incidentId: '0.burn', startedAt: at(0), endedAt: null, burn: '2.5 % (bar 1 %)' }]);
    expect(t.decisions).toEqual([
      { decisionId: decisionRecord().decisionId, action: 'rollback', decidedAt: at(30_000), reason: decisionRecord().reason },
    ]);
    expect(t.rollbacks).toEqual([
      {
        rollbackId: rollbackRecord().rollbackId,
        orderedAt: at(30_000),
        finishedAt: at(34_000),
        status: 'succeeded',
        releaseId: 'rel-001',
        validateOnly: false,
      },
    ]);
    const page = servicePage(input(), NOW);
    expect(page.timeline.decisions).toHaveLength(1);
    expect(page.timeline.rollbacks[0]!.href).toBe(`/console/rollbacks/${rollbackRecord().rollbackId}`);
  });

  it('takes an incident’s burn from its latest decision that carried one', () => {
    const later = decisionRecord({
      decisionId: 'dec-later',
      decidedAt: at(60_000),
      evidence: { ...decisionRecord().evidence!, alert: { ...decisionRecord().evidence!.alert, signalValue: 0.04 } },
    });
    const none = decisionRecord({ decisionId: 'dec-none', decidedAt: at(90_000), evidence: null });
    expect(timelineInput(input({ decisions: [decisionRecord(), later, none] }), NOW).incidents[0]!.burn).toBe('4 % (bar 1 %)');
    expect(timelineInput(input({ decisions: [] }), NOW).incidents[0]!.burn).toBeNull();
  });

  it('lists the decisions newest first, with their rollback’s status', () => {
    const older = decisionRecord({
      decisionId: 'dec-older',
      decidedAt: at(10_000),
      action: 'hold',
      rollbackId: null,
      confidence: null,
      cause: null,
    });
    const twin = decisionRecord({ decisionId: 'dec-twin', decidedAt: at(10_000), action: 'ignore', rollbackId: null });
    const page = servicePage(input({ decisions: [older, decisionRecord(), twin] }), NOW);
    expect(page.decisions.map((d) => d.decisionId)).toEqual([decisionRecord().decisionId, 'dec-twin', 'dec-older']);
    expect(page.decisions[0]).toMatchObject({
      href: `/console/decisions/${decisionRecord().decisionId}`,
      decidedAt: '2026-12-06 10:00:30 UTC',
      when: '4 min ago',
      action: 'rollback',
      actionClass: 'action-rollback',
      confidence: '0.925 (bar 0.8)',
      cause: 'rel-002',
      rollback: { rollbackId: rollbackRecord().rollbackId, status: 'succeeded' },
    });
    expect(page.decisions[2]).toMatchObject({ confidence: '—', cause: '—', rollback: null });
    // A rollback ordered but not yet on record.
    expect(servicePage(input({ rollbacks: [] }), NOW).decisions[0]!.rollback!.status).toBe('ordered');
  });

  it('offers the look-backs, the current one marked, and a legend of every action', () => {
    const page = servicePage(input({ hours: 24, truncated: true }), NOW);
    expect(page.ranges.map((r) => [r.label, r.current, r.href])).toEqual([
      ['1 h', false, '/console/services/api-backend?hours=1'],
      ['6 h', false, '/console/services/api-backend?hours=6'],
      ['1 d', true, '/console/services/api-backend?hours=24'],
      ['3 d', false, '/console/services/api-backend?hours=72'],
      ['7 d', false, '/console/services/api-backend?hours=168'],
    ]);
    expect(page.truncated).toBe(true);
    expect(page.legend.map((l) => l.action)).toEqual(['rollback', 'recommend', 'escalate', 'hold', 'ignore']);
    expect(page.row.name).toBe('api-backend');
  });

  it('knows when a rollback ended: its final audit line, else its last update, never while in flight', () => {
    expect(finishedAt(rollbackRecord())).toBe(at(34_000));
    expect(finishedAt(rollbackRecord({ audit: [] }))).toBe(rollbackRecord().updatedAt);
    expect(finishedAt(rollbackRecord({ status: 'started' }))).toBeNull();
  });

  it('reads the look-back from the query: whole hours from 1 to 168, default 6', () => {
    expect(hoursParam(undefined)).toBe(6);
    expect(hoursParam('1')).toBe(1);
    expect(hoursParam('168')).toBe(168);
    for (const bad of ['0', '169', '1.5', '-1', '', 'abc', '0x10', '1e2', ' 6', '0006'])
      expect([bad, hoursParam(bad)]).toEqual([bad, null]);
    expect(hoursParam(['6', '24'])).toBeNull();
    expect(hoursParam('006')).toBe(6);
  });
});

describe('the service page, in order', () => {
  it('lists decisions newest first, and those decided at one moment by id, newest id first', () => {
    const d = (decisionId: string, decidedAt: string) => decisionRecord({ decisionId, decidedAt, rollbackId: null });
    const page = servicePage(
      input({ decisions: [d('dec-b', at(10_000)), d('dec-c', at(60_000)), d('dec-a', at(10_000)), d('dec-d', at(5_000))] }),
      NOW,
    );
    expect(page.decisions.map((r) => r.decisionId)).toEqual(['dec-c', 'dec-b', 'dec-a', 'dec-d']);
  });

  it("shows each incident's burn as its latest decision read it", () => {
    const base = decisionRecord();
    const withValue = (decisionId: string, decidedAt: string, signalValue: number) =>
      decisionRecord({
        decisionId,
        decidedAt,
        evidence: { ...base.evidence!, alert: { ...base.evidence!.alert, signalValue } },
      });
    const burnOf = (decisions: ServiceInput['decisions']) => timelineInput(input({ decisions }), NOW).incidents[0]!.burn;
    const early = withValue('dec-1', at(10_000), 0.02);
    const late = withValue('dec-2', at(60_000), 0.05);
    expect(burnOf([early, late])).toBe('5 % (bar 1 %)');
    expect(burnOf([late, early])).toBe('5 % (bar 1 %)');
  });

  it("ends a rollback at its final stage's audit line, draws what the target served, and tells a validation apart", () => {
    const done = rollbackRecord({ updatedAt: at(99_000) });
    expect(finishedAt(done)).toBe(done.audit.find((a) => a.stage === 'succeeded')!.at);
    expect(finishedAt(done)).not.toBe(done.updatedAt);
    const tl = timelineInput(input({ rollbacks: [rollbackRecord({ command: { ...done.command, validateOnly: true } })] }), NOW);
    expect(tl.rollbacks.map((r) => r.validateOnly)).toEqual([true]);
    expect(timelineInput(input(), NOW).rollbacks.map((r) => r.validateOnly)).toEqual([false]);
    expect(tl.spans).toEqual(targetRecord().timeline);
    expect(timelineInput(input({ target: null }), NOW).spans).toEqual([]);
  });

  it('takes a look-back of 1 to 168 whole hours written in digits, and nothing else', () => {
    expect(hoursParam('24')).toBe(24);
    expect(hoursParam('1000')).toBeNull();
    expect(hoursParam(' 24')).toBeNull();
    expect(hoursParam('24x')).toBeNull();
    expect(hoursParam(['24'])).toBeNull();
  });
});
