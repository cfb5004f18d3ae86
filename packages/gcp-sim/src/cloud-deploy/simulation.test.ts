import type { RolloutState } from './resources.js';
import { defaultDeploySeed } from './seed.js';
import { DeploySimulation, silentLogger, uniformTimings } from './simulation.js';
import { DeployApiError } from '../errors.js';

const PIPELINE = 'projects/sim-test-proj/locations/us-central1/deliveryPipelines/api-backend-pipeline';

function simulation(rolloutStepMs: number): DeploySimulation {
  return new DeploySimulation({
    seed: defaultDeploySeed('sim-test-proj', 'us-central1'),
    timings: uniformTimings(rolloutStepMs),
    logger: silentLogger,
  });
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('DeploySimulation', () => {
  it('runs rollouts on one target one at a time: a second rollback waits PENDING until the first finishes', async () => {
    const sim = simulation(15);
    const order: Array<[string, RolloutState]> = [];
    sim.onRolloutChange((r) => order.push([r.name.split('/').pop()!, r.state]));
    try {
      sim.invoke('RollbackTarget', { name: PIPELINE, targetId: 'production', rolloutId: 'rb-1' });
      sim.invoke('RollbackTarget', { name: PIPELINE, targetId: 'production', rolloutId: 'rb-2', releaseId: 'rel-001' });
      for (let i = 0; i < 500 && order.length < 6; i++) await settle(10);
      expect(order).toEqual([
        ['rb-1', 'PENDING'],
        ['rb-2', 'PENDING'],
        ['rb-1', 'IN_PROGRESS'],
        ['rb-1', 'SUCCEEDED'],
        ['rb-2', 'IN_PROGRESS'],
        ['rb-2', 'SUCCEEDED'],
      ]);
    } finally {
      sim.stop();
    }
  });

  it('a held rollout takes no step until released, while one on another target runs to the end', async () => {
    const sim = simulation(5);
    sim.holdRollouts((name) => name.endsWith('/rb-held'));
    const held = `${PIPELINE}/releases/rel-001/rollouts/rb-held`;
    const free = `${PIPELINE}/releases/rel-001/rollouts/rb-free`;
    try {
      sim.invoke('RollbackTarget', { name: PIPELINE, targetId: 'production', rolloutId: 'rb-held' });
      sim.invoke('RollbackTarget', { name: PIPELINE, targetId: 'staging', rolloutId: 'rb-free' });
      // The positive control: the free one, created after, finishes.
      for (let i = 0; i < 1000 && sim.getRollout(free)?.state !== 'SUCCEEDED'; i++) await settle(5);
      expect([sim.getRollout(free)?.state, sim.getRollout(held)?.state]).toEqual(['SUCCEEDED', 'PENDING']);
      sim.releaseRollout(held);
      for (let i = 0; i < 1000 && sim.getRollout(held)?.state !== 'SUCCEEDED'; i++) await settle(5);
      expect(sim.getRollout(held)?.state).toBe('SUCCEEDED');
    } finally {
      sim.stop();
    }
  });

  it('keeps rollouts moving when a listener throws', async () => {
    const sim = simulation(1);
    sim.onRolloutChange(() => {
      throw new Error('listener bug');
    });
    try {
      sim.invoke('RollbackTarget', { name: PIPELINE, targetId: 'staging', rolloutId: 'rb-1' });
      const name = `${PIPELINE}/releases/rel-001/rollouts/rb-1`;
      for (let i = 0; i < 1000 && sim.getRollout(name)?.state !== 'SUCCEEDED'; i++) await settle(5);
      expect(sim.getRollout(name)?.state).toBe('SUCCEEDED');
    } finally {
      sim.stop();
    }
  });

  it('lets a rollout held IN_PROGRESS by an hour-long deploy finish once its timings are rescheduled', async () => {
    const sim = new DeploySimulation({
      seed: defaultDeploySeed('sim-test-proj', 'us-central1'),
      timings: uniformTimings(1, { deployMs: 3_600_000 }),
      logger: silentLogger,
    });
    try {
      sim.invoke('RollbackTarget', { name: PIPELINE, targetId: 'staging', rolloutId: 'rb-1' });
      const name = `${PIPELINE}/releases/rel-001/rollouts/rb-1`;
      expect((await sim.waitForRollout(name, ['IN_PROGRESS'])).state).toBe('IN_PROGRESS');
      sim.setTimings({ deployMs: 1 }, { reschedule: true });
      expect((await sim.waitForRollout(name)).state).toBe('SUCCEEDED');
    } finally {
      sim.stop();
    }
  });

  it('stops moving rollouts once stopped', async () => {
    const sim = simulation(5);
    sim.invoke('RollbackTarget', { name: PIPELINE, targetId: 'staging', rolloutId: 'rb-1' });
    sim.stop();
    await settle(30);
    expect(sim.getRollout(`${PIPELINE}/releases/rel-001/rollouts/rb-1`)?.state).toBe('PENDING');
  });

  it('records failed calls with their gRPC code and message', () => {
    const sim = simulation(1000);
    try {
      expect(() => sim.invoke('GetTarget', { name: 'projects/sim-test-proj/locations/us-central1/targets/nope' })).toThrow(DeployApiError);
      expect(sim.calls[0]).toMatchObject({
        method: 'GetTarget',
        code: 5,
        status: 'NOT_FOUND',
        message: expect.stringMatching(/not found/),
      });
    } finally {
      sim.stop();
    }
  });

  it('rejects an injected failure code that is not a gRPC error', () => {
    const sim = simulation(1000);
    expect(() => sim.failNextCalls('RollbackTarget', 0)).toThrow(/not a gRPC error code/);
    expect(() => sim.failNextCalls('RollbackTarget', 42)).toThrow(/not a gRPC error code/);
    sim.stop();
  });
});
