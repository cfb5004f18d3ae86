import { ApiErrorCodes, DeployApiError, apiErrorCodeOf, invalidArgument, type ApiErrorCode } from '../errors.js';
import { BurnRates, type BurnSeed } from './burn-rates.js';

/** The Monitoring RPCs gcp-sim answers; the rest of MetricService answers UNIMPLEMENTED. */
export const MonitoringMethods = { ListTimeSeries: 'ListTimeSeries' } as const;
export type MonitoringMethod = (typeof MonitoringMethods)[keyof typeof MonitoringMethods];

interface ProtoTimestamp {
  seconds?: string | number;
  nanos?: number;
}

/** google.monitoring.v3.ListTimeSeriesRequest as proto-loader decodes it (every field present). */
export interface ListTimeSeriesRequest {
  name: string;
  filter: string;
  interval: { startTime?: ProtoTimestamp | null; endTime?: ProtoTimestamp | null } | null;
  view: string;
  pageSize?: number;
  pageToken?: string;
}

export interface MonitoringCall {
  method: MonitoringMethod;
  request: ListTimeSeriesRequest;
  at: Date;
  /** gRPC status code of the answer (0 = OK). */
  code: number;
  status: 'OK' | ApiErrorCode;
  message: string | null;
}

/** A fault for the next `count` calls: a delay, an error, or both. */
export interface MonitoringFault {
  /** gRPC error to answer (a code name or its number); none = answer normally after `latencyMs`. */
  code?: ApiErrorCode | number;
  /** Wait this long before answering. Default 0. */
  latencyMs?: number;
  /** Default 1. */
  count?: number;
  message?: string;
  /** Only calls whose request matches count (e.g. one SLO); others pass untouched. */
  when?: (request: ListTimeSeriesRequest) => boolean;
}

export interface PendingMonitoringFault {
  code: ApiErrorCode | null;
  latencyMs: number;
  message: string;
  when?: (request: ListTimeSeriesRequest) => boolean;
}

/** The Cloud Monitoring part of the simulator, as tests drive and inspect it (`sim.monitoring`). */
export interface MonitoringSim {
  /** From `from` (default now) on, `slo`'s burn rate over `lookbackSeconds` is `value`. */
  setBurn(slo: string, lookbackSeconds: number, value: number, from?: Date): void;
  /** Several points at once: each holds from its time until the next. */
  setBurnTimeline(slo: string, lookbackSeconds: number, points: Array<{ at: Date; value: number }>): void;
  /** Forgets one SLO's burn (every lookback), or every SLO's. */
  clearBurn(slo?: string): void;
  /** The burn rate the sim would answer for `at` (default now); null when it has none. */
  burnAt(slo: string, lookbackSeconds: number, at?: Date): number | null;
  /** Every RPC received since start or the last reset, oldest first. */
  readonly calls: readonly MonitoringCall[];
  /** The next `count` calls of `method` answer this gRPC error (a code name or its number). */
  failNextCalls(method: MonitoringMethod, code: ApiErrorCode | number, count?: number): void;
  /** The next `count` calls of `method` answer `latencyMs` late. */
  delayNextCalls(method: MonitoringMethod, latencyMs: number, count?: number): void;
  /** The general form of failNextCalls / delayNextCalls. */
  injectFault(method: MonitoringMethod, fault: MonitoringFault): void;
  /** Back to the scenario's burn rates; calls and faults cleared. */
  reset(): void;
}

export interface MonitoringSimulationOptions {
  seed?: BurnSeed;
  /** Seconds between the points of a series (newest at the interval's end). Default 60. */
  sampleSeconds?: number;
  clock?: () => Date;
}

/** At most this many points per series, as one page. */
const MAX_POINTS = 1000;
const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
const BURN_RATE_FILTER = /^\s*select_slo_burn_rate\s*\(\s*"([^"]+)"\s*(?:,\s*"([^"]*)"\s*)?\)\s*$/;

/** A lookback such as `3600s`, `60m`, `1h`, in seconds; null when unreadable. */
export function lookbackSecondsOf(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)\s*$/.exec(text);
  const seconds = m ? Number(m[1]) * UNIT_SECONDS[m[2]!]! : 0;
  return seconds > 0 ? seconds : null;
}

const millisOf = (t: ProtoTimestamp | null | undefined): number | null =>
  t && (t.seconds !== undefined || t.nanos !== undefined) ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : null;

const timestampOf = (ms: number): { seconds: string; nanos: number } => ({
  seconds: String(Math.floor(ms / 1000)),
  nanos: (ms % 1000) * 1e6,
});

const unimplemented = (message: string): DeployApiError => new DeployApiError('UNIMPLEMENTED', message);

/**
 * gcp-sim's Cloud Monitoring: `ListTimeSeries` for
 * `select_slo_burn_rate("projects/P/services/S/serviceLevelObjectives/O", "<lookback>")`,
 * answered from burn-rate timelines set by the scenario or the test.
 */
export class MonitoringSimulation implements MonitoringSim {
  private burns: BurnRates;
  private readonly callLog: MonitoringCall[] = [];
  private readonly faults = new Map<MonitoringMethod, PendingMonitoringFault[]>();
  private readonly clock: () => Date;
  private readonly sampleMs: number;

  constructor(private readonly options: MonitoringSimulationOptions = {}) {
    this.clock = options.clock ?? (() => new Date());
    const sampleSeconds = options.sampleSeconds ?? 60;
    if (!(sampleSeconds > 0)) throw new Error(`sampleSeconds must be > 0, got ${sampleSeconds}`);
    this.sampleMs = sampleSeconds * 1000;
    this.burns = new BurnRates(options.seed);
  }

  get calls(): readonly MonitoringCall[] {
    return this.callLog;
  }

  setBurn(slo: string, lookbackSeconds: number, value: number, from: Date = this.clock()): void {
    this.burns.set(slo, lookbackSeconds, value, from.getTime());
  }

  setBurnTimeline(slo: string, lookbackSeconds: number, points: Array<{ at: Date; value: number }>): void {
    for (const p of points) this.burns.set(slo, lookbackSeconds, p.value, p.at.getTime());
  }

  clearBurn(slo?: string): void {
    this.burns.clear(slo);
  }

  burnAt(slo: string, lookbackSeconds: number, at: Date = this.clock()): number | null {
    return this.burns.at(slo, lookbackSeconds, at.getTime());
  }

  failNextCalls(method: MonitoringMethod, code: ApiErrorCode | number, count = 1): void {
    this.injectFault(method, { code, count });
  }

  delayNextCalls(method: MonitoringMethod, latencyMs: number, count = 1): void {
    this.injectFault(method, { latencyMs, count });
  }

  injectFault(method: MonitoringMethod, fault: MonitoringFault): void {
    if (!Object.values(MonitoringMethods).includes(method)) throw new Error(`injectFault: ${String(method)} is not a simulated method`);
    let code: ApiErrorCode | null = null;
    if (fault.code !== undefined) {
      const name = typeof fault.code === 'number' ? apiErrorCodeOf(fault.code) : fault.code;
      if (name === undefined || !(name in ApiErrorCodes)) throw new Error(`injectFault: ${String(fault.code)} is not a gRPC error code`);
      code = name;
    }
    const latencyMs = fault.latencyMs ?? 0;
    if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`injectFault: latencyMs must be >= 0, got ${latencyMs}`);
    const queue = this.faults.get(method) ?? [];
    for (let i = 0; i < (fault.count ?? 1); i++) {
      queue.push({
        code,
        latencyMs,
        message: fault.message ?? `injected ${code ?? 'latency'} (gcp-sim)`,
        ...(fault.when ? { when: fault.when } : {}),
      });
    }
    this.faults.set(method, queue);
  }

  /** The fault this call gets, taken off its queue (the gRPC layer applies the latency). */
  takeFault(method: MonitoringMethod, request: ListTimeSeriesRequest): PendingMonitoringFault | undefined {
    const queue = this.faults.get(method);
    const i = queue?.findIndex((f) => !f.when || f.when(request)) ?? -1;
    return i < 0 ? undefined : queue!.splice(i, 1)[0];
  }

  reset(): void {
    this.burns = new BurnRates(this.options.seed);
    this.callLog.length = 0;
    this.faults.clear();
  }

  /** Answers one ListTimeSeries call (after its fault, if any), and records it. */
  listTimeSeries(request: ListTimeSeriesRequest, fault?: PendingMonitoringFault): object {
    const at = this.clock();
    try {
      if (fault?.code) throw new DeployApiError(fault.code, fault.message);
      const response = this.answer(request, at.getTime());
      this.callLog.push({ method: 'ListTimeSeries', request, at, code: 0, status: 'OK', message: null });
      return response;
    } catch (err) {
      if (err instanceof DeployApiError) {
        this.callLog.push({ method: 'ListTimeSeries', request, at, code: ApiErrorCodes[err.code], status: err.code, message: err.message });
      }
      throw err;
    }
  }

  private answer(request: ListTimeSeriesRequest, nowMs: number): object {
    if (!/^projects\/[^/]+$/.test(request.name)) throw invalidArgument(`name must be projects/PROJECT_ID_OR_NUMBER, got "${request.name}"`);
    if (!request.filter) throw invalidArgument('filter is required');
    const endMs = millisOf(request.interval?.endTime);
    if (endMs === null) throw invalidArgument('interval.end_time is required');
    const startMs = millisOf(request.interval?.startTime) ?? endMs;
    if (startMs > endMs) throw invalidArgument('interval.start_time must not be after interval.end_time');
    const m = BURN_RATE_FILTER.exec(request.filter);
    if (!m)
      throw unimplemented(
        `gcp-sim's Cloud Monitoring answers only select_slo_burn_rate("SLO", "LOOKBACK") filters, got: ${request.filter}`,
      );
    const slo = m[1]!;
    const lookbackSeconds = m[2] === undefined ? null : lookbackSecondsOf(m[2]);
    if (lookbackSeconds === null)
      throw invalidArgument(`select_slo_burn_rate needs a lookback period such as "3600s", got ${m[2] ?? 'none'}`);
    // Nothing known of this SLO (or this window), or no point in the interval: no series, as for a metric with no data.
    const points = this.burns.sample(slo, lookbackSeconds, startMs, Math.min(endMs, nowMs), this.sampleMs, MAX_POINTS);
    if (points.length === 0) return { timeSeries: [], nextPageToken: '', executionErrors: [], unit: '' };
    const headersOnly = request.view === 'HEADERS';
    return {
      timeSeries: [
        {
          metric: { type: 'select_slo_burn_rate', labels: {} },
          resource: { type: 'global', labels: { project_id: request.name.slice('projects/'.length) } },
          metadata: null,
          metricKind: 'GAUGE',
          valueType: 'DOUBLE',
          unit: '1',
          description: '',
          points: headersOnly
            ? []
            : points.map((p) => ({
                interval: { startTime: timestampOf(p.atMs), endTime: timestampOf(p.atMs) },
                value: { doubleValue: p.value },
              })),
        },
      ],
      nextPageToken: '',
      executionErrors: [],
      unit: '1',
    };
  }
}
