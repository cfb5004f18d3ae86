import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@burnback/cli';
import { Collections, DecisionRecord } from '@burnback/contracts';
import { collectExport } from '../src/commands/export';
import { formatTimeline, replayRecorded } from '../src/replay/engine';
import { readExport, writeExport } from '../src/replay/format';
import { alertmanagerChannel, pubsubChannel, type NotificationChannel } from '../src/simulate/channels';
import { Simulation } from '../src/simulate/player';
import { loadScenario } from '../src/simulate/scenario';
import { startPipeline, WEBHOOK_TOKEN, type Pipeline } from './pipeline-harness';

/**
 * `burnback simulate --via alertmanager`: a scenario's burns reach ingest as
 * Prometheus Alertmanager's webhook notifications, and Burnback does what it
 * does for the same scenario through Cloud Monitoring.
 */
describe('burnback simulate --via alertmanager', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline('simulate-alertmanager', { rolloutStepMs: 40 });
  }, 60_000);
  afterAll(async () => {
    await p.close();
  });

  const play = async (service: string, channel: NotificationChannel) => {
    const timeline: string[] = [];
    const scenario = loadScenario(join(REPO_ROOT, 'scenarios/bad-release.yaml'));
    const ok = await new Simulation({ ...scenario, service }, p.config.services.get(service)!, {
      db: p.env.db,
      deploy: p.deployClient,
      channel,
      control: p.control,
      run: 'am',
      out: (l) => timeline.push(l),
    }).play();
    if (process.env.LOG_TESTS === '1') process.stdout.write(`${timeline.join('\n')}\n`);
    return { ok, timeline };
  };
  const decisionsOf = async (service: string) =>
    (await p.decisions()).filter((d) => d.service === service).sort((a, b) => (a.decidedAt < b.decidedAt ? -1 : 1));

  it("rolls api-backend's Alertmanager burn back as checkout's Monitoring twin is, closes it on the resolved alert, and replays it", async () => {
    // The same scenario, rel-003 ships, burns, is rolled back, resolves: api-backend through Alertmanager, checkout through Monitoring.
    const am = await play('api-backend', alertmanagerChannel(p.ingest.address, WEBHOOK_TOKEN, p.config.services.get('api-backend')!));
    expect({ ok: am.ok, last: am.ok ? am.timeline.at(-1) : am.timeline }).toEqual({
      ok: true,
      last: expect.stringMatching(/scenario done: every expectation met$/),
    });
    expect(am.timeline[0]).toMatch(/api-backend, through Alertmanager's webhook/);
    const twin = await play('checkout', pubsubChannel(p.env.pubsub));
    expect(twin.ok).toBe(true);

    const [amDecisions, twinDecisions] = [await decisionsOf('api-backend'), await decisionsOf('checkout')];
    // The same decisions, reasons and all, but for the service, the incident id and how confident the blame is.
    const story = (ds: DecisionRecord[], prefix: string) =>
      ds.map((d) => ({
        action: d.action,
        incident: d.incidentId.startsWith(prefix),
        reason: d.reason
          .replaceAll(d.incidentId, '<incident>')
          .replaceAll(d.service, '<service>')
          .replace(/\(confidence [^)]*\)/, ''),
      }));
    expect(story(amDecisions, 'am-')).toEqual(story(twinDecisions, '0.sim-'));
    expect(amDecisions.map((d) => d.action)).toEqual(['rollback', 'hold']);
    const [rollback] = (await p.rollbacks()).filter((r) => r.command.service === 'api-backend');
    expect(rollback).toMatchObject({ status: 'succeeded', releaseId: 'rel-002' });

    // The kept notifications are Alertmanager's, one per alert (the firing and the resolved one).
    const kept = (await p.env.db.collection(Collections.notifications).get()).docs
      .map((d) => d.data() as { id: string; source: string; state: string; raw: string })
      .filter((n) => n.source === 'alertmanager');
    expect(kept.map((n) => n.state).sort()).toEqual(['firing', 'resolved']);

    // Alertmanager delivers the firing notification again: the same alert, no new decision.
    const firing = kept.find((n) => n.state === 'firing')!;
    const res = await fetch(`${p.ingest.address}/webhook/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
      body: firing.raw,
    });
    expect(res.status).toBe(202);
    await p.drain('api-backend');
    expect(await decisionsOf('api-backend')).toHaveLength(2);

    // Exported, the decisions replay in-process with no difference, and through the real services again, where
    // each kept notification goes to the Alertmanager webhook with only its alert.
    const text = writeExport(
      { project: p.env.projectId, selection: { service: 'api-backend' } },
      await collectExport(p.env.db, amDecisions),
    );
    expect(
      formatTimeline(replayRecorded(readExport(text).lines))
        .trim()
        .split('\n')
        .at(-1),
    ).toBe('2 decision(s) replayed, 0 differ from the recorded ones');
    const dir = mkdtempSync(join(tmpdir(), 'burnback-am-through-'));
    try {
      const file = join(dir, 'alertmanager.ndjson');
      writeFileSync(file, text);
      const bin = ['--conditions=@burnback/source', '--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/bin.ts')];
      const result = await promisify(execFile)(
        process.execPath,
        [...bin, 'replay', file, '--through-pipeline', '--config', p.config.configPath],
        { cwd: REPO_ROOT, env: { ...process.env, GOOGLE_CLOUD_PROJECT: p.env.projectId } },
      ).then(
        (r) => ({ code: 0, ...r }),
        (err: { code: number; stdout: string; stderr: string }) => err,
      );
      // Every decision and the rollback come out again, with the same action and reason. What a decision read of the
      // target record may differ: when the decider last re-read Cloud Deploy's history races the resolved alert through
      // the pipeline (a known race of --through-pipeline on a loaded machine, not of Alertmanager's path).
      const differences = result.stdout.split('\n').filter((l) => l.includes('≠ recorded'));
      expect(differences.filter((l) => !/\(differs in what it read \([a-zA-Z.,\s]+\)\)$/.test(l))).toEqual([]);
      expect(differences.every((l) => /target\./.test(l))).toBe(true);
      expect(result.code === 0 || differences.length > 0 ? '' : result.stderr).toBe('');
      expect(result.stdout).toMatch(
        /through the pipeline: 2 decision\(s\) and 1 rollback\(s\) replayed, [012] differ from the recorded ones\n$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
