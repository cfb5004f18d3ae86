import type { TestEnvironment } from '@burnback/testkit';
import { createDeployEventHandler } from '../src/index.js';

/** Cloud Deploy's Succeed notification: `releaseId` serves the service's target since `since` (the decider records it). */
export async function shipped(env: TestEnvironment, releaseId: string, since: string, service = 'api-backend'): Promise<void> {
  const s = env.config().services[service]!;
  await createDeployEventHandler({ db: env.db, services: env.config().services, logger: env.logger })({
    id: `succeed-${releaseId}`,
    publishTime: new Date(since),
    attributes: {
      Action: 'Succeed',
      ResourceType: 'Rollout',
      TargetId: s.target,
      Resource: `projects/${s.project}/locations/${s.region}/deliveryPipelines/${s.pipeline}/releases/${releaseId}/rollouts/${releaseId}-to-${s.target}`,
    },
  });
}
