process.env.METADATA_SERVER_DETECTION = 'none';

import { createServer, request as httpRequest } from 'node:http';
import { CloudDeployClient } from '@google-cloud/deploy';
import { cloudDeployClientOptions, ControlError, GcpSimControl, startGcpSim, type GcpSim, type Rollout } from '../index.js';

const PROJECT = 'gcp-sim-control';
const REGION = 'us-central1';
const pipelineOf = (id: string) => `projects/${PROJECT}/locations/${REGION}/deliveryPipelines/${id}`;
const API = pipelineOf('api-backend-pipeline');
const CHECKOUT = pipelineOf('checkout-pipeline');
/** The latest rollout of each pipeline's production, which a rollback names as rollout_to_roll_back. */
const latestOn = (pipeline: string) => `${pipeline}/releases/rel-002/rollouts/rel-002-to-production-0001`;

let sim: GcpSim;
let client: CloudDeployClient;
let control: GcpSimControl;

beforeAll(async () => {
  // Two services whose pipelines both deploy to a target named production, as config/local.yaml has them.
  sim = await startGcpSim({
    projectId: PROJECT,
    region: REGION,
    rolloutStepMs: 10,
    services: [
      { name: 'api-backend', pipeline: 'api-backend-pipeline', target: 'production' },
      { name: 'checkout', pipeline: 'checkout-pipeline', target: 'production' },
    ],
    control: { port: 0 },
  });
  client = new CloudDeployClient(cloudDeployClientOptions(sim));
  control = new GcpSimControl(sim.control!.url);
});

afterAll(async () => {
  await client.close();
  await sim.stop();
});

beforeEach(() => sim.deploy.reset());

const rollback = async (pipeline: string, rolloutId: string, extra: Record<string, unknown> = {}) => {
  const [response] = await client.rollbackTarget({
    name: pipeline,
    targetId: 'production',
    rolloutId,
    rolloutToRollBack: latestOn(pipeline),
    ...extra,
  });
  return response.rollbackConfig?.rollout?.name ?? null;
};
const finished = (name: string): Promise<Rollout> => sim.deploy.waitForRollout(name);
const refusalOf = async (call: Promise<unknown>): Promise<{ code: number; details: string }> => {
  try {
    await call;
  } catch (err) {
    return { code: (err as { code: number }).code, details: (err as { details: string }).details };
  }
  throw new Error('expected the call to be refused');
};

/** One raw HTTP request, so a test can send what fetch would not (a foreign Host header). */
const raw = (method: string, path: string, options: { body?: string; headers?: Record<string, string> } = {}) =>
  new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: { error?: { code: string; message: string } } & Record<string, unknown>;
  }>((resolve, reject) => {
    const req = httpRequest(`${sim.control!.url}${path}`, { method, headers: options.headers ?? {} }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
const post = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  raw('POST', '/faults', { body: typeof body === 'string' ? body : JSON.stringify(body), headers });

describe("gcp-sim's control endpoint", () => {
  it('listens on 127.0.0.1 only', () => {
    expect(sim.control!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("fails the next rollback's rollout with the reason and cause, then lets the one after it through", async () => {
    const fault = await control.failRollbacks({
      pipeline: 'api-backend-pipeline',
      target: 'production',
      rollback: 'rollout',
      reason: 'revision api-backend-00003 failed its startup probe',
      cause: 'DEADLINE_EXCEEDED',
    });
    expect(fault).toMatchObject({
      id: expect.any(String),
      pipeline: API,
      target: 'production',
      rollback: 'rollout',
      remaining: 1,
      code: null,
    });
    expect(await control.faults()).toEqual([fault]);

    // validate_only creates no rollout, so it neither fails nor uses the fault up.
    const checked = await rollback(API, 'burnback-rb-check', { validateOnly: true });
    expect(sim.deploy.getRollout(checked!)).toBeUndefined();
    expect(await control.faults()).toEqual([fault]);
    const failed = await finished((await rollback(API, 'burnback-rb-1'))!);
    expect(failed).toMatchObject({
      state: 'FAILED',
      failureReason: 'revision api-backend-00003 failed its startup probe',
      deployFailureCause: 'DEADLINE_EXCEEDED',
    });
    expect(await control.faults()).toEqual([]);

    const [latest] = sim.deploy.rolloutsOnTarget('production').filter((r) => r.name.startsWith(API));
    const next = await finished((await rollback(API, 'burnback-rb-2', { rolloutToRollBack: latest!.name }))!);
    expect(next.state).toBe('SUCCEEDED');
  });

  it('refuses RollbackTarget, validate_only included, with the code and reason, as many times as asked', async () => {
    await control.failRollbacks({
      pipeline: API,
      target: 'production',
      rollback: 'refused',
      reason: 'the target is locked by a deploy policy',
      count: 2,
    });
    expect(await refusalOf(rollback(API, 'burnback-rb-1', { validateOnly: true }))).toEqual({
      code: 9,
      details: 'the target is locked by a deploy policy',
    });
    expect(await control.faults()).toMatchObject([{ remaining: 1, code: 'FAILED_PRECONDITION', cause: null }]);
    expect((await refusalOf(rollback(API, 'burnback-rb-1'))).code).toBe(9);
    expect(sim.deploy.rolloutsOnTarget('production').some((r) => r.name.includes('burnback-rb-1'))).toBe(false);
    expect(await rollback(API, 'burnback-rb-1')).toMatch(/rollouts\/burnback-rb-1$/);
  });

  it('keeps a fault to its own pipeline: checkout-pipeline shares the production target and rolls back unharmed', async () => {
    await control.failRollbacks({
      pipeline: 'api-backend-pipeline',
      target: 'production',
      rollback: 'refused',
      reason: 'locked',
      code: 'PERMISSION_DENIED',
    });
    const checkout = await finished((await rollback(CHECKOUT, 'burnback-rb-1'))!);
    expect(checkout.state).toBe('SUCCEEDED');
    expect((await refusalOf(rollback(API, 'burnback-rb-1'))).code).toBe(7);
  });

  it('clears one fault by id, or every fault of a pipeline and target; a used-up fault clears as nothing', async () => {
    const a = await control.failRollbacks({ pipeline: 'api-backend-pipeline', target: 'production', rollback: 'rollout', reason: 'a' });
    const b = await control.failRollbacks({ pipeline: 'api-backend-pipeline', target: 'staging', rollback: 'rollout', reason: 'b' });
    const c = await control.failRollbacks({ pipeline: 'checkout-pipeline', target: 'production', rollback: 'refused', reason: 'c' });
    expect((await control.clear(a.id)).map((f) => f.id)).toEqual([a.id]);
    expect(await control.clear(a.id)).toEqual([]);
    expect((await control.clearWhere({ pipeline: 'checkout-pipeline', target: 'production' })).map((f) => f.id)).toEqual([c.id]);
    expect((await control.faults()).map((f) => f.id)).toEqual([b.id]);
    expect((await control.clearWhere()).map((f) => f.id)).toEqual([b.id]);
    await expect(raw('DELETE', '/faults/fault-999')).resolves.toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND', message: expect.stringContaining('no pending fault fault-999') } },
    });
  });

  it('reset() clears the faults too', async () => {
    await control.failRollbacks({ pipeline: 'api-backend-pipeline', target: 'production', rollback: 'rollout', reason: 'a' });
    sim.deploy.reset();
    expect(await control.faults()).toEqual([]);
  });

  const valid = { pipeline: 'api-backend-pipeline', target: 'production', rollback: 'rollout', reason: 'health check failed' };
  it.each([
    ['not JSON', '{"pipeline": ', 400, 'the body is not JSON'],
    ['an empty body', '', 400, 'the body is empty'],
    ['an unknown key', { ...valid, rollbak: 'rollout' }, 400, 'Unrecognized key: "rollbak"'],
    ['no reason', { ...valid, reason: '  ' }, 400, 'reason: give the reason the rollback fails with'],
    ['an unknown kind of failure', { ...valid, rollback: 'slow' }, 400, 'rollback: '],
    ['a count of 0', { ...valid, count: 0 }, 400, 'count: '],
    ['a fractional count', { ...valid, count: 1.5 }, 400, 'count: '],
    ['a cause on a refusal', { ...valid, rollback: 'refused', cause: 'EXECUTION_FAILED' }, 400, "cause: cause is the failed rollout's"],
    ['a code on a failed rollout', { ...valid, code: 'ABORTED' }, 400, "code: code is the refusal's"],
    ['a code that is not a gRPC error', { ...valid, rollback: 'refused', code: 'OK' }, 400, 'code: '],
    ['a malformed pipeline', { ...valid, pipeline: 'Api Backend' }, 400, 'pipeline: expected a delivery pipeline id'],
    ['a malformed target', { ...valid, target: 'Prod/1' }, 400, 'target: expected a Cloud Deploy target id'],
    [
      'an unknown pipeline',
      { ...valid, pipeline: 'billing-pipeline' },
      404,
      `DeliveryPipeline "${pipelineOf('billing-pipeline')}" not found`,
    ],
    [
      'a target that is not a stage of the pipeline',
      { ...valid, target: 'canary' },
      400,
      'target "canary" is not a stage of delivery pipeline',
    ],
    ['a JSON array', '[]', 400, '(body): '],
  ])('refuses %s with a 4xx that says why, and sets nothing', async (_what, body, status, message) => {
    const res = await post(body);
    expect(res).toMatchObject({ status, body: { error: { code: expect.any(String), message: expect.stringContaining(message) } } });
    expect(await control.faults()).toEqual([]);
  });

  it('refuses a body that is not application/json (415), or too large (413)', async () => {
    expect(await post(JSON.stringify(valid), { 'content-type': 'text/plain' })).toMatchObject({
      status: 415,
      body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'send the body as application/json (got text/plain)' } },
    });
    expect(await post({ ...valid, reason: 'x'.repeat(20_000) })).toMatchObject({
      status: 413,
      body: { error: { code: 'PAYLOAD_TOO_LARGE' } },
    });
    expect(await control.faults()).toEqual([]);
  });

  it('refuses a request addressed to another host name (403: no DNS rebinding), a wrong method (405) and an unknown route (404)', async () => {
    expect(await raw('GET', '/faults', { headers: { host: 'attacker.example:80' } })).toMatchObject({
      status: 403,
      body: { error: { message: 'address the control endpoint as 127.0.0.1 or localhost (Host was attacker.example)' } },
    });
    const put = await raw('PUT', '/faults');
    expect(put).toMatchObject({ status: 405, headers: { allow: 'GET, POST, DELETE' } });
    expect(await raw('GET', '/rollouts')).toMatchObject({
      status: 404,
      body: { error: { message: expect.stringContaining('no route /rollouts') } },
    });
  });

  it('refuses a repeated or unknown query parameter instead of guessing', async () => {
    expect(await raw('DELETE', '/faults?target=production&target=staging')).toMatchObject({
      status: 400,
      body: { error: { message: 'query parameter target is given 2 times; give it once' } },
    });
    expect(await raw('DELETE', '/faults?service=api-backend')).toMatchObject({
      status: 400,
      body: { error: { message: 'unknown query parameter service (this route takes pipeline, target)' } },
    });
  });

  it('the client says which address it could not reach', async () => {
    const closed = createServer();
    const port = await new Promise<number>((resolve) =>
      closed.listen(0, '127.0.0.1', () => resolve((closed.address() as { port: number }).port)),
    );
    await new Promise((resolve) => closed.close(resolve));
    const nowhere = new GcpSimControl(`http://127.0.0.1:${port}`);
    const err = await nowhere.faults().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlError);
    expect(err).toMatchObject({
      status: 0,
      code: 'UNAVAILABLE',
      message: `cannot reach gcp-sim's control endpoint at http://127.0.0.1:${port} (ECONNREFUSED)`,
    });
  });

  it('the client carries a refusal with its status, code and message', async () => {
    await expect(control.failRollbacks({ ...valid, pipeline: 'billing-pipeline', rollback: 'rollout' })).rejects.toMatchObject({
      name: 'ControlError',
      status: 404,
      code: 'NOT_FOUND',
      message: expect.stringContaining('gcp-sim refused POST /faults (404): DeliveryPipeline'),
    });
  });
});
