import { serviceOfNotification, type DeployTargetOf } from './deploy-notifications.js';

const api: DeployTargetOf = { name: 'api', project: 'shop-prod', region: 'us-central1', pipeline: 'api-pipeline', target: 'production' };
const other: DeployTargetOf = { ...api, name: 'other', project: 'shop-dev' };
const rollout = (project: string, pipeline = 'api-pipeline') =>
  `projects/${project}/locations/us-central1/deliveryPipelines/${pipeline}/releases/rel-1/rollouts/r-1`;
const notification = (resource: string, overrides: Record<string, string> = {}) => ({
  Action: 'Start',
  ResourceType: 'Rollout',
  Resource: resource,
  TargetId: 'production',
  ...overrides,
});

describe('which service a Cloud Deploy notification is about', () => {
  it.each(['Start', 'Succeed', 'Failure', 'Cancelled'])('a rollout %s on the service target', (Action) => {
    expect(serviceOfNotification([api], notification(rollout('shop-prod'), { Action }))).toBe(api);
  });

  it.each(['Start', 'Succeed', 'Failure', 'Terminated'])('a job run %s of a rollout on the service target', (Action) => {
    expect(serviceOfNotification([api], notification(`${rollout('shop-prod')}/jobRuns/abc`, { Action, ResourceType: 'JobRun' }))).toBe(api);
  });

  it.each([
    [
      'a release render',
      notification('projects/shop-prod/locations/us-central1/deliveryPipelines/api-pipeline/releases/rel-1', { ResourceType: 'Release' }),
    ],
    ['a resource update', notification(rollout('shop-prod'), { Action: 'Update' })],
    ['an approval', notification(rollout('shop-prod'), { Action: 'Required' })],
    ['no resource type', notification(rollout('shop-prod'), { ResourceType: '' })],
    ['another target', notification(rollout('shop-prod'), { TargetId: 'staging' })],
    ['no target', notification(rollout('shop-prod'), { TargetId: '' })],
    ['another pipeline', notification(rollout('shop-prod', 'web-pipeline'))],
    ['another region', notification(rollout('shop-prod').replace('us-central1', 'europe-west1'))],
    ['another project id', notification(rollout('shop-staging'))],
    ['a name that is no rollout', notification('projects/shop-prod/locations/us-central1/targets/production')],
  ])('ignores %s', (_what, attributes) => {
    expect(serviceOfNotification([api], attributes)).toBeNull();
  });

  it('a project number matches the service that has it, from the config or learned, and no other project', () => {
    const numbered = [
      { ...api, projectNumber: '111111111111' },
      { ...other, projectNumber: '222222222222' },
    ];
    expect(serviceOfNotification(numbered, notification(rollout('222222222222')))).toBe(numbered[1]);
    expect(serviceOfNotification(numbered, notification(rollout('111111111111')))).toBe(numbered[0]);
    expect(serviceOfNotification(numbered, notification(rollout('333333333333')))).toBeNull();
    const learned = new Map([['api', '111111111111']]);
    expect(serviceOfNotification([api], notification(rollout('111111111111')), learned)).toBe(api);
    expect(serviceOfNotification([api], notification(rollout('999999999999')), learned)).toBeNull();
  });

  it('a number no service knows matches the one service on that pipeline and target (the config keeps it unique)', () => {
    expect(serviceOfNotification([api], notification(rollout('123456789012')))).toBe(api);
    const unknown = { ...api, projectNumber: null };
    expect(serviceOfNotification([unknown], notification(rollout('123456789012')))).toBe(unknown);
  });
});
