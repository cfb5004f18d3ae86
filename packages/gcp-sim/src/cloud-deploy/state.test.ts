import type { DeploySeed, Rollout } from './resources.js';
import { defaultDeploySeed } from './seed.js';
import { DeployState } from './state.js';
import { DeployApiError, type ApiErrorCode } from '../errors.js';
import { timestampOf } from './resource-names.js';

const PROJECT = 'state-test-proj';
const REGION = 'us-central1';
const ANCHOR = new Date('2026-11-20T12:00:00Z');
const LOCATION = `projects/${PROJECT}/locations/${REGION}`;
const PIPELINE = `${LOCATION}/deliveryPipelines/api-backend-pipeline`;
const rolloutName = (release: string, id: string) => `${PIPELINE}/releases/${release}/rollouts/${id}`;

/** A fresh default seed, changed by `edit`. */
function seedWith(edit: (seed: DeploySeed) => void = () => {}): DeploySeed {
  const seed = defaultDeploySeed(PROJECT, REGION, ANCHOR);
  edit(seed);
  return seed;
}

/** A copy of a seeded rollout under another id, created (and, if it ran, finished) `minutesAfterAnchor` later. */
function extraRollout(
  seed: DeploySeed,
  from: string,
  release: string,
  id: string,
  minutesAfterAnchor: number,
  state: Rollout['state'],
): Rollout {
  const source = seed.rollouts.find((r) => r.name.endsWith(`/rollouts/${from}`))!;
  const at = timestampOf(new Date(ANCHOR.getTime() + minutesAfterAnchor * 60_000));
  return {
    ...structuredClone(source),
    name: rolloutName(release, id),
    createTime: at,
    deployStartTime: at,
    deployEndTime: at,
    state,
  };
}

function stateAt(seed: DeploySeed): DeployState {
  let now = ANCHOR.getTime() + 24 * 3_600_000;
  return new DeployState(seed, () => new Date((now += 1000)));
}

function codeOf(fn: () => unknown): ApiErrorCode | 'none' {
  try {
    fn();
    return 'none';
  } catch (err) {
    if (err instanceof DeployApiError) return err.code;
    throw err;
  }
}

const rollback = (state: DeployState, rolloutId: string, extra: Record<string, unknown> = {}) =>
  state.rollbackTarget({ name: PIPELINE, targetId: 'production', rolloutId, ...extra });

describe('DeployState', () => {
  it('rolls the default seed back from rel-002 to rel-001 and links the two rollouts', () => {
    const state = stateAt(seedWith());
    const { created, response } = rollback(state, 'rb-1');
    expect(created?.name).toBe(rolloutName('rel-001', 'rb-1'));
    expect(response.rollbackConfig).toMatchObject({
      startingPhaseId: 'stable',
      rollout: { state: 'PENDING', targetId: 'production' },
    });
    expect(created?.rollbackOfRollout).toBe(rolloutName('rel-002', 'rel-002-to-production-0001'));
    expect(state.getRollout({ name: rolloutName('rel-002', 'rel-002-to-production-0001') }).rolledBackByRollouts).toEqual([created?.name]);
  });

  it('skips redeploys of the current release when choosing the default rollback release', () => {
    const state = stateAt(
      seedWith((seed) =>
        seed.rollouts.push(extraRollout(seed, 'rel-002-to-production-0001', 'rel-002', 'rel-002-to-production-0002', 10, 'SUCCEEDED')),
      ),
    );
    expect(rollback(state, 'rb-1').created?.name).toBe(rolloutName('rel-001', 'rb-1'));
  });

  it('ignores a failed latest rollout when deciding what is current, but rolls back that latest rollout', () => {
    const seed = seedWith((s) => {
      s.releases.push({
        ...structuredClone(s.releases[1]!),
        name: `${PIPELINE}/releases/rel-003`,
        createTime: timestampOf(ANCHOR),
      });
      s.rollouts.push(extraRollout(s, 'rel-002-to-production-0001', 'rel-003', 'rel-003-to-production-0001', 10, 'FAILED'));
    });
    const { created } = rollback(stateAt(seed), 'rb-1');
    expect(created?.name).toBe(rolloutName('rel-001', 'rb-1'));
    expect(created?.rollbackOfRollout).toBe(rolloutName('rel-003', 'rel-003-to-production-0001'));
  });

  it('refuses a release that the latest rollout deployed, but not one a later failed or cancelled rollout may have replaced', () => {
    const state = stateAt(seedWith());
    expect(() => rollback(state, 'rb-1', { releaseId: 'rel-002' })).toThrow(/already the current release/);
    const seed = seedWith((s) => {
      s.releases.push({ ...structuredClone(s.releases[1]!), name: `${PIPELINE}/releases/rel-003`, createTime: timestampOf(ANCHOR) });
      s.rollouts.push(extraRollout(s, 'rel-002-to-production-0001', 'rel-003', 'rel-003-to-production-0001', 10, 'CANCELLED'));
    });
    const { created } = rollback(stateAt(seed), 'rb-1', { releaseId: 'rel-002' });
    expect(created?.name).toBe(rolloutName('rel-002', 'rb-1'));
  });

  it('answers FAILED_PRECONDITION when no earlier release ever succeeded on the target', () => {
    const seed = seedWith((s) => {
      s.rollouts = s.rollouts.filter((r) => !r.name.includes('rel-001-to-production'));
    });
    const state = stateAt(seed);
    expect(codeOf(() => rollback(state, 'rb-1'))).toBe('FAILED_PRECONDITION');
    expect(() => rollback(state, 'rb-1')).toThrow(/no previous successful rollout on target "production"/);
  });

  it('answers FAILED_PRECONDITION when nothing ever succeeded on the target', () => {
    const state = stateAt(seedWith((s) => (s.rollouts = [])));
    expect(() => rollback(state, 'rb-1')).toThrow(/no previous successful rollout on target "production"/);
  });

  it('answers INVALID_ARGUMENT for a target that exists but is not a stage of the pipeline', () => {
    const state = stateAt(
      seedWith((s) => s.targets.push({ ...structuredClone(s.targets[0]!), name: `${LOCATION}/targets/sandbox`, targetId: 'sandbox' })),
    );
    expect(codeOf(() => state.rollbackTarget({ name: PIPELINE, targetId: 'sandbox', rolloutId: 'rb-1' }))).toBe('INVALID_ARGUMENT');
  });

  it('answers FAILED_PRECONDITION for a suspended pipeline', () => {
    const state = stateAt(seedWith((s) => (s.pipelines[0]!.suspended = true)));
    expect(codeOf(() => rollback(state, 'rb-1'))).toBe('FAILED_PRECONDITION');
  });

  it('answers FAILED_PRECONDITION for an abandoned release', () => {
    const state = stateAt(seedWith((s) => (s.releases[0]!.abandoned = true)));
    expect(codeOf(() => rollback(state, 'rb-1'))).toBe('FAILED_PRECONDITION');
  });

  it('reports ALREADY_EXISTS before the release checks, so a retry after the rollback succeeded still says ALREADY_EXISTS', () => {
    const state = stateAt(seedWith());
    const { created } = rollback(state, 'rb-1', { releaseId: 'rel-001' });
    state.startRollout(created!.name);
    while (state.getRollout({ name: created!.name }).state === 'IN_PROGRESS') state.stepRollout(created!.name);
    expect(codeOf(() => rollback(state, 'rb-1', { releaseId: 'rel-001' }))).toBe('ALREADY_EXISTS');
  });

  it('starts a rollback at the stable phase unless told otherwise, and refuses a phase the target does not have', () => {
    const state = stateAt(seedWith());
    expect(codeOf(() => rollback(state, 'rb-1', { rollbackConfig: { startingPhaseId: 'nope' } }))).toBe('INVALID_ARGUMENT');
    expect(rollback(state, 'rb-1').created?.phases?.map((p) => p.state)).toEqual(['SKIPPED', 'SKIPPED', 'PENDING']);
    expect(rollback(state, 'rb-2', { rollbackConfig: { startingPhaseId: 'canary-50' } }).created?.phases?.map((p) => p.state)).toEqual([
      'SKIPPED',
      'PENDING',
      'PENDING',
    ]);
  });

  it('copies description and labels from rollbackConfig.rollout', () => {
    const state = stateAt(seedWith());
    const { created } = rollback(state, 'rb-1', {
      rollbackConfig: { rollout: { description: 'burn rate', labels: { by: 'burnback' } } },
    });
    expect(created).toMatchObject({ description: 'burn rate', labels: { by: 'burnback' } });
  });

  it('holds a rollback on a target that requires approval until it is approved', () => {
    const state = stateAt(seedWith((s) => (s.targets[1]!.requireApproval = true)));
    const { created } = rollback(state, 'rb-1');
    expect(created).toMatchObject({ state: 'PENDING_APPROVAL', approvalState: 'NEEDS_APPROVAL' });
    expect(codeOf(() => state.startRollout(created!.name))).toBe('FAILED_PRECONDITION');
    expect(state.approveRollout({ name: created!.name, approved: true })).toMatchObject({
      previousState: 'PENDING_APPROVAL',
      rollout: { state: 'PENDING', approvalState: 'APPROVED' },
    });
  });

  it('moves a rollback through the deploy and verify jobs of its stable phase and gives a successful Cloud Run rollout a new revision', () => {
    const state = stateAt(seedWith());
    const name = rollback(state, 'rb-1').created!.name;
    expect(state.startRollout(name).rollout).toMatchObject({
      state: 'IN_PROGRESS',
      phases: [{}, {}, { id: 'stable', state: 'IN_PROGRESS', deploymentJobs: { deployJob: { state: 'IN_PROGRESS' } } }],
    });
    expect(state.stepRollout(name).transition.rollout.phases?.[2]).toMatchObject({
      state: 'IN_PROGRESS',
      deploymentJobs: { deployJob: { state: 'SUCCEEDED' }, verifyJob: { state: 'IN_PROGRESS' } },
    });
    const done = state.stepRollout(name).transition.rollout;
    expect(done.state).toBe('SUCCEEDED');
    expect(done.deployEndTime).toBeDefined();
    expect(done.phases?.[2]).toMatchObject({
      state: 'SUCCEEDED',
      deploymentJobs: { deployJob: { state: 'SUCCEEDED' }, verifyJob: { state: 'SUCCEEDED' } },
    });
    expect(done.metadata?.cloudRun?.revision).toMatch(/^api-backend-00003-[a-z]{3}$/);
  });

  it('records the reason and the cause when a rollout fails, and aborts what had not run', () => {
    const state = stateAt(seedWith());
    const name = rollback(state, 'rb-1').created!.name;
    state.startRollout(name);
    expect(state.stepRollout(name, { reason: 'image pull failed' })).toMatchObject({
      failed: true,
      transition: {
        rollout: {
          state: 'FAILED',
          failureReason: 'image pull failed',
          deployFailureCause: 'EXECUTION_FAILED',
          phases: [{}, {}, { state: 'FAILED', deploymentJobs: { deployJob: { state: 'FAILED' }, verifyJob: { state: 'ABORTED' } } }],
        },
      },
    });
  });

  it('filters rollouts by field and rejects filters it does not understand', () => {
    const state = stateAt(seedWith());
    const listed = state.listRollouts({
      parent: `${PIPELINE}/releases/-`,
      filter: 'target_id = "production" AND state = "SUCCEEDED"',
    });
    expect(listed.rollouts.map((r) => r.name)).toEqual([
      rolloutName('rel-002', 'rel-002-to-production-0001'),
      rolloutName('rel-001', 'rel-001-to-production-0001'),
    ]);
    expect(codeOf(() => state.listRollouts({ parent: `${PIPELINE}/releases/-`, filter: 'targetId:production OR x' }))).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('orders by create_time ascending on request and rejects other orderings', () => {
    const state = stateAt(seedWith());
    expect(state.listReleases({ parent: PIPELINE, orderBy: 'create_time' }).releases.map((r) => r.name.split('/').pop())).toEqual([
      'rel-001',
      'rel-002',
    ]);
    expect(codeOf(() => state.listReleases({ parent: PIPELINE, orderBy: 'name' }))).toBe('INVALID_ARGUMENT');
  });

  it('binds a page token to its request and neither repeats nor skips rollouts created between pages', () => {
    const state = stateAt(seedWith());
    const parent = `${PIPELINE}/releases/-`;
    const first = state.listRollouts({ parent, pageSize: 2 });
    expect(codeOf(() => state.listRollouts({ parent: `${PIPELINE}/releases/rel-001`, pageToken: first.nextPageToken }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => state.listRollouts({ parent, pageToken: 'garbage' }))).toBe('INVALID_ARGUMENT');
    rollback(state, 'rb-1');
    const second = state.listRollouts({ parent, pageSize: 2, pageToken: first.nextPageToken });
    expect([...first.rollouts, ...second.rollouts].map((r) => r.name.split('/').pop())).toEqual([
      'rel-002-to-production-0001',
      'rel-002-to-staging-0001',
      'rel-001-to-production-0001',
      'rel-001-to-staging-0001',
    ]);
    expect(second.nextPageToken).toBe('');
    expect(codeOf(() => state.listRollouts({ parent, pageSize: -1 }))).toBe('INVALID_ARGUMENT');
  });

  it('rejects a seed whose rollout is on a target that is not seeded', () => {
    expect(() => stateAt(seedWith((s) => (s.rollouts[0]!.targetId = 'nowhere')))).toThrow(/not seeded/);
  });

  it('returns copies, so callers cannot change the state', () => {
    const state = stateAt(seedWith());
    const name = rolloutName('rel-002', 'rel-002-to-production-0001');
    state.getRollout({ name }).state = 'FAILED';
    expect(state.getRollout({ name }).state).toBe('SUCCEEDED');
  });
});
