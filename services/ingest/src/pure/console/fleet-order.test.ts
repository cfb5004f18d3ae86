import { attentionOf, fleetView, type FleetInput } from './fleet.js';

/** The order of what needs a human, within one service and across the fleet, given in an order it must not keep. */
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
