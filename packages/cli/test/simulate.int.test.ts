import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@burnback/cli';
import { Simulation } from '../src/commands/simulate';
import { collectExport } from '../src/commands/export';
import { formatTimeline, replayRecorded } from '../src/replay/engine';
import { readExport, writeExport } from '../src/replay/format';
import { loadScenario } from '../src/simulate/scenario';
import { startPipeline, type Pipeline } from './pipeline-harness';
import { DecisionRecord } from '@burnback/contracts';

const SCENARIOS = join(REPO_ROOT, 'scenarios');
/** The scenario whose export also goes through the real services again (`replay --through-pipeline`). */
const THROUGH_PIPELINE = 'bad-release';

/**
 * `burnback replay --through-pipeline` on a scenario's export, as a user runs it
 * (its own process: it starts fresh emulators): rel-003 is shipped through the
 * canary again in a gcp-sim restored from the file, burns, is rolled back, and
 * the same decisions and rollback come out.
 */
async function throughPipeline(exported: string, p: Pipeline, decisions: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'burnback-through-'));
  try {
    const file = join(dir, 'scenario.ndjson');
    writeFileSync(file, exported);
    const bin = ['--conditions=@burnback/source', '--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/bin.ts')];
    const run = promisify(execFile);
    const result = await run(process.execPath, [...bin, 'replay', file, '--through-pipeline', '--config', p.config.configPath], {
      cwd: REPO_ROOT,
      env: { ...process.env, GOOGLE_CLOUD_PROJECT: p.env.projectId },
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
    expect(result.stdout).toMatch(/^rollback rb-[0-9a-f]+ of api-backend: succeeded, rel-003 → rel-002$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Every committed scenario, each on a fresh pipeline (emulators + gcp-sim):
 * its expectations are met, and its export replays with zero differences.
 */
describe('burnback simulate: every scenario, then export → replay', () => {
  const names = readdirSync(SCENARIOS)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.replace(/\.yaml$/, ''))
    .sort();

  it('the scenarios are the ones the README names', () => {
    expect(names).toEqual(['alert-storm', 'bad-release', 'flapping-alert', 'no-good-release', 'old-release-burn']);
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
      const scenario = loadScenario(join(SCENARIOS, `${name}.yaml`));
      const timeline: string[] = [];
      const ok = await new Simulation(scenario, p.config.services[scenario.service]!, {
        db: p.env.db,
        pubsub: p.env.pubsub,
        deploy: p.deployClient,
        run: 't',
        out: (l) => timeline.push(l),
      }).play();
      expect({ ok, timeline }).toEqual({ ok: true, timeline: expect.any(Array) });
      expect(timeline.at(-1)).toMatch(/scenario done: every expectation met$/);

      const decisions = (await p.env.db.collection('decisions').get()).docs.map((d) => DecisionRecord.parse(d.data()));
      const text = writeExport(
        { project: p.env.projectId, selection: { service: scenario.service } },
        await collectExport(p.env.db, decisions),
      );
      const replayed = replayRecorded(readExport(text).lines);
      expect(replayed.decisions.length).toBe(decisions.length);
      expect(formatTimeline(replayed).trim().split('\n').at(-1)).toBe(
        `${decisions.length} decision(s) replayed, 0 differ from the recorded ones`,
      );
      if (name === THROUGH_PIPELINE) await throughPipeline(text, p, decisions.length);
    }, 300_000);
  });
});
