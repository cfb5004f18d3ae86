process.env.METADATA_SERVER_DETECTION = 'none';

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricServiceClient } from '@google-cloud/monitoring';
import { monitoringClientOptions, parseScenario, startGcpSim, ScenarioError, type GcpSim } from '../index.js';

const PROJECT = 'gcp-sim-monitoring';
const SLO = `projects/${PROJECT}/services/api-backend/serviceLevelObjectives/availability-99`;
const OTHER_SLO = `projects/${PROJECT}/services/checkout/serviceLevelObjectives/availability-99`;
const MINUTE = 60_000;

let sim: GcpSim;
let client: MetricServiceClient;

beforeAll(async () => {
  sim = await startGcpSim({ projectId: PROJECT });
  client = new MetricServiceClient(monitoringClientOptions(sim));
});

afterAll(async () => {
  await client.close();
  await sim.stop();
});

beforeEach(() => sim.monitoring.reset());

const seconds = (ms: number) => Math.floor(ms / 1000);
/** timeSeries.list as the adapter calls it: one SLO, one lookback, an interval ending at `endMs`. */
const list = (filter: string, endMs: number = Date.now(), spanMs = 10 * MINUTE, view: 'FULL' | 'HEADERS' = 'FULL') =>
  client.listTimeSeries(
    {
      name: `projects/${PROJECT}`,
      filter,
      interval: { startTime: { seconds: seconds(endMs - spanMs) }, endTime: { seconds: seconds(endMs) } },
      view,
    },
    { timeout: 5000 },
  );
const burnFilter = (slo: string, lookback: string) => `select_slo_burn_rate("${slo}", "${lookback}")`;
const values = (series: Awaited<ReturnType<typeof list>>[0]) => series[0]?.points?.map((p) => p.value?.doubleValue) ?? [];

async function codeOf(call: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await call;
  } catch (err) {
    return { code: (err as { code: number }).code, details: String((err as { details?: string }).details ?? (err as Error).message) };
  }
  throw new Error('expected the call to fail');
}

describe("gcp-sim's Cloud Monitoring through the real MetricServiceClient", () => {
  it('answers a burn rate as one DOUBLE gauge series, points newest first', async () => {
    const now = Date.now();
    sim.monitoring.setBurnTimeline(SLO, 3600, [
      { at: new Date(now - 30 * MINUTE), value: 0.5 },
      { at: new Date(now - 3.5 * MINUTE), value: 16.2 },
    ]);
    const [series] = await list(burnFilter(SLO, '3600s'), now, 6 * MINUTE);
    expect(series).toHaveLength(1);
    expect(series[0]).toMatchObject({ metricKind: 'GAUGE', valueType: 'DOUBLE' });
    expect(values(series)).toEqual([16.2, 16.2, 16.2, 16.2, 0.5, 0.5, 0.5]);
    const ends = series[0]!.points!.map((p) => Number(p.interval!.endTime!.seconds));
    expect(ends[0]).toBe(seconds(now));
    expect(ends).toEqual([...ends].sort((a, b) => b - a));
  });

  it('reads the lookback in any unit the selector takes', async () => {
    sim.monitoring.setBurn(SLO, 3600, 15, new Date(Date.now() - 5 * MINUTE));
    sim.monitoring.setBurn(SLO, 300, 22, new Date(Date.now() - 5 * MINUTE));
    for (const lookback of ['3600s', '60m', '1h']) expect(values((await list(burnFilter(SLO, lookback)))[0])[0]).toBe(15);
    expect(values((await list(burnFilter(SLO, '5m')))[0])[0]).toBe(22);
  });

  it('answers each window of each SLO from its own timeline', async () => {
    const from = new Date(Date.now() - MINUTE);
    sim.monitoring.setBurn(SLO, 21600, 7, from);
    sim.monitoring.setBurn(SLO, 1800, 6.5, from);
    sim.monitoring.setBurn(OTHER_SLO, 21600, 0.2, from);
    expect(values((await list(burnFilter(SLO, '6h')))[0])[0]).toBe(7);
    expect(values((await list(burnFilter(SLO, '30m')))[0])[0]).toBe(6.5);
    expect(values((await list(burnFilter(OTHER_SLO, '6h')))[0])[0]).toBe(0.2);
  });

  it('a service that recovered answers its recent burn, and the past answers as it was', async () => {
    const now = Date.now();
    sim.monitoring.setBurnTimeline(SLO, 3600, [
      { at: new Date(now - 40 * MINUTE), value: 18 },
      { at: new Date(now - 10 * MINUTE), value: 1.1 },
    ]);
    expect(values((await list(burnFilter(SLO, '1h'), now, 0))[0])).toEqual([1.1]);
    expect(values((await list(burnFilter(SLO, '1h'), now - 20 * MINUTE, 0))[0])).toEqual([18]);
    expect(sim.monitoring.burnAt(SLO, 3600, new Date(now - 20 * MINUTE))).toBe(18);
  });

  it.each([
    ['an SLO it knows nothing of', () => burnFilter(OTHER_SLO, '1h')],
    ['a window it has no timeline for', () => burnFilter(SLO, '6h')],
    ['an interval before the first point', () => burnFilter(SLO, '1h')],
  ])('answers no series for %s, as for a metric without data', async (name, filter) => {
    sim.monitoring.setBurn(SLO, 3600, 3, new Date(Date.now() - MINUTE));
    const end = name.startsWith('an interval') ? Date.now() - 5 * MINUTE : Date.now();
    expect((await list(filter(), end))[0]).toEqual([]);
  });

  it('never answers points from the future', async () => {
    sim.monitoring.setBurn(SLO, 3600, 0.3, new Date(Date.now() - 5 * MINUTE));
    sim.monitoring.setBurn(SLO, 3600, 30, new Date(Date.now() + 5 * MINUTE));
    expect(values((await list(burnFilter(SLO, '1h'), Date.now() + 10 * MINUTE, 0))[0])).toEqual([]);
    expect(values((await list(burnFilter(SLO, '1h')))[0])[0]).toBe(0.3);
  });

  it('HEADERS answers the series without points', async () => {
    sim.monitoring.setBurn(SLO, 3600, 3, new Date(Date.now() - MINUTE));
    const [series] = await list(burnFilter(SLO, '1h'), Date.now(), MINUTE, 'HEADERS');
    expect(series).toHaveLength(1);
    expect(series[0]!.points).toEqual([]);
  });

  it.each([
    ['a metric filter', 'metric.type = "run.googleapis.com/request_count"', 12, /answers only select_slo_burn_rate/],
    ['another SLO selector', `select_slo_health("${SLO}")`, 12, /answers only select_slo_burn_rate/],
    ['a burn rate without a lookback', `select_slo_burn_rate("${SLO}")`, 3, /needs a lookback period/],
    ['an unreadable lookback', burnFilter(SLO, 'an hour'), 3, /needs a lookback period such as "3600s", got an hour/],
  ])('refuses %s', async (_name, filter, code, details) => {
    const failure = await codeOf(list(filter));
    expect(failure.code).toBe(code);
    expect(failure.details).toMatch(details);
    expect(sim.monitoring.calls.at(-1)).toMatchObject({ method: 'ListTimeSeries', code });
  });

  it('refuses a request without an end time or with a bad name', async () => {
    const noEnd = client.listTimeSeries({ name: `projects/${PROJECT}`, filter: burnFilter(SLO, '1h'), view: 'FULL' });
    expect(await codeOf(noEnd)).toMatchObject({ code: 3, details: expect.stringMatching(/interval.end_time is required/) });
    const badName = client.listTimeSeries({
      name: 'folders/1',
      filter: burnFilter(SLO, '1h'),
      interval: { endTime: { seconds: 1 } },
      view: 'FULL',
    });
    expect((await codeOf(badName)).code).toBe(3);
  });

  it('fails the next calls with an injected code, then answers again', async () => {
    sim.monitoring.setBurn(SLO, 3600, 15, new Date(Date.now() - MINUTE));
    sim.monitoring.failNextCalls('ListTimeSeries', 'PERMISSION_DENIED', 2);
    expect((await codeOf(list(burnFilter(SLO, '1h')))).code).toBe(7);
    expect((await codeOf(list(burnFilter(SLO, '1h')))).code).toBe(7);
    expect(values((await list(burnFilter(SLO, '1h')))[0])[0]).toBe(15);
    expect(sim.monitoring.calls.map((c) => c.status)).toEqual(['PERMISSION_DENIED', 'PERMISSION_DENIED', 'OK']);
  });

  it('answers late with an injected latency, so a client deadline expires', async () => {
    sim.monitoring.injectFault('ListTimeSeries', { latencyMs: 400, count: 1 });
    const slow = client.listTimeSeries(
      { name: `projects/${PROJECT}`, filter: burnFilter(SLO, '1h'), interval: { endTime: { seconds: seconds(Date.now()) } }, view: 'FULL' },
      { timeout: 100, retry: null },
    );
    expect((await codeOf(slow)).code).toBe(4);
  });

  it('a fault can be kept for the calls of one SLO', async () => {
    sim.monitoring.setBurn(SLO, 3600, 15, new Date(Date.now() - MINUTE));
    sim.monitoring.injectFault('ListTimeSeries', { code: 'INTERNAL', when: (r) => r.filter.includes(OTHER_SLO) });
    expect(values((await list(burnFilter(SLO, '1h')))[0])[0]).toBe(15);
    expect((await codeOf(list(burnFilter(OTHER_SLO, '1h')))).code).toBe(13);
  });

  it('rejects faults and burns it could not honour', () => {
    expect(() => sim.monitoring.injectFault('ListTimeSeries', { code: 99 })).toThrow(/not a gRPC error code/);
    expect(() => sim.monitoring.injectFault('ListTimeSeries', { latencyMs: -1 })).toThrow(/latencyMs/);
    expect(() => sim.monitoring.setBurn(SLO, 3600, -1)).toThrow(/>= 0/);
    expect(() => sim.monitoring.setBurn(SLO, 0, 1)).toThrow(/lookback/);
  });

  it('clearBurn forgets one SLO or all', async () => {
    sim.monitoring.setBurn(SLO, 3600, 15, new Date(Date.now() - MINUTE));
    sim.monitoring.setBurn(OTHER_SLO, 3600, 2, new Date(Date.now() - MINUTE));
    sim.monitoring.clearBurn(SLO);
    expect(sim.monitoring.burnAt(SLO, 3600)).toBeNull();
    expect(sim.monitoring.burnAt(OTHER_SLO, 3600)).toBe(2);
    sim.monitoring.clearBurn();
    expect(sim.monitoring.burnAt(OTHER_SLO, 3600)).toBeNull();
  });
});

describe('burn rates from a scenario', () => {
  const world = `
pipelines:
  - id: api-backend-pipeline
    stages: [{ target: staging }, { target: production }]
monitoring:
  burnRates:
    - slo: ${SLO}
      points:
        - { ago: 2h, rates: { 1h: 0.4, 5m: 0.3 } }
        - { ago: 10m, rates: { 1h: 16, 5m: 21 } }
        - { after: 1h, rates: { 1h: 2, 5m: 0.2 } }
`;

  it('serves the timeline through the real client, and reset() returns to it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcp-sim-monitoring-'));
    const file = join(dir, 'world.yaml');
    writeFileSync(file, world);
    const own = await startGcpSim({ projectId: PROJECT, scenario: file });
    const ownClient = new MetricServiceClient(monitoringClientOptions(own));
    try {
      const read = async (lookback: string, endMs: number) =>
        (
          await ownClient.listTimeSeries({
            name: `projects/${PROJECT}`,
            filter: burnFilter(SLO, lookback),
            interval: { endTime: { seconds: seconds(endMs) } },
            view: 'FULL',
          })
        )[0][0]?.points?.[0]?.value?.doubleValue;
      expect(await read('1h', Date.now())).toBe(16);
      expect(await read('5m', Date.now())).toBe(21);
      expect(await read('1h', Date.now() - 30 * MINUTE)).toBe(0.4);
      expect(own.monitoring.burnAt(SLO, 3600, new Date(Date.now() + 2 * 3_600_000))).toBe(2);
      own.monitoring.setBurn(SLO, 3600, 99);
      own.monitoring.reset();
      expect(await read('1h', Date.now())).toBe(16);
    } finally {
      await ownClient.close();
      await own.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [
      'a point with both ago and after',
      '        - { ago: 1h, after: 1h, rates: { 1h: 1 } }',
      /monitoring\.burnRates\[0\]\.points\[0\]: give exactly one of ago or after/,
    ],
    ['a point with neither', '        - { rates: { 1h: 1 } }', /give exactly one of ago or after/],
    [
      'a bad lookback',
      '        - { ago: 1h, rates: { an hour: 1 } }',
      /monitoring\.burnRates\[0\]\.points\[0\]\.rates.*expected a lookback/,
    ],
    ['a negative burn rate', '        - { ago: 1h, rates: { 1h: -2 } }', /monitoring\.burnRates\[0\]\.points\[0\]\.rates\.1h/],
    ['no rates', '        - { ago: 1h, rates: {} }', /name at least one lookback/],
    ['an unknown key', '        - { ago: 1h, rates: { 1h: 1 }, value: 3 }', /unknown key\(s\) value/],
  ])('a scenario with %s is a ScenarioError naming the key', (_name, point, message) => {
    const text = `pipelines:\n  - id: p\n    stages: [{ target: t }]\nmonitoring:\n  burnRates:\n    - slo: ${SLO}\n      points:\n${point}\n`;
    expect(() => parseScenario(text, 'w.yaml')).toThrow(ScenarioError);
    expect(() => parseScenario(text, 'w.yaml')).toThrow(message);
  });

  it('a scenario with a bad SLO name names it', () => {
    const text = `pipelines:\n  - id: p\n    stages: [{ target: t }]\nmonitoring:\n  burnRates:\n    - slo: availability\n      points: [{ ago: 1h, rates: { 1h: 1 } }]\n`;
    expect(() => parseScenario(text, 'w.yaml')).toThrow(/w\.yaml: monitoring\.burnRates\[0\]\.slo: expected projects\/PROJECT/);
  });
});
