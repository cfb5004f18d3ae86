import fc from 'fast-check';
import type { HistoryRollout, ServingSpan, TargetRecord } from '@burnback/contracts';
import { FIXTURE_PIPELINE, historyRollout } from '@burnback/testkit/fixtures';
import {
  HISTORY_READ_KEPT,
  initialTargetRecord,
  newestRolloutsOn,
  phaseOf,
  rebuildTarget,
  recordBurnOnTarget,
  servingAt,
  servingOf,
  servingTimeline,
  shareOf,
  TIMELINE_KEPT,
  withSpan,
} from './index.js';

const T0 = Date.parse('2026-11-26T10:00:00.000Z');
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();
const ms = (minutes: number): number => T0 + minutes * 60_000;
const identity = { project: 'burnback-local', region: 'us-central1', pipeline: 'api-backend-pipeline', target: 'production' };
const name = (release: string, id = `${release}-to-production-0001`) => `${FIXTURE_PIPELINE}/releases/${release}/rollouts/${id}`;
const span = (releaseId: string, from: string, overrides: Partial<ServingSpan> = {}): ServingSpan => ({
  releaseId,
  rollout: name(releaseId),
  from,
  stoppedAt: null,
  state: 'SUCCEEDED',
  phase: null,
  rollback: false,
  burnedAt: null,
  ...overrides,
});
const base = [historyRollout('rel-001', at(-3000), 'SUCCEEDED'), historyRollout('rel-002', at(-120), 'SUCCEEDED')];
const record = (rollouts: HistoryRollout[], readAt = at(0)): TargetRecord =>
  rebuildTarget(initialTargetRecord(identity, at(-9000)), rollouts, readAt);

describe('what serves a target, from its rollouts', () => {
  it('a release serves from its first deploy job; the one before it until then', () => {
    const t = record(base);
    expect(t.serving).toEqual({ releaseId: 'rel-002', since: at(-120), burnedAt: null, rollout: name('rel-002'), phase: null });
    expect(t.previous).toEqual({
      releaseId: 'rel-001',
      since: at(-3000),
      until: at(-120),
      burnedAt: null,
      rollout: name('rel-001'),
      phase: null,
    });
    expect(t.timeline).toEqual([span('rel-001', at(-3000)), span('rel-002', at(-120))]);
  });

  it('a canary serves from its first phase, with the phase, and the stable release becomes the previous one', () => {
    const t = record([...base, historyRollout('rel-005', at(-2), 'IN_PROGRESS', { phase: 'canary-25' })]);
    expect(t.serving).toMatchObject({ releaseId: 'rel-005', since: at(-2), phase: 'canary-25' });
    expect(t.previous).toMatchObject({ releaseId: 'rel-002', since: at(-120), until: at(-2) });
  });

  it.each([
    ['through verify (still in progress in its last phase)', historyRollout('rel-008', at(-3), 'IN_PROGRESS', { phase: 'stable' })],
    ['after a failed verify', historyRollout('rel-008', at(-3), 'FAILED', { end: at(-1) })],
    ['after it succeeded', historyRollout('rel-008', at(-3), 'SUCCEEDED', { end: at(-1) })],
    ['while it is being cancelled', historyRollout('rel-008', at(-3), 'CANCELLING', { phase: 'canary-50' })],
  ])('a release keeps serving %s', (_name, rollout) => {
    expect(record([...base, rollout]).serving).toMatchObject({ releaseId: 'rel-008', since: at(-3) });
  });

  it('a cancelled canary stops serving at its cancel: the release before it serves again, since it first did', () => {
    const cancelled = historyRollout('rel-005', at(-20), 'CANCELLED', { phase: 'canary-25', end: at(-10) });
    const t = record([...base, cancelled]);
    expect(t.serving).toMatchObject({ releaseId: 'rel-002', since: at(-120) });
    expect(t.previous).toMatchObject({ releaseId: 'rel-001', until: at(-120) });
    const canary = t.timeline.find((s) => s.releaseId === 'rel-005')!;
    expect(canary).toMatchObject({ from: at(-20), stoppedAt: at(-10), state: 'CANCELLED' });
    // While it served, it is what served: a burn that began then is the canary's.
    expect(servingAt(t.timeline, ms(-15))).toBe(canary);
    expect(servingAt(t.timeline, ms(-10))!.releaseId).toBe('rel-002');
    expect(servingAt(t.timeline, ms(-20))).toBe(canary);
    expect(servingAt(t.timeline, ms(-20) - 1)!.releaseId).toBe('rel-002');
  });

  it('a release redeployed at the very moment its cancelled canary stopped serves on: the burn after is its own', () => {
    const cancelled = historyRollout('rel-005', at(-20), 'CANCELLED', { phase: 'canary-25', end: at(-10) });
    const again = historyRollout('rel-005', at(-10), 'SUCCEEDED', { id: 'rel-005-to-production-0002' });
    const t = record([...base, cancelled, again]);
    expect(t.serving).toMatchObject({ releaseId: 'rel-005', since: at(-20), rollout: again.name });
    expect(t.timeline.at(-1)).toMatchObject({ releaseId: 'rel-005', from: at(-20), stoppedAt: null, state: 'SUCCEEDED' });
    expect(servingAt(t.timeline, ms(-5))!.releaseId).toBe('rel-005');
    // One redeployed a moment later is a span of its own, from the redeploy.
    const later = record([...base, cancelled, historyRollout('rel-005', at(-9), 'SUCCEEDED', { id: 'rel-005-to-production-0002' })]);
    expect(later.serving).toMatchObject({ releaseId: 'rel-005', since: at(-9) });
  });

  it('a halted rollout stops serving too; one cancelled without an end time stops at its start', () => {
    const halted = record([...base, historyRollout('rel-005', at(-20), 'HALTED', { end: at(-12) })]);
    expect(halted.serving!.releaseId).toBe('rel-002');
    expect(halted.timeline.at(-1)).toMatchObject({ releaseId: 'rel-005', stoppedAt: at(-12) });
    const bare = record([...base, historyRollout('rel-005', at(-20), 'CANCELLED')]);
    expect(bare.timeline.at(-1)).toMatchObject({ stoppedAt: at(-20) });
  });

  it.each([
    ['pending', historyRollout('rel-009', at(-1), 'PENDING')],
    ['waiting for approval', historyRollout('rel-009', at(-1), 'PENDING_APPROVAL')],
    ['rejected', historyRollout('rel-009', at(-1), 'APPROVAL_REJECTED')],
    ['failed before deploying', historyRollout('rel-009', at(-1), 'FAILED', { deployed: false })],
    ['on another target', historyRollout('rel-009', at(-1), 'SUCCEEDED', { target: 'staging' })],
  ])('a rollout %s serves nothing', (_name, rollout) => {
    const t = record([...base, rollout]);
    expect(t.serving!.releaseId).toBe('rel-002');
    expect(t.timeline).toHaveLength(2);
  });

  it('the newest rollout in any state is remembered (what a rollback must name as rollout_to_roll_back)', () => {
    const waiting = historyRollout('rel-009', at(-1), 'PENDING_APPROVAL');
    expect(record([...base, waiting]).latestRollout).toEqual({ name: waiting.name, releaseId: 'rel-009', state: 'PENDING_APPROVAL' });
    expect(record([]).latestRollout).toBeNull();
    expect(record([]).serving).toBeNull();
    expect(record([]).previous).toBeNull();
  });

  it('a redeploy of the serving release keeps its first serving time and names the newest rollout', () => {
    const again = historyRollout('rel-002', at(-30), 'SUCCEEDED', { id: 'rel-002-again' });
    const t = record([...base, again]);
    expect(t.timeline).toHaveLength(2);
    expect(t.serving).toMatchObject({ releaseId: 'rel-002', since: at(-120), rollout: name('rel-002', 'rel-002-again') });
    expect(t.timeline[1]).toEqual(span('rel-002', at(-120), { rollout: name('rel-002', 'rel-002-again') }));
    // A redeploy that was cancelled leaves the span as it was.
    const cancelled = record([...base, historyRollout('rel-002', at(-30), 'CANCELLED', { id: 'rel-002-x', end: at(-29) })]);
    expect(cancelled.serving).toMatchObject({ rollout: name('rel-002') });
    expect(cancelled.timeline).toHaveLength(2);
  });

  it('a rollback is a rollout like any other: its release serves from its first deploy job, and the span says it rolled back', () => {
    const rb = historyRollout('rel-001', at(-5), 'SUCCEEDED', { id: 'burnback-rb-x', rollbackOf: name('rel-002') });
    const t = record([...base, rb]);
    expect(t.serving).toMatchObject({ releaseId: 'rel-001', since: at(-5), rollout: rb.name });
    expect(t.previous).toMatchObject({ releaseId: 'rel-002', until: at(-5) });
    expect(t.timeline.at(-1)!.rollback).toBe(true);
    expect(t.timeline[0]!.rollback).toBe(false);
  });

  it('a rollback to the release serving again after a cancelled canary extends its span, which says it rolled back', () => {
    const cancelled = historyRollout('rel-005', at(-20), 'CANCELLED', { phase: 'canary-25', end: at(-10) });
    const rb = historyRollout('rel-002', at(-5), 'SUCCEEDED', { id: 'burnback-rb-x', rollbackOf: cancelled.name });
    const t = record([...base, cancelled, rb]);
    expect(t.timeline.map((s) => [s.releaseId, s.from, s.rollout, s.rollback])).toEqual([
      ['rel-001', at(-3000), name('rel-001'), false],
      ['rel-002', at(-120), rb.name, true],
      ['rel-005', at(-20), cancelled.name, false],
    ]);
    expect(t.serving).toEqual({ releaseId: 'rel-002', since: at(-120), burnedAt: null, rollout: rb.name, phase: null });
  });

  it('a rollout that ran without a deploy start time serves from its creation', () => {
    const r = { ...historyRollout('rel-003', at(-4), 'IN_PROGRESS', { phase: 'canary-25' }), deployStartTime: 0 };
    expect(record([...base, r]).serving).toMatchObject({ releaseId: 'rel-003', since: new Date(r.createTime).toISOString() });
  });

  it('rollouts are folded in the order they started, whatever order they were read in', () => {
    const rollouts = [...base, historyRollout('rel-003', at(-50), 'SUCCEEDED'), historyRollout('rel-004', at(-10), 'FAILED')];
    const spans = servingTimeline(rollouts, 'production');
    expect(spans.map((s) => s.releaseId)).toEqual(['rel-001', 'rel-002', 'rel-003', 'rel-004']);
    expect(servingTimeline([...rollouts].reverse(), 'production')).toEqual(spans);
    expect(servingTimeline([...rollouts, historyRollout('rel-009', at(-1), 'SUCCEEDED', { target: 'staging' })], 'production')).toEqual(
      spans,
    );
    // Ties on the start are broken by name, so every read gives one timeline.
    const tied = [historyRollout('rel-007', at(-1), 'SUCCEEDED'), historyRollout('rel-006', at(-1), 'SUCCEEDED')];
    expect(servingTimeline(tied, 'production').map((s) => s.releaseId)).toEqual(['rel-006', 'rel-007']);
    expect(servingTimeline([...tied].reverse(), 'production').map((s) => s.releaseId)).toEqual(['rel-006', 'rel-007']);
    // Of spans begun at the same moment, the one folded last serves.
    expect(servingOf(servingTimeline(tied, 'production')).serving!.releaseId).toBe('rel-007');
  });
});

describe('phases and shares', () => {
  it('an unfinished rollout is in the phase in progress, else the last one that succeeded; a finished one in none', () => {
    expect(phaseOf(historyRollout('r', at(0), 'IN_PROGRESS', { phase: 'canary-50' }))).toBe('canary-50');
    const waiting = historyRollout('r', at(0), 'IN_PROGRESS', { phase: 'canary-50' });
    waiting.phases[1] = { ...waiting.phases[1]!, state: 'PENDING' };
    expect(phaseOf(waiting)).toBe('canary-25');
    const cancelling = historyRollout('r', at(0), 'CANCELLING', { phase: 'stable' });
    expect(phaseOf(cancelling)).toBe('canary-50');
    const none = { ...historyRollout('r', at(0), 'IN_PROGRESS'), phases: [{ id: 'stable', state: 'PENDING', deployJobState: 'PENDING' }] };
    expect(phaseOf(none)).toBeNull();
    for (const state of ['SUCCEEDED', 'FAILED', 'CANCELLED'])
      expect(phaseOf(historyRollout('r', at(0), state, { phase: 'canary-25' }))).toBeNull();
  });

  it.each([
    ['canary-25', 25],
    ['canary-5', 5],
    ['canary-99', 99],
    ['canary-100', null],
    ['stable', null],
    ['xcanary-25', null],
    ['canary-25x', null],
    [null, null],
  ])('the share of %s is %s', (phase, share) => {
    expect(shareOf(phase)).toBe(share);
  });
});

describe('reading the history', () => {
  it('keeps the newest rollouts of the target, newest first, ties by name', () => {
    const many = Array.from({ length: 30 }, (_, i) => historyRollout(`rel-${100 + i}`, at(i), 'SUCCEEDED'));
    const other = historyRollout('rel-999', at(99), 'SUCCEEDED', { target: 'staging' });
    const kept = newestRolloutsOn([...many, other], 'production');
    expect(kept).toHaveLength(HISTORY_READ_KEPT);
    expect(kept[0]!.releaseId).toBe('rel-129');
    expect(kept.at(-1)!.releaseId).toBe('rel-110');
    const tied = [historyRollout('a', at(0), 'SUCCEEDED'), historyRollout('b', at(0), 'SUCCEEDED')];
    expect(newestRolloutsOn(tied, 'production').map((r) => r.releaseId)).toEqual(['b', 'a']);
    expect(newestRolloutsOn([...tied].reverse(), 'production').map((r) => r.releaseId)).toEqual(['b', 'a']);
    expect(newestRolloutsOn(many, 'production', 3)).toHaveLength(3);
  });

  it('a timeline keeps its newest spans', () => {
    const many = Array.from({ length: 18 }, (_, i) => historyRollout(`rel-${100 + i}`, at(i), 'SUCCEEDED'));
    const t = record(many);
    expect(t.timeline).toHaveLength(TIMELINE_KEPT);
    expect(t.timeline[0]!.releaseId).toBe(`rel-${100 + 18 - TIMELINE_KEPT}`);
    expect(t.serving!.releaseId).toBe('rel-117');
  });

  it('a read older than the one the record holds changes nothing; a newer one replaces what serves', () => {
    const t = record(base, at(5));
    expect(rebuildTarget(t, [...base, historyRollout('rel-003', at(1), 'SUCCEEDED')], at(4))).toBe(t);
    const newer = rebuildTarget(t, [...base, historyRollout('rel-003', at(1), 'SUCCEEDED')], at(6));
    expect(newer.serving!.releaseId).toBe('rel-003');
    expect(newer.historyReadAt).toBe(at(6));
    expect(newer.updatedAt).toBe(at(6));
    // The same moment is not older.
    expect(rebuildTarget(t, [...base, historyRollout('rel-003', at(1), 'SUCCEEDED')], at(5)).serving!.releaseId).toBe('rel-003');
  });

  it('a rebuild keeps what Burnback knows: burns seen on each span, the quarantine, the release it returned to', () => {
    const t = recordBurnOnTarget(record(base), at(-100));
    expect(t.serving!.burnedAt).toBe(at(-100));
    const withMarks = { ...t, quarantined: [{ releaseId: 'rel-000', rollbackId: 'rb', incidentId: 'i', at: at(-4000) }] };
    const again = rebuildTarget(withMarks, [...base, historyRollout('rel-003', at(1), 'IN_PROGRESS')], at(2));
    expect(again.previous).toMatchObject({ releaseId: 'rel-002', burnedAt: at(-100) });
    expect(again.quarantined).toEqual(withMarks.quarantined);
    expect(again.timeline.find((s) => s.releaseId === 'rel-001')!.burnedAt).toBeNull();
  });

  it('a record written before the timeline was kept hands its burns to the spans of the same releases', () => {
    const legacy: TargetRecord = {
      ...initialTargetRecord(identity, at(-9000)),
      serving: { releaseId: 'rel-002', since: at(-60), burnedAt: at(-50), rollout: null, phase: null },
      previous: { releaseId: 'rel-001', since: at(-3000), until: at(-60), burnedAt: at(-2000), rollout: null, phase: null },
    };
    const t = rebuildTarget(legacy, base, at(0));
    expect(t.timeline.map((s) => [s.releaseId, s.burnedAt])).toEqual([
      ['rel-001', at(-2000)],
      ['rel-002', at(-50)],
    ]);
    const clean = rebuildTarget({ ...legacy, serving: { ...legacy.serving!, burnedAt: null }, previous: null }, base, at(0));
    expect(clean.timeline.every((s) => s.burnedAt === null)).toBe(true);
    // A burn of the previous release only goes to that release, not to the newest span without a burn.
    const previousOnly = rebuildTarget({ ...legacy, serving: { ...legacy.serving!, burnedAt: null } }, base, at(0));
    expect(previousOnly.timeline.map((s) => [s.releaseId, s.burnedAt])).toEqual([
      ['rel-001', at(-2000)],
      ['rel-002', null],
    ]);
  });

  it('a legacy burn goes to the newest span of its release, and one of a release no longer read is dropped', () => {
    const rollouts = [
      ...base,
      historyRollout('rel-003', at(-60), 'SUCCEEDED'),
      historyRollout('rel-002', at(-30), 'SUCCEEDED', { id: 'burnback-rb-y', rollbackOf: name('rel-003') }),
    ];
    const legacy: TargetRecord = {
      ...initialTargetRecord(identity, at(-9000)),
      serving: { releaseId: 'rel-002', since: at(-30), burnedAt: at(-20), rollout: null, phase: null },
      previous: { releaseId: 'rel-003', since: at(-60), until: at(-30), burnedAt: at(-50), rollout: null, phase: null },
    };
    expect(rebuildTarget(legacy, rollouts, at(0)).timeline.map((s) => [s.releaseId, s.from, s.burnedAt])).toEqual([
      ['rel-001', at(-3000), null],
      ['rel-002', at(-120), null],
      ['rel-003', at(-60), at(-50)],
      ['rel-002', at(-30), at(-20)],
    ]);
    const gone = rebuildTarget({ ...legacy, serving: { ...legacy.serving!, releaseId: 'rel-000' }, previous: null }, base, at(0));
    expect(gone.timeline).toEqual([span('rel-001', at(-3000)), span('rel-002', at(-120))]);
  });
});

describe('servingAt and servingOf', () => {
  const timeline = [span('rel-001', at(0)), span('rel-002', at(10), { stoppedAt: at(20) }), span('rel-003', at(30))];

  it('what served at each moment, a stopped span giving way to the one before it', () => {
    expect(servingAt(timeline, ms(0) - 1)).toBeNull();
    expect(servingAt(timeline, ms(0))!.releaseId).toBe('rel-001');
    expect(servingAt(timeline, ms(10))!.releaseId).toBe('rel-002');
    expect(servingAt(timeline, ms(20) - 1)!.releaseId).toBe('rel-002');
    expect(servingAt(timeline, ms(20))!.releaseId).toBe('rel-001');
    expect(servingAt(timeline, ms(30))!.releaseId).toBe('rel-003');
    expect(servingAt([...timeline].reverse(), ms(40))!.releaseId).toBe('rel-003');
  });

  it('the previous release is what served just before the serving one began', () => {
    expect(servingOf(timeline).previous).toMatchObject({ releaseId: 'rel-001', since: at(0), until: at(30) });
    expect(servingOf([span('rel-001', at(0))]).previous).toBeNull();
    expect(servingOf([])).toEqual({ serving: null, previous: null });
    expect(servingOf([span('rel-001', at(0), { stoppedAt: at(1) })])).toEqual({ serving: null, previous: null });
  });
});

describe("a rollback's own report of what serves", () => {
  const rb = span('rel-001', at(5), { rollout: name('rel-001', 'burnback-rb-1'), rollback: true });

  it('adds the span of the rollback rollout, in order', () => {
    const timeline = withSpan(record(base).timeline, rb);
    expect(timeline.map((s) => s.releaseId)).toEqual(['rel-001', 'rel-002', 'rel-001']);
    expect(servingOf(timeline).serving).toMatchObject({ releaseId: 'rel-001', since: at(5) });
    const early = withSpan(record(base).timeline, { ...rb, releaseId: 'rel-000', from: at(-200) });
    expect(early.map((s) => s.releaseId)).toEqual(['rel-001', 'rel-000', 'rel-002']);
  });

  it('a span it knows (by rollout, or by release and start) is updated, not added', () => {
    const once = withSpan(record(base).timeline, { ...rb, state: 'IN_PROGRESS', phase: 'stable' });
    const twice = withSpan(once, rb);
    expect(twice).toHaveLength(3);
    expect(twice.at(-1)).toMatchObject({ state: 'SUCCEEDED', phase: null });
    const sameStart = withSpan(twice, { ...rb, rollout: 'other', stoppedAt: at(9), state: 'CANCELLED' });
    expect(sameStart).toHaveLength(3);
    expect(sameStart.at(-1)).toMatchObject({ rollout: rb.rollout, stoppedAt: at(9), state: 'CANCELLED' });
    const burned = twice.map((s) => (s.rollout === rb.rollout ? { ...s, burnedAt: at(6) } : s));
    expect(withSpan(burned, rb).at(-1)!.burnedAt).toBe(at(6));
  });

  it('a span known by its rollout is updated even when it began earlier (a rollback that extended the span of its release)', () => {
    const timeline = [
      span('rel-001', at(0)),
      span('rel-002', at(10), { rollout: 'rb', state: 'IN_PROGRESS', phase: 'stable', rollback: true }),
    ];
    expect(withSpan(timeline, span('rel-002', at(12), { rollout: 'rb', rollback: true }))).toEqual([
      span('rel-001', at(0)),
      span('rel-002', at(10), { rollout: 'rb', rollback: true }),
    ]);
  });

  it('the first span is updated like any other; a span of another release begun at the same moment is added', () => {
    expect(withSpan([span('rel-001', at(0), { state: 'IN_PROGRESS', phase: 'canary-25' })], span('rel-001', at(0)))).toEqual([
      span('rel-001', at(0)),
    ]);
    const timeline = [span('rel-001', at(0)), span('rel-002', at(10))];
    expect(withSpan(timeline, span('rel-003', at(10), { rollout: 'r3' })).map((s) => s.releaseId)).toEqual([
      'rel-001',
      'rel-002',
      'rel-003',
    ]);
  });

  it('a rollout of the release already serving is no new span', () => {
    const t = record(base).timeline;
    expect(withSpan(t, span('rel-002', at(3), { rollout: 'redeploy' }))).toEqual(t);
  });

  it('keeps at most the newest spans', () => {
    let timeline: ServingSpan[] = [];
    for (let i = 0; i < TIMELINE_KEPT + 3; i++) timeline = withSpan(timeline, span(`rel-${i}`, at(i), { rollout: `r-${i}` }));
    expect(timeline).toHaveLength(TIMELINE_KEPT);
    expect(timeline[0]!.releaseId).toBe('rel-3');
  });
});

describe('properties over generated histories', () => {
  const states = ['SUCCEEDED', 'IN_PROGRESS', 'FAILED', 'CANCELLED', 'CANCELLING', 'HALTED', 'PENDING', 'PENDING_APPROVAL'] as const;
  const rolloutArb = fc
    .record({
      release: fc.constantFrom('rel-001', 'rel-002', 'rel-003', 'rel-004'),
      start: fc.integer({ min: 0, max: 500 }),
      length: fc.integer({ min: 0, max: 60 }),
      state: fc.constantFrom(...states),
      n: fc.integer({ min: 0, max: 9999 }),
    })
    .map(({ release, start, length, state, n }) =>
      historyRollout(release, at(start), state, {
        id: `r-${n}`,
        end: ['CANCELLED', 'HALTED', 'FAILED', 'SUCCEEDED'].includes(state) ? at(start + length) : undefined,
      }),
    );
  const historyArb = fc.uniqueArray(rolloutArb, { selector: (r) => r.name, maxLength: 12 });

  it('the serving release is one that reached traffic and was not stopped, begun no later than any other live one', () => {
    fc.assert(
      fc.property(historyArb, (rollouts) => {
        const t = record(rollouts);
        const live = t.timeline.filter((s) => s.stoppedAt === null);
        if (live.length === 0) return expect(t.serving).toBeNull();
        const latest = Math.max(...live.map((s) => Date.parse(s.from)));
        expect(Date.parse(t.serving!.since)).toBe(latest);
        expect(rollouts.some((r) => r.releaseId === t.serving!.releaseId && r.deployStartTime > 0)).toBe(true);
        if (t.previous) {
          expect(t.previous.until).toBe(t.serving!.since);
          expect(Date.parse(t.previous.since)).toBeLessThan(Date.parse(t.serving!.since));
        }
      }),
    );
  });

  it('the order the history is read in changes nothing', () => {
    fc.assert(
      fc.property(historyArb, (rollouts) => {
        expect(record([...rollouts].reverse())).toEqual(record(rollouts));
      }),
    );
  });

  it('no two neighbouring live spans are of the same release (a redeploy extends its span)', () => {
    fc.assert(
      fc.property(historyArb, (rollouts) => {
        const spans = servingTimeline(rollouts, 'production');
        for (let i = 1; i < spans.length; i++) {
          const before = servingAt(spans.slice(0, i), Date.parse(spans[i]!.from) - 1);
          expect(before?.releaseId).not.toBe(spans[i]!.releaseId);
        }
      }),
    );
  });
});
