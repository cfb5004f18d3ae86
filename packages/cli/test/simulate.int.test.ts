import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@burnback/cli';
import { DecisionRecord } from '@burnback/contracts';
import { collectExport } from '../src/commands/export';
import { formatTimeline, replayRecorded } from '../src/replay/engine';
import { readExport, writeExport } from '../src/replay/format';
import { pubsubChannel, webhookChannel, type NotificationChannel } from '../src/simulate/channels';
import { Simulation } from '../src/simulate/player';
import { loadScenario, type Scenario } from '../src/simulate/scenario';
import { startPipeline, WEBHOOK_TOKEN, type Pipeline } from './pipeline-harness';

const SCENARIOS = join(REPO_ROOT, 'scenarios');
/**
 * The scenarios whose export also goes through the real services again (`replay --through-pipeline`), each with
 * how its one rollback ended: a rollback that succeeds, one whose rollout fails in Cloud Deploy (failed again in
 * gcp-sim with the recorded reason), and a burn refused by the cooldown that rollback's end started.
 */
const THROUGH_PIPELINE: Record<string, string> = {
  'bad-release': 'succeeded, rel-003 → rel-002',
  'rollback-fails': 'failed, rel-008 → rel-002',
  cooldown: 'succeeded, rel-002 → rel-001',
};

/**
 * `burnback replay --through-pipeline` on a scenario's export, as a user runs it
 * (its own process: it starts fresh emulators): the releases the scenario shipped
 * are shipped again in a gcp-sim restored from the file, and the same decisions
 * (with the same evidence) and the same rollback come out.
 */
async function throughPipeline(exported: string, p: Pipeline, decisions: number, rollback: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'burnback-through-'));
  try {
    const file = join(dir, 'scenario.ndjson');
    writeFileSync(file, exported);
    const bin = ['--conditions=@burnback/source', '--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/bin.ts')];
    const run = promisify(execFile);
    const result = await run(process.execPath, [...bin, 'replay', file, '--through-pipeline', '--config', p.config.configPath], {
      cwd: REPO_ROOT,
      // As a user runs it: no METADATA_SERVER_DETECTION, so a Google client that looked for a metadata server would warn.
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'METADATA_SERVER_DETECTION')),
        GOOGLE_CLOUD_PROJECT: p.env.projectId,
      },
    }).then(
      (r) => ({ code: 0, ...r }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect({ code: result.code, stdout: result.stdout, stderr: result.code === 0 ? '' : result.stderr }).toEqual({
      code: 0,
      stdout: expect.stringMatching(
        new RegExp(
          `through the pipeline: ${decisions} decision\\(s\\) and 1 rollback\\(s\\) replayed, 0 differ from the recorded ones\\n$`,
        ),
      ),
      stderr: '',
    });
    expect(result.stdout).toMatch(new RegExp(`^rollback rb-[0-9a-f]+ of api-backend: ${rollback}$`, 'm'));
    // Its progress goes to stderr, and nothing else does: no library's warning (MetadataLookupWarning, AutopaginateTrueWarning).
    expect(result.stderr).toMatch(/^replay: /m);
    expect(result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('replay: '))).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const scenarioNamed = (name: string): Scenario => loadScenario(join(SCENARIOS, `${name}.yaml`));

/** The scenario and those it continues, earliest first: what a fresh stack must play, in order. */
const chainOf = (name: string): string[] => {
  const continues = scenarioNamed(name).continues;
  return [...(continues ? chainOf(continues) : []), name];
};

/** Plays scenarios one after another on the pipeline; the timeline of each, and whether every expectation was met. */
async function play(p: Pipeline, names: string[], options: { channel?: NotificationChannel; service?: string } = {}) {
  const runs: Array<{ name: string; ok: boolean; timeline: string[] }> = [];
  for (const name of names) {
    const scenario = scenarioNamed(name);
    const service = options.service ?? scenario.service;
    const timeline: string[] = [];
    const ok = await new Simulation({ ...scenario, service }, p.config.services.get(service)!, {
      db: p.env.db,
      deploy: p.deployClient,
      channel: options.channel ?? pubsubChannel(p.env.pubsub),
      control: p.control,
      run: 't',
      out: (l) => timeline.push(l),
    }).play();
    runs.push({ name, ok, timeline });
    // LOG_TESTS=1 shows the timelines too, as simulate prints them.
    if (process.env.LOG_TESTS === '1') process.stdout.write(`${timeline.join('\n')}\n`);
  }
  return runs;
}

/** Exports every decision of the service and replays it in-process: the last line of the replay's timeline, and the export. */
async function replaySummary(p: Pipeline, service: string): Promise<{ decisions: number; summary: string | undefined; text: string }> {
  const decisions = (await p.env.db.collection('decisions').get()).docs
    .map((d) => DecisionRecord.parse(d.data()))
    .filter((d) => d.service === service);
  const text = writeExport({ project: p.env.projectId, selection: { service } }, await collectExport(p.env.db, decisions));
  const replayed = replayRecorded(readExport(text).lines);
  expect(replayed.decisions.length).toBe(decisions.length);
  return { decisions: decisions.length, summary: formatTimeline(replayed).trim().split('\n').at(-1), text };
}

/**
 * Every committed scenario, each on a fresh pipeline (emulators + gcp-sim, as
 * npm start has them), after the scenarios it continues: its expectations are
 * met, and its export replays with zero differences.
 */
describe('burnback simulate: every scenario, then export → replay', () => {
  const names = readdirSync(SCENARIOS)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.replace(/\.yaml$/, ''))
    .sort();

  it('the scenarios are the ones the README names, and each one continued exists', () => {
    expect(names).toEqual([
      'alert-storm',
      'bad-release',
      'burn',
      'cooldown',
      'flapping-alert',
      'no-good-release',
      'old-release-burn',
      'rollback-fails',
    ]);
    for (const name of names) for (const before of chainOf(name)) expect(names).toContain(before);
  });

  describe.each(names)('%s', (name) => {
    let p: Pipeline;
    beforeAll(async () => {
      p = await startPipeline(`simulate-${name}`, { rolloutStepMs: 40 });
    }, 60_000);
    afterAll(async () => {
      await p.close();
    });

    it('meets its expectations, and its export replays with no difference', async () => {
      const runs = await play(p, chainOf(name));
      expect(runs.map(({ name: n, ok, timeline }) => ({ n, ok, last: ok ? timeline.at(-1) : timeline }))).toEqual(
        runs.map(({ name: n }) => ({ n, ok: true, last: expect.stringMatching(/scenario done: every expectation met$/) })),
      );
      const service = scenarioNamed(name).service;
      const { decisions, summary, text } = await replaySummary(p, service);
      expect(summary).toBe(`${decisions} decision(s) replayed, 0 differ from the recorded ones`);
      // A fail step's fault was used up by the rollback it was for: nothing is left to fail a later one.
      expect(await p.control.faults()).toEqual([]);
      if (THROUGH_PIPELINE[name]) await throughPipeline(text, p, decisions, THROUGH_PIPELINE[name]);
    }, 300_000);
  });
});

describe('burnback simulate --via webhook --service checkout', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline('simulate-webhook', { rolloutStepMs: 40 });
  }, 60_000);
  afterAll(async () => {
    await p.close();
  });

  it("plays the trigger's scenario on checkout through ingest's webhook: checkout is rolled back, api-backend untouched", async () => {
    const [run] = await play(p, ['burn'], { channel: webhookChannel(p.ingest.address, WEBHOOK_TOKEN), service: 'checkout' });
    expect(run).toMatchObject({ ok: true, timeline: expect.arrayContaining([expect.stringMatching(/checkout, through the webhook/)]) });
    const decisions = (await p.decisions()).map((d) => [d.service, d.action]);
    expect(decisions).toEqual([['checkout', 'rollback']]);
    const [notification] = (await p.env.db.collection('notifications').get()).docs.map((d) => d.data() as { source?: string });
    expect(notification).toMatchObject({ source: 'webhook' });
  }, 60_000);

  it('a webhook that refuses the notification fails the step with its answer, not the run with a crash', async () => {
    const [run] = await play(p, ['burn'], { channel: webhookChannel(p.ingest.address, 'not-the-token'), service: 'checkout' });
    expect(run!.ok).toBe(false);
    expect(run!.timeline.at(-1)).toMatch(/FAILED: ingest's webhook answered 403: .*invalid token/);
  }, 30_000);
});
