/**
 * The console after a real rollback: the whole pipeline (ingest, decider,
 * executor) on the emulators and gcp-sim (packages/cli/test/pipeline-harness.ts),
 * an incident on api-backend, and then each page, read with the management token.
 */
import { Collections, DecisionRecord, RollbackRecord } from '@burnback/contracts';
import { openIncident, waitFor } from '@burnback/testkit';
import { MANAGEMENT_TOKEN, startPipeline, type Pipeline } from '../../../packages/cli/test/pipeline-harness';

describe('the console after a real rollback through the pipeline', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline('console-pipeline');
  }, 60_000);
  afterAll(async () => {
    await p?.close();
  });

  it('shows the rollback on the fleet, the service’s axis, the decision and the rollback pages', async () => {
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.console' }));
    const rollback = await waitFor(
      async () => (await p.rollbacks()).map((r) => RollbackRecord.parse(r)).find((r) => r.status === 'succeeded'),
      { what: 'the rollback to succeed', timeoutMs: 30_000 },
    );
    const page = (path: string) =>
      fetch(`${p.ingest.address}${path}`, { headers: { authorization: `Bearer ${MANAGEMENT_TOKEN}` } }).then(async (r) => {
        expect([path, r.status]).toEqual([path, 200]);
        return r.text();
      });
    // The decider records the outcome from burnback-progress: then production serves rel-001 again.
    const fleet = await waitFor(
      async () => {
        const html = await page('/console/');
        return html.includes('<strong>rel-001</strong>') && !html.includes('class="attention') ? html : undefined;
      },
      { what: 'the fleet to show rel-001 serving', timeoutMs: 30_000 },
    );
    expect(fleet).toContain('class="badge action-rollback">rollback</span>');
    expect(fleet).toContain('roll back: error ratio 2.5 % exceeds the threshold of 1 %; caused by rel-002');

    const decision = DecisionRecord.parse((await p.env.db.collection(Collections.decisions).doc(rollback.command.decisionId).get()).data());
    const service = await page('/console/services/api-backend');
    expect(service).toContain(`href="/console/decisions/${decision.decisionId}"`);
    expect(service).toContain(`href="/console/rollbacks/${rollback.rollbackId}"`);
    expect(service).toContain('rollback succeeded → rel-001');

    const decisionHtml = await page(`/console/decisions/${decision.decisionId}`);
    const rules = [...decisionHtml.matchAll(/<td><code>([a-z-]+)<\/code><\/td><td class="mark">/g)].map((m) => m[1]);
    expect(rules).toEqual(decision.verdicts.map((v) => v.rule));
    for (const f of decision.confidence!.factors) expect(decisionHtml).toContain(`weight ${f.weight}`);
    expect(decisionHtml).toContain('<strong id="blamed">rel-002</strong>');

    const rollbackHtml = await waitFor(
      async () => {
        const html = await page(`/console/rollbacks/${rollback.rollbackId}`);
        return html.includes('Cloud Deploy: Rollout') ? html : undefined;
      },
      { what: 'the decider to keep Cloud Deploy’s notifications of the rollback’s rollout', timeoutMs: 20_000 },
    );
    for (const stage of ['decided: rollback', 'accepted', 'started', 'succeeded']) expect(rollbackHtml).toContain(stage);
    expect(rollbackHtml).toContain('rel-002 → <strong>rel-001</strong>');
  }, 90_000);
});
