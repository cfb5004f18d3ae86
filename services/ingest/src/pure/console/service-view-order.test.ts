import { at, decisionRecord, incidentRecord, MIN, rollbackRecord, T0, targetRecord } from '../../../test/console-fixtures.js';
import type { FleetInput } from './fleet.js';
import { finishedAt, hoursParam, servicePage, timelineInput, type ServiceInput } from './service-view.js';

/** The service page's decision order, the burn shown per incident, the rollbacks' ends and kinds, and its look-back. */
const NOW = T0 + 5 * MIN;
const fleet: FleetInput = {
  name: 'api-backend',
  mode: 'auto',
  target: 'api-backend-pipeline/production',
  serving: null,
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
