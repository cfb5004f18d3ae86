/**
 * The console's templates: every value from a record is escaped (a reason, a
 * release id, a detail may hold anything a notification or an operator wrote),
 * and no page carries what its Content-Security-Policy would block (inline
 * script, inline style, event-handler attributes).
 */
import { alertEvent } from '@burnback/testkit/fixtures';
import { decisionPage } from '../src/pure/console/decision-view.js';
import { fleetView, type FleetInput } from '../src/pure/console/fleet.js';
import { rollbackPage } from '../src/pure/console/rollback-view.js';
import { servicePage } from '../src/pure/console/service-view.js';
import { renderDecision, renderFleet, renderLogin, renderProblem, renderRollback, renderService } from '../src/console/render.js';
import { at, decisionRecord, deployNotice, incidentRecord, MIN, rollbackRecord, T0, targetRecord } from './console-fixtures.js';

const NOW = T0 + 5 * MIN;
// No "/": ids that hold one cannot be stored (the contracts refuse them), so the records could not hold it either.
const EVIL = `<script>alert("x")<img src=x onerror=alert(1)>'"&`;
const ESCAPED = '&lt;script&gt;alert(&quot;x&quot;)&lt;img src=x onerror=alert(1)&gt;&#39;&quot;&amp;';

const hostileFleet: FleetInput = {
  name: `svc${EVIL}`,
  mode: 'auto',
  target: `p${EVIL}/production`,
  serving: { releaseId: `rel${EVIL}`, since: at(0), phase: EVIL },
  pause: { until: at(60 * MIN), by: EVIL, reason: EVIL },
  freeze: EVIL,
  inFlight: { rollbackId: `rb${EVIL}`, status: 'started', releaseId: EVIL, since: at(0) },
  lastDecision: { decisionId: `dec${EVIL}`, action: 'escalate', reason: EVIL, decidedAt: at(0) },
  recentDecisions: [{ decisionId: `dec${EVIL}`, action: 'escalate', decidedAt: at(0) }],
  failedRollbacks: [{ rollbackId: `rb${EVIL}`, finishedAt: at(0) }],
};
const hostileDecision = decisionRecord({
  decisionId: `dec${EVIL}`,
  service: EVIL,
  reason: EVIL,
  verdicts: [{ rule: 'paused', passed: false, detail: EVIL }],
  cause: { releaseId: EVIL, servingSince: at(0) },
  evidence: { ...decisionRecord().evidence!, alert: alertEvent(`0.${EVIL}`, { policyName: EVIL, url: `javascript:${EVIL}` }) },
  redecisionOf: EVIL,
  redecideAt: { at: at(MIN), rule: EVIL, detail: EVIL },
});
const hostileRollback = rollbackRecord({
  failureReason: EVIL,
  status: 'failed',
  audit: [{ at: at(31_000), stage: 'failed', detail: EVIL }],
});

const pages: Array<[string, string]> = [
  ['login', renderLogin({ next: `/console/${EVIL}`, problem: EVIL, hours: 12 })],
  ['problem', renderProblem(404, EVIL, EVIL, true)],
  ['fleet', renderFleet(fleetView([hostileFleet], NOW), 6)],
  [
    'service',
    renderService(
      servicePage(
        {
          fleet: hostileFleet,
          target: targetRecord({
            timeline: targetRecord().timeline.map((s) => ({ ...s, releaseId: `${s.releaseId}${EVIL}`, rollout: EVIL })),
          }),
          decisions: [hostileDecision],
          incidents: [incidentRecord({ incidentId: `0.${EVIL}` })],
          rollbacks: [hostileRollback],
          hours: 6,
          truncated: false,
        },
        NOW,
      ),
    ),
  ],
  ['decision', renderDecision(decisionPage(hostileDecision, NOW, [EVIL]))],
  [
    'rollback',
    renderRollback(rollbackPage(hostileRollback, hostileDecision, [deployNotice(EVIL, 32_000, 'JobRun', { ReleaseId: EVIL })], NOW)),
  ],
];

describe.each(pages)('the %s page', (_name, html) => {
  it('escapes what the records hold', () => {
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain(ESCAPED);
  });

  it('carries nothing the Content-Security-Policy would block', () => {
    // Scripts only from the console's own file; no inline style; no event handlers; no javascript: links.
    expect([...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])).toEqual(['<script src="/console/static/console.js" defer>']);
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=["']/i);
    expect(html).not.toMatch(/href="javascript:/i);
    expect(html).toMatch(/^<!doctype html>/);
  });
});

describe('what the pages say', () => {
  it('marks a signed-in page with the logout, and the refreshing ones with their interval', () => {
    const fleet = renderFleet(fleetView([], NOW), 6);
    expect(fleet).toContain('action="/console/logout"');
    expect(fleet).toContain('<main id="main" data-refresh="10">');
    expect(fleet).toContain('No service is configured');
    expect(renderLogin({ next: '/console/', problem: null, hours: 12 })).not.toContain('/console/logout');
    expect(renderDecision(decisionPage(decisionRecord(), NOW))).toContain('<main id="main">');
    const inFlight = rollbackRecord({ status: 'started', audit: rollbackRecord().audit.slice(0, 3) });
    expect(renderRollback(rollbackPage(inFlight, null, [], NOW))).toContain('data-refresh="5"');
    expect(renderRollback(rollbackPage(rollbackRecord(), null, [], NOW))).not.toContain('data-refresh');
  });

  it('draws the service’s axis as SVG with links to the decision and the rollback', () => {
    const html = renderService(
      servicePage(
        {
          fleet: { ...hostileFleet, name: 'api-backend' },
          target: targetRecord(),
          decisions: [decisionRecord()],
          incidents: [incidentRecord()],
          rollbacks: [rollbackRecord()],
          hours: 6,
          truncated: false,
        },
        NOW,
      ),
    );
    expect(html).toContain('<svg class="timeline"');
    expect(html).toContain(`<a class="mark-decision" href="/console/decisions/${decisionRecord().decisionId}">`);
    expect(html).toContain(`<a class="mark-rollback" href="/console/rollbacks/${rollbackRecord().rollbackId}">`);
    expect(html).toContain('2.5 % (bar 1 %)');
  });

  it('shows every verdict and factor on the decision page, and the replay commands', () => {
    const html = renderDecision(decisionPage(decisionRecord(), NOW));
    for (const rule of ['event-time', 'incident-open', 'error-ratio', 'confidence', 'cooldown'])
      expect(html).toContain(`<code>${rule}</code>`);
    for (const factor of ['burn', 'timing', 'previous-release', 'monitoring']) expect(html).toContain(`<code>${factor}</code>`);
    expect(html).toContain('weight 0.5');
    // One command a line, to copy.
    expect(html).toContain(
      '<pre id="replay">npm run burnback -- export --decision dec-0123456789abcdef01234567 --out dec-0123456789abcdef01234567.ndjson\nnpm run burnback -- replay dec-0123456789abcdef01234567.ndjson</pre>',
    );
    expect(html).toContain(`id="rollback-link" href="/console/rollbacks/${rollbackRecord().rollbackId}"`);
  });
});
