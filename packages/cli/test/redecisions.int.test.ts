import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { Collections, type DecisionRecord, type RollbackProgress } from '@burnback/contracts';
import { closedIncident, LOCAL_CONFIG_PATH, openIncident, waitFor } from '@burnback/testkit';
import { MANAGEMENT_TOKEN, startPipeline, type Pipeline } from './pipeline-harness';

/**
 * No held burn is forgotten: a hold or an escalation whose cause lapses (a
 * pause, a cooldown, a freeze, Cloud Monitoring that could not answer) is
 * decided again when it lapses, with no new notification, while its incident
 * is open; a closed incident is not. Through the whole pipeline on the emulators.
 */
describe('a held burn is decided again when its cause lapses', () => {
  let p: Pipeline;
  afterEach(async () => {
    await p?.close();
  });

  /** The local config with `edit` applied to the api-backend service, written where the test can point the pipeline. */
  const configWith = (edit: (service: Record<string, unknown>) => void): string => {
    const config = parseYaml(readFileSync(LOCAL_CONFIG_PATH, 'utf8')) as { services: Record<string, Record<string, unknown>> };
    edit(config.services['api-backend']!);
    const path = join(mkdtempSync(join(tmpdir(), 'burnback-redecide-')), 'config.yaml');
    writeFileSync(path, stringify(config));
    return path;
  };
  const nowSeconds = () => Math.ceil(Date.now() / 1000);
  const decisionsOf = async (incidentId: string) =>
    (await p.decisions()).filter((d) => d.incidentId === incidentId).sort((a, b) => a.decidedAt.localeCompare(b.decidedAt));
  const decided = (incidentId: string, check: (d: DecisionRecord[]) => boolean, what: string, timeoutMs = 30_000) =>
    waitFor(
      async () => {
        const d = await decisionsOf(incidentId);
        return check(d) ? d : undefined;
      },
      { what, timeoutMs },
    );
  const succeeded = async (incidentId: string) =>
    (
      await p.progress.waitFor(
        1,
        (m) => m.json<RollbackProgress>().incidentId === incidentId && m.json<RollbackProgress>().stage === 'succeeded',
        30_000,
      )
    )[0]!.json<RollbackProgress>();
  const manage = (path: string) =>
    fetch(`${p.ingest.address}${path}`, { method: 'POST', headers: { authorization: `Bearer ${MANAGEMENT_TOKEN}` } });

  it('a burn held by a pause is rolled back when the pause ends, with no new notification; an incident closed meanwhile is not', async () => {
    p = await startPipeline('redecide pause');
    const until = new Date(Date.now() + 5_000).toISOString();
    expect((await manage(`/services/api-backend/pause?until=${until}&reason=db%20migration&by=alice`)).status).toBe(200);
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.held', startedAt: nowSeconds() }));
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.gone', startedAt: nowSeconds() }));
    const [held] = await decided('0.held', (d) => d.length === 1, 'the burn to be held');
    expect(held).toMatchObject({ action: 'hold', redecideAt: { at: until, rule: 'paused' } });
    expect(held!.reason).toMatch(/^no rollback: api-backend is paused until /);
    // The operator sees what is pending, and when.
    const status = (await (
      await fetch(`${p.ingest.address}/rollback/status/0.held`, { headers: { authorization: `Bearer ${MANAGEMENT_TOKEN}` } })
    ).json()) as { redecision: { dueAt: string; trigger: string; rule: string } };
    expect(status.redecision).toMatchObject({ dueAt: until, trigger: 'lapsed', rule: 'paused' });
    // The other incident closes while the pause runs: its schedule ends with it.
    await decided('0.gone', (d) => d.length === 1, 'the second burn to be held');
    await p.notify(closedIncident({ ...p.fixture, incidentId: '0.gone', endedAt: nowSeconds() }));
    await decided('0.gone', (d) => d.length === 2, 'the close to be decided');
    expect((await p.env.db.collection(Collections.redecisions).doc('0.gone').get()).exists).toBe(false);

    const done = await succeeded('0.held');
    expect(done).toMatchObject({ releaseId: 'rel-001', fromReleaseId: 'rel-002' });
    const [, again] = await decisionsOf('0.held');
    expect(again).toMatchObject({ action: 'rollback', redecisionOf: held!.decisionId, rollbackId: done.rollbackId });
    expect(again!.verdicts.find((v) => v.rule === 'paused')!.detail).toMatch(/pause by alice expired at/);
    expect(Date.parse(again!.controls!.evaluatedAt!)).toBeGreaterThanOrEqual(Date.parse(until));
    // The held incident's re-decision is the positive control: the redecider has swept past the pause's end, and the
    // closed incident was not decided again.
    await p.drain();
    expect((await decisionsOf('0.gone')).map((d) => d.action)).toEqual(['hold', 'hold']);
  });

  it('a burn held by the cooldown is rolled back when the cooldown runs out', async () => {
    p = await startPipeline('redecide cooldown', {
      env: { BURNBACK_CONFIG: configWith((s) => (s.policy = { cooldownMinutes: 0.15 })) },
    });
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.first', startedAt: nowSeconds() }));
    const first = await succeeded('0.first');
    // A new release ships and burns: blamed on it, but the rollback before it ended seconds ago.
    p.sim.deploy.setTimings({ autoAdvance: true });
    const pipeline = `projects/${p.env.projectId}/locations/us-central1/deliveryPipelines/api-backend-pipeline`;
    const [release] = await p.deployClient.createRelease({ parent: pipeline, releaseId: 'rel-003', release: {} });
    await release.promise();
    const [rollout] = await p.deployClient.createRollout({
      parent: `${pipeline}/releases/rel-003`,
      rolloutId: 'rel-003-to-production',
      rollout: { targetId: 'production' },
    });
    await rollout.promise();
    await p.sim.deploy.waitForRollout(`${pipeline}/releases/rel-003/rollouts/rel-003-to-production`, undefined, 20_000);
    await waitFor(
      async () =>
        (await p.env.db.collection(Collections.targets).get()).docs.some((d) => d.get('serving.releaseId') === 'rel-003')
          ? true
          : undefined,
      { what: 'the decider to learn rel-003 serves' },
    );
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.second', startedAt: nowSeconds() }));
    const [held] = await decided('0.second', (d) => d.length === 1, 'the second burn to be held');
    expect(held).toMatchObject({ action: 'hold', redecideAt: { rule: 'cooldown' } });
    expect(Date.parse(held!.redecideAt!.at)).toBe(Date.parse(first.at) + 9_000);
    const second = await succeeded('0.second');
    expect(second).toMatchObject({ releaseId: 'rel-001', fromReleaseId: 'rel-003' });
    const [, again] = await decisionsOf('0.second');
    expect(again).toMatchObject({ action: 'rollback', redecisionOf: held!.decisionId, cause: { releaseId: 'rel-003' } });
  });

  it('a burn escalated by a freeze window is decided again when the freeze ends, and rolled back', async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const to = new Date(Date.now() + 12_000).toISOString();
    p = await startPipeline('redecide freeze', {
      env: { BURNBACK_CONFIG: configWith((s) => (s.policy = { freeze: [{ from, to, reason: 'release day' }] })) },
    });
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.frozen', startedAt: nowSeconds() }));
    const [frozen] = await decided('0.frozen', (d) => d.length === 1, 'the burn to be escalated');
    expect(frozen).toMatchObject({ action: 'escalate', redecideAt: { at: to, rule: 'freeze' } });
    const done = await succeeded('0.frozen');
    const [, again] = await decisionsOf('0.frozen');
    expect(again).toMatchObject({ action: 'rollback', redecisionOf: frozen!.decisionId, rollbackId: done.rollbackId });
  });

  it('a burn held because Cloud Monitoring could not answer is rolled back once it answers, without a new notification', async () => {
    const slo = 'projects/burnback-local/services/api-backend/serviceLevelObjectives/availability';
    p = await startPipeline('redecide monitoring', { env: { BURNBACK_CONFIG: configWith((s) => (s.slo = slo)) } });
    // Both windows of the first read fail: Cloud Monitoring cannot answer.
    p.sim.monitoring.failNextCalls('ListTimeSeries', 14, 2);
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.silent', startedAt: nowSeconds() }));
    const [silent] = await decided('0.silent', (d) => d.length === 1, 'the burn to be held');
    expect(silent).toMatchObject({ action: 'hold', monitoring: { status: 'unavailable' }, redecideAt: { rule: 'burning-now' } });
    expect(silent!.reason).toMatch(/Cloud Monitoring could not answer .* asking again until/);
    // Monitoring answers again, and reads the burn on both windows.
    const since = new Date(Date.now() - 5 * 60_000);
    p.sim.monitoring.setBurn(slo, 3600, 3, since);
    p.sim.monitoring.setBurn(slo, 300, 4, since);
    const done = await succeeded('0.silent');
    const [, again] = await decisionsOf('0.silent');
    expect(again).toMatchObject({
      action: 'rollback',
      redecisionOf: silent!.decisionId,
      rollbackId: done.rollbackId,
      monitoring: { status: 'read' },
    });
  }, 60_000);
});
