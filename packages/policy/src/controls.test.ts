import fc from 'fast-check';
import {
  DEFAULT_POLICY,
  PolicySettings,
  type Acknowledgement,
  type BreakerRecord,
  type AlertEvent,
  type FleetView,
  type FreezeWindow,
  type Pause,
  type RollbackProgress,
  type ServiceState,
} from '@burnback/contracts';
import { alertEvent, blamedTarget } from '@burnback/testkit/fixtures';
import {
  applyDecision,
  decide,
  describeFreeze,
  freezeInForce,
  initialServiceState,
  localTime,
  mergeFleet,
  recordOnBreaker,
  releaseOnBreaker,
  supersedingControl,
  recordOutcomeOnService,
  recordOutcomeOnTarget,
  recordProgressOnIncident,
  type DecisionControls,
} from './index.js';

const T0 = '2026-11-26T10:00:00.000Z'; // a Thursday
const MINUTE = 60_000;
const at = (minutes: number): string => new Date(Date.parse(T0) + minutes * MINUTE).toISOString();
const alert = (overrides: Partial<AlertEvent> = {}): AlertEvent => alertEvent('0.ctl', { startedAt: at(-5), observedAt: T0, ...overrides });
const target = blamedTarget(at(-5));
const stateWith = (...minutesAgo: number[]): ServiceState => ({
  ...initialServiceState('api-backend'),
  recentRollbacks: minutesAgo.map((m, i) => ({ rollbackId: `rb-${i}`, decidedAt: at(-m), outcome: null, finishedAt: null })),
});
const policy = (overrides: Partial<PolicySettings> = {}): PolicySettings => PolicySettings.parse({ ...DEFAULT_POLICY, ...overrides });
const run = (controls: DecisionControls, options: { policy?: Partial<PolicySettings>; state?: ServiceState; event?: AlertEvent } = {}) =>
  decide(options.state ?? stateWith(), options.event ?? alert(), policy(options.policy), null, target, null, controls);
const pause = (untilMinutes: number): Pause => ({ until: at(untilMinutes), reason: 'migration', by: 'alice', at: at(-30) });
const ack: Acknowledgement = { incidentId: '0.ctl', by: 'bob', reason: 'I have it', at: at(-1) };
const fleet = (burning: number, inFlight: number, extra: Partial<FleetView> = {}): FleetView => ({
  burningServices: Array.from({ length: burning }, (_, i) => `svc-${i}`),
  inFlight: Array.from({ length: inFlight }, (_, i) => `svc-${i}`),
  readAt: T0,
  ...extra,
});
const verdict = (d: ReturnType<typeof run>, rule: string) => d.verdicts.find((v) => v.rule === rule)!;

describe('freeze windows', () => {
  const range: FreezeWindow = { from: '2026-12-24T00:00:00Z', to: '2026-12-27T00:00:00Z', reason: 'holidays' };
  it('an RFC 3339 range includes its start and excludes its end', () => {
    expect(freezeInForce(range, Date.parse('2026-12-23T23:59:59.999Z'))).toBe(false);
    expect(freezeInForce(range, Date.parse('2026-12-24T00:00:00Z'))).toBe(true);
    expect(freezeInForce(range, Date.parse('2026-12-26T23:59:59.999Z'))).toBe(true);
    expect(freezeInForce(range, Date.parse('2026-12-27T00:00:00Z'))).toBe(false);
  });

  it('a weekly window is read in its own time zone, daylight saving included', () => {
    const friday: FreezeWindow = { days: ['fri'], start: '16:00', end: '20:00', timeZone: 'Europe/Berlin' };
    // Winter: Berlin is UTC+1. Friday 2026-11-27 15:00Z is 16:00 in Berlin.
    expect(freezeInForce(friday, Date.parse('2026-11-27T14:59:00Z'))).toBe(false);
    expect(freezeInForce(friday, Date.parse('2026-11-27T15:00:00Z'))).toBe(true);
    expect(freezeInForce(friday, Date.parse('2026-11-27T18:59:00Z'))).toBe(true);
    expect(freezeInForce(friday, Date.parse('2026-11-27T19:00:00Z'))).toBe(false);
    // Summer: UTC+2. Friday 2026-07-03 14:00Z is 16:00 in Berlin.
    expect(freezeInForce(friday, Date.parse('2026-07-03T13:59:00Z'))).toBe(false);
    expect(freezeInForce(friday, Date.parse('2026-07-03T14:00:00Z'))).toBe(true);
    // The same hour on Thursday is not frozen.
    expect(freezeInForce(friday, Date.parse('2026-11-26T15:00:00Z'))).toBe(false);
  });

  it('a window that ends at or before it starts runs past midnight into the next day', () => {
    const night: FreezeWindow = { days: ['fri'], start: '22:00', end: '06:00', timeZone: 'UTC' };
    expect(freezeInForce(night, Date.parse('2026-11-27T21:59:00Z'))).toBe(false);
    expect(freezeInForce(night, Date.parse('2026-11-27T22:00:00Z'))).toBe(true);
    expect(freezeInForce(night, Date.parse('2026-11-28T05:59:00Z'))).toBe(true); // Saturday morning
    expect(freezeInForce(night, Date.parse('2026-11-28T06:00:00Z'))).toBe(false);
    expect(freezeInForce(night, Date.parse('2026-11-28T22:30:00Z'))).toBe(false); // Saturday night: not named
    expect(freezeInForce(night, Date.parse('2026-11-27T05:00:00Z'))).toBe(false); // Friday morning: Thursday not named
    const weekend: FreezeWindow = { days: ['sat', 'sun'], start: '00:00', end: '24:00', timeZone: 'UTC' };
    expect(freezeInForce(weekend, Date.parse('2026-11-28T00:00:00Z'))).toBe(true);
    expect(freezeInForce(weekend, Date.parse('2026-11-29T23:59:00Z'))).toBe(true);
    expect(freezeInForce(weekend, Date.parse('2026-11-30T00:00:00Z'))).toBe(false);
    expect(freezeInForce(weekend, Date.parse('2026-11-27T23:59:00Z'))).toBe(false);
  });

  it('local time names the weekday and the minute of the day', () => {
    expect(localTime(Date.parse('2026-11-26T23:30:00Z'), 'Asia/Tokyo')).toEqual({ day: 5, minute: 8 * 60 + 30 });
    expect(localTime(Date.parse('2026-11-29T00:00:00Z'), 'UTC')).toEqual({ day: 0, minute: 0 });
    expect(localTime(Date.parse('2026-11-28T23:59:00Z'), 'UTC')).toEqual({ day: 6, minute: 23 * 60 + 59 });
  });

  it('describes itself for the trace', () => {
    expect(describeFreeze(range)).toBe('freeze from 2026-12-24T00:00:00Z to 2026-12-27T00:00:00Z (holidays)');
    expect(describeFreeze({ days: ['fri'], start: '22:00', end: '06:00', timeZone: 'UTC' })).toBe(
      'weekly freeze fri 22:00–06:00 the next day UTC',
    );
    expect(describeFreeze({ days: ['sat', 'sun'], start: '00:00', end: '24:00', timeZone: 'Europe/Berlin', reason: 'weekend' })).toBe(
      'weekly freeze sat, sun 00:00–24:00 Europe/Berlin (weekend)',
    );
  });

  it('the config refuses a bad window with the key at fault', () => {
    const bad = (freeze: unknown) => PolicySettings.safeParse({ freeze: [freeze] }).error?.issues[0];
    expect(bad({ from: '2026-12-27T00:00:00Z', to: '2026-12-24T00:00:00Z' })).toBeDefined();
    expect(bad({ from: '2026-12-24', to: '2026-12-27T00:00:00Z' })).toBeDefined();
    expect(bad({ days: ['fri'], start: '25:00', end: '06:00', timeZone: 'UTC' })).toBeDefined();
    expect(bad({ days: ['fri'], start: '22:00', end: '06:00', timeZone: 'Mars/Olympus' })).toBeDefined();
    expect(bad({ days: [], start: '22:00', end: '06:00', timeZone: 'UTC' })).toBeDefined();
    expect(bad({ days: ['fri'], start: '22:00', end: '24:00', timeZone: 'UTC' })).toBeUndefined();
    expect(PolicySettings.safeParse({ pauseDefaultMinutes: 120, pauseMaxMinutes: 60 }).error?.issues[0]?.path).toEqual([
      'pauseDefaultMinutes',
    ]);
  });
});

describe('safety controls in the decision', () => {
  it('with no control set, the burn rolls back and every control says why it passed', () => {
    const d = run({ pause: null, acknowledgement: null, fleet: fleet(0, 0) });
    expect(d.action).toBe('rollback');
    expect(verdict(d, 'paused').detail).toBe('api-backend is not paused');
    expect(verdict(d, 'fleet-breaker').detail).toBe(
      '1 service(s) burning within 10 min (at most 5); 0 rollback(s) in flight elsewhere (fewer than 5)',
    );
  });

  it('a pause holds until it expires; at its expiry it no longer holds', () => {
    const held = run({ pause: pause(1) });
    expect(held.action).toBe('hold');
    expect(held.reason).toBe(`no rollback: api-backend is paused until ${at(1)} by alice: migration`);
    const expired = run({ pause: pause(0) });
    expect(expired.action).toBe('rollback');
    expect(verdict(expired, 'paused')).toEqual({ rule: 'paused', passed: true, detail: `api-backend's pause by alice expired at ${T0}` });
  });

  it('a human who took over comes before judgements that would page: paused or acknowledged, an escalation holds', () => {
    // No rollout on record: confidence fails and would escalate; the pause is the reason, and the verdicts keep both.
    const d = decide(stateWith(), alert(), DEFAULT_POLICY, null, null, null, { pause: pause(10) });
    expect(d.action).toBe('hold');
    expect(d.reason).toMatch(/^no rollback: api-backend is paused until /);
    expect(verdict(d, 'confidence').passed).toBe(false);
    expect(decide(stateWith(), alert(), DEFAULT_POLICY, null, null, null, { acknowledgement: ack }).action).toBe('hold');
    // An alert that measures no burn is still ignored, paused or not.
    expect(run({ pause: pause(10) }, { event: alert({ signal: 'unsupported', unsupportedReason: 'CPU' }) }).action).toBe('ignore');
  });

  it('an acknowledged incident is never rolled back automatically (hold, naming who)', () => {
    const d = run({ acknowledgement: ack });
    expect(d.action).toBe('hold');
    expect(d.reason).toBe(
      `no rollback: incident 0.ctl was acknowledged by bob at ${at(-1)} (I have it): a human owns it, no automatic rollback`,
    );
  });

  it('a freeze window in force escalates; outside it the burn rolls back', () => {
    const freeze: FreezeWindow[] = [{ from: at(-60), to: at(60), reason: 'launch' }];
    const d = run({}, { policy: { freeze } });
    expect(d.action).toBe('escalate');
    expect(d.reason).toBe(`escalate: freeze from ${at(-60)} to ${at(60)} (launch) is in force: no automatic rollback`);
    const later: FreezeWindow[] = [{ from: at(1), to: at(60) }];
    const outside = run({}, { policy: { freeze: later } });
    expect(outside.action).toBe('rollback');
    expect(verdict(outside, 'freeze').detail).toBe('none of 1 freeze window(s) is in force');
  });

  it('the fleet breaker trips above N burning services (this one counted) and at M rollbacks in flight elsewhere', () => {
    expect(run({ fleet: fleet(4, 0) }).action).toBe('rollback'); // 5 burning: at the limit
    const storm = run({ fleet: fleet(5, 0) });
    expect(storm.action).toBe('escalate');
    expect(storm.reason).toBe(
      "escalate: 6 services burning within 10 min (api-backend, svc-0, svc-1, svc-2, svc-3, svc-4) is more than 5: a fleet-wide problem is not one release's fault",
    );
    // This service itself in the fleet's lists is not counted twice.
    expect(run({ fleet: fleet(4, 0, { burningServices: ['api-backend', 'a', 'b', 'c', 'd'] }) }).action).toBe('rollback');
    expect(run({ fleet: fleet(0, 4) }).action).toBe('rollback');
    const busy = run({ fleet: fleet(0, 5) });
    expect(busy.action).toBe('escalate');
    expect(busy.reason).toBe('escalate: 5 rollbacks already in flight fleet-wide (at most 5 at once): wait for them or decide by hand');
    expect(run({ fleet: fleet(0, 5, { inFlight: ['api-backend', 'a', 'b', 'c', 'd'] }) }).action).toBe('rollback');
    const many = run({ fleet: fleet(20, 0) });
    expect(many.reason).toMatch(/^escalate: 21 services burning within 10 min \(api-backend, svc-0, .*, svc-8, …\)/);
    expect(run({ fleet: fleet(2, 0) }, { policy: { breakerBurningServices: 2, breakerWindowMinutes: 3 } }).reason).toMatch(
      /^escalate: 3 services burning within 3 min/,
    );
  });

  it('mode recommend recommends; mode observe records what it would have done', () => {
    const recommend = run({}, { policy: { mode: 'recommend' } });
    expect(recommend.action).toBe('recommend');
    expect(verdict(recommend, 'mode').detail).toBe('mode recommend: a validate-only rollback proves it would be accepted; nothing changes');
    expect(run({}, { policy: { mode: 'observe' } }).action).toBe('hold');
    // A refusal before the mode is the reason, whatever the mode.
    expect(run({ pause: pause(5) }, { policy: { mode: 'recommend' } }).action).toBe('hold');
  });

  it('a burn over the bar marks the service burning; a rollback marks it in flight until its outcome', () => {
    const d = run({});
    const next = applyDecision(stateWith(), d, 'dec-1', 'rb-new', DEFAULT_POLICY);
    expect(next).toMatchObject({ lastBurnAt: T0, inFlightSince: T0 });
    const held = run({ pause: pause(5) });
    expect(applyDecision(next, held, 'dec-2', null, DEFAULT_POLICY)).toMatchObject({ lastBurnAt: T0, inFlightSince: T0 });
    const calm = run({}, { event: alert({ observedValue: 0.001, signalValue: 0.001 }) });
    expect(applyDecision(initialServiceState('api-backend'), calm, 'dec-3', null, DEFAULT_POLICY)).toMatchObject({
      lastBurnAt: null,
      inFlightSince: null,
    });
    const progress = (rollbackId: string, stage: RollbackProgress['stage']): RollbackProgress => ({
      rollbackId,
      decisionId: 'dec-1',
      incidentId: '0.ctl',
      service: 'api-backend',
      target: 'production',
      stage,
      sequence: 3,
      rolloutName: null,
      releaseId: 'rel-001',
      detail: '',
      at: at(3),
    });
    expect(recordOutcomeOnService(next, progress('rb-new', 'succeeded')).inFlightSince).toBeNull();
    expect(recordOutcomeOnService(next, progress('rb-new', 'started')).inFlightSince).toBe(T0);
    // An older rollback finishing late does not clear the newer one in flight.
    const two = {
      ...next,
      recentRollbacks: [{ rollbackId: 'rb-old', decidedAt: at(-90), outcome: null, finishedAt: null }, ...next.recentRollbacks],
    };
    expect(recordOutcomeOnService(two, progress('rb-old', 'failed')).inFlightSince).toBe(T0);
  });

  it('validate-only progress changes nothing on the service, the incident or the target', () => {
    const state = applyDecision(stateWith(), run({}), 'dec-1', 'rb-1', DEFAULT_POLICY);
    const validated: RollbackProgress = {
      rollbackId: 'rb-1',
      decisionId: 'dec-1',
      incidentId: '0.ctl',
      service: 'api-backend',
      target: 'production',
      stage: 'validated',
      sequence: 3,
      rolloutName: null,
      releaseId: 'rel-001',
      fromReleaseId: 'rel-002',
      detail: 'validate_only accepted',
      at: at(1),
      validateOnly: true,
    };
    expect(recordOutcomeOnService(state, validated)).toBe(state);
    expect(recordOutcomeOnService(state, { ...validated, stage: 'succeeded' })).toBe(state);
    const incident = {
      incidentId: '0.ctl',
      service: 'api-backend',
      state: 'open' as const,
      startedAt: T0,
      endedAt: null,
      observedAt: T0,
      lastDecisionId: 'dec-1',
      decisionIds: ['dec-1'],
      rollback: null,
      supersededRollbacks: [],
      monitoringUnavailableSince: null,
    };
    expect(recordProgressOnIncident(incident, validated)).toBe(incident);
    expect(recordOutcomeOnTarget(target, { ...validated, stage: 'succeeded' })).toBe(target);
    expect(recordOutcomeOnTarget(target, { ...validated, validateOnly: false, stage: 'validated' })).toBe(target);
  });

  it('controls never turn a refusal into a rollback, and any control that refuses prevents it', () => {
    const arbControls = fc.record({
      pause: fc.option(fc.integer({ min: -60, max: 60 }).map(pause), { nil: null }),
      acknowledgement: fc.option(fc.constant(ack), { nil: null }),
      fleet: fc.option(
        fc.tuple(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 })).map(([b, f]) => fleet(b, f)),
        { nil: null },
      ),
    });
    fc.assert(
      fc.property(
        arbControls,
        fc.integer({ min: 0, max: 120 }),
        fc.double({ min: 0.001, max: 0.2, noNaN: true }),
        (controls, past, value) => {
          const event = alert({ observedValue: value, signalValue: value });
          const state = stateWith(past);
          const without = decide(state, event, DEFAULT_POLICY, null, target, null, {});
          const withControls = decide(state, event, DEFAULT_POLICY, null, target, null, controls);
          if (withControls.action === 'rollback') expect(without.action).toBe('rollback');
          const refused = ['acknowledged', 'paused', 'fleet-breaker'].some((rule) => !verdict(withControls, rule).passed);
          if (refused) expect(withControls.action).not.toBe('rollback');
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('manual rollback requests', () => {
  const manual = (overrides: Partial<NonNullable<AlertEvent['manual']>> = {}): AlertEvent =>
    alert({
      incidentId: 'manual-req-1',
      source: 'manual',
      signal: 'unsupported',
      observedValue: null,
      signalValue: null,
      manual: { requestedBy: 'carol', reason: 'bad config in rel-002', force: false, releaseId: null, ...overrides },
    });

  it('a request with nothing in the way rolls back, judged on who asked and why, not on a burn', () => {
    const d = run({ fleet: fleet(0, 0) }, { event: manual({ releaseId: 'rel-001' }) });
    expect(d.action).toBe('rollback');
    expect(d.reason).toBe('roll back: manual request: carol asked to roll api-backend back to rel-001: bad config in rel-002');
    expect(d.verdicts.map((v) => v.rule)).toEqual([
      'event-time',
      'enabled',
      'manual-request',
      'one-rollback-per-incident',
      'paused',
      'freeze',
      'fleet-breaker',
      'rate-limit',
      'cooldown',
      'mode',
    ]);
    expect(d).toMatchObject({ confidence: null, cause: null, burnStartedAt: null, errorRatio: null });
  });

  it('pause, cooldown and rate limit apply without force', () => {
    expect(run({ pause: pause(10) }, { event: manual() }).reason).toBe(
      `no rollback: api-backend is paused until ${at(10)} by alice: migration`,
    );
    expect(run({}, { event: manual(), state: stateWith(10) }).reason).toBe(
      'no rollback: last rollback 10 min ago is within the 30 min cooldown',
    );
    expect(run({}, { event: manual(), state: stateWith(50, 45, 40), policy: { cooldownMinutes: 0 } }).action).toBe('hold');
    expect(run({ fleet: fleet(6, 0) }, { event: manual() }).action).toBe('escalate');
  });

  it('force bypasses pause, freeze, breaker, rate limit and cooldown, saying so, but not the mode or the one rollback per request', () => {
    const forced = run(
      { pause: pause(10), fleet: fleet(0, 9) },
      { event: manual({ force: true }), state: stateWith(50, 45, 10), policy: { freeze: [{ from: at(-1), to: at(1) }] } },
    );
    expect(forced.action).toBe('rollback');
    expect(verdict(forced, 'paused')).toEqual({
      rule: 'paused',
      passed: true,
      detail: `bypassed by force (bad config in rel-002): api-backend is paused until ${at(10)} by alice: migration`,
    });
    for (const rule of ['freeze', 'fleet-breaker', 'rate-limit', 'cooldown'])
      expect(verdict(forced, rule).detail).toMatch(/^bypassed by force \(bad config in rel-002\): /);
    expect(verdict(forced, 'manual-request').detail).toBe('carol asked to roll api-backend back: bad config in rel-002 (force)');
    expect(run({}, { event: manual({ force: true }), policy: { mode: 'observe' } }).action).toBe('hold');
    const again = decide(stateWith(), manual({ force: true }), DEFAULT_POLICY, {
      state: 'open',
      endedAt: null,
      rollback: {
        rollbackId: 'rb-m',
        decisionId: 'd',
        stage: 'started',
        finishedAt: null,
        releaseId: null,
        fromReleaseId: null,
        detail: null,
      },
    });
    expect(again.action).toBe('hold');
    expect(again.reason).toMatch(/already has its one rollback rb-m/);
    // A passing rule is not marked as bypassed.
    expect(verdict(run({}, { event: manual({ force: true }) }), 'cooldown').detail).toBe('no earlier rollback of api-backend on record');
  });

  it('a switched-off service refuses a manual request too', () => {
    expect(run({}, { event: manual({ force: true }), policy: { enabled: false } }).reason).toBe(
      'no rollback: automatic rollbacks are switched off for this service',
    );
  });
});

describe('the breaker document', () => {
  const NOW = Date.parse(T0);
  const breaker: BreakerRecord = {
    burns: [
      { service: 'a', at: at(-10) }, // exactly at the edge of a 10 min window: counted
      { service: 'b', at: new Date(NOW - 10 * MINUTE - 1).toISOString() }, // a millisecond older: not
      { service: 'c', at: at(-1) },
    ],
    inFlight: [
      { service: 'x', rollbackId: 'rb-x', since: at(-60) }, // exactly an hour: counted
      { service: 'y', rollbackId: 'rb-y', since: new Date(NOW - 60 * MINUTE - 1).toISOString() }, // older: not
    ],
    updatedAt: at(-1),
  };

  it('merges with the per-service stamps: burns within the window, rollbacks in flight for at most an hour, sorted, no duplicates', () => {
    const view: FleetView = { burningServices: ['z', 'c'], inFlight: ['w'], readAt: at(-2) };
    expect(mergeFleet(view, breaker, NOW, 10)).toEqual({ burningServices: ['a', 'c', 'z'], inFlight: ['w', 'x'], readAt: T0 });
    expect(mergeFleet(null, null, NOW, 10)).toEqual({ burningServices: [], inFlight: [], readAt: T0 });
    expect(mergeFleet(null, breaker, NOW, 11).burningServices).toEqual(['a', 'b', 'c']);
  });

  it('records a burn (one per service, the latest) and a rollback in flight, dropping what is older than an hour', () => {
    const next = recordOnBreaker(
      {
        ...breaker,
        burns: [...breaker.burns, { service: 'old', at: new Date(NOW - 60 * MINUTE - 1).toISOString() }, { service: 'kept', at: at(-60) }],
      },
      'a',
      T0,
      'rb-a',
    );
    expect(next.burns).toEqual([
      { service: 'b', at: breaker.burns[1]!.at },
      { service: 'c', at: at(-1) },
      { service: 'kept', at: at(-60) },
      { service: 'a', at: T0 },
    ]);
    expect(next.inFlight).toEqual([
      { service: 'x', rollbackId: 'rb-x', since: at(-60) },
      { service: 'a', rollbackId: 'rb-a', since: T0 },
    ]);
    expect(next.updatedAt).toBe(T0);
    // No rollback ordered: only the burn. The same rollback again: listed once.
    expect(recordOnBreaker(null, 'a', T0, null)).toEqual({ burns: [{ service: 'a', at: T0 }], inFlight: [], updatedAt: T0 });
    expect(recordOnBreaker(next, 'a', T0, 'rb-a').inFlight.filter((f) => f.rollbackId === 'rb-a')).toHaveLength(1);
  });

  it('releases a finished rollback, and is the same object when the rollback was not in flight', () => {
    expect(releaseOnBreaker(breaker, 'rb-x').inFlight).toEqual([breaker.inFlight[1]]);
    expect(releaseOnBreaker(breaker, 'rb-x').burns).toBe(breaker.burns);
    expect(releaseOnBreaker(breaker, 'rb-none')).toBe(breaker);
  });

  it('freeze windows are judged at the decider clock when it is given; a pause at the event time', () => {
    const freeze: FreezeWindow[] = [{ from: at(5), to: at(60) }];
    // The alert is from before the freeze, but the decider evaluates it inside: escalate.
    expect(run({ evaluatedAt: at(10) }, { policy: { freeze } }).action).toBe('escalate');
    expect(run({}, { policy: { freeze } }).action).toBe('rollback');
    // A pause that ended before the decider's clock but after the alert still holds.
    expect(run({ pause: pause(5), evaluatedAt: at(10) }).action).toBe('hold');
    const d = run({ evaluatedAt: at(10) });
    expect(d.evaluatedAt).toBe(at(10));
    expect(run({}).evaluatedAt).toBe(T0);
    expect(applyDecision(stateWith(), d, 'dec', 'rb', DEFAULT_POLICY)).toMatchObject({ lastBurnAt: at(10), inFlightSince: at(10) });
  });

  it('a weekly window with minutes in its start and end, and an end of 24:00, read to the minute', () => {
    const evening: FreezeWindow = { days: ['thu'], start: '09:30', end: '10:15', timeZone: 'UTC' };
    expect(freezeInForce(evening, Date.parse('2026-11-26T09:29:00Z'))).toBe(false);
    expect(freezeInForce(evening, Date.parse('2026-11-26T09:30:00Z'))).toBe(true);
    expect(freezeInForce(evening, Date.parse('2026-11-26T10:14:00Z'))).toBe(true);
    expect(freezeInForce(evening, Date.parse('2026-11-26T10:15:00Z'))).toBe(false);
    const same: FreezeWindow = { days: ['thu'], start: '10:00', end: '10:00', timeZone: 'UTC' };
    // A start equal to its end runs a whole day, into the next.
    expect(freezeInForce(same, Date.parse('2026-11-26T10:00:00Z'))).toBe(true);
    expect(freezeInForce(same, Date.parse('2026-11-27T09:59:00Z'))).toBe(true);
    expect(freezeInForce(same, Date.parse('2026-11-26T09:59:00Z'))).toBe(false);
    expect(describeFreeze(same)).toBe('weekly freeze thu 10:00–10:00 the next day UTC');
    expect(describeFreeze({ days: ['thu'], start: '09:30', end: '10:15', timeZone: 'UTC', reason: 'standup' })).toBe(
      'weekly freeze thu 09:30–10:15 UTC (standup)',
    );
    expect(describeFreeze({ from: '2026-12-24T00:00:00Z', to: '2026-12-27T00:00:00Z' })).toBe(
      'freeze from 2026-12-24T00:00:00Z to 2026-12-27T00:00:00Z',
    );
    expect(describeFreeze({ days: ['thu'], start: '10:00', end: '24:00', timeZone: 'UTC' })).toBe('weekly freeze thu 10:00–24:00 UTC');
  });

  it('names at most ten burning services, and says when there are more', () => {
    expect(run({ fleet: fleet(9, 0) }).reason).toMatch(
      /\(api-backend, svc-0, svc-1, svc-2, svc-3, svc-4, svc-5, svc-6, svc-7, svc-8\) is more than 5/,
    );
    expect(run({ fleet: fleet(10, 0) }).reason).toMatch(/svc-8, …\) is more than 5/);
  });

  it('an acknowledgement without a reason says who and when only', () => {
    expect(run({ acknowledgement: { ...ack, reason: '' } }).reason).toBe(
      `no rollback: incident 0.ctl was acknowledged by bob at ${at(-1)}: a human owns it, no automatic rollback`,
    );
  });
});

describe('a command re-read against the controls right before it rolls back', () => {
  const command = { incidentId: '0.ctl', service: 'api-backend' };
  const now = Date.parse(T0);
  const none = { pause: null, acknowledgement: null, policy: DEFAULT_POLICY };

  it('goes ahead when nothing was set since the decision', () => {
    expect(supersedingControl(command, now, none)).toBeNull();
    expect(supersedingControl(command, now, { ...none, pause: pause(0) })).toBeNull();
    expect(supersedingControl(command, now, { ...none, policy: null })).toBeNull();
  });

  it('is stopped by a pause in force, an acknowledgement, a freeze or a mode other than auto, and says which', () => {
    expect(supersedingControl(command, now, { ...none, pause: pause(1) })).toBe(
      `api-backend was paused until ${at(1)} by alice at ${at(-30)} (migration)`,
    );
    expect(supersedingControl(command, now, { ...none, acknowledgement: ack })).toBe(
      `incident 0.ctl was acknowledged by bob at ${at(-1)} (I have it)`,
    );
    expect(supersedingControl(command, now, { ...none, acknowledgement: { ...ack, reason: '' } })).toBe(
      `incident 0.ctl was acknowledged by bob at ${at(-1)}`,
    );
    const frozen = policy({ freeze: [{ from: at(-1), to: at(10), reason: 'release day' }] });
    expect(supersedingControl(command, now, { ...none, policy: frozen })).toBe(
      `freeze from ${at(-1)} to ${at(10)} (release day) is in force`,
    );
    expect(supersedingControl(command, now, { ...none, policy: policy({ freeze: [{ from: at(-10), to: at(0) }] }) })).toBeNull();
    expect(supersedingControl(command, now, { ...none, policy: policy({ mode: 'observe' }) })).toBe('api-backend is in mode observe');
    expect(supersedingControl(command, now, { ...none, policy: policy({ mode: 'recommend' }) })).toBe('api-backend is in mode recommend');
  });

  it('the pause comes first, then the acknowledgement, the freeze and the mode', () => {
    const all = { pause: pause(5), acknowledgement: ack, policy: policy({ mode: 'observe', freeze: [{ from: at(-1), to: at(1) }] }) };
    expect(supersedingControl(command, now, all)).toMatch(/paused/);
    expect(supersedingControl(command, now, { ...all, pause: null })).toMatch(/acknowledged/);
    expect(supersedingControl(command, now, { ...all, pause: null, acknowledgement: null })).toMatch(/freeze/);
  });

  it('a manual request skips the acknowledgement; forced, the pause and the freeze too; never the mode', () => {
    const all = { pause: pause(5), acknowledgement: ack, policy: policy({ freeze: [{ from: at(-1), to: at(1) }] }) };
    expect(supersedingControl({ ...command, manual: { force: false } }, now, { ...all, pause: null })).toMatch(/freeze/);
    expect(supersedingControl({ ...command, manual: { force: false } }, now, all)).toMatch(/paused/);
    expect(supersedingControl({ ...command, manual: { force: true } }, now, all)).toBeNull();
    expect(supersedingControl({ ...command, manual: { force: true } }, now, { ...all, policy: policy({ mode: 'observe' }) })).toMatch(
      /mode observe/,
    );
  });

  it('a validate-only command changes nothing, and is never stopped', () => {
    expect(
      supersedingControl({ ...command, validateOnly: true }, now, {
        pause: pause(5),
        acknowledgement: ack,
        policy: policy({ mode: 'recommend' }),
      }),
    ).toBeNull();
  });
});
