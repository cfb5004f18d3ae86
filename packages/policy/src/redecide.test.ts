import fc from 'fast-check';
import {
  DEFAULT_POLICY,
  PolicySettings,
  type AlertEvent,
  type FleetView,
  type FreezeWindow,
  type IncidentRecord,
  type MonitoringCheck,
  type ServiceState,
} from '@burnback/contracts';
import { alertEvent, blamedTarget } from '@burnback/testkit/fixtures';
import {
  applyIncident,
  decide,
  freezeEndsAt,
  initialServiceState,
  rollbackAttemptOf,
  withUnavailableSince,
  type DecisionControls,
} from './index.js';

/**
 * A hold or an escalation whose cause can lapse says when the incident is to be
 * decided again (`redecideAt`): the decider schedules it, so no burn held by a
 * pause, a cooldown, a freeze or a silent Cloud Monitoring is forgotten.
 */
const T0 = '2026-11-26T10:00:00.000Z'; // a Thursday
const MINUTE = 60_000;
const at = (minutes: number): string => new Date(Date.parse(T0) + minutes * MINUTE).toISOString();
const alert = (overrides: Partial<AlertEvent> = {}): AlertEvent =>
  alertEvent('0.again', { startedAt: at(-5), observedAt: T0, ...overrides });
const policy = (overrides: Partial<PolicySettings> = {}): PolicySettings => PolicySettings.parse({ ...DEFAULT_POLICY, ...overrides });
const stateWith = (...rollbacks: Array<{ decided: number; finished?: number }>): ServiceState => ({
  ...initialServiceState('api-backend'),
  recentRollbacks: rollbacks.map((r, i) => ({
    rollbackId: `rb-${i}`,
    decidedAt: at(r.decided),
    outcome: r.finished === undefined ? null : ('succeeded' as const),
    finishedAt: r.finished === undefined ? null : at(r.finished),
  })),
});
const run = (
  options: {
    state?: ServiceState;
    event?: AlertEvent;
    policy?: Partial<PolicySettings>;
    controls?: DecisionControls;
    monitoring?: MonitoringCheck | null;
  } = {},
) =>
  decide(
    options.state ?? initialServiceState('api-backend'),
    options.event ?? alert(),
    policy(options.policy),
    null,
    blamedTarget(options.event?.startedAt ?? at(-5)),
    options.monitoring ?? null,
    { evaluatedAt: T0, ...options.controls },
  );
const fleet = (burning: number, inFlight: number): FleetView => ({
  burningServices: Array.from({ length: burning }, (_, i) => `svc-${i}`),
  inFlight: Array.from({ length: inFlight }, (_, i) => `svc-${i}`),
  readAt: T0,
});
const unavailable = (since?: string, onUnavailable: 'escalate' | 'hold' | 'decide-without' = 'escalate'): MonitoringCheck => ({
  status: 'unavailable',
  slo: 'projects/p/services/s/serviceLevelObjectives/o',
  longWindowSeconds: 3600,
  shortWindowSeconds: 300,
  threshold: 1,
  error: 'DEADLINE_EXCEEDED after 5 s',
  onUnavailable,
  ...(since === undefined ? {} : { since }),
});

describe('when a held burn is decided again', () => {
  it('a rollback, and a refusal that cannot lapse, are not decided again', () => {
    expect(run().action).toBe('rollback');
    expect(run().redecideAt).toBeNull();
    const acknowledged = run({ controls: { acknowledgement: { incidentId: '0.again', by: 'bob', reason: '', at: at(-1) } } });
    expect(acknowledged.action).toBe('hold');
    expect(acknowledged.redecideAt).toBeNull();
    expect(run({ policy: { mode: 'observe' } }).redecideAt).toBeNull();
    expect(run({ policy: { minConfidence: 0.99 } }).redecideAt).toBeNull();
    expect(run({ event: alert({ observedValue: 0.001, signalValue: 0.001 }) }).redecideAt).toBeNull();
  });

  it('a pause: when it ends', () => {
    const d = run({ controls: { pause: { until: at(25), reason: 'migration', by: 'alice', at: at(-1) } } });
    expect(d.action).toBe('hold');
    expect(d.redecideAt).toEqual({ at: at(25), rule: 'paused', detail: expect.stringContaining('paused until') });
  });

  it('the cooldown: when it runs out from the last rollback’s finish', () => {
    const d = run({ state: stateWith({ decided: -40, finished: -10 }) });
    expect(d.action).toBe('hold');
    expect(d.redecideAt).toMatchObject({ at: at(20), rule: 'cooldown' });
    // Until its outcome is known, from its decision.
    expect(run({ state: stateWith({ decided: -10 }), policy: { maxRollbacksPerHour: 5 } }).redecideAt).toMatchObject({ at: at(20) });
  });

  it('the rate limit: when the oldest rollback that keeps the hour at its limit leaves it', () => {
    const state = stateWith({ decided: -50, finished: -49 }, { decided: -40, finished: -39 }, { decided: -35, finished: -34 });
    const d = run({ state, policy: { cooldownMinutes: 0 } });
    expect(d.verdicts.find((v) => !v.passed)!.rule).toBe('rate-limit');
    expect(d.redecideAt).toMatchObject({ at: at(10), rule: 'rate-limit' });
    const four = stateWith({ decided: -55 }, { decided: -50 }, { decided: -40 }, { decided: -35 });
    expect(run({ state: four, policy: { cooldownMinutes: 0 } }).redecideAt).toMatchObject({ at: at(10) });
    expect(run({ state: four, policy: { cooldownMinutes: 0, maxRollbacksPerHour: 1 } }).redecideAt).toMatchObject({ at: at(25) });
  });

  it('a rate limit of zero never lapses', () => {
    const d = run({ policy: { maxRollbacksPerHour: 0 } });
    expect(d.verdicts.find((v) => !v.passed)!.rule).toBe('rate-limit');
    expect(d.redecideAt).toBeNull();
  });

  it('a freeze: escalates, and is decided again when it ends', () => {
    const window: FreezeWindow = { from: at(-60), to: at(90) };
    const d = run({ policy: { freeze: [window] } });
    expect(d.action).toBe('escalate');
    expect(d.redecideAt).toMatchObject({ at: at(90), rule: 'freeze' });
  });

  it('the fleet breaker: after its window for burns, a minute on for rollbacks in flight', () => {
    const burning = run({ controls: { fleet: fleet(7, 0) } });
    expect(burning.action).toBe('escalate');
    expect(burning.redecideAt).toMatchObject({ at: at(10), rule: 'fleet-breaker' });
    const busy = run({ controls: { fleet: fleet(1, 6) } });
    expect(busy.redecideAt).toMatchObject({ at: at(1), rule: 'fleet-breaker' });
    expect(run({ controls: { fleet: fleet(7, 0) }, policy: { breakerWindowMinutes: 3 } }).redecideAt).toMatchObject({ at: at(3) });
  });

  it('a closed incident, or one closed before, is never decided again', () => {
    const paused = { pause: { until: at(25), reason: 'm', by: 'a', at: at(-1) } };
    expect(run({ controls: paused, event: alert({ state: 'closed', endedAt: T0 }) }).redecideAt).toBeNull();
    const late = decide(
      initialServiceState('api-backend'),
      alert(),
      DEFAULT_POLICY,
      { state: 'closed', endedAt: at(-1) },
      blamedTarget(at(-5)),
      null,
      { ...paused, evaluatedAt: T0 },
    );
    expect(late.redecideAt).toBeNull();
  });

  it('a manual request that is held is not carried out later on its own', () => {
    const manual = alert({ manual: { requestedBy: 'carol', reason: 'bad flag', force: false, releaseId: null }, source: 'manual' });
    const d = run({ event: manual, controls: { pause: { until: at(25), reason: 'm', by: 'a', at: at(-1) } } });
    expect(d.action).toBe('hold');
    expect(d.redecideAt).toBeNull();
  });
});

describe('Cloud Monitoring that cannot answer', () => {
  it('holds and asks again with backoff, within monitoringRetryMinutes of the first time it could not', () => {
    const first = run({ monitoring: unavailable(T0) });
    expect(first.action).toBe('hold');
    expect(first.verdicts.find((v) => v.rule === 'burning-now')!.detail).toMatch(/asking again until 2026-11-26T10:05:00.000Z/);
    expect(first.redecideAt).toMatchObject({ at: new Date(Date.parse(T0) + 15_000).toISOString(), rule: 'burning-now' });
    // 40 s in: 40 s later; 3 min in: 2 min later, but never past the window.
    expect(run({ monitoring: unavailable(new Date(Date.parse(T0) - 40_000).toISOString()) }).redecideAt!.at).toBe(
      new Date(Date.parse(T0) + 40_000).toISOString(),
    );
    expect(run({ monitoring: unavailable(at(-3)) }).redecideAt!.at).toBe(at(2));
    expect(run({ monitoring: unavailable(at(-4.5)) }).redecideAt!.at).toBe(at(0.5));
  });

  it('after the window, onMonitoringUnavailable applies: escalate (the default), hold or decide without it', () => {
    const escalated = run({ monitoring: unavailable(at(-5)) });
    expect(escalated.action).toBe('escalate');
    expect(escalated.reason).toMatch(/could not answer \(DEADLINE_EXCEEDED after 5 s\) for 5 min: the burn cannot be confirmed/);
    expect(escalated.redecideAt).toMatchObject({ at: at(5), rule: 'burning-now' });
    const held = run({ monitoring: unavailable(at(-6), 'hold') });
    expect(held.action).toBe('hold');
    expect(held.redecideAt).toMatchObject({ at: at(5) });
    expect(run({ monitoring: unavailable(at(-6), 'decide-without') }).action).toBe('rollback');
    expect(run({ monitoring: unavailable(at(-6), 'escalate'), policy: { monitoringRetryMinutes: 10 } }).action).toBe('hold');
  });

  it('a reading recorded before the retry existed applies onUnavailable at once', () => {
    expect(run({ monitoring: unavailable(undefined, 'escalate') }).action).toBe('escalate');
    expect(run({ monitoring: unavailable(undefined, 'hold') }).action).toBe('hold');
  });

  it('the incident remembers since when Monitoring has not answered, and forgets it once it answers', () => {
    const d = run({ monitoring: unavailable(T0) });
    const incident = applyIncident(null, alert(), d, 'dec-1', null, unavailable(T0));
    expect(incident.monitoringUnavailableSince).toBe(T0);
    const later = applyIncident(incident, alert(), d, 'dec-2', null, unavailable(at(3)));
    expect(later.monitoringUnavailableSince).toBe(T0);
    const read: MonitoringCheck = { ...unavailable(), status: 'read', long: 20, short: 20, readAt: at(4) };
    expect(applyIncident(later, alert(), d, 'dec-3', null, read).monitoringUnavailableSince).toBeNull();
    expect(applyIncident(later, alert(), d, 'dec-4', null, null).monitoringUnavailableSince).toBe(T0);
    expect(applyIncident(null, alert(), d, 'dec-5', null, unavailable()).monitoringUnavailableSince).toBe(d.evaluatedAt);
  });

  it('a reading is weighed with the incident’s first time Monitoring could not answer', () => {
    expect(withUnavailableSince(null, null, T0)).toBeNull();
    const read = { ...unavailable(), status: 'read', long: 1, short: 1, readAt: T0 } as MonitoringCheck;
    expect(withUnavailableSince(read, { monitoringUnavailableSince: at(-3) }, T0)).toBe(read);
    expect(withUnavailableSince(unavailable(), { monitoringUnavailableSince: at(-3) }, T0)).toMatchObject({ since: at(-3) });
    expect(withUnavailableSince(unavailable(), null, T0)).toMatchObject({ since: T0 });
    expect(withUnavailableSince(unavailable(at(-1)), { monitoringUnavailableSince: null }, T0)).toMatchObject({ since: at(-1) });
  });
});

describe('an alert too old to act on without Cloud Monitoring', () => {
  it('escalates when decided more than maxAlertAgeMinutes after its incident started, and says how to confirm late burns', () => {
    const late = run({ event: alert({ startedAt: at(-61) }), controls: { evaluatedAt: T0 } });
    expect(late.action).toBe('escalate');
    expect(late.reason).toMatch(
      /decided 61 min after its incident started \(more than maxAlertAgeMinutes, 60 min\).*name the service's slo/,
    );
    expect(late.redecideAt).toBeNull();
    expect(run({ event: alert({ startedAt: at(-60) }) }).action).toBe('rollback');
    expect(run({ event: alert({ startedAt: at(-61) }), policy: { maxAlertAgeMinutes: 90 } }).action).not.toBe('escalate');
  });

  it('is judged at the decider’s clock, not the notification’s time', () => {
    const event = alert({ startedAt: at(-30), observedAt: at(-25) });
    expect(run({ event, controls: { evaluatedAt: at(40) } }).action).toBe('escalate');
    expect(run({ event, controls: { evaluatedAt: at(20) } }).action).toBe('rollback');
  });

  it('does not apply with Cloud Monitoring, nor to an alert that is no burn', () => {
    const read = { ...unavailable(), status: 'read', long: 20, short: 20, readAt: T0 } as MonitoringCheck;
    expect(run({ event: alert({ startedAt: at(-120) }), monitoring: read }).action).toBe('rollback');
    expect(
      run({ event: alert({ startedAt: at(-120), state: 'closed', endedAt: T0 }) }).verdicts.find((v) => v.rule === 'burning-now')!.passed,
    ).toBe(true);
  });
});

describe('a superseded rollback gives way to a new attempt', () => {
  const superseded = {
    rollbackId: 'rb-first',
    decisionId: 'dec-1',
    stage: 'superseded' as const,
    finishedAt: at(-1),
    releaseId: null,
    fromReleaseId: null,
    detail: 'superseded: rel-009 reached production after the decision',
  };
  const incident: IncidentRecord = {
    incidentId: '0.again',
    service: 'api-backend',
    state: 'open',
    startedAt: at(-5),
    endedAt: null,
    observedAt: at(-4),
    lastDecisionId: 'dec-1',
    decisionIds: ['dec-1'],
    rollback: superseded,
    supersededRollbacks: [],
    monitoringUnavailableSince: null,
  };

  it('the next rollback is a new attempt, and the superseded one is remembered', () => {
    expect(rollbackAttemptOf(null)).toBe(0);
    expect(rollbackAttemptOf({ ...incident, rollback: null })).toBe(0);
    expect(rollbackAttemptOf(incident)).toBe(1);
    expect(rollbackAttemptOf({ ...incident, supersededRollbacks: ['a', 'b'], rollback: { ...superseded, stage: 'started' } })).toBe(2);
    const d = decide(initialServiceState('api-backend'), alert(), DEFAULT_POLICY, incident, blamedTarget(at(-5)));
    expect(d.action).toBe('rollback');
    const next = applyIncident(incident, alert(), d, 'dec-2', 'rb-second');
    expect(next.rollback).toMatchObject({ rollbackId: 'rb-second', decisionId: 'dec-2', stage: null });
    expect(next.supersededRollbacks).toEqual(['rb-first']);
    expect(rollbackAttemptOf(next)).toBe(1);
  });

  it('a second superseded rollback joins the first in the record, oldest first', () => {
    const twice = { ...incident, supersededRollbacks: ['rb-a'] };
    const d = decide(initialServiceState('api-backend'), alert(), DEFAULT_POLICY, twice, blamedTarget(at(-5)));
    expect(d.action).toBe('rollback');
    const next = applyIncident(twice, alert(), d, 'dec-2', 'rb-third');
    expect(next.rollback).toMatchObject({ rollbackId: 'rb-third', decisionId: 'dec-2', stage: null });
    expect(next.supersededRollbacks).toEqual(['rb-a', 'rb-first']);
    expect(rollbackAttemptOf(next)).toBe(2);
  });

  it.each([null, 'accepted', 'started', 'succeeded', 'failed', 'validated'] as const)(
    'a rollback at stage %s is never replaced, even by a rollback decision: only a superseded one gives way',
    (stage) => {
      const ordered = { ...incident, supersededRollbacks: ['rb-a'], rollback: { ...superseded, stage } };
      const d = decide(initialServiceState('api-backend'), alert(), DEFAULT_POLICY, incident, blamedTarget(at(-5)));
      expect(d.action).toBe('rollback');
      const next = applyIncident(ordered, alert(), d, 'dec-2', 'rb-second');
      expect(next.rollback).toEqual(ordered.rollback);
      expect(next.supersededRollbacks).toEqual(['rb-a']);
    },
  );

  it('a target that keeps changing under Burnback escalates after three superseded rollbacks', () => {
    const twice = { ...incident, supersededRollbacks: ['rb-a'] };
    expect(decide(initialServiceState('api-backend'), alert(), DEFAULT_POLICY, twice, blamedTarget(at(-5))).action).toBe('rollback');
    const thrice = { ...incident, supersededRollbacks: ['rb-a', 'rb-b'] };
    const d = decide(initialServiceState('api-backend'), alert(), DEFAULT_POLICY, thrice, blamedTarget(at(-5)));
    expect(d.action).toBe('escalate');
    expect(d.reason).toMatch(/superseded 3 times .*a human must decide/);
    expect(d.redecideAt).toBeNull();
  });

  it('a refusal keeps the superseded rollback where it was', () => {
    const held = decide(initialServiceState('api-backend'), alert(), policy({ mode: 'observe' }), incident, blamedTarget(at(-5)));
    const next = applyIncident(incident, alert(), held, 'dec-2', null);
    expect(next.rollback).toEqual(superseded);
    expect(next.supersededRollbacks).toEqual([]);
    const twice = { ...incident, supersededRollbacks: ['rb-a'] };
    expect(applyIncident(twice, alert(), held, 'dec-2', null).supersededRollbacks).toEqual(['rb-a']);
  });
});

describe('the end of a freeze', () => {
  const weekly: FreezeWindow = { days: ['thu'], start: '09:00', end: '17:30', timeZone: 'UTC' };
  const overnight: FreezeWindow = { days: ['thu'], start: '22:00', end: '06:00', timeZone: 'UTC' };

  it('is now when no window is in force', () => {
    expect(freezeEndsAt(policy(), Date.parse(T0))).toBe(Date.parse(T0));
    expect(freezeEndsAt(policy({ freeze: [weekly] }), Date.parse(at(-120)))).toBe(Date.parse(at(-120)));
  });

  it('is a range’s end, a weekly window’s end in its zone, and the end of windows back to back', () => {
    expect(freezeEndsAt(policy({ freeze: [{ from: at(-10), to: at(33) }] }), Date.parse(T0))).toBe(Date.parse(at(33)));
    expect(freezeEndsAt(policy({ freeze: [weekly] }), Date.parse(T0))).toBe(Date.parse('2026-11-26T17:30:00.000Z'));
    expect(freezeEndsAt(policy({ freeze: [overnight] }), Date.parse('2026-11-26T23:10:20.000Z'))).toBe(
      Date.parse('2026-11-27T06:00:00.000Z'),
    );
    const chained: FreezeWindow[] = [
      { from: at(-10), to: at(60) },
      { days: ['thu'], start: '11:00', end: '12:00', timeZone: 'UTC' },
    ];
    expect(freezeEndsAt(policy({ freeze: chained }), Date.parse(T0))).toBe(Date.parse('2026-11-26T12:00:00.000Z'));
  });

  it('is beyond reach when windows never end', () => {
    const always: FreezeWindow = { days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], start: '00:00', end: '24:00', timeZone: 'UTC' };
    expect(freezeEndsAt(policy({ freeze: [always] }), Date.parse(T0))).toBeNull();
  });

  it('is never in force, and never earlier than asked', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 7 * 24 * 60 }),
        fc.constantFrom<FreezeWindow[]>([weekly], [overnight], [weekly, overnight]),
        (minute, freeze) => {
          const from = Date.parse(T0) + minute * MINUTE;
          const end = freezeEndsAt(policy({ freeze }), from)!;
          expect(end).toBeGreaterThanOrEqual(from);
          expect(
            decide(initialServiceState('api-backend'), alert(), policy({ freeze }), null, blamedTarget(at(-5)), null, {
              evaluatedAt: new Date(end).toISOString(),
            }).verdicts.find((v) => v.rule === 'freeze')!.passed,
          ).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});
