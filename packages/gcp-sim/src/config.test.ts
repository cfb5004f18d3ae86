import { loadConfig } from './config.js';

describe('loadConfig', () => {
  it('defaults to 127.0.0.1:8087, burnback-local, us-central1 and 1000 ms steps', () => {
    expect(loadConfig({})).toEqual({
      host: '127.0.0.1',
      port: 8087,
      projectId: 'burnback-local',
      region: 'us-central1',
      rolloutStepMs: 1000,
    });
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        GCP_SIM_HOST: '0.0.0.0',
        GCP_SIM_PORT: '0',
        GOOGLE_CLOUD_PROJECT: 'my-proj-1',
        GCP_SIM_REGION: 'europe-west1',
        GCP_SIM_ROLLOUT_STEP_MS: '20',
      }),
    ).toEqual({ host: '0.0.0.0', port: 0, projectId: 'my-proj-1', region: 'europe-west1', rolloutStepMs: 20 });
  });

  it.each([
    ['GCP_SIM_PORT', 'abc'],
    ['GCP_SIM_PORT', '70000'],
    ['GCP_SIM_ROLLOUT_STEP_MS', '-1'],
    ['GCP_SIM_ROLLOUT_STEP_MS', '1.5'],
    ['GOOGLE_CLOUD_PROJECT', 'Bad_Project'],
    ['GCP_SIM_REGION', 'mars'],
  ])('names %s when it is %j', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(expect.objectContaining({ name: 'ConfigError', key }));
  });
});
