import fc from 'fast-check';
import {
  DEFAULT_POLICY,
  PolicySettings,
  decisionIdFor,
  rollbackIdFor,
  type AlertEvent,
  type IncidentRecord,
  type IncidentRollback,
  type ProgressStage,
  type RollbackProgress,
  type ServiceState,
  type TargetRecord,
} from '@burnback/contracts';
import { alertEvent, blamedTarget, historyRollout, withBlamedTarget } from '@burnback/testkit/fixtures';
import {
  applyDecision,
  applyIncident,
  cooldownStartOf,
  decide as decideAs,
  initialServiceState,
  initialTargetRecord,
  recordOutcomeOnService,
  recordOutcomeOnTarget,
  recordProgressOnIncident,
  recordBurnOnTarget,
  rebuildTarget,
  type Decision,
} from './index.js';

/** decide() with the burn clearly rel-002's fault unless the test gives a target (testkit's blamedTarget). */
const decide = withBlamedTarget(decideAs);

const T0 = '2026-11-26T10:00:00.000Z';
const MINUTE = 60_000;
const at = (minutes: number): string => new Date(Date.parse(T0) + minutes * MINUTE).toISOString();
const alert = (overrides: Partial<AlertEvent> = {}): AlertEvent =>
  alertEvent('0.loop', { startedAt: at(-5), observedAt: T0, ...overrides });
const rule = (d: Decision, name: string) => d.verdicts.find((v) => v.rule === name)!;
const rollbackOf = (stage: ProgressStage | null, finishedAt: string | null = null): IncidentRollback => ({
  rollbackId: 'rb-1',
  decisionId: 'dec-1',
  stage,
  finishedAt,
  releaseId: null,
  fromReleaseId: null,
  detail: null,
});
const openIncident = (rollback: IncidentRollback | null) => ({ state: 'open' as const, endedAt: null, rollback });
const identity = { project: 'p', region: 'us-central1', pipeline: 'api-backend-pipeline', target: 'production' };
const progress = (stage: ProgressStage, overrides: Partial<RollbackProgress> = {}): RollbackProgress => ({
  rollbackId: 'rb-1',
  decisionId: 'dec-1',
  incidentId: '0.loop',
  service: 'api-backend',
  target: 'production',
  stage,
  sequence: stage === 'accepted' ? 1 : stage === 'started' ? 2 : 3,
  rolloutName: 'r',
  releaseId: 'rel-002',
  fromReleaseId: 'rel-003',
  detail: stage,
  at: at(12),
  ...overrides,
});

describe('event time: a future observed time is clamped to the receipt time', () => {
  it('an observed time after the receipt time is clamped, and the decision says so', () => {
    const d = decide(initialServiceState('api-backend'), alert({ observedAt: '2999-01-01T00:00:00.000Z', receivedAt: T0 }), DEFAULT_POLICY);
    expect(d.decidedAt).toBe(T0);
    expect(rule(d, 'event-time')).toEqual({
      rule: 'event-time',
      passed: true,
      detail: `observed time 2999-01-01T00:00:00.000Z is after the receipt time ${T0}: clamped to ${T0}`,
    });
    expect(d.action).toBe('rollback');
  });

  it.each([
    ['equal to the receipt time', T0],
    ['before the receipt time', at(1)],
  ])('an observed time %s is kept', (_name, receivedAt) => {
    const d = decide(initialServiceState('api-backend'), alert({ receivedAt }), DEFAULT_POLICY);
    expect(d.decidedAt).toBe(T0);
    expect(rule(d, 'event-time').detail).toBe(`observed at ${T0}`);
  });

  it('a clamped decision is recorded at the receipt time, so a clock far ahead never blocks later rollbacks', () => {
    const state = initialServiceState('api-backend');
    const d = decide(state, alert({ observedAt: '2999-01-01T00:00:00.000Z', receivedAt: T0 }), DEFAULT_POLICY);
    const after = applyDecision(state, d, 'dec-1', 'rb-1', DEFAULT_POLICY);
    expect(after.recentRollbacks[0]!.decidedAt).toBe(T0);
    const later = decide(after, alertEvent('0.next', { startedAt: at(60), observedAt: at(61) }), DEFAULT_POLICY);
    expect(later.action).toBe('rollback');
  });
});

describe('one rollback per incident; a failed one is never retried automatically', () => {
  it.each<[string, IncidentRollback | null, 'rollback' | 'hold' | 'escalate', string]>([
    ['no rollback yet', null, 'rollback', 'incident 0.loop has not been rolled back'],
    ['a rollback ordered, no progress yet', rollbackOf(null), 'hold', 'still in progress (ordered): at most one rollback per incident'],
    ['a rollback accepted', rollbackOf('accepted'), 'hold', 'still in progress (accepted)'],
    ['a rollback started', rollbackOf('started'), 'hold', 'still in progress (started)'],
    [
      'a failed rollback',
      rollbackOf('failed', at(-2)),
      'escalate',
      `which failed at ${at(-2)}: a failed rollback is never retried automatically`,
    ],
    ['a failed rollback, time unknown', rollbackOf('failed'), 'escalate', 'rb-1, which failed: a failed rollback'],
    [
      'a superseded rollback: decided again on the new world',
      rollbackOf('superseded'),
      'rollback',
      'was superseded before it rolled anything back',
    ],
    ['a succeeded rollback still burning', rollbackOf('succeeded', at(-2)), 'escalate', `which succeeded at ${at(-2)}, and it still burns`],
    ['a succeeded rollback, time unknown', rollbackOf('succeeded'), 'escalate', 'rb-1, which succeeded, and it still burns'],
  ])('%s → %s', (_name, rollback, action, detail) => {
    const d = decide(initialServiceState('api-backend'), alert(), DEFAULT_POLICY, openIncident(rollback));
    expect(d.action).toBe(action);
    expect(rule(d, 'one-rollback-per-incident').detail).toContain(detail);
    if (action !== 'rollback')
      expect(d.reason).toBe(`${action === 'escalate' ? 'escalate' : 'no rollback'}: ${rule(d, 'one-rollback-per-incident').detail}`);
  });

  it('a recovered incident whose rollback failed is held, not escalated: the rule before says why', () => {
    const d = decide(initialServiceState('api-backend'), alert({ state: 'closed', endedAt: T0 }), DEFAULT_POLICY, {
      state: 'open',
      endedAt: null,
      rollback: rollbackOf('failed'),
    });
    expect(d.action).toBe('hold');
  });

  it('a failed rollback escalates even inside the cooldown and the rate limit', () => {
    const state: ServiceState = {
      ...initialServiceState('api-backend'),
      recentRollbacks: [1, 2, 3].map((m) => ({ rollbackId: `rb-${m}`, decidedAt: at(-m), outcome: null, finishedAt: null })),
    };
    expect(decide(state, alert(), DEFAULT_POLICY, openIncident(rollbackOf('failed'))).action).toBe('escalate');
  });
});

describe('no ping-pong: a burn on the release Burnback returned to escalates', () => {
  const target = (serving: string | null, returnedTo: string | null, quarantined: string[] = []) => ({
    target: 'production',
    quarantined: quarantined.map((releaseId) => ({ releaseId, rollbackId: 'rb-0', incidentId: '0.old', at: at(-40) })),
    returnedTo: returnedTo === null ? null : { releaseId: returnedTo, rollbackId: 'rb-0', incidentId: '0.old', at: at(-40) },
    serving: serving === null ? null : { releaseId: serving, since: at(-40), burnedAt: null, rollout: null, phase: null },
    previous: null,
  });

  it.each<[string, ReturnType<typeof target> | null, 'rollback' | 'escalate']>([
    // Without a known serving release the burn cannot be blamed on one: escalate (confidence), never roll back.
    ['no target record', null, 'escalate'],
    ['nothing returned to', target('rel-002', null), 'rollback'],
    ['serving unknown (superseded)', target(null, 'rel-002'), 'escalate'],
    ['serving another release', target('rel-004', 'rel-002'), 'rollback'],
    ['serving the release returned to', target('rel-002', 'rel-002', ['rel-003']), 'escalate'],
  ])('%s → %s', (_name, t, action) => {
    const d = decide(initialServiceState('api-backend'), alert(), DEFAULT_POLICY, null, t);
    expect(d.action).toBe(action);
  });

  it('the escalation names the release, the rollback and the quarantine', () => {
    const d = decide(
      initialServiceState('api-backend'),
      alert(),
      DEFAULT_POLICY,
      null,
      target('rel-002', 'rel-002', ['rel-003', 'rel-001']),
    );
    expect(d.reason).toBe(
      `escalate: production serves rel-002, the release Burnback returned to (rollback rb-0 at ${at(-40)}): rolling back again would ping-pong; quarantined: rel-003, rel-001`,
    );
  });

  it('a passing verdict still lists the quarantine', () => {
    const d = decide(initialServiceState('api-backend'), alert(), DEFAULT_POLICY, null, target('rel-004', 'rel-002', ['rel-003']));
    expect(rule(d, 'returned-release')).toEqual({
      rule: 'returned-release',
      passed: true,
      detail: 'the target does not serve a release Burnback returned to; quarantined: rel-003',
    });
  });
});

describe('the cooldown counts from the rollback real outcome', () => {
  const stateWith = (
    decidedAgo: number,
    finishedAgo: number | null,
    outcome: 'succeeded' | 'failed' | null = 'succeeded',
  ): ServiceState => ({
    ...initialServiceState('api-backend'),
    recentRollbacks: [
      {
        rollbackId: 'rb-1',
        decidedAt: at(-decidedAgo),
        outcome: finishedAgo === null ? null : outcome,
        finishedAt: finishedAgo === null ? null : at(-finishedAgo),
      },
    ],
  });

  it.each<[string, ServiceState, boolean, string]>([
    [
      'decided 60 min ago, finished 10 min ago',
      stateWith(60, 10),
      false,
      'last rollback succeeded 10 min ago is within the 30 min cooldown',
    ],
    ['decided 60 min ago, failed 29 min ago', stateWith(60, 29, 'failed'), false, 'last rollback failed 29 min ago is within'],
    [
      'decided 90 min ago, finished 30 min ago',
      stateWith(90, 30),
      true,
      'last rollback succeeded 30 min ago is outside the 30 min cooldown',
    ],
    ['decided 40 min ago, outcome unknown', stateWith(40, null), true, 'last rollback 40 min ago is outside'],
    ['decided 20 min ago, outcome unknown', stateWith(20, null), false, 'last rollback 20 min ago is within'],
  ])('%s', (_name, state, passed, detail) => {
    const v = rule(decide(state, alert(), DEFAULT_POLICY), 'cooldown');
    expect(v.passed).toBe(passed);
    expect(v.detail).toContain(detail);
  });

  it('the newest finish wins, whichever rollback was decided last', () => {
    const state: ServiceState = {
      ...initialServiceState('api-backend'),
      recentRollbacks: [
        { rollbackId: 'rb-a', decidedAt: at(-120), outcome: 'succeeded', finishedAt: at(-5) },
        { rollbackId: 'rb-b', decidedAt: at(-50), outcome: 'succeeded', finishedAt: at(-45) },
      ],
    };
    expect(rule(decide(state, alert(), DEFAULT_POLICY), 'cooldown').detail).toBe(
      'last rollback succeeded 5 min ago is within the 30 min cooldown',
    );
    expect(cooldownStartOf(state.recentRollbacks[0]!)).toBe(Date.parse(at(-5)));
  });

  it('a finish without an outcome reads as finished', () => {
    const state: ServiceState = {
      ...initialServiceState('api-backend'),
      recentRollbacks: [{ rollbackId: 'rb-a', decidedAt: at(-120), outcome: null, finishedAt: at(-5) }],
    };
    expect(rule(decide(state, alert(), DEFAULT_POLICY), 'cooldown').detail).toBe(
      'last rollback finished 5 min ago is within the 30 min cooldown',
    );
  });
});

describe('recording progress', () => {
  const stateWithRb = (): ServiceState => ({
    ...initialServiceState('api-backend'),
    recentRollbacks: [
      { rollbackId: 'rb-0', decidedAt: at(-90), outcome: null, finishedAt: null },
      { rollbackId: 'rb-1', decidedAt: at(0), outcome: null, finishedAt: null },
    ],
  });

  it.each<[ProgressStage, boolean]>([
    ['accepted', false],
    ['started', false],
    ['succeeded', true],
    ['failed', true],
    ['superseded', true],
  ])('the service records the outcome %s: %s', (stage, records) => {
    const next = recordOutcomeOnService(stateWithRb(), progress(stage));
    expect(next.recentRollbacks[1]).toEqual(
      records
        ? { rollbackId: 'rb-1', decidedAt: at(0), outcome: stage, finishedAt: at(12) }
        : { rollbackId: 'rb-1', decidedAt: at(0), outcome: null, finishedAt: null },
    );
    expect(next.recentRollbacks[0]!.outcome).toBeNull();
  });

  it('the first final stage wins; an unknown rollback changes nothing', () => {
    const once = recordOutcomeOnService(stateWithRb(), progress('failed'));
    expect(recordOutcomeOnService(once, progress('succeeded', { at: at(50) }))).toBe(once);
    expect(recordOutcomeOnService(once, progress('succeeded', { rollbackId: 'rb-x' }))).toBe(once);
  });

  const incident = (rollback: IncidentRollback | null): IncidentRecord => ({
    incidentId: '0.loop',
    service: 'api-backend',
    state: 'open',
    startedAt: at(-5),
    endedAt: null,
    observedAt: T0,
    lastDecisionId: 'dec-1',
    decisionIds: ['dec-1'],
    rollback,
    supersededRollbacks: [],
    monitoringUnavailableSince: null,
  });

  it('the incident follows its rollback forward, and keeps a final stage', () => {
    let i = incident(rollbackOf(null));
    i = recordProgressOnIncident(i, progress('accepted', { releaseId: null, fromReleaseId: null }));
    expect(i.rollback).toEqual({ ...rollbackOf('accepted'), detail: 'accepted' });
    i = recordProgressOnIncident(i, progress('started'));
    expect(i.rollback).toMatchObject({ stage: 'started', finishedAt: null, releaseId: 'rel-002', fromReleaseId: 'rel-003' });
    expect(recordProgressOnIncident(i, progress('accepted'))).toBe(i);
    expect(recordProgressOnIncident(i, progress('started'))).toBe(i);
    i = recordProgressOnIncident(i, progress('failed', { releaseId: null, fromReleaseId: null, detail: 'no release' }));
    expect(i.rollback).toMatchObject({
      stage: 'failed',
      finishedAt: at(12),
      releaseId: 'rel-002',
      fromReleaseId: 'rel-003',
      detail: 'no release',
    });
    expect(recordProgressOnIncident(i, progress('succeeded'))).toBe(i);
  });

  it('an incident without a recorded rollback takes it from the progress; another rollback id changes nothing', () => {
    expect(recordProgressOnIncident(incident(null), progress('succeeded')).rollback).toEqual({
      rollbackId: 'rb-1',
      decisionId: 'dec-1',
      stage: 'succeeded',
      finishedAt: at(12),
      releaseId: 'rel-002',
      fromReleaseId: 'rel-003',
      detail: 'succeeded',
    });
    const mine = incident(rollbackOf('started'));
    expect(recordProgressOnIncident(mine, progress('failed', { rollbackId: 'rb-other' }))).toBe(mine);
  });

  it('a succeeded rollback quarantines the release it left and remembers the one it returned to', () => {
    const t = recordOutcomeOnTarget(initialTargetRecord(identity, at(0)), progress('succeeded', { servingSince: at(10) }));
    expect(t).toEqual({
      ...identity,
      quarantined: [{ releaseId: 'rel-003', rollbackId: 'rb-1', incidentId: '0.loop', at: at(12) }],
      returnedTo: { releaseId: 'rel-002', rollbackId: 'rb-1', incidentId: '0.loop', at: at(12) },
      serving: { releaseId: 'rel-002', since: at(10), burnedAt: null, rollout: 'r', phase: null },
      previous: null,
      timeline: [
        {
          releaseId: 'rel-002',
          rollout: 'r',
          from: at(10),
          stoppedAt: null,
          state: 'SUCCEEDED',
          phase: null,
          rollback: true,
          burnedAt: null,
        },
      ],
      latestRollout: null,
      historyReadAt: null,
      updatedAt: at(12),
    });
    expect(recordOutcomeOnTarget(t, progress('succeeded', { at: at(30) }))).toBe(t);
  });

  it('a target remembers the 20 newest quarantined releases', () => {
    let t = initialTargetRecord(identity, at(0));
    for (let i = 1; i <= 25; i++) {
      t = recordOutcomeOnTarget(
        t,
        progress('succeeded', { rollbackId: `rb-${i}`, fromReleaseId: `rel-bad-${i}`, releaseId: 'rel-good', at: at(i) }),
      );
    }
    expect(t.quarantined.map((q) => q.releaseId)).toEqual(Array.from({ length: 20 }, (_, i) => `rel-bad-${i + 6}`));
  });

  it('a succeeded rollback away from the serving release makes it the previous one, burned as recorded', () => {
    const shipped = rebuildTarget(initialTargetRecord(identity, at(0)), [historyRollout('rel-003', at(1), 'SUCCEEDED')], at(2));
    const burned = recordBurnOnTarget(shipped, at(3));
    const t = recordOutcomeOnTarget(burned, progress('succeeded', { servingSince: at(11) }));
    expect(t.serving).toMatchObject({ releaseId: 'rel-002', since: at(11), burnedAt: null });
    expect(t.previous).toMatchObject({ releaseId: 'rel-003', since: at(1), until: at(11), burnedAt: at(3) });
  });

  it('a release already quarantined, or left unknown, is not quarantined twice', () => {
    const t = recordOutcomeOnTarget(initialTargetRecord(identity, at(0)), progress('succeeded'));
    const again = recordOutcomeOnTarget(t, progress('succeeded', { rollbackId: 'rb-2', releaseId: 'rel-001', at: at(90) }));
    expect(again.quarantined.map((q) => q.releaseId)).toEqual(['rel-003']);
    expect(again.returnedTo).toMatchObject({ releaseId: 'rel-001', rollbackId: 'rb-2' });
    const unknown = recordOutcomeOnTarget(initialTargetRecord(identity, at(0)), progress('succeeded', { fromReleaseId: undefined }));
    expect(unknown.quarantined).toEqual([]);
    const same = recordOutcomeOnTarget(initialTargetRecord(identity, at(0)), progress('succeeded', { fromReleaseId: 'rel-002' }));
    expect(same.quarantined).toEqual([]);
  });

  it('a succeeded rollback without a release, a failure, a supersession and earlier stages change nothing on the target', () => {
    const t: TargetRecord = initialTargetRecord(identity, at(0));
    expect(recordOutcomeOnTarget(t, progress('succeeded', { releaseId: null }))).toBe(t);
    for (const stage of ['accepted', 'started', 'failed', 'superseded'] as const) expect(recordOutcomeOnTarget(t, progress(stage))).toBe(t);
    expect(recordOutcomeOnTarget(t, progress('succeeded', { validateOnly: true }))).toBe(t);
  });
});

describe('what serves a target, from Cloud Deploy', () => {
  const history = [historyRollout('rel-001', at(1), 'SUCCEEDED'), historyRollout('rel-002', at(30), 'SUCCEEDED')];

  it('a burn marks the release that served when it started: the serving one, or the previous one', () => {
    const t = rebuildTarget(initialTargetRecord(identity, at(0)), history, at(31));
    const onServing = recordBurnOnTarget(t, at(40));
    expect(onServing.serving).toMatchObject({ releaseId: 'rel-002', since: at(30), burnedAt: at(40) });
    expect(recordBurnOnTarget(onServing, at(45))).toBe(onServing);
    expect(recordBurnOnTarget(onServing, at(35)).serving!.burnedAt).toBe(at(35));
    expect(recordBurnOnTarget(t, at(30)).serving!.burnedAt).toBe(at(30));
    const onPrevious = recordBurnOnTarget(t, at(10));
    expect(onPrevious.previous).toMatchObject({ releaseId: 'rel-001', since: at(1), until: at(30), burnedAt: at(10) });
    expect(onPrevious.serving!.burnedAt).toBeNull();
    expect(recordBurnOnTarget(onPrevious, at(20))).toBe(onPrevious);
    expect(recordBurnOnTarget(t, at(0))).toBe(t);
    const empty = initialTargetRecord(identity, at(0));
    expect(recordBurnOnTarget(empty, at(10))).toBe(empty);
  });

  it('a record without a timeline marks its serving or previous release as before', () => {
    const legacy: TargetRecord = {
      ...initialTargetRecord(identity, at(0)),
      serving: { releaseId: 'rel-002', since: at(30), burnedAt: null, rollout: null, phase: null },
      previous: { releaseId: 'rel-001', since: at(1), until: at(30), burnedAt: null, rollout: null, phase: null },
    };
    expect(recordBurnOnTarget(legacy, at(40)).serving!.burnedAt).toBe(at(40));
    expect(recordBurnOnTarget(legacy, at(10)).previous!.burnedAt).toBe(at(10));
    expect(recordBurnOnTarget(legacy, at(0))).toBe(legacy);
  });

  it('once another release serves, a burn that starts after it rolls back again instead of escalating', () => {
    const rolledBack = recordOutcomeOnTarget(initialTargetRecord(identity, at(0)), progress('succeeded', { servingSince: at(10) }));
    const t = rebuildTarget(
      rolledBack,
      [historyRollout('rel-002', at(10), 'SUCCEEDED', { id: 'r' }), historyRollout('rel-004', at(30), 'SUCCEEDED')],
      at(31),
    );
    const next = alertEvent('0.next', { startedAt: at(40), observedAt: at(60) });
    const d = decide(initialServiceState('api-backend'), next, DEFAULT_POLICY, null, t);
    expect(d.action).toBe('rollback');
    expect(d.cause).toEqual({ releaseId: 'rel-004', servingSince: at(30) });
  });

  it('a burn that began during a canary is blamed on the canary, and rolls back', () => {
    const canary = historyRollout('rel-005', at(30), 'IN_PROGRESS', { phase: 'canary-25' });
    const t = rebuildTarget(
      initialTargetRecord(identity, at(0)),
      [...history.slice(0, 1), historyRollout('rel-002', at(5), 'SUCCEEDED'), canary],
      at(33),
    );
    const d = decide(
      initialServiceState('api-backend'),
      alertEvent('0.canary', { startedAt: at(32), observedAt: at(34) }),
      DEFAULT_POLICY,
      null,
      t,
    );
    expect(d.action).toBe('rollback');
    expect(d.cause).toEqual({ releaseId: 'rel-005', servingSince: at(30) });
    expect(rule(d, 'confidence').detail).toContain('rel-005');
  });
});

describe('applyIncident', () => {
  const d = (overrides: Partial<AlertEvent> = {}) => decide(initialServiceState('api-backend'), alert(overrides), DEFAULT_POLICY);

  it('the first notification opens the record: its times, its decision, no superseded rollbacks', () => {
    expect(applyIncident(null, alert(), d(), 'dec-1', 'rb-1')).toEqual({
      incidentId: '0.loop',
      service: 'api-backend',
      state: 'open',
      startedAt: at(-5),
      endedAt: null,
      observedAt: T0,
      lastDecisionId: 'dec-1',
      decisionIds: ['dec-1'],
      rollback: rollbackOf(null),
      supersededRollbacks: [],
      monitoringUnavailableSince: null,
    });
  });

  it('a rollback decision records the incident rollback; a refusal records none', () => {
    expect(applyIncident(null, alert(), d(), 'dec-1', 'rb-1').rollback).toEqual(rollbackOf(null));
    expect(applyIncident(null, alert(), d(), 'dec-1', null).rollback).toBeNull();
    expect(applyIncident(null, alert({ observedValue: 0.001 }), d({ observedValue: 0.001 }), 'dec-1', 'rb-1').rollback).toBeNull();
  });

  it('a known rollback is kept with its progress; closed is final; times move forward; decisions accumulate', () => {
    const first = applyIncident(null, alert(), d(), 'dec-1', 'rb-1');
    const progressed = recordProgressOnIncident(first, progress('failed'));
    // A later notification that reports another start keeps the one first known.
    const next = applyIncident(progressed, alert({ observedAt: at(-1), startedAt: at(-3) }), d({ observedAt: at(-1) }), 'dec-2', null);
    expect(next).toMatchObject({
      rollback: progressed.rollback,
      startedAt: at(-5),
      observedAt: T0,
      decisionIds: ['dec-1', 'dec-2'],
      lastDecisionId: 'dec-2',
    });
    const closed = applyIncident(
      next,
      alert({ state: 'closed', endedAt: at(3), observedAt: at(3) }),
      d({ state: 'closed', observedAt: at(3) }),
      'dec-3',
      null,
    );
    expect(closed).toMatchObject({ state: 'closed', endedAt: at(3), observedAt: at(3) });
    expect(applyIncident(closed, alert(), d(), 'dec-4', null).state).toBe('closed');
  });

  it('the incident observed time is the clamped one', () => {
    const ev = alert({ observedAt: '2999-01-01T00:00:00.000Z', receivedAt: T0 });
    expect(applyIncident(null, ev, decide(initialServiceState('api-backend'), ev, DEFAULT_POLICY), 'dec-1', null).observedAt).toBe(T0);
  });
});

/**
 * The decider's fold, in memory: the same pure functions and derived ids it uses,
 * with its dedupe on the decision id, and the target serving what its own
 * rollbacks returned to. Properties over generated streams of notifications.
 */
describe('streams of notifications', () => {
  interface World {
    state: ServiceState;
    incidents: Map<string, IncidentRecord>;
    decisions: Map<string, Decision & { rollbackId: string | null }>;
    rollbacks: Array<{ rollbackId: string; incidentId: string; decidedAt: string }>;
    /** rel-002 serving since before every burn; a burn seen on it is recorded, as the decider does. */
    target: TargetRecord;
  }
  const fold = (events: AlertEvent[], policy: PolicySettings): { world: World; log: string[] } => {
    const world: World = {
      state: initialServiceState('api-backend'),
      incidents: new Map(),
      decisions: new Map(),
      rollbacks: [],
      target: blamedTarget(at(-5)),
    };
    const log: string[] = [];
    for (const event of events) {
      const decisionId = decisionIdFor(event.incidentId, event.state, event.startedAt, event.notificationId);
      if (world.decisions.has(decisionId)) continue;
      const incident = world.incidents.get(event.incidentId) ?? null;
      const decision = decide(world.state, event, policy, incident, world.target);
      if (decision.burnStartedAt !== null) world.target = recordBurnOnTarget(world.target, decision.burnStartedAt);
      const rollbackId = decision.action === 'rollback' ? rollbackIdFor(event.incidentId) : null;
      world.decisions.set(decisionId, { ...decision, rollbackId });
      world.state = applyDecision(world.state, decision, decisionId, rollbackId, policy);
      world.incidents.set(event.incidentId, applyIncident(incident, event, decision, decisionId, rollbackId));
      if (rollbackId) world.rollbacks.push({ rollbackId, incidentId: event.incidentId, decidedAt: decision.decidedAt });
      log.push(`${decisionId} ${decision.action} ${decision.reason}`);
    }
    return { world, log };
  };

  const arbEvent = fc
    .record({
      incident: fc.integer({ min: 0, max: 5 }),
      minute: fc.integer({ min: 0, max: 6 * 60 }),
      value: fc.constantFrom(0.005, 0.02, 0.05, 0.3),
      closed: fc.boolean(),
      future: fc.integer({ min: 0, max: 20 }),
    })
    .map(({ incident, minute, value, closed, future }): AlertEvent => {
      const observedAt = future === 0 ? at(minute + 10_000) : at(minute);
      return alertEvent(`0.i${incident}`, {
        startedAt: at(-5),
        observedAt,
        receivedAt: at(minute),
        observedValue: value,
        state: closed && future % 4 === 0 ? 'closed' : 'open',
        endedAt: closed && future % 4 === 0 ? at(minute) : null,
        notificationId: `ntf-${incident}-${minute}-${value}-${closed}`,
      });
    });
  const arbPolicy = fc
    .record({ maxRollbacksPerHour: fc.integer({ min: 0, max: 4 }), cooldownMinutes: fc.constantFrom(0, 5, 30) })
    .map((p) => PolicySettings.parse(p));
  const arbStream = fc.array(arbEvent, { maxLength: 18 });

  it('no service ever exceeds its rate limit in any hour', () => {
    fc.assert(
      fc.property(arbStream, arbPolicy, (events, policy) => {
        const times = fold(events, policy)
          .world.rollbacks.map((r) => Date.parse(r.decidedAt))
          .sort((a, b) => a - b);
        for (const start of times) {
          const inHour = times.filter((t) => t >= start && t < start + 60 * MINUTE).length;
          expect(inHour).toBeLessThanOrEqual(policy.maxRollbacksPerHour);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('at most one rollback per incident', () => {
    fc.assert(
      fc.property(arbStream, arbPolicy, (events, policy) => {
        const incidents = fold(events, policy).world.rollbacks.map((r) => r.incidentId);
        expect(new Set(incidents).size).toBe(incidents.length);
      }),
      { numRuns: 300 },
    );
  });

  it('duplicates anywhere in a stream change no decision', () => {
    fc.assert(
      fc.property(
        arbStream.filter((e) => e.length > 0),
        arbPolicy,
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 6 }),
        (events, policy, copies) => {
          const withDuplicates = [...events];
          // A copy of an event is only ever delivered after the event itself (a redelivery), anywhere later.
          for (const [which, where] of copies) {
            const i = which % events.length;
            const original = withDuplicates.indexOf(events[i]!);
            const pos = original + 1 + (where % (withDuplicates.length - original));
            withDuplicates.splice(pos, 0, { ...events[i]!, receivedAt: at(9_999) });
          }
          expect(fold(withDuplicates, policy).log).toEqual(fold(events, policy).log);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('replaying the same events gives identical decisions', () => {
    fc.assert(
      fc.property(arbStream, arbPolicy, (events, policy) => {
        const first = fold(events, policy);
        const replay = fold(structuredClone(events), policy);
        expect(replay.log).toEqual(first.log);
        expect([...replay.world.decisions.entries()]).toEqual([...first.world.decisions.entries()]);
      }),
      { numRuns: 200 },
    );
  });

  it('a re-notification with new figures is decided again, but never rolls back twice', () => {
    const first = alert({ notificationId: 'ntf-a', observedValue: 0.02 });
    const again = alert({ notificationId: 'ntf-b', observedValue: 0.3, observedAt: at(45), receivedAt: at(45) });
    const { world, log } = fold([first, again, first], PolicySettings.parse({ cooldownMinutes: 0 }));
    expect(log).toHaveLength(2);
    expect(log[0]).toMatch(/ rollback roll back/);
    expect(log[1]).toMatch(/ hold no rollback: incident 0.loop already has its one rollback/);
    expect(world.rollbacks).toHaveLength(1);
  });
});
