process.env.METADATA_SERVER_DETECTION = 'none';

import { CloudDeployClient } from '@google-cloud/deploy';
import { cloudDeployClientOptions, startGcpSim } from '@burnback/gcp-sim';
import { simulateFailure } from '../src/commands/simulate';

describe('what simulate says when a scenario stops on an error', () => {
  it('a scenario played again on the same stack: its releases exist, restart the stack to play it again', async () => {
    // The error as Cloud Deploy's own client reports it from gcp-sim: a release id that is taken.
    const sim = await startGcpSim({ projectId: 'burnback-test', region: 'us-central1', rolloutStepMs: 20 });
    const client = new CloudDeployClient(cloudDeployClientOptions(sim));
    const parent = 'projects/burnback-test/locations/us-central1/deliveryPipelines/api-backend-pipeline';
    let error: unknown;
    try {
      const [op] = await client.createRelease({ parent, releaseId: 'rel-sim-1', release: {} });
      await op.promise();
      await client.createRelease({ parent, releaseId: 'rel-sim-1', release: {} }, { retry: null as never });
    } catch (err) {
      error = err;
    } finally {
      await client.close();
      await sim.stop();
    }
    expect(error).toMatchObject({ code: 6 });
    const message = simulateFailure(error, 'bad-release');
    expect(message.startsWith(`simulate: ${(error as Error).message}\n`)).toBe(true);
    expect(message).toContain("the scenario's releases already exist in this stack's Cloud Deploy (gcp-sim");
    expect(message).toContain("'bad-release' has already been played on this stack: restart the stack");
    expect(message).toContain("'npm start' again) to play it again.");
    expect(message).not.toContain("is 'npm start' running?");
  }, 30_000);

  it('knows ALREADY_EXISTS by its code or its name', () => {
    expect(simulateFailure(Object.assign(new Error('release taken'), { code: 6 }), 's')).toContain('restart the stack');
    expect(simulateFailure(new Error('6 ALREADY_EXISTS: release rel-1 exists'), 's')).toContain('restart the stack');
  });

  it('anything else: asks whether the stack is up', () => {
    expect(simulateFailure(Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 }), 's')).toBe(
      "simulate: 14 UNAVAILABLE: No connection established (is 'npm start' running?)",
    );
    expect(simulateFailure('boom', 's')).toBe("simulate: boom (is 'npm start' running?)");
  });
});
