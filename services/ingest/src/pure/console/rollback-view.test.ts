import { decisionRecord, deployNotice, MIN, PIPELINE, ROLLOUT, rollbackRecord, T0 } from '../../../test/console-fixtures.js';
import { isAboutRollout, phasesOf, rollbackPage, rollbackSteps, type DeployNotice } from './rollback-view.js';

const NOW = T0 + 5 * MIN;
const ROLLOUT_NAME = `${PIPELINE}/releases/rel-001/rollouts/${ROLLOUT}`;

describe('the rollback page', () => {
  it('says where the rollback stands, what it changed and how long it took', () => {
    const page = rollbackPage(rollbackRecord(), decisionRecord(), [], NOW);
    expect(page).toMatchObject({
      rollbackId: 'rb-0123456789abcdef01234567',
      service: 'api-backend',
      serviceHref: '/console/services/api-backend',
      incidentId: '0.burn',
      decisionId: 'dec-0123456789abcdef01234567',
      status: 'succeeded',
      statusClass: 'rollback-succeeded',
      finished: true,
      validateOnly: false,
      target: 'projects/burnback-local/locations/us-central1/deliveryPipelines/api-backend-pipeline/targets/production',
      from: 'rel-002',
      to: 'rel-001',
      rollout: { name: ROLLOUT_NAME, state: 'SUCCEEDED' },
      failureReason: null,
      requestedBy: null,
      decision: { decisionId: 'dec-0123456789abcdef01234567', href: '/console/decisions/dec-0123456789abcdef01234567', action: 'rollback' },
    });
    expect(page.durations).toEqual([
      { label: 'ordered → started', value: '2 s' },
      { label: 'ordered → succeeded', value: '4 s' },
      { label: 'ordered', value: '2026-12-06 10:00:30 UTC (4 min ago)' },
    ]);
  });

  it('says how long a rollback in flight has been, and who asked for a manual one', () => {
    const flying = rollbackRecord({
      status: 'started',
      rolloutState: 'IN_PROGRESS',
      audit: rollbackRecord().audit.slice(0, 3),
      command: { ...rollbackRecord().command, manual: { force: true, requestedBy: 'carol' } },
    });
    const page = rollbackPage(flying, null, [], NOW);
    expect(page.finished).toBe(false);
    expect(page.decision).toBeNull();
    expect(page.requestedBy).toBe('carol (force)');
    expect(page.durations.map((d) => d.label)).toEqual(['ordered → started', 'in flight for', 'ordered']);
    expect(page.durations[1]!.value).toBe('4 min');
  });

  it('falls back to the blamed release when the executor has not chosen yet', () => {
    const fresh = rollbackRecord({
      status: 'accepted',
      leaving: null,
      releaseId: null,
      rolloutName: null,
      audit: rollbackRecord().audit.slice(0, 1),
    });
    expect(rollbackPage(fresh, null, [], NOW)).toMatchObject({ from: 'rel-002', to: null, rollout: { name: null } });
  });
});

describe('the rollback’s timeline', () => {
  it('puts the decision, the audit lines and Cloud Deploy’s notifications about its rollout in time order', () => {
    const notices: DeployNotice[] = [
      deployNotice('Start', 32_500),
      deployNotice('Succeed', 33_500, 'JobRun'),
      deployNotice('Succeed', 33_800),
      // Another rollout's, on the same target: not this rollback's.
      {
        publishTime: new Date(T0 + 33_000).toISOString(),
        attributes: { Action: 'Start', ResourceType: 'Rollout', RolloutId: 'rel-009-to-production' },
      },
    ];
    const steps = rollbackSteps(rollbackRecord(), decisionRecord(), notices);
    expect(steps.map((s) => [s.offset, s.kind, s.stage])).toEqual([
      ['+0 s', 'decision', 'decided: rollback'],
      ['+1 s', 'audit', 'accepted'],
      ['+1.5 s', 'audit', 'accepted'],
      ['+2 s', 'audit', 'started'],
      ['+2.5 s', 'deploy', 'Cloud Deploy: Rollout Start'],
      ['+3.5 s', 'deploy', 'Cloud Deploy: JobRun Succeed'],
      ['+3.8 s', 'deploy', 'Cloud Deploy: Rollout Succeed'],
      ['+4 s', 'audit', 'succeeded'],
    ]);
    expect(steps[0]).toMatchObject({
      at: '2026-12-06 10:00:30 UTC',
      href: '/console/decisions/dec-0123456789abcdef01234567',
      className: 'action-rollback',
    });
    expect(steps[5]!.detail).toBe(`rollout ${ROLLOUT} job run job-1 (release rel-001) on production`);
    expect(steps[7]).toMatchObject({ className: 'stage-succeeded', href: null });
  });

  it('keeps the given order for steps at the same time, and starts at the first step without a decision', () => {
    const same = rollbackRecord({
      audit: [
        { at: new Date(T0).toISOString(), stage: 'accepted', detail: 'one' },
        { at: new Date(T0).toISOString(), stage: 'started', detail: 'two' },
      ],
    });
    expect(rollbackSteps(same, null, []).map((s) => [s.offset, s.detail])).toEqual([
      ['+0 s', 'one'],
      ['+0 s', 'two'],
    ]);
    expect(rollbackSteps(rollbackRecord({ audit: [] }), null, [])).toEqual([]);
  });

  it('knows a notification about the rollout by its id, its name or a job run under it', () => {
    const about = (attributes: Record<string, string>) => isAboutRollout({ publishTime: '', attributes }, ROLLOUT, ROLLOUT_NAME);
    expect(about({ RolloutId: ROLLOUT })).toBe(true);
    expect(about({ Rollout: ROLLOUT_NAME })).toBe(true);
    expect(about({ Resource: `${ROLLOUT_NAME}/jobRuns/j1` })).toBe(true);
    expect(about({ Resource: `${PIPELINE}/releases/rel-003/rollouts/${ROLLOUT}` })).toBe(true);
    expect(about({ RolloutId: 'other', Resource: `${PIPELINE}/releases/rel-001/rollouts/other` })).toBe(false);
    expect(about({ Resource: `${ROLLOUT_NAME}x` })).toBe(false);
    expect(about({})).toBe(false);
    expect(isAboutRollout({ publishTime: '', attributes: { Resource: ROLLOUT_NAME } }, 'nope', null)).toBe(false);
  });

  it('takes the rollout’s phases from the newest read that holds it', () => {
    const rollout = (state: string) => ({
      name: ROLLOUT_NAME,
      releaseId: 'rel-001',
      targetId: 'production',
      state,
      createTime: 1,
      deployStartTime: 1,
      deployEndTime: 0,
      phases: [{ id: 'stable', state, deployJobState: state }],
      rollbackOfRollout: '',
      rolledBackByRollouts: [],
      approvalState: 'DOES_NOT_NEED_APPROVAL',
    });
    const notices: DeployNotice[] = [
      { ...deployNotice('Start', 32_500), read: [rollout('IN_PROGRESS')] },
      { ...deployNotice('Succeed', 33_800), read: [rollout('SUCCEEDED')] },
      { ...deployNotice('Other', 34_000), read: [] },
    ];
    expect(phasesOf(notices, ROLLOUT_NAME, ROLLOUT)).toEqual([{ id: 'stable', state: 'SUCCEEDED', deployJobState: 'SUCCEEDED' }]);
    expect(phasesOf([...notices].reverse(), null, ROLLOUT)).toEqual([{ id: 'stable', state: 'SUCCEEDED', deployJobState: 'SUCCEEDED' }]);
    expect(phasesOf(notices.slice(2), ROLLOUT_NAME, ROLLOUT)).toEqual([]);
    expect(rollbackPage(rollbackRecord(), null, notices, NOW).phases).toHaveLength(1);
  });
});
