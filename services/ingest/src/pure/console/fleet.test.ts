import fc from 'fast-check';
import { ATTENTION_HOURS, attentionOf, fleetRow, fleetView, type FleetInput } from './fleet.js';
import { serviceHref } from './format.js';

const NOW = Date.parse('2026-12-06T10:00:00.000Z');
const MIN = 60_000;
const iso = (offset: number) => new Date(NOW + offset).toISOString();

const service = (name: string, overrides: Partial<FleetInput> = {}): FleetInput => ({
  name,
  mode: 'auto',
  target: `${name}-pipeline/production`,
  serving: null,
  pause: null,
  freeze: null,
  inFlight: null,
  lastDecision: null,
  recentDecisions: [],
  failedRollbacks: [],
  ...overrides,
});

describe('what needs a human on one service', () => {
  it('is nothing on a quiet service', () => {
    expect(attentionOf(service('quiet'), NOW)).toEqual([]);
    expect(fleetRow(service('quiet'), NOW).needsHuman).toBe(false);
  });

  it('names a failed rollback of the last hours, with a link to it', () => {
    const s = service('a', { failedRollbacks: [{ rollbackId: 'rb-1', finishedAt: iso(-3 * MIN) }] });
    expect(attentionOf(s, NOW)).toEqual([
      { kind: 'failed-rollback', text: 'rollback rb-1 failed 3 min ago', at: NOW - 3 * MIN, href: '/console/rollbacks/rb-1' },
    ]);
  });

  it('counts escalations of the last hours and links the latest', () => {
    const s = service('a', {
      recentDecisions: [
        { decisionId: 'dec-old', action: 'escalate', decidedAt: iso(-50 * MIN) },
        { decisionId: 'dec-new', action: 'escalate', decidedAt: iso(-2 * MIN) },
        { decisionId: 'dec-hold', action: 'hold', decidedAt: iso(-1 * MIN) },
      ],
    });
    expect(attentionOf(s, NOW)).toEqual([
      {
        kind: 'escalation',
        text: `2 escalations in the last ${ATTENTION_HOURS} h, the latest 2 min ago`,
        at: NOW - 2 * MIN,
        href: '/console/decisions/dec-new',
      },
    ]);
    const one = service('a', { recentDecisions: [{ decisionId: 'dec-1', action: 'escalate', decidedAt: iso(-90_000) }] });
    expect(attentionOf(one, NOW)[0]!.text).toBe('escalated 1 min ago');
  });

  it('looks back exactly ATTENTION_HOURS, and not at the future', () => {
    const edge = -ATTENTION_HOURS * 3_600_000;
    const at = (offset: number) =>
      attentionOf(
        service('a', {
          recentDecisions: [{ decisionId: 'd', action: 'escalate', decidedAt: iso(offset) }],
          failedRollbacks: [{ rollbackId: 'r', finishedAt: iso(offset) }],
        }),
        NOW,
      ).length;
    expect(at(edge)).toBe(2);
    expect(at(edge - 1)).toBe(0);
    expect(at(0)).toBe(2);
    expect(at(1)).toBe(0);
  });

  it('names a recommendation while it may still be approved', () => {
    const rec = (until: string) =>
      attentionOf(
        service('a', { recentDecisions: [{ decisionId: 'dec-r', action: 'recommend', decidedAt: iso(-MIN), approvableUntil: until }] }),
        NOW,
      );
    expect(rec(iso(29 * MIN))).toEqual([
      {
        kind: 'approval',
        text: 'a recommendation awaits approval until 2026-12-06 10:29:00 UTC',
        at: NOW - MIN,
        href: '/console/decisions/dec-r',
      },
    ]);
    expect(rec(iso(0))).toEqual([]);
    expect(attentionOf(service('a', { recentDecisions: [{ decisionId: 'x', action: 'recommend', decidedAt: iso(-MIN) }] }), NOW)).toEqual(
      [],
    );
  });

  it('names a pause in force, not one that ended', () => {
    const paused = service('a', { pause: { until: iso(30 * MIN), by: 'alice', reason: 'db migration' } });
    expect(attentionOf(paused, NOW)).toEqual([
      { kind: 'paused', text: 'paused by alice until 2026-12-06 10:30:00 UTC: db migration', at: NOW, href: '/console/services/a' },
    ]);
    expect(fleetRow(paused, NOW).pause).toEqual({ text: 'until 2026-12-06 10:30:00 UTC by alice: db migration' });
    const ended = service('a', { pause: { until: iso(0), by: 'alice', reason: 'x' } });
    expect(attentionOf(ended, NOW)).toEqual([]);
    expect(fleetRow(ended, NOW).pause).toBeNull();
  });

  it('puts the most urgent first: a failed rollback, an escalation, an approval, a pause', () => {
    const s = service('a', {
      pause: { until: iso(MIN), by: 'b', reason: 'r' },
      recentDecisions: [
        { decisionId: 'r', action: 'recommend', decidedAt: iso(-1000), approvableUntil: iso(MIN) },
        { decisionId: 'e', action: 'escalate', decidedAt: iso(-2000) },
      ],
      failedRollbacks: [{ rollbackId: 'f', finishedAt: iso(-3 * 3_600_000) }],
    });
    expect(attentionOf(s, NOW).map((a) => a.kind)).toEqual(['failed-rollback', 'escalation', 'approval', 'paused']);
  });
});

describe('a fleet row', () => {
  it('says what serves, what is in flight and the last decision, with links', () => {
    const row = fleetRow(
      service('api-backend', {
        serving: { releaseId: 'rel-002', since: iso(-20 * MIN), phase: 'canary-25' },
        inFlight: { rollbackId: 'rb-1', status: 'started', releaseId: 'rel-001', since: iso(-MIN) },
        lastDecision: { decisionId: 'dec-1', action: 'rollback', reason: 'roll back: …', decidedAt: iso(-MIN) },
        freeze: 'weekly freeze sat, sun',
      }),
      NOW,
    );
    expect(row).toMatchObject({
      name: 'api-backend',
      href: '/console/services/api-backend',
      serving: { releaseId: 'rel-002', phase: 'canary-25', sinceText: 'since 2026-12-06 09:40:00 UTC (20 min ago)' },
      inFlight: { rollbackId: 'rb-1', href: '/console/rollbacks/rb-1', text: 'started → rel-001, ordered 1 min ago' },
      lastDecision: {
        decisionId: 'dec-1',
        href: '/console/decisions/dec-1',
        action: 'rollback',
        reason: 'roll back: …',
        when: '1 min ago',
      },
      freeze: 'weekly freeze sat, sun',
      needsHuman: false,
    });
    expect(
      fleetRow(service('x', { inFlight: { rollbackId: 'rb-2', status: 'ordered', releaseId: null, since: iso(0) } }), NOW).inFlight!.text,
    ).toBe('ordered less than a minute ago; the executor has not taken it up yet');
  });

  it('percent-encodes names in links', () => {
    expect(serviceHref('a b/c')).toBe('/console/services/a%20b%2Fc');
    expect(
      fleetRow(service('x', { lastDecision: { decisionId: 'a?b', action: 'hold', reason: '', decidedAt: iso(0) } }), NOW).lastDecision!
        .href,
    ).toBe('/console/decisions/a%3Fb');
  });
});

describe('the fleet’s order', () => {
  it('lists services that need a human first, the most urgent and most recent first, the rest by name', () => {
    const rows = fleetView(
      [
        service('zeta'),
        service('alpha'),
        service('paused', { pause: { until: iso(MIN), by: 'b', reason: 'r' } }),
        service('escalated-old', { recentDecisions: [{ decisionId: 'e1', action: 'escalate', decidedAt: iso(-60 * MIN) }] }),
        service('escalated-new', { recentDecisions: [{ decisionId: 'e2', action: 'escalate', decidedAt: iso(-MIN) }] }),
        service('failed', { failedRollbacks: [{ rollbackId: 'f', finishedAt: iso(-5 * 3_600_000) }] }),
      ],
      NOW,
    );
    expect(rows.map((r) => r.name)).toEqual(['failed', 'escalated-new', 'escalated-old', 'paused', 'alpha', 'zeta']);
  });

  const arbitraryService = (name: string) =>
    fc
      .record({
        paused: fc.boolean(),
        escalatedAgo: fc.option(fc.integer({ min: 0, max: 8 * 3_600_000 })),
        failedAgo: fc.option(fc.integer({ min: 0, max: 8 * 3_600_000 })),
      })
      .map(({ paused, escalatedAgo, failedAgo }) =>
        service(name, {
          pause: paused ? { until: iso(MIN), by: 'b', reason: 'r' } : null,
          recentDecisions: escalatedAgo === null ? [] : [{ decisionId: `e-${name}`, action: 'escalate', decidedAt: iso(-escalatedAgo) }],
          failedRollbacks: failedAgo === null ? [] : [{ rollbackId: `f-${name}`, finishedAt: iso(-failedAgo) }],
        }),
      );
  const fleets = fc
    .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), { maxLength: 12 })
    .chain((names) => fc.tuple(...names.map(arbitraryService)).map((services): FleetInput[] => services));

  it('keeps every service once, puts each that needs a human before each that does not, and does not depend on the input order', () => {
    fc.assert(
      fc.property(fleets, fc.func(fc.integer()), (services, key) => {
        const rows = fleetView(services, NOW);
        expect(rows.map((r) => r.name).sort()).toEqual(services.map((s) => s.name).sort());
        const firstFine = rows.findIndex((r) => !r.needsHuman);
        if (firstFine >= 0) expect(rows.slice(firstFine).every((r) => !r.needsHuman)).toBe(true);
        const shuffled = [...services].sort((a, b) => key(a.name) - key(b.name));
        expect(fleetView(shuffled, NOW).map((r) => r.name)).toEqual(rows.map((r) => r.name));
        // Those that need no human are in name order.
        const fine = rows.filter((r) => !r.needsHuman).map((r) => r.name);
        expect(fine).toEqual([...fine].sort());
        // A failed rollback outranks everything else.
        const failed = rows.map((r) => r.attention[0]?.kind === 'failed-rollback');
        expect(failed.indexOf(false) === -1 || failed.lastIndexOf(true) < failed.indexOf(false)).toBe(true);
      }),
    );
  });
});

describe('the order of what needs a human', () => {
  it('on one service: failed rollbacks (newest first, then by link), escalations, recommendations, a pause', () => {
    const s = service('api', {
      pause: { until: iso(30 * MIN), by: 'ana', reason: 'drill' },
      recentDecisions: [
        { decisionId: 'dec-rec', action: 'recommend', decidedAt: iso(-2 * MIN), approvableUntil: iso(10 * MIN) },
        { decisionId: 'dec-rec-no-window', action: 'recommend', decidedAt: iso(-1 * MIN), approvableUntil: null },
        { decisionId: 'dec-hold', action: 'hold', decidedAt: iso(-1 * MIN), approvableUntil: iso(10 * MIN) },
        { decisionId: 'dec-esc', action: 'escalate', decidedAt: iso(-9 * MIN) },
      ],
      failedRollbacks: [
        { rollbackId: 'rb-old', finishedAt: iso(-20 * MIN) },
        { rollbackId: 'rb-b', finishedAt: iso(-5 * MIN) },
        { rollbackId: 'rb-a', finishedAt: iso(-5 * MIN) },
      ],
    });
    expect(attentionOf(s, NOW).map((a) => [a.kind, a.href])).toEqual([
      ['failed-rollback', '/console/rollbacks/rb-a'],
      ['failed-rollback', '/console/rollbacks/rb-b'],
      ['failed-rollback', '/console/rollbacks/rb-old'],
      ['escalation', '/console/decisions/dec-esc'],
      ['approval', '/console/decisions/dec-rec'],
      ['paused', '/console/services/api'],
    ]);
  });

  it('across the fleet: the most urgent first, then the most recent, then by name; the quiet ones by name', () => {
    const rows = fleetView(
      [
        service('quiet-b'),
        service('paused', { pause: { until: iso(30 * MIN), by: 'ana', reason: 'drill' } }),
        service('escalated-long-ago', { recentDecisions: [{ decisionId: 'd1', action: 'escalate', decidedAt: iso(-50 * MIN) }] }),
        service('quiet-a'),
        service('failed', { failedRollbacks: [{ rollbackId: 'rb-1', finishedAt: iso(-60 * MIN) }] }),
        service('escalated-now', { recentDecisions: [{ decisionId: 'd2', action: 'escalate', decidedAt: iso(-1 * MIN) }] }),
        service('quiet-c'),
      ],
      NOW,
    );
    expect(rows.map((r) => r.name)).toEqual(['failed', 'escalated-now', 'escalated-long-ago', 'paused', 'quiet-a', 'quiet-b', 'quiet-c']);
  });
});
