process.env.METADATA_SERVER_DETECTION = 'none';

import { randomBytes } from 'node:crypto';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { CloudDeployClient } from '@google-cloud/deploy';
import { cloudDeployClientOptions, DeployNotificationTopics, startGcpSim, type GcpSim } from '../index.js';

const REGION = 'us-central1';

/** Every message published to `topic` from now on, kept in arrival order. */
async function tap(pubsub: PubSub, topic: string): Promise<{ messages: Message[]; close(): Promise<void> }> {
  const [created] = await pubsub.createTopic(topic);
  const [subscription] = await created.createSubscription(`${topic}-tap`);
  const messages: Message[] = [];
  subscription.on('message', (m: Message) => {
    messages.push(m);
    m.ack();
  });
  return { messages, close: () => subscription.close() };
}

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('Cloud Deploy notifications from gcp-sim on the Pub/Sub emulator', () => {
  let projectId: string;
  let pubsub: PubSub;
  let sim: GcpSim;
  let client: CloudDeployClient;

  beforeEach(async () => {
    projectId = `t-gcp-sim-notify-${randomBytes(3).toString('hex')}`;
    pubsub = new PubSub({ projectId });
  });

  afterEach(async () => {
    await client?.close();
    await sim?.stop();
    await pubsub.close();
  });

  it('publishes rollout and release changes to clouddeploy-operations and approvals to clouddeploy-approvals, with the documented attributes', async () => {
    const operations = await tap(pubsub, DeployNotificationTopics.operations);
    const approvals = await tap(pubsub, DeployNotificationTopics.approvals);
    sim = await startGcpSim({
      projectId,
      region: REGION,
      rolloutStepMs: 20,
      timings: { autoAdvance: true },
      notifications: { projectId, pubsub },
      scenario: {
        targets: [{ id: 'production', requireApproval: true }],
        pipelines: [
          {
            id: 'api-backend-pipeline',
            suspended: false,
            stages: [
              { target: 'staging', verify: false },
              { target: 'production', canary: [25, 50], verify: true },
            ],
            releases: [],
          },
        ],
      },
    });
    client = new CloudDeployClient(cloudDeployClientOptions(sim));
    const pipeline = `projects/${projectId}/locations/${REGION}/deliveryPipelines/api-backend-pipeline`;
    const [releaseOp] = await client.createRelease({ parent: pipeline, releaseId: 'rel-003', release: {} });
    await releaseOp.promise();
    const [rolloutOp] = await client.createRollout({
      parent: `${pipeline}/releases/rel-003`,
      rolloutId: 'r1',
      rollout: { targetId: 'production' },
    });
    await rolloutOp.promise();
    const rollout = `${pipeline}/releases/rel-003/rollouts/r1`;
    await client.approveRollout({ name: rollout, approved: true });
    await sim.deploy.waitForRollout(rollout);
    await sim.deploy.flushNotifications();

    // A canary 25/50 with verify: three phases of a deploy job and a verify job each, every job run started and succeeded.
    const jobRuns = ['canary-25', 'canary-50', 'stable']
      .flatMap(() => ['deploy', 'verify'])
      .flatMap(() => ['JobRun Start', 'JobRun Succeed']);
    await until(() => operations.messages.length >= 4 + jobRuns.length && approvals.messages.length >= 2, 'the notifications');
    const ops = operations.messages.map((m) => m.attributes);
    // Cloud Deploy sets no ordering key, and Pub/Sub (the emulator too: a CI run saw two job runs' notifications
    // swapped) does not keep the order of messages without one: the same notifications, each resource's in order.
    const expected = ['Release Start', 'Release Succeed', 'Rollout Start', ...jobRuns, 'Rollout Succeed'];
    expect(ops.map((a) => `${a.ResourceType} ${a.Action}`).sort()).toEqual([...expected].sort());
    const actionsOf = new Map<string, string[]>();
    for (const a of ops) actionsOf.set(a.Resource!, [...(actionsOf.get(a.Resource!) ?? []), a.Action!]);
    expect(actionsOf.size).toBe(2 + jobRuns.length / 2);
    for (const [resource, actions] of actionsOf) expect({ resource, actions }).toEqual({ resource, actions: ['Start', 'Succeed'] });
    // A job run names itself in Resource, below its rollout, with the rollout's attributes.
    const firstJobRun = sim.deploy.getRollout(rollout)!.phases![0]!.deploymentJobs!.deployJob!.jobRun!;
    expect(firstJobRun).toMatch(new RegExp(`^${rollout}/jobRuns/[0-9a-f-]+$`));
    expect(ops.find((a) => a.Resource === firstJobRun && a.Action === 'Start')).toEqual({
      Action: 'Start',
      Resource: firstJobRun,
      ResourceType: 'JobRun',
      Location: REGION,
      ProjectNumber: sim.projectNumber,
      DeliveryPipelineId: 'api-backend-pipeline',
      ReleaseId: 'rel-003',
      RolloutId: 'r1',
      TargetId: 'production',
    });
    expect(ops.find((a) => a.Resource === rollout && a.Action === 'Succeed')).toEqual({
      Action: 'Succeed',
      Resource: rollout,
      ResourceType: 'Rollout',
      Location: REGION,
      ProjectNumber: sim.projectNumber,
      DeliveryPipelineId: 'api-backend-pipeline',
      ReleaseId: 'rel-003',
      RolloutId: 'r1',
      TargetId: 'production',
    });
    expect(ops.find((a) => a.Resource === `${pipeline}/releases/rel-003` && a.Action === 'Start')).toEqual({
      Action: 'Start',
      Resource: `${pipeline}/releases/rel-003`,
      ResourceType: 'Release',
      Location: REGION,
      ProjectNumber: sim.projectNumber,
      DeliveryPipelineId: 'api-backend-pipeline',
      ReleaseId: 'rel-003',
    });
    expect(sim.projectNumber).toMatch(/^\d{12}$/);
    expect(approvals.messages.map((m) => m.attributes)).toEqual([
      expect.objectContaining({ Action: 'Required', Rollout: rollout, RolloutId: 'r1', TargetId: 'production', ReleaseId: 'rel-003' }),
      expect.objectContaining({ Action: 'Approved', Rollout: rollout }),
    ]);
    await operations.close();
    await approvals.close();
  });

  it('reports a failed and a cancelled rollout, and drops messages for topics the project did not create', async () => {
    const operations = await tap(pubsub, DeployNotificationTopics.operations);
    sim = await startGcpSim({ projectId, region: REGION, rolloutStepMs: 20, notifications: { projectId, pubsub } });
    client = new CloudDeployClient(cloudDeployClientOptions(sim));
    const pipeline = `projects/${projectId}/locations/${REGION}/deliveryPipelines/api-backend-pipeline`;
    sim.deploy.failNextRollbacks('production', 'health check failed');
    const [failed] = await client.rollbackTarget({ name: pipeline, targetId: 'production', rolloutId: 'rb-1' });
    await sim.deploy.waitForRollout(failed.rollbackConfig!.rollout!.name!);
    const [op] = await client.createRollout({
      parent: `${pipeline}/releases/rel-002`,
      rolloutId: 'again',
      rollout: { targetId: 'production' },
    });
    await op.promise();
    const again = `${pipeline}/releases/rel-002/rollouts/again`;
    await sim.deploy.waitForRollout(again, ['IN_PROGRESS']);
    await client.cancelRollout({ name: again });
    await sim.deploy.waitForRollout(again);
    await sim.deploy.flushNotifications();
    await until(() => operations.messages.some((m) => m.attributes.Action === 'Cancelled'), 'the notifications');
    const seen = operations.messages.map((m) => `${m.attributes.RolloutId} ${m.attributes.ResourceType} ${m.attributes.Action}`);
    expect(seen.slice(0, 6)).toEqual([
      'rb-1 Rollout Start',
      'rb-1 JobRun Start',
      'rb-1 JobRun Failure',
      'rb-1 Rollout Failure',
      'again Rollout Start',
      'again JobRun Start',
    ]);
    // A job of 20 ms may have ended before the cancel reached the rollout (a CI run saw one): it succeeded and the
    // next started. The job running when the rollout was cancelled ends Terminated, then the rollout Cancelled.
    const finishedFirst = seen.slice(6, -2);
    expect(finishedFirst).toEqual(finishedFirst.map((_, i) => (i % 2 === 0 ? 'again JobRun Succeed' : 'again JobRun Start')));
    expect(finishedFirst.length % 2).toBe(0);
    expect(seen.slice(-2)).toEqual(['again JobRun Terminated', 'again Rollout Cancelled']);
    await operations.close();
  });

  it('leaves out the notifications the suppress filter names, and only those', async () => {
    const operations = await tap(pubsub, DeployNotificationTopics.operations);
    const suppress = ({ topic, attributes }: { topic: string; attributes: Record<string, string> }) =>
      topic === DeployNotificationTopics.operations && attributes.RolloutId === 'quiet';
    sim = await startGcpSim({
      projectId,
      region: REGION,
      rolloutStepMs: 20,
      timings: { autoAdvance: true },
      notifications: { projectId, pubsub, suppress },
    });
    client = new CloudDeployClient(cloudDeployClientOptions(sim));
    const release = `projects/${projectId}/locations/${REGION}/deliveryPipelines/api-backend-pipeline/releases/rel-002`;
    try {
      for (const rolloutId of ['quiet', 'heard']) {
        const [op] = await client.createRollout({ parent: release, rolloutId, rollout: { targetId: 'production' } });
        await op.promise();
        await sim.deploy.waitForRollout(`${release}/rollouts/${rolloutId}`);
      }
      await sim.deploy.flushNotifications();
      // The later rollout's notifications are the positive control: they came, and none of the first one's did.
      await until(
        () =>
          operations.messages.some(
            (m) => m.attributes.RolloutId === 'heard' && m.attributes.ResourceType === 'Rollout' && m.attributes.Action === 'Succeed',
          ),
        'heard',
      );
      expect(operations.messages.map((m) => m.attributes.RolloutId)).toEqual(operations.messages.map(() => 'heard'));
      expect(operations.messages.filter((m) => m.attributes.ResourceType === 'Rollout').map((m) => m.attributes.Action)).toEqual([
        'Start',
        'Succeed',
      ]);
    } finally {
      await operations.close();
    }
  });
});
