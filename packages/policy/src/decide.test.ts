import fc from 'fast-check';
import { DEFAULT_POLICY, PolicySettings, type AlertEvent, type ServiceState } from '@burnback/contracts';
import { alertEvent, withBlamedTarget } from '@burnback/testkit/fixtures';
import { applyDecision, decide as decideAs, initialServiceState } from './index.js';

/** decide() with the burn clearly rel-002's fault unless the test gives a target (testkit's blamedTarget). */
const decide = withBlamedTarget(decideAs);

const T0 = '2026-11-26T10:00:00.000Z';
const minutesBefore = (iso: string, m: number): string => new Date(Date.parse(iso) - m * 60_000).toISOString();

const alert = (overrides: Partial<AlertEvent> = {}): AlertEvent =>
  alertEvent('0.abc', { startedAt: minutesBefore(T0, 5), observedAt: T0, ...overrides });

const stateWith = (...minutesAgo: number[]): ServiceState => ({
  ...initialServiceState('api-backend'),
  recentRollbacks: minutesAgo.map((m, i) => ({ rollbackId: `rb-${i}`, decidedAt: minutesBefore(T0, m), outcome: null, finishedAt: null })),
});

const arbRollbacksForSignals = fc.array(fc.integer({ min: -30, max: 300 }), { maxLength: 8 });

describe('decide', () => {
  const cases: Array<[string, ServiceState, AlertEvent, Partial<PolicySettings>, 'rollback' | 'hold' | 'recommend', string]> = [
    ['an open incident above 1 % with a clean history rolls back', stateWith(), alert(), {}, 'rollback', 'roll back: error ratio 2.5 %'],
    ['an error ratio of exactly 1 % does not roll back', stateWith(), alert({ observedValue: 0.01 }), {}, 'hold', 'does not exceed'],
    ['a below-threshold incident does not roll back', stateWith(), alert({ observedValue: 0.004 }), {}, 'hold', 'does not exceed'],
    ['a closed incident does not roll back', stateWith(), alert({ state: 'closed', endedAt: T0 }), {}, 'hold', 'is closed'],
    ['an alert without a value does not roll back', stateWith(), alert({ observedValue: null }), {}, 'hold', 'no observed value'],
    ['switched-off rollbacks never roll back', stateWith(), alert(), { enabled: false }, 'hold', 'switched off'],
    ['a rollback 10 min ago is within the cooldown', stateWith(10), alert(), {}, 'hold', 'within the 30 min cooldown'],
    ['a rollback 31 min ago is outside the cooldown', stateWith(31), alert(), {}, 'rollback', 'roll back'],
    [
      'three rollbacks in the last hour hit the rate limit',
      stateWith(59, 45, 35),
      alert(),
      { cooldownMinutes: 0 },
      'hold',
      '3 rollback(s)',
    ],
    ['rollbacks older than an hour do not count', stateWith(61, 90, 120), alert(), {}, 'rollback', 'roll back'],
    [
      'mode observe records what it would do but never orders',
      stateWith(),
      alert(),
      { mode: 'observe' },
      'hold',
      'no rollback (mode observe), would roll back: error ratio 2.5 %',
    ],
    [
      'mode recommend recommends a validate-only rollback',
      stateWith(),
      alert(),
      { mode: 'recommend' },
      'recommend',
      'recommend a rollback (validate only): error ratio 2.5 %',
    ],
    [
      'a burn rate of 14.4× with an unknown window is an error ratio of 14.4 %, held to the slow-burn bar',
      stateWith(),
      alert({ signal: 'burn-rate', observedValue: 14.4, thresholdValue: 14.4 }),
      {},
      'rollback',
      'burn rate 14.4× (error ratio 14.4 %) exceeds the slow-burn threshold of 6×',
    ],
    [
      'a burn rate of 0.5× is within budget',
      stateWith(),
      alert({ signal: 'burn-rate', observedValue: 0.5 }),
      {},
      'hold',
      'does not exceed',
    ],
    [
      'a 1 h burn rate of 10× is under the fast-burn threshold of 14.4×',
      stateWith(),
      alert({ signal: 'burn-rate', observedValue: 10, lookbackSeconds: 3600 }),
      {},
      'hold',
      'burn rate 10× over 1 h (error ratio 10 %) does not exceed the fast-burn threshold of 14.4×',
    ],
    [
      'a 1 h burn rate of 15× clears the fast-burn threshold',
      stateWith(),
      alert({ signal: 'burn-rate', observedValue: 15, lookbackSeconds: 3600 }),
      {},
      'rollback',
      'exceeds the fast-burn threshold of 14.4×',
    ],
    [
      'a 6 h burn rate of 7× clears the slow-burn threshold of 6×',
      stateWith(),
      alert({ signal: 'burn-rate', observedValue: 7, lookbackSeconds: 21600 }),
      {},
      'rollback',
      'burn rate 7× over 6 h (error ratio 7 %) exceeds the slow-burn threshold of 6×',
    ],
    [
      'the burn-rate thresholds are configurable',
      stateWith(),
      alert({ signal: 'burn-rate', observedValue: 7, lookbackSeconds: 21600 }),
      { slowBurnRate: 8 },
      'hold',
      'does not exceed the slow-burn threshold of 8×',
    ],
  ];

  it.each(cases)('%s', (_name, state, event, overrides, action, reasonPart) => {
    const decision = decide(state, event, PolicySettings.parse(overrides));
    expect(decision.action).toBe(action);
    expect(decision.reason).toContain(reasonPart);
    expect(decision.decidedAt).toBe(event.observedAt);
    expect(decision.verdicts.map((v) => v.rule)).toEqual([
      'event-time',
      'enabled',
      'incident-open',
      'error-ratio',
      'acknowledged',
      'paused',
      'one-rollback-per-incident',
      'returned-release',
      'burning-now',
      'confidence',
      'freeze',
      'fleet-breaker',
      'rate-limit',
      'cooldown',
      'mode',
    ]);
  });

  const burn = (overrides: Partial<AlertEvent>): AlertEvent => alert({ signal: 'burn-rate', comparison: 'COMPARISON_GT', ...overrides });
  const signalCases: Array<[string, AlertEvent, 'rollback' | 'hold' | 'ignore', string]> = [
    [
      'a success ratio of 97 % (COMPARISON_LT) is 3 % errors and rolls back',
      alert({ observedValue: 0.97, thresholdValue: 0.99, comparison: 'COMPARISON_LT', signalValue: 0.03, signalThreshold: 0.01 }),
      'rollback',
      'error ratio 3 % exceeds the threshold of 1 %',
    ],
    [
      'a success ratio of 99.5 % is 0.5 % errors and does not',
      alert({ observedValue: 0.995, comparison: 'COMPARISON_LT', signalValue: 0.005 }),
      'hold',
      'error ratio 0.5 % does not exceed',
    ],
    [
      "a 30 min burn of 7× from the slow policy clears the slow bar of 6×, not the fast one's",
      burn({ observedValue: 7, lookbackSeconds: 1800, burnPolicy: 'slow', burnPolicySource: 'display-name' }),
      'rollback',
      'burn rate 7× over 30 min (error ratio 7 %) exceeds the slow-burn threshold of 6×',
    ],
    [
      'a 6 h burn of 10× labelled fast is held to the fast bar',
      burn({ observedValue: 10, lookbackSeconds: 21600, burnPolicy: 'fast', burnPolicySource: 'policy-label' }),
      'hold',
      'does not exceed the fast-burn threshold of 14.4×',
    ],
    [
      'a CPU alert of 0.835 is ignored with its reason, never read as 83.5 % errors',
      alert({
        signal: 'unsupported',
        observedValue: 0.835,
        unsupportedReason: 'run.googleapis.com/container/cpu/utilizations alone is not a ratio of bad to total requests',
      }),
      'ignore',
      'ignore: the alert measures something Burnback does not act on: run.googleapis.com/container/cpu/utilizations alone',
    ],
    [
      'an SLO budget alert is not a burn and never rolls back on its own',
      alert({ signal: 'budget', observedValue: 0.1, sloSelector: 'select_slo_budget_fraction' }),
      'ignore',
      'SLO budget signal (select_slo_budget_fraction)',
    ],
    [
      'a budget alert whose selector ingest could not read still names what it is',
      alert({ signal: 'budget', observedValue: 0.1, sloSelector: null }),
      'ignore',
      'ignore: the alert is an SLO budget signal (budget), cumulative over the compliance period',
    ],
    [
      'an unsupported alert without a reason still says why it is ignored',
      alert({ signal: 'unsupported', observedValue: 0.835, unsupportedReason: null }),
      'ignore',
      'ignore: the alert measures something Burnback does not act on: unsupported signal',
    ],
  ];

  it.each(signalCases)('%s', (_name, event, action, reasonPart) => {
    const decision = decide(stateWith(), event, DEFAULT_POLICY);
    expect(decision.action).toBe(action);
    expect(decision.reason).toContain(reasonPart);
  });

  it('an unsupported or budget signal never rolls back, whatever its value and history', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('unsupported' as const, 'budget' as const),
        fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
        fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
        arbRollbacksForSignals,
        (signal, observedValue, signalValue, ago) => {
          const d = decide(stateWith(...ago), alert({ signal, observedValue, signalValue }), DEFAULT_POLICY);
          expect(d.action).toBe('ignore');
          expect(d.errorRatio).toBeNull();
          expect(d.verdicts.find((v) => v.rule === 'error-ratio')!.passed).toBe(false);
        },
      ),
    );
  });

  it('an open notification that arrives after the incident closed is late, not a reason to roll back', () => {
    const d = decide(stateWith(), alert(), DEFAULT_POLICY, { state: 'closed', endedAt: T0 });
    expect(d.action).toBe('hold');
    expect(d.reason).toBe(`no rollback: incident 0.abc already closed at ${T0}: this open notification arrived late`);
  });

  it('an open notification of an incident known to be open still rolls back', () => {
    expect(decide(stateWith(), alert(), DEFAULT_POLICY, { state: 'open', endedAt: null }).action).toBe('rollback');
  });

  it('the reason of a refusal is the first failing rule, and the trace keeps the others', () => {
    const d = decide(stateWith(5), alert({ observedValue: 0.001 }), DEFAULT_POLICY);
    expect(d.reason).toMatch(/^no rollback: error ratio 0\.1 % does not exceed/);
    // Confidence fails too: a value a tenth of the bar is weak evidence against any release.
    expect(d.verdicts.filter((v) => !v.passed).map((v) => v.rule)).toEqual(['error-ratio', 'confidence', 'cooldown']);
  });

  const arbRollbacks = fc.array(fc.integer({ min: -30, max: 300 }), { maxLength: 8 });
  const arbAlert = fc.record({
    state: fc.constantFrom('open' as const, 'closed' as const),
    observedValue: fc.option(fc.double({ min: 0, max: 50, noNaN: true }), { nil: null }),
    signal: fc.constantFrom('error-ratio' as const, 'burn-rate' as const),
  });

  it('is a pure function: the same state and event always give the same decision', () => {
    fc.assert(
      fc.property(arbRollbacks, arbAlert, (ago, a) => {
        const s = stateWith(...ago);
        expect(decide(s, alert(a), DEFAULT_POLICY)).toEqual(decide(structuredClone(s), alert(a), DEFAULT_POLICY));
      }),
    );
  });

  it('never rolls back a closed incident, within the cooldown, or over the rate limit', () => {
    fc.assert(
      fc.property(arbRollbacks, arbAlert, (ago, a) => {
        const d = decide(stateWith(...ago), alert(a), DEFAULT_POLICY);
        if (d.action !== 'rollback') return;
        expect(a.state).toBe('open');
        expect(ago.every((m) => m >= 30)).toBe(true);
        expect(ago.filter((m) => m < 60).length).toBeLessThan(3);
        expect(d.errorRatio).toBeGreaterThan(0.01);
      }),
    );
  });

  it('a stream of alerts never yields more rollbacks per hour than the limit, nor two within the cooldown', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 40 }), (gaps) => {
        const policy = PolicySettings.parse({ cooldownMinutes: 5 });
        let state = initialServiceState('api-backend');
        let t = Date.parse(T0);
        const times: number[] = [];
        gaps.forEach((gap, i) => {
          t += gap * 60_000;
          const d = decide(state, alert({ observedAt: new Date(t).toISOString() }), policy);
          state = applyDecision(state, d, `dec-${i}`, d.action === 'rollback' ? `rb-${i}` : null, policy);
          if (d.action === 'rollback') times.push(t);
        });
        times.forEach((ti, i) => {
          if (i > 0) expect(ti - times[i - 1]!).toBeGreaterThanOrEqual(5 * 60_000);
          expect(times.filter((x) => x > ti - 3_600_000 && x <= ti).length).toBeLessThanOrEqual(3);
        });
      }),
    );
  });
});

describe('applyDecision', () => {
  it('remembers a rollback after the earlier ones, oldest first', () => {
    const d = decide(stateWith(200, 40), alert(), DEFAULT_POLICY);
    expect(d.action).toBe('rollback');
    const next = applyDecision(stateWith(200, 40), d, 'dec-x', 'rb-x', DEFAULT_POLICY);
    expect(next.recentRollbacks.map((r) => r.rollbackId)).toEqual(['rb-0', 'rb-1', 'rb-x']);
    expect(next.lastDecisionId).toBe('dec-x');
  });

  it('one event with a clock far ahead does not erase the history the cooldown reads', () => {
    const future = alert({ observedAt: '2027-06-01T00:00:00.000Z', state: 'closed' });
    const d = decide(stateWith(5), future, DEFAULT_POLICY);
    const after = applyDecision(stateWith(5), d, 'dec-future', null, DEFAULT_POLICY);
    expect(after.recentRollbacks).toHaveLength(1);
    expect(decide(after, alert(), DEFAULT_POLICY).reason).toMatch(/within the 30 min cooldown/);
  });

  it('keeps a bounded number of rollbacks, newest last', () => {
    let state = initialServiceState('api-backend');
    // Alerts three hours after their incident started: the age rule would escalate them, so it is set out of the way.
    const policy = PolicySettings.parse({ cooldownMinutes: 0, maxRollbacksPerHour: 100, maxAlertAgeMinutes: 24 * 60 });
    for (let i = 0; i < 150; i++) {
      const d = decide(state, alert({ observedAt: new Date(Date.parse(T0) + i * 60_000).toISOString() }), policy);
      state = applyDecision(state, d, `dec-${i}`, `rb-${i}`, policy);
    }
    expect(state.recentRollbacks).toHaveLength(101);
    expect(state.recentRollbacks[0]!.rollbackId).toBe('rb-49');
    expect(state.recentRollbacks.at(-1)!.rollbackId).toBe('rb-149');
  });

  it('a refusal records the decision but no rollback', () => {
    const d = decide(stateWith(), alert({ state: 'closed' }), DEFAULT_POLICY);
    const next = applyDecision(stateWith(), d, 'dec-y', null, DEFAULT_POLICY);
    expect(next.recentRollbacks).toEqual([]);
    expect(next.lastDecisionId).toBe('dec-y');
  });
});
