import fc from 'fast-check';
import {
  DOT_GAP,
  domainOf,
  MAX_HOURS,
  MAX_TICKS,
  MIN_BAR,
  MIN_DOMAIN_MS,
  stackRows,
  tickStep,
  ticksOf,
  timelineGeometry,
  WIDTH,
  type TimelineInput,
} from './timeline.js';

const NOW = Date.parse('2026-12-06T10:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (offset: number) => new Date(NOW + offset).toISOString();

/** The local stack's story: rel-001 served two days, rel-002 since 20 min ago, a burn, a rollback decided and done in seconds. */
const story: TimelineInput = {
  now: NOW,
  hours: 6,
  spans: [
    { releaseId: 'rel-001', rollout: 'r1', from: iso(-48 * HOUR), stoppedAt: null, rollback: false, burnedAt: null },
    { releaseId: 'rel-002', rollout: 'r2', from: iso(-20 * MIN), stoppedAt: null, rollback: false, burnedAt: iso(-5 * MIN) },
    { releaseId: 'rel-001', rollout: 'rb', from: iso(-4 * MIN), stoppedAt: null, rollback: true, burnedAt: null },
  ],
  incidents: [{ incidentId: '0.burn', startedAt: iso(-5 * MIN), endedAt: null, burn: '2.5 % (bar 1 %)' }],
  decisions: [{ decisionId: 'dec-1', action: 'rollback', decidedAt: iso(-4.5 * MIN), reason: 'roll back: …' }],
  rollbacks: [
    {
      rollbackId: 'rb-1',
      orderedAt: iso(-4.5 * MIN),
      finishedAt: iso(-4 * MIN),
      status: 'succeeded',
      releaseId: 'rel-001',
      validateOnly: false,
    },
  ],
};

describe('the axis’s domain', () => {
  it('ends now and starts a little before the earliest event of the look-back', () => {
    // The earliest event inside 6 h is rel-002's start, 20 min ago; 8 % of that before it (1.6 min).
    expect(domainOf(NOW, 6, [NOW - 48 * HOUR, NOW - 20 * MIN, NOW - MIN])).toEqual({ start: NOW - 20 * MIN - 1.6 * MIN, end: NOW });
  });

  it('is never shorter than MIN_DOMAIN_MS, nor longer than the look-back', () => {
    expect(domainOf(NOW, 6, [NOW - 1000])).toEqual({ start: NOW - MIN_DOMAIN_MS, end: NOW });
    expect(domainOf(NOW, 6, [])).toEqual({ start: NOW - 6 * HOUR, end: NOW });
    expect(domainOf(NOW, 1, [NOW - 59 * MIN])).toEqual({ start: NOW - HOUR, end: NOW });
    expect(domainOf(NOW, 10_000, [])).toEqual({ start: NOW - MAX_HOURS * HOUR, end: NOW });
    expect(domainOf(NOW, 0, [])).toEqual({ start: NOW - HOUR, end: NOW });
  });

  it('counts an event exactly at either end of the look-back, and none after now', () => {
    // An event exactly `hours` back starts the axis right there, however late the others are.
    expect(domainOf(NOW, 1, [NOW - HOUR, NOW - 5 * MIN])).toEqual({ start: NOW - HOUR, end: NOW });
    // An event exactly now still gets the shortest axis before it; one after now is not in the look-back.
    expect(domainOf(NOW, 6, [NOW])).toEqual({ start: NOW - MIN_DOMAIN_MS, end: NOW });
    expect(domainOf(NOW, 6, [NOW + HOUR])).toEqual({ start: NOW - 6 * HOUR, end: NOW });
  });

  it('holds every event of the look-back', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_HOURS }), fc.array(fc.integer({ min: -200 * HOUR, max: HOUR })), (hours, offsets) => {
        const times = offsets.map((o) => NOW + o);
        const { start, end } = domainOf(NOW, hours, times);
        expect(end).toBe(NOW);
        expect(start).toBeGreaterThanOrEqual(NOW - hours * HOUR);
        expect(end - start).toBeGreaterThanOrEqual(Math.min(MIN_DOMAIN_MS, hours * HOUR));
        for (const t of times) if (t >= NOW - hours * HOUR && t <= NOW) expect(t).toBeGreaterThanOrEqual(start);
      }),
    );
  });
});

describe('ticks', () => {
  it('takes the smallest round step that puts at most MAX_TICKS on the axis', () => {
    expect(tickStep(20 * MIN)).toBe(5 * MIN);
    expect(tickStep(80_000)).toBe(10_000);
    expect(tickStep(6 * HOUR)).toBe(HOUR);
    expect(tickStep(7 * 24 * HOUR)).toBe(24 * HOUR);
    expect(tickStep(40 * 24 * HOUR)).toBe(5 * 24 * HOUR);
  });

  it('labels whole steps in UTC, with seconds only when steps are shorter than a minute, and dates for days', () => {
    const identity = (t: number) => t;
    expect(ticksOf(NOW - 20 * MIN, NOW, identity).map((t) => t.label)).toEqual(['09:40', '09:45', '09:50', '09:55', '10:00']);
    expect(ticksOf(NOW - 60_000, NOW, identity).map((t) => t.label)).toEqual([
      '09:59:00',
      '09:59:10',
      '09:59:20',
      '09:59:30',
      '09:59:40',
      '09:59:50',
      '10:00:00',
    ]);
    expect(ticksOf(NOW - 3 * 24 * HOUR, NOW, identity).map((t) => t.label)).toEqual(['12:00', '12-04', '12:00', '12-05', '12:00', '12-06']);
    expect(ticksOf(NOW - 7 * 24 * HOUR, NOW, identity).map((t) => t.label)).toEqual([
      '11-30',
      '12-01',
      '12-02',
      '12-03',
      '12-04',
      '12-05',
      '12-06',
    ]);
    // Steps of a whole minute need no seconds; midnight on an axis of whole hours is its date.
    expect(ticksOf(NOW - 5 * MIN, NOW, identity).map((t) => t.label)).toEqual(['09:55', '09:56', '09:57', '09:58', '09:59', '10:00']);
    expect(ticksOf(NOW - 13 * HOUR, NOW - 7 * HOUR, identity).map((t) => t.label)).toEqual([
      '21:00',
      '22:00',
      '23:00',
      '12-06',
      '01:00',
      '02:00',
      '03:00',
    ]);
    // Midnight on an axis of minutes is a time like any other.
    expect(ticksOf(NOW - 10 * HOUR - 5 * MIN, NOW - 10 * HOUR + 5 * MIN, identity).map((t) => t.label)).toContain('00:00');
  });

  it('puts at most MAX_TICKS ticks, in order, inside the domain', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 30 * 24 * HOUR }), (span) => {
        const ticks = ticksOf(NOW - span, NOW, (t) => t);
        expect(ticks.length).toBeLessThanOrEqual(MAX_TICKS + 1);
        for (let i = 1; i < ticks.length; i++) expect(ticks[i]!.x).toBeGreaterThan(ticks[i - 1]!.x);
        for (const t of ticks) expect(t.x >= NOW - span && t.x <= NOW).toBe(true);
      }),
    );
  });
});

describe('stacking dots', () => {
  it('puts close dots in the next row, and goes back to the first row once there is room', () => {
    expect(stackRows([0, 5, 10, 30], 12, 3)).toEqual([0, 1, 2, 0]);
    expect(stackRows([0, 12, 24], 12, 3)).toEqual([0, 0, 0]);
    expect(stackRows([0, 1, 2, 3], 12, 3)).toEqual([0, 1, 2, 0]);
    expect(stackRows([], 12, 3)).toEqual([]);
    expect(stackRows([5, 6], 12, 0)).toEqual([0, 0]);
  });

  it('keeps dots of one row apart whenever there are rows enough', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 40 }), fc.integer({ min: 1, max: 4 }), (raw, rows) => {
        const xs = [...raw].sort((a, b) => a - b);
        const assigned = stackRows(xs, DOT_GAP, rows);
        expect(assigned).toHaveLength(xs.length);
        for (const r of assigned) expect(r >= 0 && r < rows).toBe(true);
        // Two dots within DOT_GAP share a row only when every row was taken within DOT_GAP.
        const last = new Map<number, number>();
        xs.forEach((x, i) => {
          const previous = last.get(assigned[i]!);
          if (previous !== undefined && x - previous < DOT_GAP) {
            const busy = [...Array(rows).keys()].every((row) => last.has(row) && x - last.get(row)! < DOT_GAP);
            expect(busy).toBe(true);
          }
          last.set(assigned[i]!, x);
        });
      }),
    );
  });
});

describe('the geometry of a service’s story', () => {
  const g = timelineGeometry(story);

  it('draws the releases that served, clipped to the axis, the rollback’s release apart', () => {
    expect(g.width).toBe(WIDTH);
    expect(g.releases.map((r) => [r.label, r.className])).toEqual([
      ['rel-001', 'release release-even'],
      ['rel-002', 'release release-odd'],
      ['rel-001', 'release release-even release-rollback'],
    ]);
    expect(g.releases[0]!.x).toBe(g.left);
    expect(g.releases[0]!.x + g.releases[0]!.width).toBeCloseTo(g.releases[1]!.x, 0);
    expect(g.releases[2]!.x + g.releases[2]!.width).toBeCloseTo(g.right, 0);
    expect(g.releases[1]!.title).toMatch(/^rel-002 served from 2026-12-06 09:40:00 UTC to 2026-12-06 09:56:00 UTC \(16 min; rollout r2\)$/);
    expect(g.releases[2]!.title).toMatch(/until now/);
    expect(g.burns).toEqual([
      { x: expect.any(Number), y: g.lanes[0]!.y, height: 24, title: 'a burn on rel-002 first seen at 2026-12-06 09:55:00 UTC' },
    ]);
  });

  it('draws the incident with its burn, each decision as a dot linking to it, the rollback as a bar linking to it', () => {
    expect(g.incidents).toEqual([
      expect.objectContaining({
        label: '2.5 % (bar 1 %)',
        className: 'incident incident-open',
        title: 'incident 0.burn: 2.5 % (bar 1 %); from 2026-12-06 09:55:00 UTC, still open',
      }),
    ]);
    expect(g.decisions).toEqual([
      {
        x: expect.any(Number),
        y: g.lanes[2]!.y + 7,
        className: 'decision action-rollback',
        title: 'rollback at 2026-12-06 09:55:30 UTC: roll back: …',
        href: '/console/decisions/dec-1',
      },
    ]);
    expect(g.rollbacks).toEqual([
      expect.objectContaining({
        label: 'rollback succeeded → rel-001',
        className: 'rollback rollback-succeeded',
        href: '/console/rollbacks/rb-1',
        title: 'rollback succeeded → rel-001: ordered 2026-12-06 09:55:30 UTC, finished 2026-12-06 09:56:00 UTC after 30 s',
      }),
    ]);
    expect(g.rollbacks[0]!.x).toBeCloseTo(g.decisions[0]!.x, 0);
    expect(g.span).toBe('the last 21 min 36 s');
  });

  it('shows an in-flight rollback up to now, and a validation as such', () => {
    const flight = timelineGeometry({
      ...story,
      rollbacks: [{ rollbackId: 'rv-1', orderedAt: iso(-MIN), finishedAt: null, status: 'accepted', releaseId: null, validateOnly: true }],
    });
    expect(flight.rollbacks[0]).toMatchObject({
      label: 'validate accepted',
      title: 'validate accepted: ordered 2026-12-06 09:59:00 UTC, in flight for 1 min',
    });
    expect(flight.rollbacks[0]!.x + flight.rollbacks[0]!.width).toBeCloseTo(flight.right, 0);
  });

  it('leaves out what is outside the look-back, and what has no time', () => {
    const old = timelineGeometry({
      ...story,
      hours: 1,
      spans: [],
      incidents: [{ incidentId: 'old', startedAt: iso(-3 * HOUR), endedAt: iso(-2 * HOUR), burn: null }],
      decisions: [
        { decisionId: 'old', action: 'hold', decidedAt: iso(-2 * HOUR), reason: '' },
        { decisionId: 'bad', action: 'hold', decidedAt: 'never', reason: '' },
      ],
      rollbacks: [
        {
          rollbackId: 'old',
          orderedAt: iso(-3 * HOUR),
          finishedAt: iso(-2 * HOUR),
          status: 'failed',
          releaseId: null,
          validateOnly: false,
        },
      ],
    });
    expect([old.incidents, old.decisions, old.rollbacks, old.releases]).toEqual([[], [], [], []]);
  });

  const arbitraryStory = fc
    .record({
      hours: fc.integer({ min: 1, max: MAX_HOURS }),
      spans: fc.array(fc.record({ from: fc.integer({ min: -300 * HOUR, max: 0 }), rollback: fc.boolean() }), { maxLength: 8 }),
      incidents: fc.array(
        fc.record({ start: fc.integer({ min: -200 * HOUR, max: 0 }), length: fc.option(fc.integer({ min: 0, max: 10 * HOUR })) }),
        { maxLength: 6 },
      ),
      decisions: fc.array(
        fc.record({
          at: fc.integer({ min: -200 * HOUR, max: 0 }),
          action: fc.constantFrom('rollback' as const, 'hold' as const, 'escalate' as const, 'ignore' as const, 'recommend' as const),
        }),
        { maxLength: 30 },
      ),
      rollbacks: fc.array(
        fc.record({ at: fc.integer({ min: -200 * HOUR, max: 0 }), length: fc.option(fc.integer({ min: 0, max: 2 * HOUR })) }),
        { maxLength: 6 },
      ),
    })
    .map((s): TimelineInput => ({
      now: NOW,
      hours: s.hours,
      spans: [...s.spans]
        .sort((a, b) => a.from - b.from)
        .map((x, i) => ({
          releaseId: `rel-${i}`,
          rollout: `r${i}`,
          from: iso(x.from),
          stoppedAt: null,
          rollback: x.rollback,
          burnedAt: null,
        })),
      incidents: s.incidents.map((x, i) => ({
        incidentId: `i${i}`,
        startedAt: iso(x.start),
        endedAt: x.length === null ? null : iso(x.start + x.length),
        burn: null,
      })),
      decisions: s.decisions.map((x, i) => ({ decisionId: `d${i}`, action: x.action, decidedAt: iso(x.at), reason: '' })),
      rollbacks: s.rollbacks.map((x, i) => ({
        rollbackId: `rb${i}`,
        orderedAt: iso(x.at),
        finishedAt: x.length === null ? null : iso(x.at + x.length),
        status: x.length === null ? 'started' : 'succeeded',
        releaseId: null,
        validateOnly: false,
      })),
    }));

  it('keeps every mark inside the plot, every bar at least MIN_BAR wide, and every lane above the axis', () => {
    fc.assert(
      fc.property(arbitraryStory, (input) => {
        const geo = timelineGeometry(input);
        for (const b of [...geo.releases, ...geo.incidents, ...geo.rollbacks]) {
          expect(b.width).toBeGreaterThanOrEqual(MIN_BAR - 0.05);
          expect(b.x).toBeGreaterThanOrEqual(geo.left - 0.05);
          expect(b.x + b.width).toBeLessThanOrEqual(geo.right + 0.05);
          expect(b.y + b.height).toBeLessThanOrEqual(geo.axisY);
        }
        for (const d of geo.decisions) {
          expect(d.x >= geo.left && d.x <= geo.right).toBe(true);
          expect(d.y).toBeLessThan(geo.axisY);
        }
        for (const t of geo.ticks) expect(t.x >= geo.left - 0.05 && t.x <= geo.right + 0.05).toBe(true);
        // Every decision of the look-back is drawn, once.
        const inside = input.decisions.filter((d) => Date.parse(d.decidedAt) >= geo.start);
        expect(geo.decisions.map((d) => d.href).sort()).toEqual(inside.map((d) => `/console/decisions/${d.decisionId}`).sort());
        // Releases do not overlap one another (each ends where the next starts, or earlier).
        for (let i = 1; i < geo.releases.length; i++)
          expect(geo.releases[i]!.x + 0.1).toBeGreaterThanOrEqual(Math.min(geo.releases[i - 1]!.x, geo.right - MIN_BAR));
      }),
    );
  });
});
