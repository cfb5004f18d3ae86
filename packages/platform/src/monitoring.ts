import { createRequire } from 'node:module';
import { MetricServiceClient } from '@google-cloud/monitoring';
import type { Config } from './config.js';
import { splitHostPort } from './deploy.js';

/** One burn rate read from Cloud Monitoring: the newest point at or before the time asked for. */
export interface BurnRateReading {
  /** The burn rate (1.0 = exactly on budget). */
  value: number;
  /** The end time of the point, ISO 8601. */
  at: string;
}

/**
 * What the decider asks Cloud Monitoring: the current burn rate of an SLO over
 * one lookback window. Deliberately left out: other selectors, metric queries,
 * aggregation, paging (a burn rate is one series), and any retry beyond the
 * client's own within the timeout (the decider decides what to do without an answer).
 */
export interface MonitoringPort {
  /**
   * The burn rate of `sloName` (`projects/P/services/S/serviceLevelObjectives/O`)
   * over `lookbackSeconds`, as of `at` (default now): the newest point no older
   * than the port's `maxAgeSeconds` before `at`. Null when Monitoring has no
   * such point (unknown SLO, no data). Rejects with MonitoringUnavailableError
   * when Monitoring cannot answer (an RPC error, or no answer within the timeout).
   */
  readBurnRate(sloName: string, lookbackSeconds: number, at?: Date): Promise<BurnRateReading | null>;
  close(): Promise<void>;
}

/** Cloud Monitoring could not answer; `code` is the gRPC status (4 DEADLINE_EXCEEDED, 14 UNAVAILABLE, …) when there was one. */
export class MonitoringUnavailableError extends Error {
  override name = 'MonitoringUnavailableError';
  constructor(
    message: string,
    readonly code: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface MonitoringPortOptions {
  /** How long one read may take, client retries included. Default 5000 ms. */
  timeoutMs?: number;
  /** How old the newest point may be and still count as current. Default 600 s. */
  maxAgeSeconds?: number;
  /** Default: the wall clock. */
  clock?: () => Date;
}

const SLO_NAME = /^projects\/([^/\s"]+)\/services\/[^/\s"]+\/serviceLevelObjectives\/[^/\s"]+$/;

/**
 * The real MetricServiceClient; pointed at an insecure local gRPC server (gcp-sim)
 * when CLOUD_MONITORING_ENDPOINT is set, else at Cloud Monitoring with the
 * application default credentials. The insecure credentials come from the
 * grpc-js copy the client's google-gax uses (grpc-js checks them with instanceof).
 */
export function createMetricServiceClient(config: Pick<Config, 'projectId' | 'cloudMonitoringEndpoint'>): MetricServiceClient {
  if (!config.cloudMonitoringEndpoint) return new MetricServiceClient({ projectId: config.projectId });
  const [host, port] = splitHostPort(config.cloudMonitoringEndpoint);
  const monitoringRequire = createRequire(require.resolve('@google-cloud/monitoring'));
  const gax = monitoringRequire('google-gax') as { grpc: { credentials: { createInsecure(): unknown } } };
  return new MetricServiceClient({
    apiEndpoint: host,
    port,
    sslCreds: gax.grpc.credentials.createInsecure() as never,
    projectId: config.projectId,
  });
}

/** The MonitoringPort on Cloud Monitoring (or gcp-sim, with CLOUD_MONITORING_ENDPOINT). */
export function createMonitoringClient(
  config: Pick<Config, 'projectId' | 'cloudMonitoringEndpoint'>,
  options: MonitoringPortOptions = {},
): MonitoringPort {
  return new CloudMonitoring(createMetricServiceClient(config), options);
}

/** MonitoringPort over a MetricServiceClient: `timeSeries.list` with `select_slo_burn_rate`. */
export class CloudMonitoring implements MonitoringPort {
  private readonly timeoutMs: number;
  private readonly maxAgeSeconds: number;
  private readonly clock: () => Date;

  constructor(
    private readonly client: MetricServiceClient,
    options: MonitoringPortOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxAgeSeconds = options.maxAgeSeconds ?? 600;
    this.clock = options.clock ?? (() => new Date());
  }

  async readBurnRate(sloName: string, lookbackSeconds: number, at: Date = this.clock()): Promise<BurnRateReading | null> {
    const project = SLO_NAME.exec(sloName)?.[1];
    if (project === undefined)
      throw new TypeError(`not an SLO name: "${sloName}" (expected projects/P/services/S/serviceLevelObjectives/O)`);
    if (!Number.isInteger(lookbackSeconds) || lookbackSeconds <= 0)
      throw new TypeError(`lookback must be whole seconds > 0, got ${lookbackSeconds}`);
    const endSeconds = Math.floor(at.getTime() / 1000);
    const request = {
      name: `projects/${project}`,
      filter: `select_slo_burn_rate("${sloName}", "${lookbackSeconds}s")`,
      interval: { startTime: { seconds: endSeconds - this.maxAgeSeconds }, endTime: { seconds: endSeconds } },
      view: 'FULL' as const,
    };
    let series;
    try {
      [series] = await this.client.listTimeSeries(request, { timeout: this.timeoutMs, autoPaginate: false });
    } catch (err) {
      const code = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null;
      throw new MonitoringUnavailableError(
        `Cloud Monitoring could not read the ${lookbackSeconds} s burn rate of ${sloName}: ${(err as Error).message}`,
        code,
        { cause: err },
      );
    }
    // Points are newest first (metric_service.proto: "reverse time order").
    const point = series[0]?.points?.[0];
    const raw = point?.value?.doubleValue ?? point?.value?.int64Value;
    const value = raw === undefined || raw === null ? NaN : Number(raw);
    if (!point || !Number.isFinite(value)) return null;
    const end = point.interval?.endTime;
    const atMs = end ? Number(end.seconds ?? 0) * 1000 + Math.floor((end.nanos ?? 0) / 1e6) : endSeconds * 1000;
    return { value, at: new Date(atMs).toISOString() };
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
