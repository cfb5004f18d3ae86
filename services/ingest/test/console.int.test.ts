/**
 * What the console's pages show, over real HTTP on the Firestore emulator, on
 * records written as the decider and the executor write them
 * (console-app.ts): the fleet (those that need a human first), a service's
 * axis, a decision, a rollback; and the ids and names it refuses.
 */
import { Collections } from '@burnback/contracts';
import type { ServiceConfig } from '@burnback/platform';
import { at, MIN, rollbackRecord, serviceState } from './console-fixtures.js';
import { BEARER, DECISION, ROLLBACK, seededConsole, TOKEN, type SeededConsole } from './console-app.js';

describe('the console’s pages', () => {
  let c: SeededConsole;
  beforeAll(async () => {
    c = await seededConsole('console-pages');
  });
  afterAll(async () => {
    await c.close();
  });
  const get: SeededConsole['get'] = (...args) => c.get(...args);

  it('answers 400 for an id or name that cannot be one, 404 with the reason for one that names nothing', async () => {
    const page = async (path: string) => {
      const res = await get(path, BEARER);
      return [res.status, await res.text()] as const;
    };
    const [bad, badText] = await page('/console/decisions/a%2Fb');
    expect(bad).toBe(400);
    expect(badText).toContain('the id in the path &quot;a/b&quot; holds a &quot;/&quot;, which Firestore reads as a path');
    expect((await page(`/console/rollbacks/__x__`))[0]).toBe(400);
    expect((await page(`/console/services/${'s'.repeat(200)}`))[1]).toContain('service name is 200 bytes long; at most 128 are accepted');
    expect((await page('/console/services/api-backend?hours=abc'))[0]).toBe(400);
    expect((await page('/console/services/api-backend?hours=6&hours=24'))[0]).toBe(400);
    const [none, noneText] = await page('/console/services/constructor');
    expect(none).toBe(404);
    expect(noneText).toContain('no service &quot;constructor&quot; in Burnback&#39;s configuration (it names api-backend, checkout)');
    expect((await page('/console/decisions/dec-nothing'))[1]).toContain('no decision &quot;dec-nothing&quot; is on record');
    expect((await page('/console/rollbacks/rb-nothing'))[0]).toBe(404);
  });

  it('shows the fleet, those that need a human first', async () => {
    const html = await (await get('/console/', BEARER)).text();
    // checkout: a failed rollback, an escalation and a pause, so before api-backend.
    expect(html.indexOf('data-service="checkout"')).toBeLessThan(html.indexOf('data-service="api-backend"'));
    expect(html).toContain('<tr class="needs-human" data-service="checkout">');
    expect(html).toContain('<tr class="fine" data-service="api-backend">');
    expect(html).toContain('rollback rb-checkout-failed failed 4 min ago');
    expect(html).toContain('escalated 3 min ago');
    expect(html).toContain('paused by dana until 2026-12-06 11:00:00 UTC: db migration');
    expect(html).toContain('<strong>rel-001</strong>');
    expect(html).toContain('since 2026-12-06 10:00:32 UTC (4 min ago)');
    expect(html).toContain('roll back: error ratio 2.5 % exceeds the threshold of 1 %');
  });

  it('shows a freeze window in force and a rollback in flight (ordered, then started)', async () => {
    const api = c.config.services.get('api-backend')!;
    const billing: ServiceConfig = { ...c.config.services.get('checkout')!, name: 'billing', pipeline: 'billing-pipeline' };
    const frozen: ServiceConfig = {
      ...api,
      policy: { ...api.policy, freeze: [{ from: at(-MIN), to: at(60 * MIN), reason: 'release train' }] },
    };
    const other = await c.start(TOKEN, new Map([frozen, billing].map((s) => [s.name, s])));
    const flying = rollbackRecord({
      rollbackId: 'rb-billing-flying',
      command: { ...ROLLBACK.command, rollbackId: 'rb-billing-flying', service: 'billing', pipeline: 'billing-pipeline' },
      status: 'started',
      rolloutState: 'IN_PROGRESS',
      audit: ROLLBACK.audit.slice(0, 3),
    });
    const state = (outcome: null) =>
      serviceState({
        service: 'billing',
        recentRollbacks: [{ rollbackId: flying.rollbackId, decidedAt: at(30_000), outcome, finishedAt: null }],
      });
    try {
      await c.env.db
        .collection(Collections.services)
        .doc('billing')
        .set(JSON.parse(JSON.stringify(state(null))));
      const fleet = async () => (await get('/console/', BEARER, other.address)).text();
      // Ordered: the executor has not written the rollback yet.
      expect(await fleet()).toContain(
        '<a href="/console/rollbacks/rb-billing-flying">rb-billing-flying</a><div class="muted">ordered 4 min ago; the executor has not taken it up yet</div>',
      );
      await c.env.db
        .collection(Collections.rollbacks)
        .doc(flying.rollbackId)
        .set(JSON.parse(JSON.stringify(flying)));
      const html = await fleet();
      expect(html).toContain('<div class="muted">started → rel-001, ordered 4 min ago</div>');
      expect(html).toContain(
        '<div class="control">FROZEN</div><div class="muted">freeze from 2026-12-06T09:59:00.000Z to 2026-12-06T11:00:00.000Z (release train) is in force: no automatic rollback</div>',
      );
      const rollbackPage = await (await get('/console/rollbacks/rb-billing-flying', BEARER, other.address)).text();
      expect(rollbackPage).toContain('<main id="main" data-refresh="5">');
      expect(rollbackPage).toContain('<dt>in flight for</dt><dd>4 min</dd>');
    } finally {
      await other.app.close();
    }
  });

  it('draws the service’s story on one axis, with its decisions below', async () => {
    const html = await (await get('/console/services/api-backend', BEARER)).text();
    expect(html).toContain('<main id="main" data-refresh="5">');
    expect(html).toContain('<svg class="timeline"');
    expect(html).toContain(`<a class="mark-decision" href="/console/decisions/${DECISION.decisionId}">`);
    expect(html).toContain(`<a class="mark-rollback" href="/console/rollbacks/${ROLLBACK.rollbackId}">`);
    expect(html).toMatch(/<title>rel-002 served from 2026-12-06 09:50:00 UTC to 2026-12-06 10:00:32 UTC/);
    expect(html).toContain('incident 0.burn: 2.5 % (bar 1 %)');
    expect(html).toContain('class="badge action-rollback">rollback</span>');
    expect(html).toContain('0.925 (bar 0.8)');
  });

  it('explains the decision: every verdict in order, the factors with their weights, the links to its rollback and its replay', async () => {
    const html = await (await get(`/console/decisions/${DECISION.decisionId}`, BEARER)).text();
    const rules = [...html.matchAll(/<td><code>([a-z-]+)<\/code><\/td><td class="mark">/g)].map((m) => m[1]);
    expect(rules).toEqual(DECISION.verdicts.map((v) => v.rule));
    for (const f of DECISION.confidence!.factors) expect(html).toContain(`aria-label="${f.name}: value ${f.value}, weight ${f.weight}"`);
    expect(html).toContain('<strong id="blamed">rel-002</strong>');
    expect(html).toContain(`href="/console/rollbacks/${ROLLBACK.rollbackId}"`);
    expect(html).toContain(`npm run burnback -- export --decision ${DECISION.decisionId} --out ${DECISION.decisionId}.ndjson`);
    expect(html).toContain('Everything the decision read (JSON)');
  });

  it('tells the rollback from its decision to its outcome, with Cloud Deploy’s notifications and the audit trail', async () => {
    const html = await (await get(`/console/rollbacks/${ROLLBACK.rollbackId}`, BEARER)).text();
    const stages = [
      ...html.matchAll(/<tr class="kind-(\w+)"><td class="at">[^<]*<\/td><td class="muted offset">[^<]*<\/td><td>(?:<a [^>]*>)?([^<]+)/g),
    ].map((m) => `${m[1]} ${m[2]}`);
    expect(stages).toEqual([
      'decision decided: rollback',
      'audit accepted',
      'audit accepted',
      'audit started',
      'deploy Cloud Deploy: Rollout Start',
      'deploy Cloud Deploy: JobRun Succeed',
      'deploy Cloud Deploy: Rollout Succeed',
      'audit succeeded',
    ]);
    expect(html).toContain('rel-002 → <strong>rel-001</strong>');
    expect(html).toContain('<dt>ordered → succeeded</dt><dd>4 s</dd>');
    expect(html).toContain(`id="decision-link" href="/console/decisions/${DECISION.decisionId}"`);
  });
});
