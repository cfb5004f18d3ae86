process.env.METADATA_SERVER_DETECTION = 'none';

import { startGcpSim, type GcpSim } from '@burnback/gcp-sim';
import { createMonitoringClient, MonitoringUnavailableError, type MonitoringPort } from './index.js';

const PROJECT = 'platform-monitoring';
const SLO = `projects/${PROJECT}/services/api-backend/serviceLevelObjectives/availability-99`;
const MINUTE = 60_000;

let sim: GcpSim;
let monitoring: MonitoringPort;

beforeAll(async () => {
  sim = await startGcpSim({ projectId: PROJECT });
  monitoring = createMonitoringClient({ projectId: PROJECT, cloudMonitoringEndpoint: sim.address }, { timeoutMs: 1500 });
});

afterAll(async () => {
  await monitoring.close();
  await sim.stop();
});

beforeEach(() => sim.monitoring.reset());

describe('readBurnRate through the real MetricServiceClient against gcp-sim', () => {
  it('reads the current burn rate of each window, with the time of its point', async () => {
    const now = new Date();
    sim.monitoring.setBurn(SLO, 3600, 16.4, new Date(now.getTime() - 5 * MINUTE));
    sim.monitoring.setBurn(SLO, 300, 22.5, new Date(now.getTime() - 2 * MINUTE));
    expect(await monitoring.readBurnRate(SLO, 3600, now)).toEqual({
      value: 16.4,
      at: new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString(),
    });
    expect((await monitoring.readBurnRate(SLO, 300, now))!.value).toBe(22.5);
    expect(sim.monitoring.calls.map((c) => c.request.filter)).toEqual([
      `select_slo_burn_rate("${SLO}", "3600s")`,
      `select_slo_burn_rate("${SLO}", "300s")`,
    ]);
    expect(sim.monitoring.calls[0]!.request).toMatchObject({ name: `projects/${PROJECT}`, view: 'FULL' });
  });

  it('reads the burn as it was at a past time: a service that recovered reads low now', async () => {
    const now = Date.now();
    sim.monitoring.setBurnTimeline(SLO, 3600, [
      { at: new Date(now - 45 * MINUTE), value: 18 },
      { at: new Date(now - 15 * MINUTE), value: 0.8 },
    ]);
    expect((await monitoring.readBurnRate(SLO, 3600))!.value).toBe(0.8);
    expect((await monitoring.readBurnRate(SLO, 3600, new Date(now - 30 * MINUTE)))!.value).toBe(18);
  });

  it('answers null for an SLO Monitoring has no data for, or only older data than ten minutes', async () => {
    expect(await monitoring.readBurnRate(SLO, 3600)).toBeNull();
    sim.monitoring.setBurn(SLO, 3600, 20, new Date(Date.now() - 60 * MINUTE));
    expect(await monitoring.readBurnRate(SLO, 3600, new Date(Date.now() - 61 * MINUTE))).toBeNull();
  });

  it.each([
    ['PERMISSION_DENIED', 7],
    ['INTERNAL', 13],
  ] as const)('rejects with MonitoringUnavailableError when Monitoring answers %s', async (code, number) => {
    sim.monitoring.failNextCalls('ListTimeSeries', code);
    const err = (await monitoring.readBurnRate(SLO, 3600).catch((e: unknown) => e)) as MonitoringUnavailableError;
    expect(err).toBeInstanceOf(MonitoringUnavailableError);
    expect(err.name).toBe('MonitoringUnavailableError');
    expect(err.code).toBe(number);
    expect(err.message).toMatch(new RegExp(`could not read the 3600 s burn rate of ${SLO.replace(/\//g, '\\/')}`));
  });

  it('rides out one UNAVAILABLE (the client retries it), and gives up within the timeout when it persists', async () => {
    sim.monitoring.setBurn(SLO, 3600, 3, new Date(Date.now() - MINUTE));
    sim.monitoring.failNextCalls('ListTimeSeries', 'UNAVAILABLE', 1);
    expect((await monitoring.readBurnRate(SLO, 3600))!.value).toBe(3);
    sim.monitoring.failNextCalls('ListTimeSeries', 'UNAVAILABLE', 1000);
    const started = Date.now();
    const err = (await monitoring.readBurnRate(SLO, 3600).catch((e: unknown) => e)) as MonitoringUnavailableError;
    expect(err).toBeInstanceOf(MonitoringUnavailableError);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('gives up on a Monitoring that does not answer in time', async () => {
    sim.monitoring.delayNextCalls('ListTimeSeries', 3000, 5);
    const started = Date.now();
    const err = (await monitoring.readBurnRate(SLO, 3600).catch((e: unknown) => e)) as MonitoringUnavailableError;
    expect(err).toBeInstanceOf(MonitoringUnavailableError);
    expect(err.code).toBe(4);
    expect(Date.now() - started).toBeLessThan(2900);
  });

  it.each([
    ['a name that is not an SLO', 'availability', 3600, /not an SLO name/],
    ['a lookback that is not whole seconds', SLO, 0.5, /whole seconds/],
  ])('refuses %s before calling', async (_name, slo, lookback, message) => {
    await expect(monitoring.readBurnRate(slo, lookback)).rejects.toThrow(message);
    expect(sim.monitoring.calls).toHaveLength(0);
  });
});
