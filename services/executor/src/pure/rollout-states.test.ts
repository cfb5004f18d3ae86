import { deployedNothingYet, rolloutEndedBy } from './rollout-states.js';

describe("the executor's reading of rollout states and actions", () => {
  it.each([
    ['PENDING_APPROVAL', true],
    ['PENDING', true],
    ['PENDING_RELEASE', true],
    ['IN_PROGRESS', false],
    ['SUCCEEDED', false],
    ['FAILED', false],
    ['HALTED', false],
    ['', false],
  ])('a rollout %j has deployed nothing yet: %s', (state, expected) => {
    expect(deployedNothingYet(state)).toBe(expected);
  });

  const ended = { ResourceType: 'Rollout', Action: 'Succeed', RolloutId: 'burnback-rb-1' };
  it.each(['Succeed', 'Failure', 'Cancelled'])('%s on a rollout ends it', (Action) => {
    expect(rolloutEndedBy({ ...ended, Action })).toBe(true);
  });
  it.each([
    ['a rollout that starts', { ...ended, Action: 'Start' }],
    ['an action on a job run', { ...ended, ResourceType: 'JobRun' }],
    ['a release that succeeds', { ...ended, ResourceType: 'Release' }],
    ['no action', { ResourceType: 'Rollout', RolloutId: 'burnback-rb-1' }],
    ['no rollout named', { ResourceType: 'Rollout', Action: 'Succeed' }],
    ['an empty rollout id', { ...ended, RolloutId: '' }],
  ])('%s is not a rollout ending', (_what, attributes) => {
    expect(rolloutEndedBy(attributes)).toBe(false);
  });
});
