import { loadConfig } from './config.js';

describe('loadConfig', () => {
  it('defaults to 127.0.0.1:8087, burnback-local, us-central1 and 1000 ms steps', () => {
    expect(loadConfig({})).toEqual({
      host: '127.0.0.1',
      port: 8087,
      controlPort: null,
      projectId: 'burnback-local',
      region: 'us-central1',
      rolloutStepMs: 1000,
      autoAdvance: false,
      scenarioPath: null,
      burnbackConfigPath: null,
      notificationsProjectId: null,
    });
  });

  it('publishes notifications to the project when the Pub/Sub emulator is configured, unless told none', () => {
    expect(loadConfig({ PUBSUB_EMULATOR_HOST: '127.0.0.1:8085', GOOGLE_CLOUD_PROJECT: 'my-proj-1' }).notificationsProjectId).toBe(
      'my-proj-1',
    );
    expect(loadConfig({ PUBSUB_EMULATOR_HOST: '127.0.0.1:8085', GCP_SIM_NOTIFICATIONS_PROJECT: 'none' }).notificationsProjectId).toBeNull();
    expect(loadConfig({ GCP_SIM_NOTIFICATIONS_PROJECT: 'other-proj' }).notificationsProjectId).toBe('other-proj');
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        GCP_SIM_HOST: '0.0.0.0',
        GCP_SIM_PORT: '0',
        GCP_SIM_CONTROL_PORT: '8088',
        GOOGLE_CLOUD_PROJECT: 'my-proj-1',
        GCP_SIM_REGION: 'europe-west1',
        GCP_SIM_ROLLOUT_STEP_MS: '20',
        GCP_SIM_AUTO_ADVANCE: 'true',
        GCP_SIM_SCENARIO: 'demo.yaml',
        BURNBACK_CONFIG: 'config/local.yaml',
      }),
    ).toEqual({
      host: '0.0.0.0',
      port: 0,
      controlPort: 8088,
      projectId: 'my-proj-1',
      region: 'europe-west1',
      rolloutStepMs: 20,
      autoAdvance: true,
      scenarioPath: 'demo.yaml',
      burnbackConfigPath: 'config/local.yaml',
      notificationsProjectId: null,
    });
  });

  it.each([
    ['GCP_SIM_PORT', 'abc'],
    ['GCP_SIM_PORT', '70000'],
    ['GCP_SIM_CONTROL_PORT', '0'],
    ['GCP_SIM_CONTROL_PORT', 'http://127.0.0.1:8088'],
    ['GCP_SIM_ROLLOUT_STEP_MS', '-1'],
    ['GCP_SIM_ROLLOUT_STEP_MS', '1.5'],
    ['GOOGLE_CLOUD_PROJECT', 'Bad_Project'],
    ['GCP_SIM_REGION', 'mars'],
    ['GCP_SIM_AUTO_ADVANCE', 'maybe'],
    ['GCP_SIM_NOTIFICATIONS_PROJECT', 'Bad_Project'],
  ])('names %s when it is %j', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(expect.objectContaining({ name: 'ConfigError', key }));
  });
});
