import fc from 'fast-check';
import {
  DEFAULT_POLICY,
  PolicySettings,
  RuleNames,
  type AlertEvent,
  type IncidentRollback,
  type MonitoringCheck,
  type ProgressStage,
  type RuleName,
  type ServiceState,
} from '@burnback/contracts';
import { alertEvent, blamedTarget, withBlamedTarget } from '@burnback/testkit/fixtures';
import {
  applyDecision,
  decide as decideAs,
  errorRatioOf,
  initialServiceState,
  thresholdFor,
  type IncidentView,
  type TargetView,
} from './index.js';

/** decide() with the burn clearly rel-002's fault unless the test gives a target (testkit's blamedTarget). */
const decide = withBlamedTarget(decideAs);

/**
 * The edges of every rule, stated as the runbook states them: a value must
 * *exceed* its bar, a rollback exactly one cooldown ago is outside the cooldown,
 * a rollback exactly one hour ago is outside the rate-limit hour.
 */
const T0 = '2026-11-26T10:00:00.000Z';
const MINUTE = 60_000;
const ago = (minutes: number): string => new Date(Date.parse(T0) - minutes * MINUTE).toISOString();
const alert = (overrides: Partial<AlertEvent> = {}): AlertEvent =>
  alertEvent('0.edge', { startedAt: ago(5), observedAt: T0, ...overrides });
const stateWith = (...minutesAgo: number[]): ServiceState => ({
  ...initialServiceState('api-backend'),
  recentRollbacks: minutesAgo.map((m, i) => ({ rollbackId: `rb-${i}`, decidedAt: ago(m), outcome: null, finishedAt: null })),
});
const incidentRollback = (stage: ProgressStage | null, finishedAt: string | null = null): IncidentRollback => ({
  rollbackId: 'rb-inc',
  decisionId: 'dec-first',
  stage,
  finishedAt,
  releaseId: null,
  fromReleaseId: null,
  detail: null,
});
const burn = (observedValue: number, lookbackSeconds: number | null): AlertEvent =>
  alert({ signal: 'burn-rate', observedValue, lookbackSeconds, thresholdValue: null });
const verdict = (state: ServiceState, event: AlertEvent, rule: RuleName, policy: PolicySettings = DEFAULT_POLICY) =>
  decide(state, event, policy).verdicts.find((v) => v.rule === rule)!;

describe('the burn-rate bars', () => {
  it.each([
    [14.3, 3600, false],
    [14.4, 3600, false],
    [14.41, 3600, true],
    [14.41, 300, true],
    [14.2, 300, false],
  ])('a burn rate of %d× over %i s is held to the fast-burn bar of exactly 14.4× (exceeds: %s)', (value, lookback, exceeds) => {
    const v = verdict(stateWith(), burn(value, lookback), RuleNames.errorRatio);
    expect(v.passed).toBe(exceeds);
    expect(v.detail).toContain('the fast-burn threshold of 14.4×');
  });

  it('a one-hour window is the fast-burn window and one second more is the slow-burn one', () => {
    expect(thresholdFor(burn(10, 3600), DEFAULT_POLICY)).toEqual({ value: 14.4, text: 'the fast-burn threshold of 14.4×' });
    expect(thresholdFor(burn(10, 3601), DEFAULT_POLICY)).toEqual({ value: 6, text: 'the slow-burn threshold of 6×' });
  });

  it.each([
    [6, 21600, false],
    [6.01, 21600, true],
    [5.9, 21600, false],
  ])('a burn rate of %d× over %i s is held to the slow-burn bar of exactly 6× (exceeds: %s)', (value, lookback, exceeds) => {
    const v = verdict(stateWith(), burn(value, lookback), RuleNames.errorRatio);
    expect(v.passed).toBe(exceeds);
    expect(v.detail).toContain('the slow-burn threshold of 6×');
  });

  it('a burn rate whose window is unknown is held to the slow-burn bar, never the fast one', () => {
    const v = verdict(stateWith(), burn(10, null), RuleNames.errorRatio);
    expect(v.passed).toBe(true);
    expect(v.detail).toBe('burn rate 10× (error ratio 10 %) exceeds the slow-burn threshold of 6×');
  });

  it('an error ratio is held to the 1 % bar and must exceed it', () => {
    expect(verdict(stateWith(), alert({ observedValue: 0.01 }), RuleNames.errorRatio).passed).toBe(false);
    expect(verdict(stateWith(), alert({ observedValue: 0.0101 }), RuleNames.errorRatio).passed).toBe(true);
    expect(thresholdFor(alert(), DEFAULT_POLICY)).toEqual({ value: 0.01, text: 'the threshold of 1 %' });
  });

  it('the error ratio a burn rate stands for is the burn rate times the error budget', () => {
    expect(errorRatioOf(burn(14.4, 3600), DEFAULT_POLICY)).toBeCloseTo(0.144, 12);
    expect(errorRatioOf(burn(2, 3600), PolicySettings.parse({ sloGoal: 0.999 }))).toBeCloseTo(0.002, 12);
    expect(errorRatioOf(alert({ observedValue: 0.3 }), DEFAULT_POLICY)).toBe(0.3);
    expect(errorRatioOf(alert({ observedValue: null }), DEFAULT_POLICY)).toBeNull();
  });

  it('a burn rate without a value stands for no error ratio (not 0 %), and the trace says the value is missing', () => {
    const valueless = alert({ signal: 'burn-rate', observedValue: null, lookbackSeconds: 3600, thresholdValue: null });
    expect(errorRatioOf(valueless, DEFAULT_POLICY)).toBeNull();
    expect(verdict(stateWith(), valueless, RuleNames.errorRatio)).toEqual({
      rule: RuleNames.errorRatio,
      passed: false,
      detail: 'the alert carries no observed value, so the error budget burn cannot be confirmed',
    });
  });

  it('an event whose signal the schema never let through is refused loudly, never measured as nothing', () => {
    const stray = { ...alert(), signal: 'latency' } as unknown as AlertEvent;
    expect(() => errorRatioOf(stray, DEFAULT_POLICY)).toThrow('unknown signal latency');
    expect(() => thresholdFor(stray, DEFAULT_POLICY)).toThrow('unknown signal latency');
  });

  it.each([
    [300, 'over 5 min'],
    [1800, 'over 30 min'],
    [3600, 'over 1 h'],
    [21600, 'over 6 h'],
  ])('the trace names a %i s window as "%s"', (lookback, text) => {
    expect(verdict(stateWith(), burn(20, lookback), RuleNames.errorRatio).detail).toContain(`burn rate 20× ${text} (error ratio 20 %)`);
  });
});

describe('the cooldown edge', () => {
  it.each([
    [29, false],
    [29.99, false],
    [30, true],
    [31, true],
  ])('a rollback %d min ago: outside the 30 min cooldown is %s', (minutes, outside) => {
    const v = verdict(stateWith(minutes), alert(), RuleNames.cooldown);
    expect(v.passed).toBe(outside);
    expect(v.detail).toBe(`last rollback ${Math.round(minutes)} min ago is ${outside ? 'outside' : 'within'} the 30 min cooldown`);
  });

  it('the cooldown counts from the newest rollback, whatever order the history is in', () => {
    expect(verdict(stateWith(10, 200), alert(), RuleNames.cooldown).passed).toBe(false);
    expect(verdict(stateWith(200, 10), alert(), RuleNames.cooldown).passed).toBe(false);
    expect(verdict(stateWith(200, 45), alert(), RuleNames.cooldown).detail).toBe('last rollback 45 min ago is outside the 30 min cooldown');
  });

  it('a rollback recorded after the event (a clock ahead) still cools the service down, shown as 0 min ago', () => {
    const v = verdict(stateWith(-10), alert(), RuleNames.cooldown);
    expect(v.passed).toBe(false);
    expect(v.detail).toBe('last rollback 0 min ago is within the 30 min cooldown');
  });

  it('a service with no rollback on record is never cooling down', () => {
    const v = verdict(stateWith(), alert(), RuleNames.cooldown, PolicySettings.parse({ cooldownMinutes: 10_000 }));
    expect(v).toEqual({ rule: 'cooldown', passed: true, detail: 'no earlier rollback of api-backend on record' });
  });
});

describe('the rate-limit hour', () => {
  const noCooldown = PolicySettings.parse({ cooldownMinutes: 0 });

  it('three rollbacks spread over 65–75 min ago are outside the hour and do not count', () => {
    const d = decide(stateWith(75, 70, 65), alert(), noCooldown);
    expect(d.action).toBe('rollback');
    expect(d.verdicts.find((v) => v.rule === RuleNames.rateLimit)!.detail).toBe(
      '0 rollback(s) of api-backend in the last hour; the limit is 3',
    );
  });

  it('three rollbacks exactly 60 min ago are outside the hour', () => {
    expect(decide(stateWith(60, 60, 60), alert(), noCooldown).action).toBe('rollback');
  });

  it('three rollbacks just inside the hour hit the limit of 3', () => {
    const d = decide(stateWith(59.9, 50, 40), alert(), noCooldown);
    expect(d.action).toBe('hold');
    expect(d.reason).toBe('no rollback: 3 rollback(s) of api-backend in the last hour; the limit is 3');
  });

  it('two rollbacks in the hour leave room for a third', () => {
    expect(decide(stateWith(59, 45), alert(), noCooldown).action).toBe('rollback');
  });

  it('a limit of zero never rolls back', () => {
    expect(decide(stateWith(), alert(), PolicySettings.parse({ maxRollbacksPerHour: 0 })).reason).toBe(
      'no rollback: 0 rollback(s) of api-backend in the last hour; the limit is 0',
    );
  });
});

describe('the whole decision', () => {
  it('a rollback names the signal and says that the rate limit and cooldown are clear', () => {
    const d = decide(stateWith(), alert(), DEFAULT_POLICY);
    expect(d).toMatchObject({
      action: 'rollback',
      reason:
        'roll back: error ratio 2.5 % exceeds the threshold of 1 %; caused by rel-002 (confidence 0.925); rate limit and cooldown clear',
      decidedAt: T0,
      errorRatio: 0.025,
      cause: { releaseId: 'rel-002', servingSince: ago(15) },
      burnStartedAt: ago(5),
    });
    expect(d.confidence).toEqual({
      value: 0.925,
      threshold: 0.8,
      factors: [
        { name: 'burn', value: 1, weight: 0.2, detail: '2.5× the threshold of 1 % (at the bar 0.5, twice the bar or more 1)' },
        {
          name: 'timing',
          value: 1,
          weight: 0.5,
          detail: `the burn started 10 min after rel-002 began serving (${ago(15)}); full blame within 60 min`,
        },
        { name: 'previous-release', value: 1, weight: 0.15, detail: 'rel-001 served 48 h before it without a burn on record' },
        {
          name: 'monitoring',
          value: 0.5,
          weight: 0.15,
          detail: 'no SLO is configured to confirm the burn with: no evidence either way',
        },
      ],
    });
    expect(d.verdicts.every((v) => v.passed)).toBe(true);
  });

  it('every verdict of a refusal explains itself', () => {
    const d = decide(
      stateWith(5, 6, 7),
      alert({ state: 'closed', observedValue: null }),
      PolicySettings.parse({ enabled: false, mode: 'observe' }),
    );
    expect(d.verdicts).toEqual([
      { rule: 'event-time', passed: true, detail: `observed at ${T0}` },
      { rule: 'enabled', passed: false, detail: 'automatic rollbacks are switched off for this service' },
      { rule: 'incident-open', passed: false, detail: 'incident 0.edge is closed: the service recovered' },
      { rule: 'error-ratio', passed: false, detail: 'the alert carries no observed value, so the error budget burn cannot be confirmed' },
      { rule: 'acknowledged', passed: true, detail: 'incident 0.edge is not acknowledged' },
      { rule: 'paused', passed: true, detail: 'api-backend is not paused' },
      { rule: 'one-rollback-per-incident', passed: true, detail: 'incident 0.edge has not been rolled back' },
      { rule: 'returned-release', passed: true, detail: 'the target does not serve a release Burnback returned to' },
      {
        rule: 'burning-now',
        passed: true,
        detail: 'Cloud Monitoring was not asked (no SLO is configured for this service, or there is no burn to confirm)',
      },
      { rule: 'confidence', passed: false, detail: 'there is no burn to blame on a release' },
      { rule: 'freeze', passed: true, detail: 'no freeze window is configured' },
      { rule: 'fleet-breaker', passed: true, detail: 'the fleet was not read: the breaker cannot trip' },
      { rule: 'rate-limit', passed: false, detail: '3 rollback(s) of api-backend in the last hour; the limit is 3' },
      { rule: 'cooldown', passed: false, detail: 'last rollback 5 min ago is within the 30 min cooldown' },
      { rule: 'mode', passed: false, detail: 'mode observe: decisions are recorded, nothing is commanded' },
    ]);
    expect(d.reason).toBe('no rollback: automatic rollbacks are switched off for this service');
    expect(d.errorRatio).toBeNull();
    expect(d.confidence).toBeNull();
    expect(d.cause).toBeNull();
    expect(d.burnStartedAt).toBeNull();
  });

  it('every verdict of a rollback explains itself', () => {
    expect(decide(stateWith(90), alert(), DEFAULT_POLICY).verdicts).toEqual([
      { rule: 'event-time', passed: true, detail: `observed at ${T0}` },
      { rule: 'enabled', passed: true, detail: 'automatic rollbacks are switched on' },
      { rule: 'incident-open', passed: true, detail: 'incident 0.edge is open' },
      { rule: 'error-ratio', passed: true, detail: 'error ratio 2.5 % exceeds the threshold of 1 %' },
      { rule: 'acknowledged', passed: true, detail: 'incident 0.edge is not acknowledged' },
      { rule: 'paused', passed: true, detail: 'api-backend is not paused' },
      { rule: 'one-rollback-per-incident', passed: true, detail: 'incident 0.edge has not been rolled back' },
      { rule: 'returned-release', passed: true, detail: 'the target does not serve a release Burnback returned to' },
      {
        rule: 'burning-now',
        passed: true,
        detail:
          'Cloud Monitoring was not asked (no SLO is configured for this service); the alert is decided 5 min after its incident started',
      },
      {
        rule: 'confidence',
        passed: true,
        detail: 'confidence 0.925 reaches 0.8 that rel-002 caused the burn (burn 1, timing 1, previous-release 1, monitoring 0.5)',
      },
      { rule: 'freeze', passed: true, detail: 'no freeze window is configured' },
      { rule: 'fleet-breaker', passed: true, detail: 'the fleet was not read: the breaker cannot trip' },
      { rule: 'rate-limit', passed: true, detail: '0 rollback(s) of api-backend in the last hour; the limit is 3' },
      { rule: 'cooldown', passed: true, detail: 'last rollback 90 min ago is outside the 30 min cooldown' },
      { rule: 'mode', passed: true, detail: 'mode auto: rollbacks are ordered' },
    ]);
  });

  it('a late open notification without a known end time says so', () => {
    const d = decide(stateWith(), alert(), DEFAULT_POLICY, { state: 'closed', endedAt: null });
    expect(d.reason).toBe('no rollback: incident 0.edge already closed: this open notification arrived late');
  });
});

describe('applyDecision keeps what the rules read', () => {
  // A rollback in flight since 40 min ago, as the fleet breaker reads it: only an ordered rollback moves it.
  const inFlight = (): ServiceState => ({ ...stateWith(), inFlightSince: ago(40) });

  it('a rollback decision without a rollback id records no rollback and leaves the in-flight stamp as it was', () => {
    const d = decide(stateWith(), alert(), DEFAULT_POLICY);
    expect(d.action).toBe('rollback');
    expect(applyDecision(stateWith(), d, 'dec-1', null, DEFAULT_POLICY).recentRollbacks).toEqual([]);
    expect(applyDecision(inFlight(), d, 'dec-1', null, DEFAULT_POLICY).inFlightSince).toBe(ago(40));
  });

  it('a refusal with a rollback id records no rollback and leaves the in-flight stamp as it was', () => {
    const d = decide(stateWith(), alert({ state: 'closed' }), DEFAULT_POLICY);
    expect(d.action).toBe('hold');
    expect(applyDecision(stateWith(), d, 'dec-1', 'rb-1', DEFAULT_POLICY).recentRollbacks).toEqual([]);
    expect(applyDecision(inFlight(), d, 'dec-1', 'rb-1', DEFAULT_POLICY).inFlightSince).toBe(ago(40));
  });

  it('keeps five rollbacks by default and one more than the hourly limit when that is larger', () => {
    const many = stateWith(...Array.from({ length: 40 }, (_, i) => 400 - i));
    const d = decide(many, alert(), PolicySettings.parse({ cooldownMinutes: 0 }));
    expect(applyDecision(many, d, 'd', 'rb-new', DEFAULT_POLICY).recentRollbacks.map((r) => r.rollbackId)).toEqual([
      'rb-36',
      'rb-37',
      'rb-38',
      'rb-39',
      'rb-new',
    ]);
    expect(applyDecision(many, d, 'd', 'rb-new', PolicySettings.parse({ maxRollbacksPerHour: 4 })).recentRollbacks).toHaveLength(5);
    expect(applyDecision(many, d, 'd', 'rb-new', PolicySettings.parse({ maxRollbacksPerHour: 5 })).recentRollbacks).toHaveLength(6);
    const high = PolicySettings.parse({ maxRollbacksPerHour: 30 });
    const kept = applyDecision(many, d, 'd', 'rb-new', high).recentRollbacks;
    expect(kept).toHaveLength(31);
    expect(kept.at(-1)).toEqual({ rollbackId: 'rb-new', decidedAt: T0, outcome: null, finishedAt: null });
    expect(kept[0]!.rollbackId).toBe('rb-10');
  });

  it.each([
    { minutesAgo: [10, 300, 90, 45], ids: ['rb-1', 'rb-2', 'rb-3', 'rb-0'] },
    { minutesAgo: [10, 300], ids: ['rb-1', 'rb-0'] },
    { minutesAgo: [10, 45, 90, 300], ids: ['rb-3', 'rb-2', 'rb-1', 'rb-0'] },
    { minutesAgo: [300, 90, 90, 10], ids: ['rb-0', 'rb-1', 'rb-2', 'rb-3'] },
  ])(
    'orders a history that arrived as $minutesAgo minutes ago, oldest first, and leaves the old state untouched',
    ({ minutesAgo, ids }) => {
      const shuffled = stateWith(...minutesAgo);
      const before = structuredClone(shuffled);
      const d = decide(shuffled, alert(), DEFAULT_POLICY);
      const next = applyDecision(shuffled, d, 'dec-2', null, DEFAULT_POLICY);
      expect(next.recentRollbacks.map((r) => r.rollbackId)).toEqual(ids);
      expect(shuffled).toEqual(before);
    },
  );

  it('whatever order the history is stored in, it keeps the newest rollbacks, oldest first, ties as stored', () => {
    const refusal = decide(stateWith(), alert({ state: 'closed' }), DEFAULT_POLICY);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 600 }), { maxLength: 9 }), (minutesAgo) => {
        const stored = stateWith(...minutesAgo);
        const expected = minutesAgo
          .map((m, i) => ({ m, id: `rb-${i}` }))
          .sort((a, b) => b.m - a.m)
          .map((r) => r.id)
          .slice(-5);
        expect(applyDecision(stored, refusal, 'dec-1', null, DEFAULT_POLICY).recentRollbacks.map((r) => r.rollbackId)).toEqual(expected);
      }),
    );
  });

  it('records the decision and its time', () => {
    const d = decide(stateWith(), alert(), DEFAULT_POLICY);
    expect(applyDecision(stateWith(), d, 'dec-9', 'rb-9', DEFAULT_POLICY)).toEqual({
      service: 'api-backend',
      recentRollbacks: [{ rollbackId: 'rb-9', decidedAt: T0, outcome: null, finishedAt: null }],
      lastDecisionId: 'dec-9',
      updatedAt: T0,
      // A burn was seen, and a rollback is in flight: what the fleet breaker counts.
      lastBurnAt: T0,
      inFlightSince: T0,
    });
  });
});

/**
 * Properties both ways, over generated policies and burn-rate windows:
 * liveness (every rule passes → rollback) and safety (any rule fails → no rollback).
 */
describe('decide, over generated policies', () => {
  const arbPolicy = fc
    .record({
      sloGoal: fc.double({ min: 0.9, max: 0.9999, noNaN: true }),
      errorRatioThreshold: fc.double({ min: 0.001, max: 0.5, noNaN: true }),
      fastBurnRate: fc.double({ min: 1, max: 50, noNaN: true }),
      slowBurnRate: fc.double({ min: 1, max: 20, noNaN: true }),
      maxRollbacksPerHour: fc.integer({ min: 1, max: 6 }),
      cooldownMinutes: fc.integer({ min: 0, max: 59 }),
    })
    .map((p) => PolicySettings.parse(p));
  const arbLookback = fc.oneof(fc.constant(null), fc.integer({ min: 60, max: 2 * 86_400 }), fc.constantFrom(300, 1800, 3600, 3601, 21600));

  /** A rule-by-rule reading of the runbook, independent of decide(). */
  const barOf = (event: AlertEvent, p: PolicySettings): number =>
    event.signal === 'error-ratio'
      ? p.errorRatioThreshold
      : event.lookbackSeconds !== null && event.lookbackSeconds <= 3600
        ? p.fastBurnRate
        : p.slowBurnRate;

  /** A history that passes the rate limit and the cooldown: fewer in-hour rollbacks than the limit, none in the cooldown. */
  const arbClearHistory = (p: PolicySettings) =>
    fc.tuple(
      fc.array(fc.integer({ min: Math.max(p.cooldownMinutes, 0), max: 59 }), { maxLength: p.maxRollbacksPerHour - 1 }),
      fc.array(fc.integer({ min: Math.max(60, p.cooldownMinutes), max: 10_000 }), { maxLength: 10 }),
    );

  const arbPassingCase = arbPolicy.chain((policy) =>
    fc.record({
      policy: fc.constant(policy),
      history: arbClearHistory(policy),
      signal: fc.constantFrom('error-ratio' as const, 'burn-rate' as const),
      lookback: arbLookback,
      over: fc.double({ min: 1.0001, max: 100, noNaN: true }),
    }),
  );

  const eventOf = (c: { policy: PolicySettings; signal: AlertEvent['signal']; lookback: number | null; over: number }): AlertEvent => {
    const e = alert({ signal: c.signal, lookbackSeconds: c.signal === 'burn-rate' ? c.lookback : null });
    const value = barOf(e, c.policy) * c.over;
    return { ...e, observedValue: value, signalValue: value };
  };

  it('liveness: whenever every rule passes, the decision is a rollback', () => {
    fc.assert(
      fc.property(arbPassingCase, (c) => {
        const d = decide(stateWith(...c.history[0], ...c.history[1]), eventOf(c), c.policy);
        expect(d.verdicts.filter((v) => !v.passed)).toEqual([]);
        expect(d.action).toBe('rollback');
      }),
      { numRuns: 500 },
    );
  });

  type Broken = [PolicySettings, number[], AlertEvent, (IncidentView | null)?, TargetView?, MonitoringCheck?];
  /** Rules that fail along with the broken one, because they read the same fact (confidence reads the value and Monitoring). */
  const alsoFails: Record<string, string[]> = {
    'no value': ['confidence'],
    'Cloud Monitoring reading a recovery': ['confidence'],
    'Cloud Monitoring unavailable, and the service holding without it': ['confidence'],
  };
  const history = (c: { history: [number[], number[]] }) => [...c.history[0], ...c.history[1]];
  const breakers: Record<string, (c: { policy: PolicySettings; history: [number[], number[]] }, e: AlertEvent) => Broken> = {
    'switched off': (c, e) => [{ ...c.policy, enabled: false }, history(c), e],
    'the incident closed': (c, e) => [c.policy, [...c.history[0], ...c.history[1]], { ...e, state: 'closed', endedAt: T0 }],
    'the value at the bar': (c, e) => [
      c.policy,
      [...c.history[0], ...c.history[1]],
      { ...e, observedValue: barOf(e, c.policy), signalValue: barOf(e, c.policy) },
    ],
    'no value': (c, e) => [c.policy, [...c.history[0], ...c.history[1]], { ...e, observedValue: null, signalValue: null }],
    'the hourly limit reached': (c, e) => [
      c.policy,
      [
        ...Array.from({ length: c.policy.maxRollbacksPerHour }, () => Math.max(c.policy.cooldownMinutes, 1) + 0.5).map((m) =>
          Math.min(m, 59.5),
        ),
        ...c.history[1],
      ],
      e,
    ],
    'a rollback inside the cooldown': (c, e) => [
      {
        ...c.policy,
        cooldownMinutes: Math.max(c.policy.cooldownMinutes, 1),
        maxRollbacksPerHour: Math.max(c.policy.maxRollbacksPerHour, 2),
      },
      [...c.history[1], Math.max(c.policy.cooldownMinutes, 1) - 0.5],
      e,
    ],
    'mode observe': (c, e) => [{ ...c.policy, mode: 'observe' }, [...c.history[0], ...c.history[1]], e],
    'the incident already rolled back (escalate)': (c, e) => [
      c.policy,
      [...c.history[0], ...c.history[1]],
      e,
      { state: 'open', endedAt: null, rollback: incidentRollback('failed') },
    ],
    'the target serving the release Burnback returned to (escalate)': (c, e) => [
      c.policy,
      history(c),
      e,
      null,
      blamedTarget(e.startedAt, { returnedTo: { releaseId: 'rel-002', rollbackId: 'rb-old', incidentId: '0.old', at: ago(20) } }),
    ],
    'a burn that started before the serving release (escalate)': (c, e) => [
      c.policy,
      history(c),
      e,
      null,
      blamedTarget(e.startedAt, {
        serving: {
          releaseId: 'rel-002',
          since: new Date(Date.parse(e.startedAt) + MINUTE).toISOString(),
          burnedAt: null,
          rollout: null,
          phase: null,
        },
      }),
    ],
    'Cloud Monitoring reading a recovery': (c, e) => [
      c.policy,
      history(c),
      e,
      null,
      undefined,
      {
        status: 'read',
        slo: 'projects/p/services/s/serviceLevelObjectives/o',
        longWindowSeconds: 3600,
        shortWindowSeconds: 300,
        threshold: 14.4,
        long: 20,
        short: 0.3,
        readAt: T0,
      },
    ],
    'Cloud Monitoring unavailable, and the service holding without it': (c, e) => [
      c.policy,
      history(c),
      e,
      null,
      blamedTarget(e.startedAt),
      {
        status: 'unavailable',
        slo: 'projects/p/services/s/serviceLevelObjectives/o',
        longWindowSeconds: 3600,
        shortWindowSeconds: 300,
        threshold: 14.4,
        error: 'deadline exceeded',
        onUnavailable: 'hold',
      },
    ],
  };

  it.each(Object.keys(breakers))('safety: with every rule passing but %s, nothing is rolled back', (name) => {
    fc.assert(
      fc.property(arbPassingCase, (c) => {
        const [policy, past, event, incident, target, monitoring] = breakers[name]!(c, eventOf(c));
        const d = decide(stateWith(...past), event, policy, incident ?? null, target, monitoring ?? null);
        const escalates = name.endsWith('(escalate)');
        expect(d.action).toBe(escalates ? 'escalate' : 'hold');
        const failed = d.verdicts.filter((v) => !v.passed);
        expect(failed.map((v) => v.rule).filter((r) => !(alsoFails[name] ?? []).includes(r))).toHaveLength(1);
        // Mode observe says what it would have done; every other refusal gives the failing rule's detail.
        if (name === 'mode observe')
          expect(d.reason).toMatch(/^no rollback \(mode observe\), would roll back: .+; rate limit and cooldown clear$/);
        else expect(d.reason).toBe(`${escalates ? 'escalate' : 'no rollback'}: ${failed[0]!.detail}`);
      }),
      { numRuns: 200 },
    );
  });
});
