import {
  type HistoryRollout,
  DEFAULT_POLICY,
  EventTypes,
  type AlertEvent,
  type BadRequestPredicate,
  DEFAULT_BAD_REQUESTS,
  parseBadRequestPredicate,
  type CloudEvent,
  type MonitoringNotification,
  type TargetRecord,
} from '@burnback/contracts';
import type { ServiceConfig } from '@burnback/platform';
// The notification builders the shipped CLI's `simulate` publishes live in gcp-sim (its Cloud Monitoring), in an
// entry that loads no client; re-exported so tests keep taking them from here.
import { INCIDENT_DEFAULTS as DEFAULTS, openIncident, type IncidentFixtureOptions } from '@burnback/gcp-sim/notifications';

export { closedIncident, notificationBytes, openIncident, type IncidentFixtureOptions } from '@burnback/gcp-sim/notifications';

/** Cloud Run's request count, read as an error ratio with its shipped bad-request predicate (5xx). */
const CLOUD_RUN_ERRORS = {
  metricType: 'run.googleapis.com/request_count',
  badRequests: parseBadRequestPredicate(DEFAULT_BAD_REQUESTS.get('run.googleapis.com/request_count')!) as BadRequestPredicate,
};

/**
 * A service as loadConfig gives it: a Cloud Run service of the fixtures'
 * project in us-central1, whose request_count ratio is an error ratio, no SLO.
 */
export function serviceConfig(name: string = DEFAULTS.service, overrides: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    name,
    project: DEFAULTS.projectId,
    projectNumber: null,
    region: 'us-central1',
    pipeline: `${name}-pipeline`,
    target: 'production',
    match: { resourceType: 'cloud_run_revision', resourceLabels: { service_name: name } },
    policy: DEFAULT_POLICY,
    slo: null,
    onMonitoringUnavailable: 'escalate',
    signals: { errorRatio: { metrics: [CLOUD_RUN_ERRORS] } },
    ...overrides,
  };
}

/**
 * One service of a generated config file (`BURNBACK_CONFIG` YAML) as the
 * benchmarks and the chaos suite write them: its own Cloud Run service
 * `name`, pipeline `{name}-pipeline` and `production` target, its error
 * ratio read from Cloud Run's request count.
 */
export function generatedServiceEntry(name: string): Record<string, unknown> {
  return {
    region: 'us-central1',
    pipeline: `${name}-pipeline`,
    target: 'production',
    match: { resourceType: 'cloud_run_revision', resourceLabels: { service_name: name } },
    signals: { errorRatio: { metricTypes: ['run.googleapis.com/request_count'] } },
  };
}

/** An open incident whose error ratio (0.4 %) is under the 1 % threshold, e.g. a policy with a lower threshold of its own. */
export function belowThresholdIncident(options: IncidentFixtureOptions = {}): MonitoringNotification {
  return openIncident({ incidentId: '0.below7threshold', observedValue: '0.004', thresholdValue: 0.002, ...options });
}

/** The SLO of the fixtures' burn-rate and budget alerts. */
export function sloName(options: { projectId?: string; service?: string; slo?: string } = {}): string {
  return `projects/${options.projectId ?? DEFAULTS.projectId}/services/${options.service ?? DEFAULTS.service}/serviceLevelObjectives/${options.slo ?? 'availability-99'}`;
}

export interface ConditionFixture {
  /** Alert policy display name. */
  policyName: string;
  /** Condition display name. */
  conditionName: string;
  /** The condition object as the notification carries it (API JSON, camelCase). */
  condition: Record<string, unknown>;
  metric?: { type: string; displayName: string; labels: Record<string, string> };
  observedValue: string;
  thresholdValue: number;
  /** Defaults to a Cloud Run revision of the service. */
  resource?: { type: string; labels: Record<string, string> };
  summary?: string;
}

/**
 * An open incident of the given alert condition on the fixtures' Cloud Run
 * service: the base of the realistic notifications below, one per kind of
 * alert a team actually has next to its SLO alerts.
 */
export function incidentOf(fixture: ConditionFixture, options: IncidentFixtureOptions = {}): MonitoringNotification {
  const base = openIncident({ ...options, observedValue: fixture.observedValue, thresholdValue: fixture.thresholdValue });
  const project = options.projectId ?? DEFAULTS.projectId;
  const condition = {
    name: `projects/${project}/alertPolicies/5550001112223334445/conditions/1112223334445556667`,
    displayName: fixture.conditionName,
    ...fixture.condition,
  };
  return {
    ...base,
    incident: {
      ...base.incident,
      ...(fixture.resource ? { resource: fixture.resource } : {}),
      ...(fixture.metric ? { metric: fixture.metric } : {}),
      policy_name: fixture.policyName,
      condition_name: fixture.conditionName,
      condition,
      summary: fixture.summary ?? `${fixture.conditionName}: value ${fixture.observedValue} (threshold ${fixture.thresholdValue}).`,
    },
  };
}

const cloudRunFilter = (service: string, metricType: string, extra = ''): string =>
  `resource.type = "cloud_run_revision" AND resource.labels.service_name = "${service}" AND metric.type = "${metricType}"${extra}`;

/** CPU utilisation above 80 % (a distribution of 0..1): 0.835 is not an error ratio of 83.5 %. */
export function cpuUtilisationIncident(options: IncidentFixtureOptions = {}): MonitoringNotification {
  const service = options.service ?? DEFAULTS.service;
  return incidentOf(
    {
      policyName: `${service} CPU utilisation`,
      conditionName: 'Container CPU utilisation above 80 %',
      metric: { type: 'run.googleapis.com/container/cpu/utilizations', displayName: 'Container CPU Utilization', labels: {} },
      condition: {
        conditionThreshold: {
          filter: cloudRunFilter(service, 'run.googleapis.com/container/cpu/utilizations'),
          aggregations: [{ alignmentPeriod: '60s', perSeriesAligner: 'ALIGN_PERCENTILE_99', crossSeriesReducer: 'REDUCE_MAX' }],
          comparison: 'COMPARISON_GT',
          thresholdValue: 0.8,
          duration: '300s',
          trigger: { count: 1 },
        },
      },
      observedValue: '0.835',
      thresholdValue: 0.8,
    },
    { incidentId: '0.cpu4utilisation', ...options },
  );
}

/** p99 request latency above 1 s (milliseconds). */
export function latencyIncident(options: IncidentFixtureOptions = {}): MonitoringNotification {
  const service = options.service ?? DEFAULTS.service;
  return incidentOf(
    {
      policyName: `${service} p99 latency`,
      conditionName: 'p99 latency above 1 s',
      metric: { type: 'run.googleapis.com/request_latencies', displayName: 'Request Latencies', labels: {} },
      condition: {
        conditionThreshold: {
          filter: cloudRunFilter(service, 'run.googleapis.com/request_latencies'),
          aggregations: [{ alignmentPeriod: '60s', perSeriesAligner: 'ALIGN_PERCENTILE_99', crossSeriesReducer: 'REDUCE_MAX' }],
          comparison: 'COMPARISON_GT',
          thresholdValue: 1000,
          duration: '300s',
          trigger: { count: 1 },
        },
      },
      observedValue: '1843.7',
      thresholdValue: 1000,
    },
    { incidentId: '0.p99latency', ...options },
  );
}

/** Requests per second above 50 (ALIGN_RATE on request_count, no denominator). */
export function requestRateIncident(options: IncidentFixtureOptions = {}): MonitoringNotification {
  const service = options.service ?? DEFAULTS.service;
  return incidentOf(
    {
      policyName: `${service} traffic spike`,
      conditionName: 'Requests/s above 50',
      metric: { type: 'run.googleapis.com/request_count', displayName: 'Request Count', labels: {} },
      condition: {
        conditionThreshold: {
          filter: cloudRunFilter(service, 'run.googleapis.com/request_count'),
          aggregations: [{ alignmentPeriod: '60s', perSeriesAligner: 'ALIGN_RATE', crossSeriesReducer: 'REDUCE_SUM' }],
          comparison: 'COMPARISON_GT',
          thresholdValue: 50,
          duration: '120s',
          trigger: { count: 1 },
        },
      },
      observedValue: '73.4',
      thresholdValue: 50,
    },
    { incidentId: '0.requests4rate', ...options },
  );
}

/**
 * A success ratio (every request but the 5xx ones / all requests) alerting below 99 % with COMPARISON_LT:
 * 0.97 means 3 % errors. (A 2xx share is not one: it falls with 4xx too.)
 */
export function successRatioIncident(options: IncidentFixtureOptions & { observedValue?: string } = {}): MonitoringNotification {
  const service = options.service ?? DEFAULTS.service;
  return incidentOf(
    {
      policyName: `${service} availability`,
      conditionName: 'Success ratio below 99 %',
      metric: { type: 'run.googleapis.com/request_count', displayName: 'Request Count', labels: {} },
      condition: {
        conditionThreshold: {
          filter: cloudRunFilter(service, 'run.googleapis.com/request_count', ' AND metric.labels.response_code_class != "5xx"'),
          denominatorFilter: cloudRunFilter(service, 'run.googleapis.com/request_count'),
          aggregations: [{ alignmentPeriod: '300s', perSeriesAligner: 'ALIGN_RATE', crossSeriesReducer: 'REDUCE_SUM' }],
          denominatorAggregations: [{ alignmentPeriod: '300s', perSeriesAligner: 'ALIGN_RATE', crossSeriesReducer: 'REDUCE_SUM' }],
          comparison: 'COMPARISON_LT',
          thresholdValue: 0.99,
          duration: '0s',
          trigger: { count: 1 },
        },
      },
      observedValue: options.observedValue ?? '0.97',
      thresholdValue: 0.99,
    },
    { incidentId: '0.success4ratio', ...options },
  );
}

/** A Managed Service for Prometheus alert: a PromQL burn rate of 3 (not 300 %). */
export function promqlBurnRateIncident(options: IncidentFixtureOptions = {}): MonitoringNotification {
  const service = options.service ?? DEFAULTS.service;
  return incidentOf(
    {
      policyName: `${service} burn rate (PromQL)`,
      conditionName: 'PromQL burn rate above 2',
      metric: { type: 'prometheus.googleapis.com/http_requests_total/counter', displayName: 'http_requests_total', labels: {} },
      condition: {
        conditionPrometheusQueryLanguage: {
          query: `sum(rate(http_requests_total{service="${service}",code=~"5.."}[1h])) / sum(rate(http_requests_total{service="${service}"}[1h])) / 0.001 > 2`,
          duration: '60s',
          evaluationInterval: '30s',
        },
      },
      observedValue: '3',
      thresholdValue: 2,
    },
    { incidentId: '0.promql4burn', ...options },
  );
}

/** An MQL condition (Monitoring Query Language). */
export function mqlIncident(options: IncidentFixtureOptions = {}): MonitoringNotification {
  const service = options.service ?? DEFAULTS.service;
  return incidentOf(
    {
      policyName: `${service} 5xx ratio (MQL)`,
      conditionName: 'MQL 5xx ratio',
      condition: {
        conditionMonitoringQueryLanguage: {
          query: `fetch cloud_run_revision | metric 'run.googleapis.com/request_count' | filter resource.service_name == '${service}' | ratio | condition val() > 0.01`,
          duration: '0s',
        },
      },
      observedValue: '0.04',
      thresholdValue: 0.01,
    },
    { incidentId: '0.mql4ratio', ...options },
  );
}

export interface BurnRateFixtureOptions extends IncidentFixtureOptions {
  /** The condition's lookback, as the filter spells it (default "3600s"). */
  lookback?: string;
  /** A second window in the same filter (multi-window in one condition). */
  shortLookback?: string;
  observedValue?: string;
  /** Default: the fast policy's 14.4 (6 for slow-burn names). */
  thresholdValue?: number;
  policyName?: string;
  conditionName?: string;
  slo?: string;
  comparison?: string;
}

/**
 * An SLO burn-rate alert as the console creates it: a `select_slo_burn_rate`
 * threshold condition with only a filter (no aggregations), on the service's SLO.
 */
export function burnRateIncident(options: BurnRateFixtureOptions = {}): MonitoringNotification {
  const slo = options.slo ?? sloName(options);
  const lookback = options.lookback ?? '3600s';
  const threshold = options.thresholdValue ?? 14.4;
  const selector = (l: string) => `select_slo_burn_rate("${slo}", "${l}")`;
  const filter = options.shortLookback ? `${selector(lookback)} AND ${selector(options.shortLookback)}` : selector(lookback);
  return incidentOf(
    {
      policyName: options.policyName ?? 'api-backend availability: fast burn',
      conditionName: options.conditionName ?? `Burn rate on ${lookback} above ${threshold}`,
      condition: {
        conditionThreshold: {
          filter,
          comparison: options.comparison ?? 'COMPARISON_GT',
          thresholdValue: threshold,
          duration: '0s',
          trigger: { count: 1 },
        },
      },
      observedValue: options.observedValue ?? '15.2',
      thresholdValue: threshold,
    },
    { incidentId: '0.burn4rate', ...options },
  );
}

/** The slow-burn policy's 30-minute confirmation window: burn rate 7 against the slow bar of 6. */
export function slowBurnIncident(options: BurnRateFixtureOptions = {}): MonitoringNotification {
  return burnRateIncident({
    incidentId: '0.slow4burn',
    lookback: '30m',
    observedValue: '7.1',
    thresholdValue: 6,
    policyName: 'api-backend availability: slow burn',
    conditionName: 'Burn rate on 30m above 6',
    ...options,
  });
}

/** An SLO budget alert: `select_slo_budget_fraction` (or `select_slo_health`) falling below a threshold. */
export function budgetIncident(
  options: IncidentFixtureOptions & {
    selector?: 'select_slo_budget_fraction' | 'select_slo_health';
    comparison?: string;
    observedValue?: string;
  } = {},
): MonitoringNotification {
  const selector = options.selector ?? 'select_slo_health';
  const threshold = selector === 'select_slo_health' ? 0.99 : 0.25;
  return incidentOf(
    {
      policyName: 'api-backend availability: error budget',
      conditionName: `${selector} below ${threshold}`,
      condition: {
        conditionThreshold: {
          filter: `${selector}("${sloName(options)}")`,
          comparison: options.comparison ?? 'COMPARISON_LT',
          thresholdValue: threshold,
          duration: '0s',
          trigger: { count: 1 },
        },
      },
      observedValue: options.observedValue ?? (selector === 'select_slo_health' ? '0.982' : '0.12'),
      thresholdValue: threshold,
    },
    { incidentId: '0.budget4slo', ...options },
  );
}

/** The error-ratio incident of the open-incident fixture, on the same service name in a staging project. */
export function stagingIncident(options: IncidentFixtureOptions = {}): MonitoringNotification {
  return openIncident({ incidentId: '0.staging4same', projectId: 'burnback-staging', ...options });
}

/** The console's "Send test notification" payload. */
export function testNotification(): Record<string, unknown> {
  return {
    version: 'test',
    incident: {
      incident_id: '12345',
      scoping_project_id: '12345',
      scoping_project_number: 12345,
      url: 'http://www.example.com',
      started_at: 0,
      ended_at: 0,
      state: 'OPEN',
      summary: 'Test Incident',
      apigee_url: 'http://www.example.com',
      observed_value: '1.0',
      resource: { type: 'example_resource', labels: { example: 'label' } },
      resource_type_display_name: 'Example Resource Type',
      resource_id: '12345',
      resource_display_name: 'Example Resource',
      resource_name: 'projects/12345/example_resources/12345',
      metric: { type: 'test.googleapis.com/metric', displayName: 'Test Metric', labels: { example: 'label' } },
      metadata: { system_labels: { example: 'label' }, user_labels: { example: 'label' } },
      policy_name: 'projects/12345/alertPolicies/12345',
      policy_user_labels: { example: 'label' },
      documentation: 'Test documentation',
      condition: { name: 'projects/12345/alertPolicies/12345/conditions/12345', displayName: 'Example condition', conditionThreshold: {} },
      condition_name: 'Example condition',
      threshold_value: '0.5',
    },
  };
}

/**
 * An AlertEvent as ingest publishes it for the open-incident fixture (error ratio
 * 2.5 % on api-backend), for tests that start at the decider.
 */
export function alertEvent(incidentId: string, overrides: Partial<AlertEvent> = {}): AlertEvent {
  const event: AlertEvent = {
    incidentId,
    service: 'api-backend',
    state: 'open',
    startedAt: '2026-11-26T10:00:00.000Z',
    endedAt: null,
    observedAt: '2026-11-26T10:05:00.000Z',
    observedValue: 0.025,
    thresholdValue: 0.01,
    signal: 'error-ratio',
    lookbackSeconds: null,
    comparison: 'COMPARISON_GT',
    signalValue: 0.025,
    signalThreshold: 0.01,
    sloName: null,
    sloSelector: null,
    burnPolicy: null,
    burnPolicySource: null,
    burnWindows: null,
    unsupportedReason: null,
    policyName: 'api-backend error budget: error ratio > 1 % over 1 h',
    conditionName: 'Error ratio above 1 %',
    severity: 'critical',
    resourceType: 'cloud_run_revision',
    resourceLabels: { service_name: 'api-backend' },
    policyUserLabels: {},
    scopingProjectId: 'burnback-local',
    url: '',
    source: 'pubsub',
    notificationId: `ntf-${incidentId}`,
    ...overrides,
  };
  // An error ratio or burn rate is measured as observed unless the test says otherwise.
  const measured = event.signal === 'error-ratio' || event.signal === 'burn-rate';
  return {
    ...event,
    signalValue: 'signalValue' in overrides ? event.signalValue : measured ? event.observedValue : null,
    signalThreshold: 'signalThreshold' in overrides ? event.signalThreshold : measured ? event.thresholdValue : null,
  };
}

/** The same, as the CloudEvent the decider receives. */
export function alertCloudEvent(incidentId: string, overrides: Partial<AlertEvent> = {}): CloudEvent<typeof EventTypes.alert> {
  const data = alertEvent(incidentId, overrides);
  return {
    id: data.notificationId,
    type: EventTypes.alert,
    source: '//test',
    subject: `services/${data.service}/incidents/${incidentId}`,
    time: data.observedAt,
    data,
  };
}

const minutesBeforeIso = (iso: string, minutes: number): string => new Date(Date.parse(iso) - minutes * 60_000).toISOString();

/**
 * A Cloud Deploy target as the decider knows it when a burn is clearly the
 * serving release's fault: `rel-002` began serving 10 min before the burn
 * started, after `rel-001` ran two days without a burn. Decisions on it reach
 * full timing and previous-release confidence; override what a test varies.
 */
export function blamedTarget(burnStartedAt: string, overrides: Partial<TargetRecord> = {}): TargetRecord {
  const since = minutesBeforeIso(burnStartedAt, 10);
  const before = minutesBeforeIso(since, 2 * 24 * 60);
  const pipeline = 'projects/burnback-local/locations/us-central1/deliveryPipelines/api-backend-pipeline';
  const rollout = (release: string) => `${pipeline}/releases/${release}/rollouts/${release}-to-production-0001`;
  const span = (releaseId: string, from: string) => ({
    releaseId,
    rollout: rollout(releaseId),
    from,
    stoppedAt: null,
    state: 'SUCCEEDED',
    phase: null,
    rollback: false,
    burnedAt: null,
  });
  return {
    project: 'burnback-local',
    region: 'us-central1',
    pipeline: 'api-backend-pipeline',
    target: 'production',
    quarantined: [],
    returnedTo: null,
    serving: { releaseId: 'rel-002', since, burnedAt: null, rollout: rollout('rel-002'), phase: null },
    previous: { releaseId: 'rel-001', since: before, until: since, burnedAt: null, rollout: rollout('rel-001'), phase: null },
    timeline: [span('rel-001', before), span('rel-002', since)],
    latestRollout: { name: rollout('rel-002'), releaseId: 'rel-002', state: 'SUCCEEDED' },
    historyReadAt: since,
    updatedAt: since,
    ...overrides,
  };
}

/**
 * decide() (passed in: testkit does not depend on the policy) where the burn is
 * clearly the serving release's fault — blamedTarget(event.startedAt) — unless
 * the test gives its own target (null included). For the rules' own tests;
 * confidence has tests of its own.
 */
export function withBlamedTarget<S, P, I, T, M, R>(
  decide: (state: S, event: AlertEvent, policy: P, incident: I | null, target: T | null, monitoring: M | null) => R,
): (state: S, event: AlertEvent, policy: P, incident?: I | null, target?: T | null, monitoring?: M | null) => R {
  return (state, event, policy, incident = null, target, monitoring = null) =>
    decide(state, event, policy, incident, target === undefined ? (blamedTarget(event.startedAt) as T) : target, monitoring);
}

/** The pipeline of the default local world, for fixture rollout names. */
export const FIXTURE_PIPELINE = 'projects/burnback-local/locations/us-central1/deliveryPipelines/api-backend-pipeline';

/**
 * A rollout of Cloud Deploy's history as Burnback reads it. `start` (ISO) is
 * when it started deploying; it was created a second before. A rollout that
 * never deployed (pending, waiting for approval, rejected) has no deploy start,
 * and one that failed before deploying says so with `deployed: false`.
 */
export function historyRollout(
  releaseId: string,
  start: string,
  state: string,
  options: {
    id?: string;
    target?: string;
    deployed?: boolean;
    /** When it stopped deploying: ended, failed, or was cancelled. */
    end?: string;
    /** The phase in progress (a canary phase), for an unfinished rollout. */
    phase?: string;
    rollbackOf?: string;
    rolledBackBy?: string[];
  } = {},
): HistoryRollout {
  const deployed = options.deployed ?? !['PENDING', 'PENDING_APPROVAL', 'PENDING_RELEASE', 'APPROVAL_REJECTED'].includes(state);
  const name = `${FIXTURE_PIPELINE}/releases/${releaseId}/rollouts/${options.id ?? `${releaseId}-to-${options.target ?? 'production'}-0001`}`;
  const phases = ['canary-25', 'canary-50', 'stable'];
  const at = phases.indexOf(options.phase ?? 'stable');
  const here = state === 'IN_PROGRESS' ? 'IN_PROGRESS' : state === 'FAILED' ? 'FAILED' : 'ABORTED';
  const phaseState = (i: number): string =>
    !deployed ? 'PENDING' : state === 'SUCCEEDED' || i < at ? 'SUCCEEDED' : i === at ? here : 'PENDING';
  return {
    name,
    releaseId,
    targetId: options.target ?? 'production',
    state,
    createTime: Date.parse(start) - 1000,
    deployStartTime: deployed ? Date.parse(start) : 0,
    deployEndTime: options.end ? Date.parse(options.end) : 0,
    phases: phases.map((id, i) => ({ id, state: phaseState(i), deployJobState: phaseState(i) })),
    rollbackOfRollout: options.rollbackOf ?? '',
    rolledBackByRollouts: options.rolledBackBy ?? [],
    approvalState: 'DOES_NOT_NEED_APPROVAL',
  };
}

/** Services as loadConfig gives them: a Map by name (a name from outside never reaches Object.prototype). */
export function servicesOf(...services: ServiceConfig[]): Map<string, ServiceConfig> {
  return new Map(services.map((s) => [s.name, s]));
}
