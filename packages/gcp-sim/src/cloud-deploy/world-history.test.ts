import { worldFromHistory } from './world.js';

/** A world restored from a recorded history (burnback replay --through-pipeline). */
describe('worldFromHistory', () => {
  const anchor = new Date('2026-11-26T12:00:00.000Z');
  const world = worldFromHistory(
    [
      {
        name: 'api-backend',
        pipeline: 'api-backend-pipeline',
        target: 'production',
        served: [
          { releaseId: 'rel-002', at: new Date('2026-11-26T11:00:00.000Z'), rolloutId: 'rel-002-to-production' },
          { releaseId: 'rel-001', at: new Date('2026-11-25T09:30:00.000Z') },
        ],
      },
    ],
    { projectId: 'p-replay', region: 'us-central1', anchor },
  );
  const seconds = (t: { seconds?: unknown } | undefined) => Number(t?.seconds);

  it('builds the service’s pipeline (staging, then its target with a canary) with exactly the recorded releases', () => {
    expect(world.pipelines.map((p) => p.name)).toEqual(['projects/p-replay/locations/us-central1/deliveryPipelines/api-backend-pipeline']);
    expect(world.pipelines[0]!.serialPipeline!.stages.map((s) => s.targetId)).toEqual(['staging', 'production']);
    expect(world.releases.map((r) => r.name.split('/').pop())).toEqual(['rel-001', 'rel-002']);
  });

  it('gives each a SUCCEEDED rollout on the target that ended at the recorded time, with the recorded rollout id when known', () => {
    const rollouts = world.rollouts.map((r) => ({
      id: r.name.split('/').pop(),
      target: r.targetId,
      state: r.state,
      ended: new Date(seconds(r.deployEndTime) * 1000).toISOString(),
    }));
    expect(rollouts).toEqual([
      { id: 'rel-001-to-production-0001', target: 'production', state: 'SUCCEEDED', ended: '2026-11-25T09:30:00.000Z' },
      { id: 'rel-002-to-production', target: 'production', state: 'SUCCEEDED', ended: '2026-11-26T11:00:00.000Z' },
    ]);
  });

  it('a release that served twice gets a second rollout, not the same id again', () => {
    const twice = worldFromHistory(
      [
        {
          name: 'api-backend',
          pipeline: 'api-backend-pipeline',
          target: 'production',
          served: [
            { releaseId: 'rel-001', at: new Date('2026-11-26T08:00:00.000Z') },
            { releaseId: 'rel-002', at: new Date('2026-11-26T09:00:00.000Z') },
            { releaseId: 'rel-001', at: new Date('2026-11-26T10:00:00.000Z') },
          ],
        },
      ],
      { projectId: 'p-replay', region: 'us-central1', anchor },
    );
    expect(twice.releases).toHaveLength(2);
    expect(twice.rollouts.map((r) => r.name.split('/').slice(-3).join('/'))).toEqual([
      'rel-001/rollouts/rel-001-to-production-0001',
      'rel-002/rollouts/rel-002-to-production-0001',
      'rel-001/rollouts/rel-001-to-production-0002',
    ]);
  });
});
