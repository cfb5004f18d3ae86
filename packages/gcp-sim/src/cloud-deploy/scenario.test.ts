process.env.METADATA_SERVER_DETECTION = 'none';

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudDeployClient } from '@google-cloud/deploy';
import { cloudDeployClientOptions, startGcpSim, type WorldService } from '../index.js';
import { parseScenario, seedFromScenario } from './scenario.js';
import { servicesFromConfigFile, worldFromServices } from './world.js';

const PROJECT = 'gcp-sim-scenario';
const REGION = 'us-central1';
const PIPELINE = `projects/${PROJECT}/locations/${REGION}/deliveryPipelines/checkout-pipeline`;

const SCENARIO = `
targets:
  - { id: production, requireApproval: true }
pipelines:
  - id: checkout-pipeline
    stages:
      - { target: staging }
      - { target: production, canary: [25, 50], verify: true }
    releases:
      - id: rel-001
        ago: 3d
        rollouts:
          - { target: staging, ago: 71h }
          - { target: production, ago: 2d, duration: 15m }
      - id: rel-002
        ago: 1d
        abandoned: true
        rollouts:
          - { id: bad, target: production, state: FAILED, ago: 20h, phase: canary-25, job: verify, cause: EXECUTION_FAILED, reason: 5xx }
          - { id: rb-1, target: production, ago: 19h, rollbackOf: bad }
      - id: rel-003
        ago: 1h
        rollouts:
          - { target: production, state: IN_PROGRESS, ago: 30m, phase: canary-50, awaitingAdvance: true }
`;

const scratch = mkdtempSync(join(tmpdir(), 'gcp-sim-scenario-'));

describe('scenario files', () => {
  it('describes pipelines, approval targets, abandoned releases and a history with failures, rollbacks and a canary mid-way', async () => {
    const file = join(scratch, 'world.yaml');
    writeFileSync(file, SCENARIO);
    const sim = await startGcpSim({ projectId: PROJECT, region: REGION, scenario: file, rolloutStepMs: 20 });
    const client = new CloudDeployClient(cloudDeployClientOptions(sim));
    try {
      const [target] = await client.getTarget({ name: `projects/${PROJECT}/locations/${REGION}/targets/production` });
      expect(target.requireApproval).toBe(true);
      const [rel2] = await client.getRelease({ name: `${PIPELINE}/releases/rel-002` });
      expect(rel2.abandoned).toBe(true);
      const [rollouts] = await client.listRollouts({ parent: `${PIPELINE}/releases/-`, filter: 'target_id = "production"' });
      expect(rollouts.map((r) => [r.name?.split('/').pop(), r.state])).toEqual([
        ['rel-003-to-production-0001', 'IN_PROGRESS'],
        ['rb-1', 'SUCCEEDED'],
        ['bad', 'FAILED'],
        ['rel-001-to-production-0001', 'SUCCEEDED'],
      ]);
      const bad = rollouts.find((r) => r.name?.endsWith('/bad'))!;
      expect(bad).toMatchObject({
        deployFailureCause: 'EXECUTION_FAILED',
        failureReason: '5xx',
        rolledBackByRollouts: [`${PIPELINE}/releases/rel-002/rollouts/rb-1`],
      });
      expect(bad.phases?.map((p) => p.state)).toEqual(['FAILED', 'ABORTED', 'ABORTED']);
      expect(rollouts.find((r) => r.name?.endsWith('/rb-1'))?.rollbackOfRollout).toBe(bad.name);
      const mid = rollouts[0]!;
      expect(mid.phases?.map((p) => p.state)).toEqual(['SUCCEEDED', 'PENDING', 'PENDING']);
      // The seeded canary is live: advancing it runs it to the end.
      await client.advanceRollout({ name: mid.name!, phaseId: 'canary-50' });
      await sim.deploy.waitForRollout(mid.name!, ['IN_PROGRESS'], 1000);
      expect(sim.deploy.getRollout(mid.name!)?.phases?.[1]?.state).not.toBe('PENDING');
    } finally {
      await client.close();
      await sim.stop();
    }
  });

  it.each([
    ['pipelines: []', /scenario: pipelines: .*>=1|too small/i],
    ['pipelines:\n  - { id: p-pipeline, stages: [{ target: prod }], colour: red }', /pipelines\[0\]: unknown key\(s\) colour/],
    ['pipelines:\n  - { id: Bad_Id, stages: [{ target: prod }] }', /pipelines\[0\]\.id: expected a Cloud Deploy resource id/],
    [
      'pipelines:\n  - id: p\n    stages: [{ target: prod }]\n    releases: [{ id: r1, ago: yesterday }]',
      /pipelines\[0\]\.releases\[0\]\.ago: expected a duration/,
    ],
    [
      'pipelines:\n  - id: p\n    stages: [{ target: prod }]\n    releases: [{ id: r1, ago: 1d, rollouts: [{ target: prod, ago: 1h, state: DONE }] }]',
      /pipelines\[0\]\.releases\[0\]\.rollouts\[0\]\.state/,
    ],
    ['pipelines: [ {', /scenario: not valid YAML/],
  ])('names the bad key of %j', (text, message) => {
    expect(() => parseScenario(text)).toThrow(expect.objectContaining({ name: 'ScenarioError', message: expect.stringMatching(message) }));
  });

  it.each([
    [
      'a rollout on a target that is not a stage',
      'rollouts: [{ target: elsewhere, ago: 1h }]',
      /releases\[0\]\.rollouts\[0\]\.target: target "elsewhere" is not a stage/,
    ],
    [
      'a rollback of an unknown rollout',
      'rollouts: [{ target: prod, ago: 1h, rollbackOf: nope }]',
      /releases\[0\]\.rollouts\[0\]\.rollbackOf: no earlier rollout "nope"/,
    ],
    [
      'a phase the target does not have',
      'rollouts: [{ target: prod, ago: 1h, state: IN_PROGRESS, phase: canary-10 }]',
      /releases\[0\]\.rollouts\[0\]\.phase: "canary-10" is not a phase/,
    ],
  ])('refuses %s, naming where', (_what, rollouts, message) => {
    const scenario = parseScenario(
      `pipelines:\n  - id: p\n    stages: [{ target: prod }]\n    releases:\n      - id: r1\n        ago: 1d\n        ${rollouts}\n`,
      'x.yaml',
    );
    expect(() => seedFromScenario(scenario, { projectId: PROJECT, region: REGION }, 'x.yaml')).toThrow(
      expect.objectContaining({
        name: 'ScenarioError',
        message: expect.stringMatching(new RegExp(`^x\\.yaml: pipelines\\[0\\]\\.${message.source}`)),
      }),
    );
  });
});

describe('a world from the Burnback config', () => {
  it('gives each of 100 services its own pipeline and history, and every one can be rolled back', async () => {
    const services: WorldService[] = Array.from({ length: 100 }, (_, i) => ({
      name: `svc-${i}`,
      pipeline: `svc-${i}-pipeline`,
      target: 'production',
    }));
    const sim = await startGcpSim({ projectId: PROJECT, region: REGION, services, rolloutStepMs: 5 });
    const client = new CloudDeployClient(cloudDeployClientOptions(sim));
    try {
      const pipelines = [];
      for await (const p of client.listDeliveryPipelinesAsync(
        { parent: `projects/${PROJECT}/locations/${REGION}`, pageSize: 40 },
        { autoPaginate: false },
      ))
        pipelines.push(p);
      expect(pipelines).toHaveLength(100);
      const [targets] = await client.listTargets({ parent: `projects/${PROJECT}/locations/${REGION}` });
      expect(targets.map((t) => t.targetId).sort()).toEqual(['production', 'staging']);
      const pipeline = (i: number) => `projects/${PROJECT}/locations/${REGION}/deliveryPipelines/svc-${i}-pipeline`;
      const [releases] = await client.listReleases({ parent: pipeline(57) });
      expect(releases.map((r) => r.name?.split('/').pop())).toEqual(['rel-002', 'rel-001']);
      // Rollbacks of different services on their (shared) production target do not wait for each other.
      const names = await Promise.all(
        [3, 57, 99].map(
          async (i) =>
            (await client.rollbackTarget({ name: pipeline(i), targetId: 'production', rolloutId: 'rb-1' }))[0].rollbackConfig!.rollout!
              .name!,
        ),
      );
      expect(names[1]).toBe(`${pipeline(57)}/releases/rel-001/rollouts/rb-1`);
      const done = await Promise.all(names.map((n) => sim.deploy.waitForRollout(n, ['SUCCEEDED', 'FAILED'], 5000)));
      expect(done.map((r) => r.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    } finally {
      await client.close();
      await sim.stop();
    }
  });

  it("reads the services of a BURNBACK_CONFIG file; config/local.yaml gives the default pipeline, and checkout's beside it", () => {
    const services = servicesFromConfigFile(join(__dirname, '../../../../config/local.yaml'));
    expect(services).toEqual([
      expect.objectContaining({ name: 'api-backend', pipeline: 'api-backend-pipeline', target: 'production' }),
      expect.objectContaining({ name: 'checkout', pipeline: 'checkout-pipeline', target: 'production' }),
    ]);
    const seed = worldFromServices(services, { projectId: PROJECT, region: REGION });
    expect(seed.pipelines.map((p) => [p.name.split('/').pop(), p.serialPipeline?.stages.map((s) => s.targetId)])).toEqual([
      ['api-backend-pipeline', ['staging', 'production']],
      ['checkout-pipeline', ['staging', 'production']],
    ]);
    // A target is a location's resource: both pipelines deploy to the same staging and production.
    expect(seed.targets.map((t) => t.targetId)).toEqual(['staging', 'production']);
    const history = ['rel-001-to-staging-0001', 'rel-001-to-production-0001', 'rel-002-to-staging-0001', 'rel-002-to-production-0001'];
    for (const pipeline of ['api-backend-pipeline', 'checkout-pipeline'])
      expect(seed.rollouts.filter((r) => r.name.includes(`/${pipeline}/`)).map((r) => r.name.split('/').pop())).toEqual(history);
  });

  it('names the bad key of a config it cannot read for services', () => {
    const file = join(scratch, 'bad-config.yaml');
    writeFileSync(file, 'services:\n  api:\n    pipeline: Bad_Pipeline\n    target: production\n');
    expect(() => servicesFromConfigFile(file)).toThrow(/bad-config\.yaml: services\.api\.pipeline/);
  });
});
