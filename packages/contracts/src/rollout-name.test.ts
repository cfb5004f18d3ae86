import { parseRolloutName, rolloutOfResource } from './rollout-name.js';

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

describe('rolloutOfResource', () => {
  const rollout = 'projects/p/locations/l/deliveryPipelines/d/releases/r/rollouts/o';

  it('names the rollout of a rollout notification', () => {
    expect(rolloutOfResource(rollout)).toEqual(parseRolloutName(rollout));
  });

  it('names the rollout above a job run', () => {
    expect(rolloutOfResource(`${rollout}/jobRuns/0a1b-2c`)).toEqual({
      project: 'p',
      location: 'l',
      pipeline: 'd',
      releaseId: 'r',
      rolloutId: 'o',
    });
  });

  it.each([
    ['a release', 'projects/p/locations/l/deliveryPipelines/d/releases/r'],
    ['a job run without its id', `${rollout}/jobRuns/`],
    ['something below a job run', `${rollout}/jobRuns/j/x`],
    ['a target', 'projects/p/locations/l/targets/production'],
    ['nothing', undefined],
  ])('is null for %s', (_, value) => {
    expect(rolloutOfResource(value)).toBeNull();
  });
});
