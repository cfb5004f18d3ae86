import {
  DEFAULT_POLICY,
  PolicySettings,
  type Acknowledgement,
  type AlertEvent,
  type FleetView,
  type IncidentRollback,
  type Pause,
  type ServiceState,
  type TargetRecord,
} from '@burnback/contracts';
import { alertEvent, blamedTarget } from '@burnback/testkit/fixtures';
import {
  approvableUntil,
  commandServingRollout,
  decide,
  initialServiceState,
  supersedingControl,
  type DecisionControls,
  type IncidentView,
} from './index.js';

/**
 * Approving a recommendation: the approval is judged again at approval time,
 * on the recommendation's incident, by the same controls as a manual request,
 * and mode recommend lets it through (it is the human step the mode asks for).
 */
const T0 = '2026-11-26T10:00:00.000Z'; // a Thursday
const MINUTE = 60_000;
const at = (minutes: number): string => new Date(Date.parse(T0) + minutes * MINUTE).toISOString();
const target = blamedTarget(at(-20));
const SERVING = target.serving!.rollout!;
const CAUSE = { releaseId: 'rel-002', servingSince: target.serving!.since };
const REC = 'dec-000000000000000000000rec';

type Approval = NonNullable<NonNullable<AlertEvent['manual']>['approves']>;
const approval = (
  manual: Partial<Omit<NonNullable<AlertEvent['manual']>, 'approves'>> = {},
  approves: Partial<Approval> = {},
  overrides: Partial<AlertEvent> = {},
): AlertEvent =>
  alertEvent('0.rec', {
    startedAt: at(-15),
    observedAt: T0,
    source: 'manual',
    signal: 'unsupported',
    observedValue: null,
    signalValue: null,
    manual: {
      requestedBy: 'alice',
      reason: 'the canary is bad',
      force: false,
      releaseId: null,
      approves: { decisionId: REC, until: at(20), cause: CAUSE, servingRollout: SERVING, ...approves },
      ...manual,
    },
    ...overrides,
  });
const stateWith = (...minutesAgo: number[]): ServiceState => ({
  ...initialServiceState('api-backend'),
  recentRollbacks: minutesAgo.map((m, i) => ({ rollbackId: `rb-${i}`, decidedAt: at(-m), outcome: null, finishedAt: null })),
});
const recommend = (overrides: Partial<PolicySettings> = {}): PolicySettings =>
  PolicySettings.parse({ ...DEFAULT_POLICY, mode: 'recommend', ...overrides });
const openIncident: IncidentView = { state: 'open', endedAt: null };
const withRollback = (stage: IncidentRollback['stage'], finishedAt: string | null = null): IncidentView => ({
  ...openIncident,
  rollback: { rollbackId: 'rb-x', decisionId: 'd', stage, finishedAt, releaseId: null, fromReleaseId: null, detail: null },
});
const run = (
  event: AlertEvent = approval(),
  options: {
    policy?: Partial<PolicySettings>;
    state?: ServiceState;
    incident?: IncidentView | null;
    target?: TargetRecord | null;
    controls?: DecisionControls;
  } = {},
) =>
  decide(
    options.state ?? stateWith(),
    event,
    recommend(options.policy),
    options.incident === undefined ? openIncident : options.incident,
    options.target === undefined ? target : options.target,
    null,
    options.controls ?? { fleet: { burningServices: [], inFlight: [], readAt: T0 } },
  );
const verdict = (d: ReturnType<typeof run>, rule: string) => d.verdicts.find((v) => v.rule === rule)!;
const pause: Pause = { until: at(10), reason: 'migration', by: 'bob', at: at(-30) };
const busyFleet = (inFlight: number): FleetView => ({
  burningServices: [],
  inFlight: Array.from({ length: inFlight }, (_, i) => `svc-${i}`),
  readAt: T0,
});
const APPROVED = `alice approved recommendation ${REC} to roll back rel-002: the canary is bad`;

describe('until when a recommendation may be approved', () => {
  it('a recommend decision may be approved for approvalTtlMinutes after the decider evaluated it; any other decision never', () => {
    expect(approvableUntil('recommend', T0, { approvalTtlMinutes: 30 })).toBe(at(30));
    expect(approvableUntil('recommend', T0, { approvalTtlMinutes: 0.5 })).toBe('2026-11-26T10:00:30.000Z');
    for (const action of ['rollback', 'hold', 'escalate', 'ignore'] as const)
      expect(approvableUntil(action, T0, { approvalTtlMinutes: 30 })).toBeNull();
  });

  it("decide() puts it on a recommendation, counted from the decider's clock, not the alert's", () => {
    const burn = alertEvent('0.burn', { startedAt: at(-15), observedAt: T0 });
    const recommended = decide(stateWith(), burn, recommend(), null, target, null, { evaluatedAt: at(5) });
    expect(recommended.action).toBe('recommend');
    expect(recommended.approvableUntil).toBe(at(35));
    expect(decide(stateWith(), burn, recommend({ approvalTtlMinutes: 10 }), null, target).approvableUntil).toBe(at(10));
    expect(decide(stateWith(), burn, DEFAULT_POLICY, null, target).approvableUntil).toBeNull();
    // A manual request in mode recommend is a recommendation too.
    const manual = alertEvent('manual-1', {
      observedAt: T0,
      source: 'manual',
      manual: { requestedBy: 'carol', reason: 'bad flag', force: false, releaseId: null },
    });
    expect(decide(stateWith(), manual, recommend(), null, target).approvableUntil).toBe(at(30));
    expect(decide(stateWith(), manual, DEFAULT_POLICY, null, target).approvableUntil).toBeNull();
  });
});

describe('an approval of a recommendation', () => {
  it('with nothing in the way rolls back, saying who approved which recommendation and why, blaming what it blamed', () => {
    const d = run();
    expect(d.action).toBe('rollback');
    expect(d.reason).toBe(`roll back: approval: ${APPROVED}`);
    expect(d.verdicts.map((v) => v.rule)).toEqual([
      'event-time',
      'enabled',
      'incident-open',
      'one-rollback-per-incident',
      'approval',
      'serving-unchanged',
      'paused',
      'freeze',
      'fleet-breaker',
      'rate-limit',
      'cooldown',
      'mode',
    ]);
    expect(verdict(d, 'approval')).toEqual({ rule: 'approval', passed: true, detail: APPROVED });
    expect(verdict(d, 'incident-open')).toEqual({ rule: 'incident-open', passed: true, detail: 'incident 0.rec is open' });
    expect(verdict(d, 'serving-unchanged')).toEqual({
      rule: 'serving-unchanged',
      passed: true,
      detail: `rollout ${SERVING} still serves production, as when it was recommended`,
    });
    expect(verdict(d, 'mode')).toEqual({
      rule: 'mode',
      passed: true,
      detail: "mode recommend: alice's approval is the human step it asks for",
    });
    expect(d).toMatchObject({
      decidedAt: T0,
      evaluatedAt: T0,
      cause: CAUSE,
      confidence: null,
      errorRatio: null,
      burnStartedAt: null,
      redecideAt: null,
      approvableUntil: null,
    });
    // A recommendation that blamed no release says so by leaving it out, and blames none.
    const unblamed = run(approval({}, { cause: null }));
    expect(verdict(unblamed, 'approval').detail).toBe(`alice approved recommendation ${REC}: the canary is bad`);
    expect(unblamed.cause).toBeNull();
  });

  it('a service switched to auto since rolls back too; one switched to observe records it and commands nothing', () => {
    expect(verdict(run(approval(), { policy: { mode: 'auto' } }), 'mode')).toEqual({
      rule: 'mode',
      passed: true,
      detail: 'mode auto: rollbacks are ordered',
    });
    expect(run(approval(), { policy: { mode: 'auto' } }).action).toBe('rollback');
    const observed = run(approval(), { policy: { mode: 'observe' } });
    expect(observed.action).toBe('hold');
    expect(observed.reason).toBe(`no rollback (mode observe), would roll back: approval: ${APPROVED}`);
  });

  it('is refused once its time to approve is over, to the millisecond, at the clamped event time', () => {
    const late = run(approval({}, { until: T0 }));
    expect(late.action).toBe('hold');
    expect(late.reason).toBe(
      `no rollback: alice approved ${REC} at ${T0}, but it could be approved only until ${T0} (approvalTtlMinutes): too late, a new burn brings a new recommendation`,
    );
    expect(run(approval({}, { until: '2026-11-26T10:00:00.001Z' })).action).toBe('rollback');
    // An observed time after the receipt is clamped: the approval is judged at its receipt.
    const clamped = approval({}, { until: '2026-11-26T10:00:00.001Z' }, { observedAt: at(60), receivedAt: T0 });
    expect(run(clamped).action).toBe('rollback');
  });

  it("is refused once its time to approve is over at the decider's clock: an approval decided late from a backlog is late", () => {
    const backlog = { fleet: { burningServices: [], inFlight: [], readAt: T0 }, evaluatedAt: at(20) };
    // Stamped by ingest at T0, well within its time; decided 20 minutes later, exactly at `until`.
    const late = run(approval(), { controls: backlog });
    expect(late.action).toBe('hold');
    expect(late.reason).toBe(
      `no rollback: alice approved ${REC} at ${T0}, decided at ${at(20)}, but it could be approved only until ${at(20)} (approvalTtlMinutes): too late, a new burn brings a new recommendation`,
    );
    expect(late.evaluatedAt).toBe(at(20));
    expect(late.redecideAt).toBeNull();
    // Forcing passes the controls, never the time to approve.
    expect(run(approval({ force: true }), { controls: backlog }).action).toBe('hold');
    // A millisecond before `until` at the decider's clock, it is in time.
    const inTime = run(approval(), { controls: { ...backlog, evaluatedAt: '2026-11-26T10:19:59.999Z' } });
    expect(inTime.action).toBe('rollback');
    expect(verdict(inTime, 'approval')).toEqual({ rule: 'approval', passed: true, detail: APPROVED });
    // A decider clock behind ingest's never extends it: the later of the two times is judged.
    const stampedLate = approval({}, {}, { observedAt: at(20), receivedAt: at(20) });
    expect(run(stampedLate, { controls: { ...backlog, evaluatedAt: at(5) } }).reason).toBe(
      `no rollback: alice approved ${REC} at ${at(20)}, decided at ${at(5)}, but it could be approved only until ${at(20)} (approvalTtlMinutes): too late, a new burn brings a new recommendation`,
    );
  });

  it('is refused when its incident closed: the service recovered', () => {
    const closed = run(approval(), { incident: { state: 'closed', endedAt: at(-1) } });
    expect(closed.action).toBe('hold');
    expect(closed.reason).toBe(
      `no rollback: incident 0.rec closed at ${at(-1)}: the service recovered, the recommendation no longer applies`,
    );
    expect(run(approval(), { incident: { state: 'closed', endedAt: null } }).reason).toBe(
      'no rollback: incident 0.rec closed: the service recovered, the recommendation no longer applies',
    );
    // An incident not on record is judged open (the recommendation's decision wrote it; nothing says it closed).
    expect(run(approval(), { incident: null }).action).toBe('rollback');
  });

  it("takes the incident's one rollback: never a second while one runs, escalates after one failed, and tries again after one was superseded", () => {
    const running = run(approval(), { incident: withRollback('started') });
    expect(running.action).toBe('hold');
    expect(running.reason).toBe(
      'no rollback: incident 0.rec already has its one rollback rb-x, still in progress (started): at most one rollback per incident',
    );
    const failed = run(approval(), { incident: withRollback('failed', at(-2)) });
    expect(failed.action).toBe('escalate');
    expect(failed.reason).toMatch(/^escalate: incident 0\.rec already has its one rollback rb-x, which failed at /);
    expect(run(approval(), { incident: withRollback('superseded', at(-2)) }).action).toBe('rollback');
  });

  it('is carried out once: decided again (its rollback was superseded), it is refused, never carried out on its own', () => {
    const again = approval({}, {}, { redecision: { of: 'dec-approval', trigger: 'rollback-ended', rule: null } });
    const d = run(again, { incident: withRollback('superseded', at(-2)) });
    expect(d.action).toBe('hold');
    expect(d.reason).toBe(
      `no rollback: alice's approval of ${REC} was decided once already: an approval is carried out once, never again on its own (a new burn brings a new recommendation to approve)`,
    );
    expect(d.redecideAt).toBeNull();
  });

  it('acts only on the world its recommendation saw: another rollout serving holds it', () => {
    const hotfix = blamedTarget(at(-20), {
      serving: {
        releaseId: 'rel-003',
        since: at(-1),
        burnedAt: null,
        rollout: 'projects/p/rollouts/rel-003-to-production-0001',
        phase: null,
      },
    });
    const moved = run(approval(), { target: hotfix });
    expect(moved.action).toBe('hold');
    expect(moved.reason).toBe(
      `no rollback: rel-003 serves production now (rollout projects/p/rollouts/rel-003-to-production-0001), not rollout ${SERVING} as when it was recommended: the world changed, the approval does not apply`,
    );
    expect(run(approval(), { target: blamedTarget(at(-20), { serving: null }) }).reason).toBe(
      `no rollback: nothing serves production now, not rollout ${SERVING} as when it was recommended: the world changed, the approval does not apply`,
    );
    // Today's rollout not on record: the command carries the approved rollout, and the executor checks that one.
    const unknown = `the rollout serving now is not on record: the executor checks that rollout ${SERVING}, the one approved, still serves before it rolls back`;
    expect(verdict(run(approval(), { target: null }), 'serving-unchanged')).toEqual({
      rule: 'serving-unchanged',
      passed: true,
      detail: unknown,
    });
    const unrecorded = blamedTarget(at(-20), { serving: { ...target.serving!, rollout: null } });
    expect(verdict(run(approval(), { target: unrecorded }), 'serving-unchanged').detail).toBe(unknown);
    expect(commandServingRollout(approval(), null)).toBe(SERVING);
    expect(commandServingRollout(approval(), hotfix)).toBe(SERVING);
  });

  it('pause, cooldown and rate limit hold it, a freeze and the breaker escalate, as for any manual request', () => {
    expect(run(approval(), { controls: { pause } }).reason).toBe(`no rollback: api-backend is paused until ${at(10)} by bob: migration`);
    expect(run(approval(), { state: stateWith(10) }).reason).toBe('no rollback: last rollback 10 min ago is within the 30 min cooldown');
    expect(run(approval(), { state: stateWith(50, 45, 40), policy: { cooldownMinutes: 0 } }).reason).toBe(
      'no rollback: 3 rollback(s) of api-backend in the last hour; the limit is 3',
    );
    expect(run(approval(), { policy: { freeze: [{ from: at(-1), to: at(1) }] } }).action).toBe('escalate');
    expect(run(approval(), { controls: { fleet: busyFleet(5) } }).action).toBe('escalate');
    expect(run(approval(), { policy: { enabled: false } }).reason).toBe(
      'no rollback: automatic rollbacks are switched off for this service',
    );
    // A hold is not decided again on its own: whoever approved hears why, and approves again (or forces).
    expect(run(approval(), { controls: { pause } }).redecideAt).toBeNull();
  });

  it('force passes pause, freeze, breaker, rate limit and cooldown, saying so; never the time to approve, the closed incident, the world or the mode', () => {
    const forced = approval({ force: true });
    const d = run(forced, {
      controls: { pause, fleet: busyFleet(9) },
      state: stateWith(50, 45, 10),
      policy: { freeze: [{ from: at(-1), to: at(1) }] },
    });
    expect(d.action).toBe('rollback');
    expect(d.reason).toBe(`roll back: approval: ${APPROVED} (force)`);
    for (const rule of ['paused', 'freeze', 'fleet-breaker', 'rate-limit', 'cooldown'])
      expect(verdict(d, rule).detail).toMatch(/^bypassed by force \(the canary is bad\): /);
    expect(run(approval({ force: true }, { until: T0 })).action).toBe('hold');
    expect(run(forced, { incident: { state: 'closed', endedAt: null } }).action).toBe('hold');
    expect(run(forced, { target: blamedTarget(at(-20), { serving: null }) }).action).toBe('hold');
    expect(run(forced, { policy: { mode: 'observe' } }).action).toBe('hold');
  });

  it('an acknowledgement does not hold it: a human is acting', () => {
    const ack: Acknowledgement = { incidentId: '0.rec', by: 'bob', reason: 'on it', at: at(-1) };
    const d = run(approval(), { controls: { acknowledgement: ack } });
    expect(d.action).toBe('rollback');
    expect(d.verdicts.some((v) => v.rule === 'acknowledged')).toBe(false);
  });
});

describe('an approval of a recommendation that recorded no serving rollout', () => {
  const noRollout = (approves: Partial<Approval> = {}, manual: Partial<NonNullable<AlertEvent['manual']>> = {}) =>
    approval(manual, { servingRollout: null, ...approves });
  const HOTFIX = 'projects/p/rollouts/rel-003-to-production-0001';
  const serving = (releaseId: string, since: string, rollout: string | null) =>
    blamedTarget(at(-20), { serving: { releaseId, since, burnedAt: null, rollout, phase: null } });
  const hotfix = serving('rel-003', at(-1), HOTFIX);
  const unrecorded = 'it recorded no rollout';
  const changed = 'the world changed, the approval does not apply';

  it('a hotfix shipped since, approved from the old page: held, never rolled back', () => {
    const d = run(noRollout(), { target: hotfix });
    expect(d.action).toBe('hold');
    expect(d.reason).toBe(
      `no rollback: rel-003 serves production now (rollout ${HOTFIX}), not rel-002 as when it was recommended (${unrecorded}): ${changed}`,
    );
    expect(d.redecideAt).toBeNull();
    // Force passes the controls, never the world.
    expect(run(noRollout({}, { force: true }), { target: hotfix }).action).toBe('hold');
    // And the command would carry what was approved, not the hotfix's rollout.
    expect(commandServingRollout(noRollout(), hotfix)).toBeNull();
  });

  it.each([
    [
      'nothing serves the target',
      blamedTarget(at(-20), { serving: null }),
      `nothing serves production now, not rel-002 as when it was recommended (${unrecorded}): ${changed}`,
    ],
    [
      'the hotfix serves, its rollout not on record',
      serving('rel-003', at(-1), null),
      `rel-003 serves production now, not rel-002 as when it was recommended (${unrecorded}): ${changed}`,
    ],
    [
      'the blamed release serves again, returned to after another release',
      serving('rel-002', at(-2), 'projects/p/rollouts/rel-002-to-production-0002'),
      `rel-002 serves production again since ${at(-2)}, not since ${CAUSE.servingSince} as when it was recommended (${unrecorded}): another release served in between, ${changed}`,
    ],
    [
      'what serves is not on record',
      null,
      `what serves now is not on record: nothing shows that rel-002, the release the recommendation blamed (${unrecorded}), still serves, the approval does not apply`,
    ],
  ])('%s: held, saying what changed or is unknown', (_, now, detail) => {
    const d = run(noRollout(), { target: now });
    expect(d.action).toBe('hold');
    expect(verdict(d, 'serving-unchanged')).toEqual({ rule: 'serving-unchanged', passed: false, detail });
    expect(d.reason).toBe(`no rollback: ${detail}`);
  });

  it('a recommendation that blamed no release either cannot be matched to any world: held', () => {
    const d = run(noRollout({ cause: null }));
    expect(d.action).toBe('hold');
    expect(d.reason).toBe(
      'no rollback: the recommendation recorded neither the rollout serving production nor a release it blamed: what serves now cannot be matched to what was approved, the approval does not apply',
    );
  });

  it('the blamed release still serving, in the stretch it was blamed in, rolls back; the command carries no rollout and the blamed release', () => {
    const passed = (since: string) =>
      `rel-002, the release the recommendation blamed, still serves production since ${since} (${unrecorded}): the executor checks that rel-002 still serves before it rolls back`;
    const same = run(noRollout());
    expect(same.action).toBe('rollback');
    expect(verdict(same, 'serving-unchanged')).toEqual({ rule: 'serving-unchanged', passed: true, detail: passed(CAUSE.servingSince) });
    expect(same.cause).toEqual(CAUSE);
    expect(commandServingRollout(noRollout(), target)).toBeNull();
    // Cloud Deploy's record puts its start at the first deploy job, before the notification the old record used: the same stretch.
    const rebuilt = serving('rel-002', at(-32), 'projects/p/rollouts/rel-002-to-production-0001');
    expect(verdict(run(noRollout(), { target: rebuilt }), 'serving-unchanged').detail).toBe(passed(at(-32)));
    expect(run(noRollout(), { target: serving('rel-002', CAUSE.servingSince, null) }).action).toBe('rollback');
  });
});

describe('the rollout a command is to find serving', () => {
  it("an automatic decision's or a manual request's: the one serving when it was decided (null when none is on record)", () => {
    const burn = alertEvent('0.burn', { observedAt: T0 });
    expect(commandServingRollout(burn, target)).toBe(SERVING);
    expect(commandServingRollout(burn, null)).toBeNull();
    expect(commandServingRollout(burn, { serving: { ...target.serving!, rollout: null } })).toBeNull();
    const manual = alertEvent('manual-1', {
      source: 'manual',
      manual: { requestedBy: 'carol', reason: 'bad flag', force: false, releaseId: null },
    });
    expect(commandServingRollout(manual, target)).toBe(SERVING);
  });
});

describe("the executor's re-read of the controls, for an approved recommendation", () => {
  const command = { incidentId: '0.rec', service: 'api-backend' };
  const none = { pause: null, acknowledgement: null };
  const now = Date.parse(T0);

  it('goes ahead in mode recommend when a human approved it; mode observe still stops it, and so does recommend without an approval', () => {
    const approved = { ...command, manual: { force: false, approves: REC } };
    expect(supersedingControl(approved, now, { ...none, policy: recommend() })).toBeNull();
    expect(supersedingControl(approved, now, { ...none, policy: recommend({ mode: 'observe' }) })).toBe('api-backend is in mode observe');
    expect(supersedingControl({ ...command, manual: { force: true } }, now, { ...none, policy: recommend() })).toBe(
      'api-backend is in mode recommend',
    );
    expect(supersedingControl({ ...command, manual: { force: false, approves: null } }, now, { ...none, policy: recommend() })).toBe(
      'api-backend is in mode recommend',
    );
    // The pause still stops an approval that was not forced.
    expect(supersedingControl(approved, now, { pause, acknowledgement: null, policy: recommend() })).toMatch(/^api-backend was paused/);
  });
});
