import { decisionRecord, deployNotice, MIN, PIPELINE, ROLLOUT, rollbackRecord, T0 } from '../../../test/console-fixtures.js';
import { rollbackPage, rollbackSteps, type DeployNotice } from './rollback-view.js';

/** The rollback page's audit trail, who asked, whether it only validated, and how Cloud Deploy's notices read. */
const NOW = T0 + 5 * MIN;
const ROLLOUT_NAME = `${PIPELINE}/releases/rel-001/rollouts/${ROLLOUT}`;

describe('the rollback page, row by row', () => {
  it('shows the audit trail line by line, in UTC, as the executor wrote it', () => {
    expect(rollbackPage(rollbackRecord(), decisionRecord(), [], NOW).audit).toEqual([
      {
        at: '2026-12-06 10:00:31 UTC',
        stage: 'accepted',
        detail:
          'rollback of production ordered: roll back: error ratio 2.5 % exceeds the threshold of 1 %; caused by rel-002 (confidence 0.925); rate limit and cooldown clear',
      },
      {
        at: '2026-12-06 10:00:31 UTC',
        stage: 'accepted',
        detail: 'leaving rel-002 for rel-001, the last known good release of production',
      },
      {
        at: '2026-12-06 10:00:32 UTC',
        stage: 'started',
        detail: `Cloud Deploy rollout ${ROLLOUT} created, rolling production back to rel-001`,
      },
      { at: '2026-12-06 10:00:34 UTC', stage: 'succeeded', detail: `production rolled back to rel-001 (rollout ${ROLLOUT} SUCCEEDED)` },
    ]);
  });

  it('says who asked for a manual rollback, with force or without, and whether it only validated', () => {
    const command = rollbackRecord().command;
    const page = (c: Partial<typeof command>) => rollbackPage(rollbackRecord({ command: { ...command, ...c } }), null, [], NOW);
    expect(page({ manual: { force: false, requestedBy: 'carol' } }).requestedBy).toBe('carol');
    expect(page({ manual: { force: true, requestedBy: 'carol' } }).requestedBy).toBe('carol (force)');
    expect(page({}).requestedBy).toBeNull();
    expect(page({ validateOnly: true }).validateOnly).toBe(true);
    expect(page({ validateOnly: false }).validateOnly).toBe(false);
    expect(page({}).validateOnly).toBe(false);
  });

  it('reads each Cloud Deploy notice by what it is about: a job run by its id, a bare rollout by its name', () => {
    const jobRun = deployNotice('Start', 32_500, 'JobRun') as DeployNotice;
    const bare: DeployNotice = { publishTime: new Date(T0 + 33_000).toISOString(), attributes: { Rollout: ROLLOUT_NAME } };
    const steps = rollbackSteps(rollbackRecord(), null, [bare, jobRun]).filter((s) => s.kind === 'deploy');
    expect(steps.map((s) => [s.stage, s.detail])).toEqual([
      ['Cloud Deploy: JobRun Start', `rollout ${ROLLOUT} job run job-1 (release rel-001) on production`],
      ['Cloud Deploy: Rollout', ROLLOUT_NAME],
    ]);
  });
});
