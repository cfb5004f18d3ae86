import { at, MIN, T0 } from '../../../test/console-fixtures.js';
import { timelineGeometry, type TimelineInput } from './timeline.js';

/**
 * The edges of the picture: what is drawn when it falls exactly on the axis's start or on now, what is left
 * out when it is before the axis, after now or has no readable time, and in which order marks of one moment
 * are drawn. Each story looks back 1 h and has an event exactly 1 h ago, so the axis is exactly [now − 1 h,
 * now]: 848 px for 60 min, 14.1 px a minute.
 */
const HOUR = 60 * MIN;
const empty: TimelineInput = { now: T0, hours: 1, spans: [], incidents: [], decisions: [], rollbacks: [] };
const span = (releaseId: string, from: string, extra: Partial<TimelineInput['spans'][number]> = {}) => ({
  releaseId,
  rollout: `${releaseId}-r`,
  from,
  stoppedAt: null,
  rollback: false,
  burnedAt: null,
  ...extra,
});
const rollback = (rollbackId: string, orderedAt: string, finishedAt: string | null): TimelineInput['rollbacks'][number] => ({
  rollbackId,
  orderedAt,
  finishedAt,
  status: finishedAt ? 'succeeded' : 'started',
  releaseId: null,
  validateOnly: false,
});

describe('the edges of the picture', () => {
  it('starts the axis a little before the earliest incident, decision or rollback, as it does for a release', () => {
    const only = (events: Partial<TimelineInput>) => timelineGeometry({ ...empty, hours: 6, ...events }).span;
    // 30 min ago, less 8 % of that: the last 32 min 24 s.
    expect(only({ spans: [span('rel-1', at(-30 * MIN))] })).toBe('the last 32 min 24 s');
    expect(only({ incidents: [{ incidentId: 'i', startedAt: at(-30 * MIN), endedAt: null, burn: null }] })).toBe('the last 32 min 24 s');
    expect(only({ decisions: [{ decisionId: 'd', action: 'hold', decidedAt: at(-30 * MIN), reason: '' }] })).toBe('the last 32 min 24 s');
    expect(only({ rollbacks: [rollback('rb', at(-30 * MIN), null)] })).toBe('the last 32 min 24 s');
  });

  it('draws a release that ended exactly at the axis’s start or began exactly now, and none that ended before, began after now, stopped before it began or has no start', () => {
    const g = timelineGeometry({
      ...empty,
      spans: [
        span('rel-before', at(-3 * HOUR)),
        span('rel-to-start', at(-2 * HOUR)),
        span('rel-from-start', at(-HOUR)),
        span('rel-backwards', at(-30 * MIN), { stoppedAt: at(-40 * MIN) }),
        span('rel-unreadable', 'never'),
        span('rel-now', at(0)),
        span('rel-later', at(MIN)),
      ],
    });
    expect(g.releases.map((r) => [r.label, r.x, r.width])).toEqual([
      ['rel-to-start', 96, 4],
      ['rel-from-start', 96, 424],
      ['rel-now', 940, 4],
    ]);
  });

  it('marks a burn that falls on the axis, at its start and at now included, and no burn before the axis or after now', () => {
    const g = timelineGeometry({
      ...empty,
      spans: [
        span('rel-1', at(-2 * HOUR), { burnedAt: at(-61 * MIN) }),
        span('rel-2', at(-HOUR), { burnedAt: at(-HOUR) }),
        span('rel-3', at(-30 * MIN), { burnedAt: at(0) }),
        span('rel-4', at(-10 * MIN), { burnedAt: at(MIN) }),
      ],
    });
    expect(g.burns.map((b) => [b.x, b.title])).toEqual([
      [96, 'a burn on rel-2 first seen at 2026-12-06 09:00:00 UTC'],
      [944, 'a burn on rel-3 first seen at 2026-12-06 10:00:00 UTC'],
    ]);
  });

  it('draws an incident that ended exactly at the axis’s start or began exactly now, and none before, after now or without a start', () => {
    const incident = (incidentId: string, startedAt: string, endedAt: string | null) => ({ incidentId, startedAt, endedAt, burn: null });
    const g = timelineGeometry({
      ...empty,
      incidents: [
        incident('i-before', at(-3 * HOUR), at(-2 * HOUR)),
        incident('i-to-start', at(-2 * HOUR), at(-HOUR)),
        // 314 s is 74 px: exactly room for its 10-character label.
        incident('i-74-px-ok', at(-HOUR), at(-HOUR + 314_151)),
        incident('i-unread', 'never', null),
        incident('i-now', at(0), null),
        incident('i-later', at(MIN), null),
      ],
    });
    expect(g.incidents.map((i) => [i.label, i.x, i.width, i.showLabel])).toEqual([
      ['i-to-start', 96, 4, false],
      ['i-74-px-ok', 96, 74, true],
      ['i-now', 940, 4, false],
    ]);
  });

  it('dots the decisions from the axis’s start to now, those of one moment in id order one above the other', () => {
    const decision = (decisionId: string, decidedAt: string) => ({ decisionId, action: 'hold' as const, decidedAt, reason: '' });
    const g = timelineGeometry({
      ...empty,
      decisions: [
        decision('dec-later', at(MIN)),
        decision('dec-now', at(0)),
        decision('dec-a', at(-30 * MIN)),
        decision('dec-b', at(-30 * MIN)),
        decision('dec-unread', 'never'),
        decision('dec-start', at(-HOUR)),
      ],
    });
    expect(g.decisions.map((d) => [d.href, d.x, d.y])).toEqual([
      ['/console/decisions/dec-start', 96, 83],
      ['/console/decisions/dec-a', 520, 83],
      ['/console/decisions/dec-b', 520, 97],
      ['/console/decisions/dec-now', 944, 83],
    ]);
  });

  it('draws the rollbacks from the axis’s start to now in the order they were ordered, those of one moment in id order', () => {
    const g = timelineGeometry({
      ...empty,
      rollbacks: [
        rollback('rb-later', at(MIN), null),
        rollback('rb-unread', 'never', null),
        rollback('rb-before', at(-3 * HOUR), at(-2 * HOUR)),
        rollback('rb-to-start', at(-2 * HOUR), at(-HOUR)),
        rollback('rb-start', at(-HOUR), at(-55 * MIN)),
        rollback('rb-a', at(-20 * MIN), at(-19 * MIN)),
        rollback('rb-b', at(-30 * MIN), at(-29 * MIN)),
        rollback('rb-c', at(-10 * MIN), at(-9 * MIN)),
        rollback('rb-d', at(-10 * MIN), at(-9 * MIN)),
        rollback('rb-f', at(-5 * MIN), at(-4 * MIN)),
        rollback('rb-e', at(-5 * MIN), at(-4 * MIN)),
        rollback('rb-now', at(0), null),
      ],
    });
    expect(g.rollbacks.map((r) => r.href)).toEqual(
      ['rb-to-start', 'rb-start', 'rb-b', 'rb-a', 'rb-c', 'rb-d', 'rb-e', 'rb-f', 'rb-now'].map((id) => `/console/rollbacks/${id}`),
    );
    expect(g.rollbacks.at(0)).toMatchObject({ x: 96, width: 4 });
    expect(g.rollbacks.at(-1)).toMatchObject({ x: 940, width: 4 });
  });
});
