import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@burnback/cli';
import { Simulation } from '../src/commands/simulate';
import { collectExport } from '../src/commands/export';
import { formatTimeline, replayRecorded } from '../src/replay/engine';
import { readExport, writeExport } from '../src/replay/format';
import { loadScenario } from '../src/simulate/scenario';
import { startPipeline, type Pipeline } from './pipeline-harness';
import { DecisionRecord } from '@burnback/contracts';

const SCENARIOS = join(REPO_ROOT, 'scenarios');

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
    }, 150_000);
  });
});
