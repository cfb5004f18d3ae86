import { historyRollout } from '@burnback/testkit/fixtures';
import type { TestEnvironment } from '@burnback/testkit';
import type { ServiceConfig } from '@burnback/platform';
import { rebuildTarget } from '@burnback/policy';
import { DecisionStore } from '../src/index.js';

/**
 * What the decider records once it has read from Cloud Deploy that `releaseId`
 * started deploying to the service's target at `since` (rel-001 having served a
 * day before it). These tests are about decisions, not about reading Cloud
 * Deploy: the target's record is written as the history read would write it
 * (deploy-events.int.test.ts reads it through the real client from gcp-sim).
 */
export async function shipped(
  env: TestEnvironment,
  releaseId: string,
  since: string,
  service: string | Pick<ServiceConfig, 'project' | 'region' | 'pipeline' | 'target'> = 'api-backend',
): Promise<void> {
  const s = typeof service === 'string' ? env.config().services.get(service)! : service;
  const target = { project: s.project, region: s.region, pipeline: s.pipeline, target: s.target };
  const pipeline = `projects/${s.project}/locations/${s.region}/deliveryPipelines/${s.pipeline}`;
  const rollout = (release: string, start: string) => ({
    ...historyRollout(release, start, 'SUCCEEDED', { target: s.target }),
    name: `${pipeline}/releases/${release}/rollouts/${release}-to-${s.target}`,
  });
  const before = new Date(Date.parse(since) - 24 * 3_600_000).toISOString();
  const history = [rollout('rel-001', before), rollout(releaseId, since)];
  await new DecisionStore(env.db).updateTarget(target, since, (current) => rebuildTarget(current, history, since));
}
