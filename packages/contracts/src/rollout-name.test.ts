import { parseRolloutName } from './rollout-name.js';

describe('parseRolloutName', () => {
  const name = 'projects/123456/locations/us-central1/deliveryPipelines/api-backend-pipeline/releases/rel-003/rollouts/burnback-rb-1';

  it('splits a rollout resource name into its parts', () => {
    expect(parseRolloutName(name)).toEqual({
      project: '123456',
      location: 'us-central1',
      pipeline: 'api-backend-pipeline',
      releaseId: 'rel-003',
      rolloutId: 'burnback-rb-1',
    });
  });

  it.each([
    ['nothing', undefined],
    ['an empty name', ''],
    ['a release', 'projects/p/locations/l/deliveryPipelines/d/releases/r'],
    ['a job run below a rollout', `${name}/jobRuns/j`],
    ['a name with something before it', `x/${name}`],
    ['an empty segment', 'projects/p/locations//deliveryPipelines/d/releases/r/rollouts/o'],
    ['a target', 'projects/p/locations/l/targets/production'],
  ])('is null for %s', (_, value) => {
    expect(parseRolloutName(value)).toBeNull();
  });
});
