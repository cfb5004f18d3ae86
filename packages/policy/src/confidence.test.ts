import fc from 'fast-check';
import { DEFAULT_POLICY, PolicySettings, type AlertEvent, type MonitoringCheck, type TargetRecord } from '@burnback/contracts';
import { alertEvent, blamedTarget } from '@burnback/testkit/fixtures';
import {
  blameWindowSeconds,
  burnPolicyOf,
  confidenceOf,
  confirmationWindows,
  ConfidenceWeights,
  decide,
  initialServiceState,
  thresholdFor,
} from './index.js';

/**
 * The confidence that the serving release caused a burn, factor by factor, and
 * the worked examples of packages/policy/README.md (kept equal to them).
 */
const T0 = '2026-11-26T10:00:00.000Z';
const MINUTE = 60_000;
const at = (minutes: number): string => new Date(Date.parse(T0) + minutes * MINUTE).toISOString();
const SLO = 'projects/burnback-local/services/api-backend/serviceLevelObjectives/availability';

/** A fast burn (1 h over 14.4×) that started at T0, seen 5 min later. */
const fastBurn = (value: number, overrides: Partial<AlertEvent> = {}): AlertEvent =>
  alertEvent('0.conf', {
    signal: 'burn-rate',
    observedValue: value,
    thresholdValue: 14.4,
    lookbackSeconds: 3600,
    burnPolicy: 'fast',
    burnPolicySource: 'policy-label',
    burnWindows: { longSeconds: 3600, shortSeconds: 300, threshold: 14.4 },
    sloName: SLO,
    sloSelector: 'select_slo_burn_rate',
    startedAt: T0,
    observedAt: at(5),
    ...overrides,
  });

/** rel-003 serving since `since` (minutes from T0); rel-002 before it for `previousRanMinutes`, burned or not. */
const target = (since: number, previous: { ranMinutes: number; burnedAt?: string } | null = null): TargetRecord => ({
  ...blamedTarget(T0),
  serving: { releaseId: 'rel-003', since: at(since), burnedAt: null, rollout: null, phase: null },
  previous:
    previous === null
      ? null
      : {
          releaseId: 'rel-002',
          since: at(since - previous.ranMinutes),
          until: at(since),
          burnedAt: previous.burnedAt ?? null,
          rollout: null,
          phase: null,
        },
});

const read = (long: number, short: number, threshold = 14.4): MonitoringCheck => ({
  status: 'read',
  slo: SLO,
  longWindowSeconds: 3600,
  shortWindowSeconds: 300,
  threshold,
  long,
  short,
  readAt: at(5),
});
const unavailable = (onUnavailable: 'hold' | 'decide-without'): MonitoringCheck => ({
  status: 'unavailable',
  slo: SLO,
  longWindowSeconds: 3600,
  shortWindowSeconds: 300,
  threshold: 14.4,
  error: 'DEADLINE_EXCEEDED',
  onUnavailable,
});

const confidence = (event: AlertEvent, t: TargetRecord | null, m: MonitoringCheck | null = null, policy = DEFAULT_POLICY) =>
  confidenceOf(event, policy, thresholdFor(event, policy)!, event.signalValue!, t, m);
const factor = (c: ReturnType<typeof confidence>, name: string) => c.confidence.factors.find((f) => f.name === name)!;

describe('confidence: the worked examples of the README', () => {
  it.each<[string, AlertEvent, TargetRecord | null, MonitoringCheck | null, number, 'rollback' | 'escalate']>([
    // 0.5×1 + 0.2×1 + 0.15×1 + 0.15×1
    [
      '1: rel-003 shipped 12 min before a 30× burn, rel-002 ran 3 days clean, Monitoring confirms',
      fastBurn(30),
      target(-12, { ranMinutes: 3 * 1440 }),
      read(31, 40),
      1,
      'rollback',
    ],
    // 0.5×1 + 0.2×1 + 0.15×0.5 + 0.15×0.5
    ['2: the same burn, nothing known of the release before, no SLO configured', fastBurn(30), target(-12), null, 0.85, 'rollback'],
    // 0.5×1 + 0.2×0.503 + 0.15×0.5 + 0.15×0.5
    ['3: a burn just over the bar (14.5×) with no corroboration', fastBurn(14.5), target(-12), null, 0.751, 'escalate'],
    // 0.5×1 + 0.2×0.503 + 0.15×0.5 + 0.15×1
    ['4: the same burn just over the bar, confirmed by Monitoring', fastBurn(14.5), target(-12), read(15, 16), 0.826, 'rollback'],
    // 0.5×0 + 0.2×1 + 0.15×1 + 0.15×1
    [
      '5: the burn started 20 min before rel-003 began serving',
      fastBurn(30),
      target(20, { ranMinutes: 3 * 1440 }),
      read(31, 40),
      0.5,
      'escalate',
    ],
    // 0.5×(60/180) + 0.2×1 + 0.15×1 + 0.15×1
    [
      '6: the burn started 3 h after rel-003 began serving',
      fastBurn(30),
      target(-180, { ranMinutes: 3 * 1440 }),
      read(31, 40),
      0.667,
      'escalate',
    ],
    // 0.5×1 + 0.2×1 + 0.15×0 + 0.15×0.5
    [
      '7: rel-002, the release to return to, burned too',
      fastBurn(30),
      target(-12, { ranMinutes: 600, burnedAt: at(-300) }),
      null,
      0.775,
      'escalate',
    ],
    // 0.5×0 + 0.2×1 + 0.15×0.5 + 0.15×0.5
    ['8: no rollout to the target is on record', fastBurn(30), null, null, 0.35, 'escalate'],
  ])('%s → %d (%s)', (_name, event, t, m, value, action) => {
    const c = confidence(event, t, m);
    expect(c.confidence.value).toBe(value);
    expect(c.confidence.threshold).toBe(0.8);
    const d = decide(initialServiceState('api-backend'), event, DEFAULT_POLICY, null, t, m);
    expect(d.action).toBe(action);
    expect(d.confidence).toEqual(c.confidence);
  });

  it('the weights sum to 1, and timing alone decides whether the bar of 0.8 is reachable', () => {
    const sum = Object.values(ConfidenceWeights).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 12);
    expect(sum - ConfidenceWeights.timing).toBeLessThan(0.8);
    expect(ConfidenceWeights).toEqual({ burn: 0.2, timing: 0.5, 'previous-release': 0.15, monitoring: 0.15 });
  });
});

describe('the factors', () => {
  it('burn: the value over its bar, halved and capped at 1', () => {
    expect(factor(confidence(fastBurn(14.4), target(-5)), 'burn')).toEqual({
      name: 'burn',
      value: 0.5,
      weight: 0.2,
      detail: '1× the fast-burn threshold of 14.4× (at the bar 0.5, twice the bar or more 1)',
    });
    expect(factor(confidence(fastBurn(21.6), target(-5)), 'burn').value).toBe(0.75);
    expect(factor(confidence(fastBurn(28.8), target(-5)), 'burn').value).toBe(1);
    expect(factor(confidence(fastBurn(100), target(-5)), 'burn').value).toBe(1);
    expect(factor(confidence(fastBurn(7.2), target(-5)), 'burn').value).toBe(0.25);
    expect(factor(confidence(alertEvent('0.er', { observedValue: 0.015 }), target(-5)), 'burn').detail).toBe(
      '1.5× the threshold of 1 % (at the bar 0.5, twice the bar or more 1)',
    );
  });

  it('timing: full within the blame window, window/delay after it, 0 before the release served', () => {
    const t = (since: number) => factor(confidence(fastBurn(30), target(since)), 'timing');
    expect(t(0)).toEqual({
      name: 'timing',
      value: 1,
      weight: 0.5,
      detail: `the burn started 0 min after rel-003 began serving (${T0}); full blame within 60 min`,
    });
    expect(t(-60).value).toBe(1);
    expect(t(-61).value).toBe(0.984);
    expect(t(-120).value).toBe(0.5);
    expect(t(-240)).toEqual({
      name: 'timing',
      value: 0.25,
      weight: 0.5,
      detail: `the burn started 4 h after rel-003 began serving (${at(-240)}); full blame within 60 min`,
    });
    expect(t(1)).toEqual({
      name: 'timing',
      value: 0,
      weight: 0.5,
      detail: `the burn started at ${T0}, 1 min before rel-003 began serving at ${at(1)}: it blames something else`,
    });
    expect(factor(confidence(fastBurn(30), null), 'timing').detail).toBe(
      'no rollout to the target is on record, so no release can be blamed for the burn',
    );
    expect(factor(confidence(fastBurn(30), { ...target(0), serving: null }), 'timing').detail).toBe(
      'no rollout to production is on record, so no release can be blamed for the burn',
    );
  });

  it('the cause is the serving release, unless the burn started before it served', () => {
    expect(confidence(fastBurn(30), target(-5)).cause).toEqual({ releaseId: 'rel-003', servingSince: at(-5) });
    expect(confidence(fastBurn(30), target(5)).cause).toBeNull();
    expect(confidence(fastBurn(30), null).cause).toBeNull();
  });

  it('a slow burn is fully blamed for 6 h after the rollout', () => {
    const slow = fastBurn(7, {
      burnPolicy: 'slow',
      lookbackSeconds: 21600,
      thresholdValue: 6,
      burnWindows: { longSeconds: 21600, shortSeconds: 1800, threshold: 6 },
    });
    expect(factor(confidence(slow, target(-360)), 'timing').value).toBe(1);
    expect(factor(confidence(slow, target(-720)), 'timing').value).toBe(0.5);
  });

  it('previous release: burned 0, unknown 0.5, clean 0.5 + half its time served over the window', () => {
    const p = (prev: { ranMinutes: number; burnedAt?: string } | null) =>
      factor(confidence(fastBurn(30), target(-5, prev)), 'previous-release');
    expect(p(null)).toEqual({
      name: 'previous-release',
      value: 0.5,
      weight: 0.15,
      detail: 'the release before the serving one is not on record: no evidence either way',
    });
    expect(p({ ranMinutes: 30 })).toEqual({
      name: 'previous-release',
      value: 0.75,
      weight: 0.15,
      detail: 'rel-002 served 30 min before it without a burn on record',
    });
    expect(p({ ranMinutes: 60 }).value).toBe(1);
    expect(p({ ranMinutes: 6000 }).value).toBe(1);
    expect(p({ ranMinutes: 0 }).value).toBe(0.5);
    expect(p({ ranMinutes: 6000, burnedAt: at(-100) })).toEqual({
      name: 'previous-release',
      value: 0,
      weight: 0.15,
      detail: `rel-002, which served before, burned too (from ${at(-100)}): rolling back to it may not help`,
    });
  });

  it('monitoring: confirmed 1, recovered on either window 0, unavailable 0 or 0.5 as configured, not asked 0.5', () => {
    const m = (check: MonitoringCheck | null) => factor(confidence(fastBurn(30), target(-5), check), 'monitoring');
    expect(m(read(20, 30))).toEqual({
      name: 'monitoring',
      value: 1,
      weight: 0.15,
      detail: 'Cloud Monitoring reads 20× over 60 min and 30× over 5 min (bar 14.4×)',
    });
    expect(m(read(14.4, 30)).value).toBe(0);
    expect(m(read(20, 14.4)).value).toBe(0);
    expect(m(unavailable('hold'))).toEqual({
      name: 'monitoring',
      value: 0,
      weight: 0.15,
      detail: 'Cloud Monitoring could not answer (DEADLINE_EXCEEDED)',
    });
    expect(m(unavailable('decide-without')).value).toBe(0.5);
    expect(m(null).value).toBe(0.5);
  });
});

describe('confidence, over generated burns', () => {
  const arbPrevious = fc.option(fc.record({ ranMinutes: fc.integer({ min: 0, max: 10_000 }), burned: fc.boolean() }), { nil: null });
  const arbMonitoring = fc.oneof(
    fc.constant(null),
    fc
      .record({ long: fc.double({ min: 0, max: 100, noNaN: true }), short: fc.double({ min: 0, max: 100, noNaN: true }) })
      .map((r) => read(r.long, r.short)),
    fc.constantFrom(unavailable('hold'), unavailable('decide-without')),
  );
  const arbCase = fc.record({
    value: fc.double({ min: 0.01, max: 500, noNaN: true }),
    more: fc.double({ min: 0, max: 500, noNaN: true }),
    since: fc.integer({ min: -20_000, max: 20_000 }),
    later: fc.integer({ min: 0, max: 20_000 }),
    previous: arbPrevious,
    monitoring: arbMonitoring,
  });
  const targetOf = (since: number, previous: { ranMinutes: number; burned: boolean } | null) =>
    target(since, previous && { ranMinutes: previous.ranMinutes, ...(previous.burned ? { burnedAt: at(since - 1) } : {}) });

  it('more burn never lowers the confidence', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const t = targetOf(c.since, c.previous);
        expect(confidence(fastBurn(c.value + c.more), t, c.monitoring).confidence.value).toBeGreaterThanOrEqual(
          confidence(fastBurn(c.value), t, c.monitoring).confidence.value,
        );
      }),
      { numRuns: 500 },
    );
  });

  it('a later start of the burn after the rollout never raises the confidence', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        // The rollout is `since` minutes from T0, at or before the burn; the second burn starts `later` minutes after the first.
        const since = -Math.abs(c.since);
        const t = targetOf(since, c.previous);
        const first = confidence(fastBurn(c.value), t, c.monitoring).confidence.value;
        const second = confidence(fastBurn(c.value, { startedAt: at(c.later) }), t, c.monitoring).confidence.value;
        expect(second).toBeLessThanOrEqual(first);
      }),
      { numRuns: 500 },
    );
  });

  it('a burn that started before the serving release never rolls back under the default bar', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const t = targetOf(Math.abs(c.since) + 1, c.previous);
        const d = decide(initialServiceState('api-backend'), fastBurn(c.value), DEFAULT_POLICY, null, t, c.monitoring);
        expect(d.action).not.toBe('rollback');
        expect(d.cause).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it('the confidence is within [0, 1], has three decimals, and is the weighted sum of its factors', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { confidence: conf } = confidence(fastBurn(c.value), targetOf(c.since, c.previous), c.monitoring);
        expect(conf.value).toBeGreaterThanOrEqual(0);
        expect(conf.value).toBeLessThanOrEqual(1);
        expect(Math.round(conf.value * 1000) / 1000).toBe(conf.value);
        const sum = conf.factors.reduce((s, f) => s + f.weight * f.value, 0);
        expect(Math.abs(sum - conf.value)).toBeLessThanOrEqual(0.0005 + 1e-9);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the bar of confidence', () => {
  it('is the policy minConfidence: below it escalate, at it roll back', () => {
    const event = fastBurn(14.5);
    const t = target(-12);
    // Example 3 above: 0.751.
    expect(decide(initialServiceState('api-backend'), event, PolicySettings.parse({ minConfidence: 0.752 }), null, t).action).toBe(
      'escalate',
    );
    const at751 = decide(initialServiceState('api-backend'), event, PolicySettings.parse({ minConfidence: 0.751 }), null, t);
    expect(at751.action).toBe('rollback');
    expect(at751.reason).toBe(
      'roll back: burn rate 14.5× over 1 h (error ratio 14.5 %) exceeds the fast-burn threshold of 14.4×; caused by rel-003 (confidence 0.751); rate limit and cooldown clear',
    );
  });

  it('an escalation below it names the confidence and each factor', () => {
    const d = decide(initialServiceState('api-backend'), fastBurn(30), DEFAULT_POLICY, null, target(20));
    expect(d.action).toBe('escalate');
    expect(d.reason).toBe(
      'escalate: confidence 0.35 is below 0.8 that the serving release caused the burn (burn 1, timing 0, previous-release 0.5, monitoring 0.5)',
    );
  });

  it('a rollback with no release to blame (a bar lowered to 0) says so', () => {
    const d = decide(initialServiceState('api-backend'), fastBurn(30), PolicySettings.parse({ minConfidence: 0 }), null, null);
    expect(d.action).toBe('rollback');
    expect(d.reason).toContain('; no release to blame (confidence 0.35);');
  });
});

describe('Cloud Monitoring in the decision', () => {
  const decideWith = (m: MonitoringCheck | null) =>
    decide(initialServiceState('api-backend'), fastBurn(30), DEFAULT_POLICY, null, target(-12), m);
  const burningNow = (m: MonitoringCheck | null) => decideWith(m).verdicts.find((v) => v.rule === 'burning-now')!;

  it('a service that has recovered is not rolled back by a late alert: hold, with both figures', () => {
    const d = decideWith(read(20, 0.4));
    expect(d.action).toBe('hold');
    expect(d.reason).toBe(
      `no rollback: Cloud Monitoring reads 20× over 3600 s and 0.4× over 300 s at ${at(5)} (bar 14.4×): the service has recovered`,
    );
  });

  it('still burning on both windows passes', () => {
    expect(burningNow(read(20, 30))).toEqual({
      rule: 'burning-now',
      passed: true,
      detail: `Cloud Monitoring reads 20× over 3600 s and 30× over 300 s at ${at(5)} (bar 14.4×): still burning`,
    });
    expect(burningNow(read(14.4, 30)).passed).toBe(false);
    expect(burningNow(read(30, 14.4)).passed).toBe(false);
  });

  it('unavailable: hold, or decide without it, as the service says; the decision says which', () => {
    expect(burningNow(unavailable('hold'))).toEqual({
      rule: 'burning-now',
      passed: false,
      detail: 'Cloud Monitoring could not answer (DEADLINE_EXCEEDED): held (onMonitoringUnavailable: hold)',
    });
    expect(decideWith(unavailable('hold')).action).toBe('hold');
    expect(burningNow(unavailable('decide-without'))).toEqual({
      rule: 'burning-now',
      passed: true,
      detail: 'Cloud Monitoring could not answer (DEADLINE_EXCEEDED): decided without it (onMonitoringUnavailable: decide-without)',
    });
    const without = decideWith(unavailable('decide-without'));
    expect(without.action).toBe('rollback');
    expect(without.confidence!.factors.find((f) => f.name === 'monitoring')!.value).toBe(0.5);
  });
});

describe('which windows confirm a burn', () => {
  it('a fast burn: 1 h and 5 min over the fast threshold; a slow one: 6 h and 30 min over the slow one', () => {
    const policy = PolicySettings.parse({ fastBurnRate: 10, slowBurnRate: 5 });
    expect(confirmationWindows(fastBurn(30), policy)).toEqual({ longWindowSeconds: 3600, shortWindowSeconds: 300, threshold: 10 });
    expect(confirmationWindows(fastBurn(30, { burnPolicy: 'slow', burnWindows: null, lookbackSeconds: 21600 }), policy)).toEqual({
      longWindowSeconds: 21600,
      shortWindowSeconds: 1800,
      threshold: 5,
    });
    expect(
      confirmationWindows(
        fastBurn(30, { burnPolicy: 'slow', burnWindows: { longSeconds: 14400, shortSeconds: 1200, threshold: 5 } }),
        policy,
      ),
    ).toEqual({ longWindowSeconds: 14400, shortWindowSeconds: 1200, threshold: 5 });
    expect(confirmationWindows(fastBurn(30, { burnPolicy: null, burnWindows: null, lookbackSeconds: 300 }), policy)).toEqual({
      longWindowSeconds: 3600,
      shortWindowSeconds: 300,
      threshold: 10,
    });
  });

  it('an error ratio: its threshold as a burn rate on the fast windows; budget and unsupported signals: nothing to confirm', () => {
    expect(confirmationWindows(alertEvent('0.er'), DEFAULT_POLICY)).toEqual({
      longWindowSeconds: 3600,
      shortWindowSeconds: 300,
      threshold: 1,
    });
    expect(confirmationWindows(alertEvent('0.er'), PolicySettings.parse({ errorRatioThreshold: 0.05, sloGoal: 0.999 }))!.threshold).toBe(
      50,
    );
    expect(confirmationWindows(alertEvent('0.b', { signal: 'budget' }), DEFAULT_POLICY)).toBeNull();
    expect(confirmationWindows(alertEvent('0.u', { signal: 'unsupported' }), DEFAULT_POLICY)).toBeNull();
  });

  it("burnPolicyOf: ingest's policy, else fast up to 1 h and slow beyond or unknown", () => {
    expect(burnPolicyOf({ burnPolicy: 'slow', lookbackSeconds: 300 })).toBe('slow');
    expect(burnPolicyOf({ burnPolicy: 'fast', lookbackSeconds: 21600 })).toBe('fast');
    expect(burnPolicyOf({ burnPolicy: null, lookbackSeconds: 3600 })).toBe('fast');
    expect(burnPolicyOf({ burnPolicy: null, lookbackSeconds: 3601 })).toBe('slow');
    expect(burnPolicyOf({ burnPolicy: null, lookbackSeconds: null })).toBe('slow');
  });

  it("blameWindowSeconds: at least an hour; the slow policy's long window; a longer lookback", () => {
    expect(blameWindowSeconds(alertEvent('0.er'))).toBe(3600);
    expect(blameWindowSeconds(alertEvent('0.er', { lookbackSeconds: 7200 }))).toBe(7200);
    expect(blameWindowSeconds(fastBurn(30, { lookbackSeconds: 300, burnWindows: null }))).toBe(3600);
    expect(blameWindowSeconds(fastBurn(30, { burnPolicy: 'slow', burnWindows: null, lookbackSeconds: 1800 }))).toBe(21600);
    expect(
      blameWindowSeconds(
        fastBurn(30, { burnPolicy: 'slow', lookbackSeconds: 1800, burnWindows: { longSeconds: 10800, shortSeconds: 900, threshold: 6 } }),
      ),
    ).toBe(10800);
    // An error ratio is never slow, whatever its (meaningless) burn policy.
    expect(blameWindowSeconds(alertEvent('0.er', { burnPolicy: 'slow' }))).toBe(3600);
  });
});
