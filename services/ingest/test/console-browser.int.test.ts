/**
 * The console in a real browser: Debian's headless Chromium, driven by
 * playwright-core, against the whole pipeline on the emulators and gcp-sim.
 * It logs in through the form, sees the fleet after a rollback, follows the
 * service's time axis to the decision and on to the rollback, and checks that
 * no page logged a console error (a Content-Security-Policy violation is one),
 * threw, or had a request fail. Screenshots go to reports/console/ (git-ignored).
 *
 * Chromium must be installed (`apt-get install -y chromium`; CI's .ci/run
 * installs it): without it this test fails, saying so, rather than skipping.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { Collections, DecisionRecord, RollbackRecord, verdictLabel } from '@burnback/contracts';
import { openIncident, waitFor } from '@burnback/testkit';
import { MANAGEMENT_TOKEN, startPipeline, type Pipeline } from '../../../packages/cli/test/pipeline-harness';

const CHROMIUM = process.env.BURNBACK_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = resolve(__dirname, '../../../reports/console');
/** The flags CI's Chromium runs with: no sandbox (containers), no GPU, no network of its own (updates, sync, QUIC). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('the console in headless Chromium', () => {
  let p: Pipeline | undefined;
  let context: BrowserContext | undefined;
  let profile: string | undefined;
  const problems: string[] = [];

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await p?.close();
  });

  /** Every console error, uncaught exception, failed request and error answer of the page, with where it happened. */
  const watch = (page: Page) => {
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error on ${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`uncaught on ${page.url()}: ${err.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText ?? '?'}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
    });
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  it('logs in, sees the fleet after a rollback, follows the time axis to the decision and the rollback', async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `headless Chromium is not installed at ${CHROMIUM}: the console's browser test needs it. ` +
          "Install Debian's package (as root: apt-get install -y chromium), or point BURNBACK_CHROMIUM at a Chromium binary; CI's .ci/run installs it.",
      );
    mkdirSync(SCREENSHOTS, { recursive: true });

    p = await startPipeline('console-browser');
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.browser' }));
    const rollback = await waitFor(
      async () => (await p!.rollbacks()).map((r) => RollbackRecord.parse(r)).find((r) => r.status === 'succeeded'),
      {
        what: 'the rollback to succeed',
        timeoutMs: 30_000,
      },
    );
    const decision = DecisionRecord.parse((await p.env.db.collection(Collections.decisions).doc(rollback.command.decisionId).get()).data());
    // The decider records the outcome from burnback-progress; the fleet shows rel-001 serving once it has.
    await waitFor(
      async () => {
        const res = await fetch(`${p!.ingest.address}/console/`, { headers: { authorization: `Bearer ${MANAGEMENT_TOKEN}` } });
        return (await res.text()).includes('<strong>rel-001</strong>') || undefined;
      },
      { what: 'the decider to record that production serves rel-001 again', timeoutMs: 30_000 },
    );

    profile = mkdtempSync(join(tmpdir(), 'burnback-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    watch(page);

    // Not logged in: the fleet sends the browser to the login form.
    await page.goto(`${p.ingest.address}/console/`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await expect(page.locator('h1').textContent()).resolves.toBe('Log in');
    await shot(page, '1-login');
    await page.fill('#token', MANAGEMENT_TOKEN);
    await Promise.all([page.waitForURL(`${p.ingest.address}/console/`), page.click('button[type=submit]')]);

    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'burnback_console', path: '/console', httpOnly: true, sameSite: 'Strict' });
    expect(cookie!.expires * 1000 - Date.now()).toBeGreaterThan(11.9 * 3_600_000);

    // The fleet: api-backend rolled back, rel-001 serving again, the decision's reason.
    const row = page.locator('tr[data-service="api-backend"]');
    await expect(row.locator('td').nth(2).textContent()).resolves.toContain('rel-001');
    await expect(row.locator('.badge').textContent()).resolves.toBe('rollback');
    await expect(row.textContent()).resolves.toContain('roll back: error ratio 2.5 % exceeds the threshold of 1 %; caused by rel-002');
    await expect(page.locator('tr[data-service="checkout"]').count()).resolves.toBe(1);
    // The page's script runs under the policy (it says it refreshes).
    await page.locator('#refresh-status', { hasText: /^live: refreshes every 10 s$/ }).waitFor();
    await shot(page, '2-fleet');

    // The service: its axis with the releases, the incident, the decision and the rollback.
    await Promise.all([page.waitForURL('**/console/services/api-backend'), row.locator('a.service').click()]);
    await expect(page.locator('svg.timeline').isVisible()).resolves.toBe(true);
    const svg = (await page.locator('svg.timeline').innerHTML()).replace(/\s+/g, ' ');
    for (const text of ['rel-002', 'rel-001', '2.5 % (bar 1 %)']) expect(svg).toContain(text);
    await expect(page.locator('a.mark-rollback').count()).resolves.toBe(1);
    await expect(page.locator('table.decisions tbody tr').count()).resolves.toBe(1);
    await shot(page, '3-service');

    // Its decision, from the dot on the axis: every verdict in order, every factor with its weight.
    await Promise.all([page.waitForURL(`**/console/decisions/${decision.decisionId}`), page.locator('a.mark-decision').first().click()]);
    await expect(page.locator('#reason').textContent()).resolves.toBe(decision.reason);
    const rules = await page.locator('table.verdicts tbody td:nth-child(2)').allTextContents();
    expect(rules).toEqual(decision.verdicts.map((v) => v.rule));
    // Each verdict says what it found in the terminal's words (✓ not paused), then whether it passed.
    const marks = await page.locator('table.verdicts tbody td.mark').allTextContents();
    expect(marks).toEqual(decision.verdicts.map((v) => `${verdictLabel(v)} (${v.passed ? 'passed' : 'did not pass'})`));
    const factors = await page.locator('table.factors tbody tr').allTextContents();
    expect(factors).toHaveLength(decision.confidence!.factors.length);
    decision.confidence!.factors.forEach((f, i) => expect(factors[i]).toContain(`weight ${f.weight}`));
    await expect(page.locator('#blamed').textContent()).resolves.toBe('rel-002');
    await expect(page.locator('#replay').textContent()).resolves.toContain(`npm run burnback -- replay ${decision.decisionId}.ndjson`);
    await shot(page, '4-decision');

    // Its rollback: from the decision to the outcome, with Cloud Deploy's notifications and the audit trail.
    await Promise.all([page.waitForURL(`**/console/rollbacks/${rollback.rollbackId}`), page.click('#rollback-link')]);
    await expect(page.locator('h1 .badge').textContent()).resolves.toBe('succeeded');
    const steps = await page.locator('table.steps tbody td:nth-child(3)').allTextContents();
    expect(steps[0]).toBe('decided: rollback');
    expect(steps).toEqual(expect.arrayContaining(['accepted', 'started', 'succeeded']));
    await expect(page.locator('main').textContent()).resolves.toContain('rel-002 → rel-001');
    await shot(page, '5-rollback');

    // And back: the decision link on the rollback page leads to the same decision.
    await Promise.all([page.waitForURL(`**/console/decisions/${decision.decisionId}`), page.click('#decision-link')]);

    expect(problems).toEqual([]);
  }, 120_000);
});
