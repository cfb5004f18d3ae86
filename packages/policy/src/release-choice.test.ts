import fc from 'fast-check';
import type { DeployHistory, HistoryRollout } from '@burnback/contracts';
import { chooseReleases, isOwnSuccessfulRollback, latestRolloutOn, reachedTraffic } from './release-choice.js';

const PIPELINE = 'projects/p/locations/us-central1/deliveryPipelines/api';
const nameOf = (releaseId: string, rolloutId: string) => `${PIPELINE}/releases/${releaseId}/rollouts/${rolloutId}`;

type Deploy = 'none' | 'ran';
/** A rollout at minute `at`, deployed (`ran`) or not, as a table row describes it. */
const rollout = (
  releaseId: string,
  at: number,
  state: string,
  options: { target?: string; deploy?: Deploy; id?: string; rollbackOf?: string; rolledBackBy?: string[] } = {},
): HistoryRollout => {
  const ran =
    (options.deploy ?? (['PENDING', 'PENDING_APPROVAL', 'PENDING_RELEASE', 'APPROVAL_REJECTED'].includes(state) ? 'none' : 'ran')) ===
    'ran';
  return {
    name: nameOf(releaseId, options.id ?? `${releaseId}-to-${options.target ?? 'production'}-${at}`),
    releaseId,
    targetId: options.target ?? 'production',
    state,
    createTime: at * 60_000,
    deployStartTime: ran ? at * 60_000 + 1 : 0,
    deployEndTime: 0,
    phases: [{ id: 'stable', state: ran ? 'SUCCEEDED' : 'PENDING', deployJobState: ran ? 'SUCCEEDED' : 'PENDING' }],
    rollbackOfRollout: options.rollbackOf ?? '',
    rolledBackByRollouts: options.rolledBackBy ?? [],
    approvalState: 'DOES_NOT_NEED_APPROVAL',
  };
};

const history = (rollouts: HistoryRollout[], abandoned: string[] = []): DeployHistory => ({
  releases: [...new Set(rollouts.map((r) => r.releaseId))].map((releaseId) => ({ releaseId, abandoned: abandoned.includes(releaseId) })),
  rollouts,
});

const base = [rollout('rel-001', 1, 'SUCCEEDED'), rollout('rel-002', 2, 'SUCCEEDED')];
const rb = nameOf('rel-002', 'burnback-rb-1');

describe('chooseReleases', () => {
  it.each<[string, DeployHistory, { from: string; to: string } | RegExp]>([
    ['the latest succeeded release is left for the one before it', history(base), { from: 'rel-002', to: 'rel-001' }],
    [
      'a canary in progress that deployed is serving',
      history([...base, rollout('rel-003', 3, 'IN_PROGRESS')]),
      { from: 'rel-003', to: 'rel-002' },
    ],
    [
      'an in-progress rollout whose deploy has not started is not serving',
      history([...base, rollout('rel-003', 3, 'IN_PROGRESS', { deploy: 'none' })]),
      { from: 'rel-002', to: 'rel-001' },
    ],
    [
      'a verify that failed after the deploy leaves the release serving',
      history([...base, rollout('rel-003', 3, 'FAILED')]),
      { from: 'rel-003', to: 'rel-002' },
    ],
    [
      'a rollout that failed before deploying is not serving',
      history([...base, rollout('rel-003', 3, 'FAILED', { deploy: 'none' })]),
      { from: 'rel-002', to: 'rel-001' },
    ],
    [
      'a cancelled canary that deployed is serving',
      history([...base, rollout('rel-003', 3, 'CANCELLED')]),
      { from: 'rel-003', to: 'rel-002' },
    ],
    [
      'a cancelling canary that deployed is serving',
      history([...base, rollout('rel-003', 3, 'CANCELLING')]),
      { from: 'rel-003', to: 'rel-002' },
    ],
    [
      'a cancelled rollout that never deployed is not serving',
      history([...base, rollout('rel-003', 3, 'CANCELLED', { deploy: 'none' })]),
      { from: 'rel-002', to: 'rel-001' },
    ],
    ...(['PENDING', 'PENDING_APPROVAL', 'PENDING_RELEASE', 'APPROVAL_REJECTED'] as const).map(
      (state): [string, DeployHistory, { from: string; to: string }] => [
        `a ${state} rollout is not serving`,
        history([...base, rollout('rel-003', 3, 'SUCCEEDED'), rollout('rel-004', 4, state)]),
        { from: 'rel-003', to: 'rel-002' },
      ],
    ),
    [
      'an abandoned release is passed over',
      history([...base, rollout('rel-003', 3, 'SUCCEEDED')], ['rel-002']),
      { from: 'rel-003', to: 'rel-001' },
    ],
    [
      'rollouts on other targets do not count',
      history([...base, ...Array.from({ length: 60 }, (_, i) => rollout(`rel-${100 + i}`, 10 + i, 'SUCCEEDED', { target: 'staging' }))]),
      { from: 'rel-002', to: 'rel-001' },
    ],
    [
      'a release rolled back away from is never returned to, even when its rollback failed',
      history([
        ...base,
        rollout('rel-003', 3, 'SUCCEEDED', { id: 'r3', rolledBackBy: [rb] }),
        rollout('rel-002', 4, 'FAILED', { id: 'burnback-rb-1', rollbackOf: nameOf('rel-003', 'r3') }),
        rollout('rel-004', 5, 'SUCCEEDED'),
      ]),
      { from: 'rel-004', to: 'rel-002' },
    ],
    [
      'a rollback known only from rollback_of_rollout marks the release too',
      history([
        ...base,
        rollout('rel-003', 3, 'SUCCEEDED', { id: 'r3' }),
        rollout('rel-002', 4, 'CANCELLED', { id: 'burnback-rb-1', rollbackOf: nameOf('rel-003', 'r3'), deploy: 'none' }),
        rollout('rel-004', 5, 'SUCCEEDED'),
      ]),
      { from: 'rel-004', to: 'rel-002' },
    ],
    [
      'a rollback whose rolled-back rollout is not in the history marks the release its name holds',
      history([
        ...base,
        rollout('rel-001', 3, 'FAILED', { id: 'console-rollback', rollbackOf: nameOf('rel-002', 'r2-no-longer-listed') }),
        rollout('rel-003', 4, 'SUCCEEDED'),
      ]),
      { from: 'rel-003', to: 'rel-001' },
    ],
    [
      'a release rolled back away from on another target only is still returned to',
      history([
        ...base,
        rollout('rel-002', 3, 'SUCCEEDED', { target: 'staging', id: 'r2s', rolledBackBy: [nameOf('rel-001', 'staging-rollback')] }),
        rollout('rel-001', 4, 'SUCCEEDED', { target: 'staging', id: 'staging-rollback', rollbackOf: nameOf('rel-002', 'r2s') }),
        rollout('rel-003', 5, 'SUCCEEDED'),
      ]),
      { from: 'rel-003', to: 'rel-002' },
    ],
    [
      "after someone's successful rollback the rollback release is serving and the rolled-back one is skipped",
      history([
        ...base,
        rollout('rel-003', 3, 'SUCCEEDED', { id: 'r3', rolledBackBy: [nameOf('rel-002', 'console-rollback')] }),
        rollout('rel-002', 4, 'SUCCEEDED', { id: 'console-rollback', rollbackOf: nameOf('rel-003', 'r3') }),
      ]),
      { from: 'rel-002', to: 'rel-001' },
    ],
    [
      "Burnback's own successful rollback is never rolled back automatically (ping-pong)",
      history([
        ...base,
        rollout('rel-003', 3, 'SUCCEEDED', { id: 'r3', rolledBackBy: [rb] }),
        rollout('rel-002', 4, 'SUCCEEDED', { id: 'burnback-rb-1', rollbackOf: nameOf('rel-003', 'r3') }),
      ]),
      /serves rel-002 through Burnback's own rollback .*ping-pong/,
    ],
    [
      'ties on create time are broken by name',
      history([rollout('rel-001', 1, 'SUCCEEDED'), rollout('rel-002', 1, 'SUCCEEDED')]),
      { from: 'rel-002', to: 'rel-001' },
    ],
    [
      'a target never deployed to is refused',
      history([rollout('rel-001', 1, 'SUCCEEDED', { target: 'staging' })]),
      /no rollout was ever made to production/,
    ],
    [
      'only the current release ever succeeded: refused',
      history([rollout('rel-001', 1, 'SUCCEEDED')]),
      /no last known good release on production/,
    ],
    [
      'nothing reached traffic: refused',
      history([rollout('rel-001', 1, 'PENDING_APPROVAL')]),
      /no rollout on production ever reached traffic/,
    ],
    [
      'every earlier release is abandoned or rolled back from: refused, naming them',
      history(
        [rollout('rel-001', 1, 'SUCCEEDED', { rolledBackBy: [rb] }), ...base.slice(1), rollout('rel-003', 3, 'SUCCEEDED')],
        ['rel-002'],
      ),
      /passed over rel-002 \(it is abandoned\), rel-001 \(it was rolled back away from on production\)/,
    ],
    [
      'a rollback still running on the target is not rolled back on top of',
      history([
        ...base,
        rollout('rel-003', 3, 'SUCCEEDED', { id: 'r3' }),
        rollout('rel-002', 4, 'IN_PROGRESS', { rollbackOf: nameOf('rel-003', 'r3') }),
      ]),
      /a rollback to rel-002 .* is still IN_PROGRESS/,
    ],
  ])('%s', (_name, h, expected) => {
    const decision = chooseReleases(h, 'production');
    if (expected instanceof RegExp) {
      expect(decision).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(expected) });
    } else {
      expect(decision).toMatchObject({ kind: 'rollback', from: { releaseId: expected.from }, to: { releaseId: expected.to } });
    }
  });

  it("a human may ask to leave Burnback's own rollback; a rollback still failing or running is not Burnback's success", () => {
    const own = [
      ...base,
      rollout('rel-003', 3, 'SUCCEEDED', { id: 'r3', rolledBackBy: [rb] }),
      rollout('rel-002', 4, 'SUCCEEDED', { id: 'burnback-rb-1', rollbackOf: nameOf('rel-003', 'r3') }),
    ];
    expect(chooseReleases(history(own), 'production', null, { allowLeavingOwnRollback: true })).toMatchObject({
      kind: 'rollback',
      from: { releaseId: 'rel-002', rolloutName: rb },
      to: { releaseId: 'rel-001' },
    });
    expect(isOwnSuccessfulRollback(own[3]!)).toBe(true);
    expect(isOwnSuccessfulRollback({ ...own[3]!, state: 'FAILED' })).toBe(false);
    expect(isOwnSuccessfulRollback({ ...own[3]!, rollbackOfRollout: '' })).toBe(false);
    expect(isOwnSuccessfulRollback({ ...own[3]!, name: nameOf('rel-002', 'console-burnback-rb-1') })).toBe(false);
  });

  it('never returns to the release the decision blamed, even when Cloud Deploy knows nothing against it', () => {
    // A canary of rel-003 was cancelled; rel-002 served on and burned. Leaving the canary must not mean returning to rel-002.
    const h = history([...base, rollout('rel-003', 3, 'CANCELLED')]);
    expect(chooseReleases(h, 'production')).toMatchObject({ from: { releaseId: 'rel-003' }, to: { releaseId: 'rel-002' } });
    expect(chooseReleases(h, 'production', null, { blamedReleaseId: 'rel-002' })).toMatchObject({
      kind: 'rollback',
      from: { releaseId: 'rel-003' },
      to: { releaseId: 'rel-001' },
      skipped: ['rel-002 (it is the release blamed for the burn)'],
    });
    expect(chooseReleases(history(base), 'production', 'rel-001', { blamedReleaseId: 'rel-001' })).toMatchObject({
      kind: 'refuse',
      reason: expect.stringContaining('it is the release blamed for the burn'),
    });
  });

  it('names the target latest rollout as rollout_to_roll_back, even when it is not the serving one', () => {
    const pending = rollout('rel-004', 4, 'PENDING_APPROVAL');
    const decision = chooseReleases(history([...base, rollout('rel-003', 3, 'SUCCEEDED'), pending]), 'production');
    expect(decision).toEqual({
      kind: 'rollback',
      from: { releaseId: 'rel-003', rolloutName: nameOf('rel-003', 'rel-003-to-production-3'), state: 'SUCCEEDED' },
      to: { releaseId: 'rel-002', rolloutName: nameOf('rel-002', 'rel-002-to-production-2') },
      latestRolloutName: pending.name,
      skipped: ['rel-004 (rollout rel-004-to-production-4 PENDING_APPROVAL, never deployed: not serving)'],
    });
  });

  it('latestRolloutOn: the target latest rollout in any state, whatever the order read and whatever other targets did', () => {
    const pending = rollout('rel-003', 3, 'PENDING_APPROVAL');
    const h = history([rollout('rel-009', 9, 'SUCCEEDED', { target: 'staging' }), base[0]!, pending, base[1]!]);
    expect(latestRolloutOn(h, 'production')).toBe(pending);
    expect(latestRolloutOn(h, 'staging')).toBe(h.rollouts[0]);
    expect(latestRolloutOn(h, 'canary')).toBeNull();
    expect(latestRolloutOn(history([]), 'production')).toBeNull();
  });

  it('a release missing from the pipeline releases is passed over, and a refusal names only the releases passed over', () => {
    const unlisted = (h: DeployHistory, releaseId: string): DeployHistory => ({
      ...h,
      releases: h.releases.filter((r) => r.releaseId !== releaseId),
    });
    expect(chooseReleases(unlisted(history([...base, rollout('rel-003', 3, 'SUCCEEDED')]), 'rel-002'), 'production')).toEqual({
      kind: 'rollback',
      from: { releaseId: 'rel-003', rolloutName: nameOf('rel-003', 'rel-003-to-production-3'), state: 'SUCCEEDED' },
      to: { releaseId: 'rel-001', rolloutName: nameOf('rel-001', 'rel-001-to-production-1') },
      latestRolloutName: nameOf('rel-003', 'rel-003-to-production-3'),
      skipped: ['rel-002 (it is not among the pipeline releases)'],
    });
    // The rollout that never deployed is in the audit trail's skipped list, but not among the releases passed over.
    expect(chooseReleases(unlisted(history([...base, rollout('rel-003', 3, 'PENDING_APPROVAL')]), 'rel-001'), 'production')).toEqual({
      kind: 'refuse',
      reason:
        'no last known good release on production: no release other than rel-002 (serving, rollout rel-002-to-production-2 SUCCEEDED) ' +
        'succeeded on production without being abandoned or rolled back away from; passed over rel-001 (it is not among the pipeline releases)',
    });
  });

  it('a refusal with nothing passed over says so exactly', () => {
    expect(chooseReleases(history([rollout('rel-001', 1, 'SUCCEEDED')]), 'production')).toEqual({
      kind: 'refuse',
      reason:
        'no last known good release on production: no release other than rel-001 (serving, rollout rel-001-to-production-1 SUCCEEDED) ' +
        'succeeded on production without being abandoned or rolled back away from',
    });
  });

  it('checks a release the command names against the same rules', () => {
    const h = history([...base, rollout('rel-003', 3, 'SUCCEEDED')], ['rel-001']);
    expect(chooseReleases(h, 'production', 'rel-002')).toMatchObject({ kind: 'rollback', to: { releaseId: 'rel-002' } });
    expect(chooseReleases(h, 'production', 'rel-001')).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/abandoned/) });
    expect(chooseReleases(h, 'production', 'rel-003')).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/being left/) });
    expect(chooseReleases(h, 'production', 'rel-009')).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/never succeeded/) });
  });

  it.each<[string, Deploy, boolean]>([
    ['SUCCEEDED', 'ran', true],
    ['IN_PROGRESS', 'ran', true],
    ['IN_PROGRESS', 'none', false],
    ['FAILED', 'ran', true],
    ['FAILED', 'none', false],
    ['CANCELLING', 'none', false],
    ['CANCELLED', 'none', false],
    ['HALTED', 'ran', true],
    ['HALTED', 'none', false],
    ['PENDING', 'none', false],
    ['PENDING_APPROVAL', 'none', false],
    ['PENDING_RELEASE', 'none', false],
    ['APPROVAL_REJECTED', 'none', false],
    ['STATE_UNSPECIFIED', 'none', false],
  ])('reachedTraffic of a %s rollout, deploy job %s: %s', (state, deploy, expected) => {
    expect(reachedTraffic(rollout('rel-003', 3, state, { deploy }))).toBe(expected);
  });

  it('reachedTraffic counts a rollout whose deploy job ran even without a deploy start time', () => {
    const r = { ...rollout('rel-003', 3, 'IN_PROGRESS', { deploy: 'none' }) };
    r.phases = [{ id: 'canary-25', state: 'IN_PROGRESS', deployJobState: 'IN_PROGRESS' }];
    expect(reachedTraffic(r)).toBe(true);
  });

  const STATES = [
    'SUCCEEDED',
    'FAILED',
    'IN_PROGRESS',
    'PENDING_APPROVAL',
    'APPROVAL_REJECTED',
    'PENDING',
    'PENDING_RELEASE',
    'CANCELLING',
    'CANCELLED',
    'HALTED',
  ];
  const arbitraryHistory = fc
    .array(
      fc.record({
        release: fc.integer({ min: 1, max: 8 }),
        state: fc.constantFrom(...STATES),
        target: fc.constantFrom('production', 'staging'),
        deploy: fc.constantFrom<Deploy>('none', 'ran'),
        at: fc.integer({ min: 0, max: 40 }),
        rollsBack: fc.option(fc.nat(), { nil: undefined }),
      }),
      { maxLength: 30 },
    )
    .chain((rows) =>
      fc.subarray([1, 2, 3, 4, 5, 6, 7, 8]).map((abandoned) => {
        const rollouts = rows.map((row, i) =>
          rollout(`rel-00${row.release}`, row.at, row.state, { target: row.target, deploy: row.deploy, id: `r${i}` }),
        );
        // Some rollouts roll back an earlier rollout on the same target, linked both ways as Cloud Deploy does.
        rows.forEach((row, i) => {
          const earlier = rollouts.filter((r, j) => j < i && r.targetId === rollouts[i]!.targetId);
          if (row.rollsBack === undefined || earlier.length === 0) return;
          const victim = earlier[row.rollsBack % earlier.length]!;
          rollouts[i]!.rollbackOfRollout = victim.name;
          victim.rolledBackByRollouts.push(rollouts[i]!.name);
        });
        return history(
          rollouts,
          abandoned.map((n) => `rel-00${n}`),
        );
      }),
    );

  it('the chosen release is never the one left, never abandoned, never rolled back from, and always succeeded on the target', () => {
    fc.assert(
      fc.property(arbitraryHistory, (h) => {
        const decision = chooseReleases(h, 'production');
        if (decision.kind === 'refuse') return;
        const to = decision.to.releaseId;
        const onTarget = h.rollouts.filter((r) => r.targetId === 'production');
        expect(to).not.toBe(decision.from.releaseId);
        expect(h.releases.find((r) => r.releaseId === to)?.abandoned).toBe(false);
        expect(onTarget.some((r) => r.releaseId === to && r.state === 'SUCCEEDED')).toBe(true);
        expect(onTarget.some((r) => r.releaseId === to && r.rolledBackByRollouts.length > 0)).toBe(false);
        const rolledBack = onTarget
          .filter((r) => r.rollbackOfRollout)
          .map((r) => h.rollouts.find((x) => x.name === r.rollbackOfRollout)!.releaseId);
        expect(rolledBack).not.toContain(to);
        expect(reachedTraffic(h.rollouts.find((r) => r.name === decision.from.rolloutName)!)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
