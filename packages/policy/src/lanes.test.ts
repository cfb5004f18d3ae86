import fc from 'fast-check';
import { DEFAULT_POLICY, RuleNames, type AlertEvent, type IncidentRecord, type Pause, type ServiceState } from '@burnback/contracts';
import { alertEvent, blamedTarget } from '@burnback/testkit/fixtures';
import { decide, decideBulk, initialServiceState, laneOf, laneVerdict } from './index.js';

const T0 = '2026-11-26T10:05:00.000Z';
const alert = (overrides: Partial<AlertEvent> = {}): AlertEvent => alertEvent('0.lane', { observedAt: T0, ...overrides });

const closedIncident = (overrides: Partial<IncidentRecord> = {}): IncidentRecord => ({
  incidentId: '0.lane',
  service: 'api-backend',
  state: 'closed',
  startedAt: '2026-11-26T10:00:00.000Z',
  endedAt: '2026-11-26T10:03:00.000Z',
  observedAt: '2026-11-26T10:03:00.000Z',
  lastDecisionId: 'd-close',
  decisionIds: ['d-close'],
  rollback: null,
  supersededRollbacks: [],
  monitoringUnavailableSince: null,
  ...overrides,
});

describe('laneOf', () => {
  it.each<[string, 'fast' | 'bulk', Partial<AlertEvent>]>([
    ['an open error ratio over its bar (2.5 % > 1 %)', 'fast', {}],
    ['an open error ratio exactly at its bar', 'bulk', { observedValue: 0.01 }],
    ['an open error ratio below its bar', 'bulk', { observedValue: 0.004 }],
    ['a close, however high its value', 'bulk', { state: 'closed', endedAt: T0 }],
    ['an open alert with no value', 'bulk', { observedValue: null }],
    ['an SLO budget signal (no bar)', 'bulk', { signal: 'budget', observedValue: 0.9 }],
    ['an unsupported signal (no bar)', 'bulk', { signal: 'unsupported', observedValue: 0.9 }],
    ['a fast burn rate over 14.4×', 'fast', { signal: 'burn-rate', observedValue: 15, burnPolicy: 'fast' }],
    ['a fast burn rate at 14.4×', 'bulk', { signal: 'burn-rate', observedValue: 14.4, burnPolicy: 'fast' }],
    ['a slow burn rate over 6×', 'fast', { signal: 'burn-rate', observedValue: 7, burnPolicy: 'slow' }],
    ['a signal value is what counts, not the observed value', 'bulk', { observedValue: 0.5, signalValue: 0.002 }],
    [
      'a human request, whatever its value',
      'fast',
      { observedValue: null, state: 'closed', manual: { requestedBy: 'sre@example.com', reason: 'bad', releaseId: null, force: false } },
    ],
  ])('%s: the %s lane', (_, lane, overrides) => {
    expect(laneOf(alert(overrides), DEFAULT_POLICY)).toBe(lane);
  });

  it("follows the service's own bar", () => {
    expect(laneOf(alert({ observedValue: 0.03 }), { ...DEFAULT_POLICY, errorRatioThreshold: 0.05 })).toBe('bulk');
    expect(laneOf(alert({ observedValue: 0.03 }), { ...DEFAULT_POLICY, errorRatioThreshold: 0.02 })).toBe('fast');
  });
});

describe('decideBulk', () => {
  const evaluatedAt = '2026-11-26T10:05:01.000Z';

  it('a close: held by the incident rule, the lane says what was not read; nothing to blame, never decided again', () => {
    const d = decideBulk(alert({ state: 'closed', endedAt: T0 }), DEFAULT_POLICY, null, evaluatedAt)!;
    expect(d.action).toBe('hold');
    expect(d.reason).toBe('no rollback: incident 0.lane is closed: the service recovered');
    expect(d.verdicts.map((v) => v.rule)).toEqual([RuleNames.eventTime, RuleNames.enabled, RuleNames.incidentOpen, RuleNames.lane]);
    expect(d.verdicts.at(-1)).toEqual(laneVerdict(alert({ state: 'closed' })));
    expect(d.verdicts.at(-1)!.detail).toBe(
      "bulk lane: this alert cannot roll back (it is a close), so it was decided on the alert and its incident alone; the service's history, controls, Cloud Deploy's record and the fleet were not read",
    );
    expect(d).toMatchObject({ confidence: null, cause: null, burnStartedAt: null, redecideAt: null, approvableUntil: null, evaluatedAt });
  });

  it('a value below its bar: held by the error-ratio rule, with the ratio it measured', () => {
    const d = decideBulk(alert({ observedValue: 0.004 }), DEFAULT_POLICY, null, evaluatedAt)!;
    expect(d.action).toBe('hold');
    expect(d.reason).toBe('no rollback: error ratio 0.4 % does not exceed the threshold of 1 %');
    expect(d.errorRatio).toBe(0.004);
    expect(d.verdicts.map((v) => v.rule)).toEqual([
      RuleNames.eventTime,
      RuleNames.enabled,
      RuleNames.incidentOpen,
      RuleNames.errorRatio,
      RuleNames.lane,
    ]);
    expect(d.verdicts.at(-1)!.detail).toContain('(its value is not over its bar)');
  });

  it('a signal with no bar is ignored', () => {
    expect(decideBulk(alert({ signal: 'budget', observedValue: 0.9 }), DEFAULT_POLICY, null, evaluatedAt)!.action).toBe('ignore');
  });

  it('an open that arrives after its incident closed is held, saying so', () => {
    const d = decideBulk(alert({ observedValue: 0.002 }), DEFAULT_POLICY, closedIncident(), evaluatedAt)!;
    expect(d.reason).toBe('no rollback: incident 0.lane already closed at 2026-11-26T10:03:00.000Z: this open notification arrived late');
  });

  it('switched off: the enabled rule decides', () => {
    const d = decideBulk(alert({ state: 'closed' }), { ...DEFAULT_POLICY, enabled: false }, null, evaluatedAt)!;
    expect(d.verdicts.map((v) => v.rule)).toEqual([RuleNames.eventTime, RuleNames.enabled, RuleNames.lane]);
  });

  it('a fast-lane alert is not decided here: an open over its bar, a human request', () => {
    expect(decideBulk(alert(), DEFAULT_POLICY, null, evaluatedAt)).toBeNull();
    expect(
      decideBulk(
        alert({ manual: { requestedBy: 'sre@example.com', reason: 'bad', releaseId: null, force: false }, state: 'closed' }),
        DEFAULT_POLICY,
        null,
        evaluatedAt,
      ),
    ).toBeNull();
    // The positive control: the same fast-lane alert does roll back through the full decision.
    expect(decide(initialServiceState('api-backend'), alert(), DEFAULT_POLICY, null, blamedTarget(alert().startedAt)).action).toBe(
      'rollback',
    );
  });

  // Whatever the service's history, controls, target or Monitoring say, a bulk-lane alert's full decision is a hold
  // or an ignore, decided by one of the first four rules and never decided again: what decideBulk keeps is decide()'s.
  it('agrees with the full decision on every bulk-lane alert, whatever the rest of the world holds', () => {
    const arbAlert = fc.record({
      state: fc.constantFrom('open' as const, 'closed' as const),
      signal: fc.constantFrom('error-ratio' as const, 'burn-rate' as const, 'budget' as const, 'unsupported' as const),
      observedValue: fc.option(fc.double({ min: 0, max: 30, noNaN: true }), { nil: null }),
      burnPolicy: fc.constantFrom('fast' as const, 'slow' as const, null),
    });
    const arbWorld = fc.record({
      rollbacksMinutesAgo: fc.array(fc.integer({ min: 1, max: 120 }), { maxLength: 4 }),
      paused: fc.boolean(),
      closedBefore: fc.boolean(),
      enabled: fc.boolean(),
      mode: fc.constantFrom('auto' as const, 'observe' as const, 'recommend' as const),
    });
    fc.assert(
      fc.property(arbAlert, arbWorld, (a, w) => {
        const event = alert({ ...a, endedAt: a.state === 'closed' ? T0 : null });
        const policy = { ...DEFAULT_POLICY, enabled: w.enabled, mode: w.mode };
        if (laneOf(event, policy) !== 'bulk') return;
        const state: ServiceState = {
          ...initialServiceState('api-backend'),
          recentRollbacks: w.rollbacksMinutesAgo.map((m, i) => ({
            rollbackId: `rb-${i}`,
            decidedAt: new Date(Date.parse(T0) - m * 60_000).toISOString(),
            outcome: null,
            finishedAt: null,
          })),
        };
        const incident = w.closedBefore ? closedIncident() : null;
        const pause: Pause | null = w.paused ? { until: '2026-11-26T11:00:00.000Z', reason: 'deploy', by: 'sre', at: T0 } : null;
        const full = decide(state, event, policy, incident, blamedTarget(event.startedAt), null, {
          pause,
          acknowledgement: null,
          evaluatedAt,
          fleet: null,
        });
        const bulk = decideBulk(event, policy, incident, evaluatedAt);
        expect(bulk).not.toBeNull();
        expect(['hold', 'ignore']).toContain(full.action);
        expect(full.redecideAt).toBeNull();
        const failedAt = full.verdicts.findIndex((v) => !v.passed);
        expect(failedAt).toBeLessThanOrEqual(3);
        expect({ action: bulk!.action, reason: bulk!.reason }).toEqual({ action: full.action, reason: full.reason });
        expect(bulk!.verdicts).toEqual([...full.verdicts.slice(0, failedAt + 1), laneVerdict(event)]);
      }),
    );
  });
});
