import { EventTypes, type AlertEvent, type CloudEvent, type MonitoringNotification } from '@burnback/contracts';

export interface IncidentFixtureOptions {
  incidentId?: string;
  /** Cloud Run service the incident is on (resource label service_name). */
  service?: string;
  projectId?: string;
  /** Unix seconds. */
  startedAt?: number;
  observedValue?: string;
  thresholdValue?: number;
  policyUserLabels?: Record<string, string>;
}

const DEFAULTS = {
  incidentId: '0.nx8k2f1q7d3a',
  service: 'api-backend',
  projectId: 'burnback-local',
  startedAt: 1_764_151_200, // 2025-11-26T10:00:00Z
} as const;

/**
 * A Cloud Monitoring notification, schema version 1.2, as the Pub/Sub channel
 * and the webhook deliver it (GCP-NOTES §1): an error-ratio threshold policy
 * on a `cloud_run_revision`, mixed snake_case / camelCase as Google sends it.
 */
export function openIncident(options: IncidentFixtureOptions = {}): MonitoringNotification {
  const incidentId = options.incidentId ?? DEFAULTS.incidentId;
  const service = options.service ?? DEFAULTS.service;
  const project = options.projectId ?? DEFAULTS.projectId;
  const threshold = options.thresholdValue ?? 0.01;
  const observed = options.observedValue ?? '0.025';
  return {
    version: '1.2',
    incident: {
      incident_id: incidentId,
      scoping_project_id: project,
      scoping_project_number: 123456789012,
      url: `https://console.cloud.google.com/monitoring/alerting/incidents/${incidentId}?project=${project}`,
      severity: 'critical',
      started_at: options.startedAt ?? DEFAULTS.startedAt,
      ended_at: null,
      state: 'open',
      resource_id: '',
      resource_name: `${project} Cloud Run Revision labels {service_name=${service}}`,
      resource_display_name: service,
      resource_type_display_name: 'Cloud Run Revision',
      resource: {
        type: 'cloud_run_revision',
        labels: {
          project_id: project,
          service_name: service,
          location: 'us-central1',
          revision_name: `${service}-00042-xyz`,
          configuration_name: service,
        },
      },
      metric: {
        type: 'run.googleapis.com/request_count',
        displayName: 'Request Count',
        labels: { response_code_class: '5xx' },
      },
      metadata: { system_labels: {}, user_labels: {} },
      policy_name: `${service} error budget: error ratio > 1 % over 1 h`,
      policy_user_labels: options.policyUserLabels ?? {},
      condition_name: 'Error ratio above 1 %',
      condition: {
        name: `projects/${project}/alertPolicies/1234567890123456789/conditions/9876543210987654321`,
        displayName: 'Error ratio above 1 %',
        conditionThreshold: {
          filter: `resource.type = "cloud_run_revision" AND resource.labels.service_name = "${service}" AND metric.type = "run.googleapis.com/request_count" AND metric.labels.response_code_class != "2xx"`,
          denominatorFilter: `resource.type = "cloud_run_revision" AND resource.labels.service_name = "${service}" AND metric.type = "run.googleapis.com/request_count"`,
          aggregations: [
            {
              alignmentPeriod: '3600s',
              perSeriesAligner: 'ALIGN_RATE',
              crossSeriesReducer: 'REDUCE_SUM',
              groupByFields: ['resource.label.service_name'],
            },
          ],
          denominatorAggregations: [
            {
              alignmentPeriod: '3600s',
              perSeriesAligner: 'ALIGN_RATE',
              crossSeriesReducer: 'REDUCE_SUM',
              groupByFields: ['resource.label.service_name'],
            },
          ],
          comparison: 'COMPARISON_GT',
          thresholdValue: threshold,
          duration: '0s',
          trigger: { count: 1 },
        },
      },
      threshold_value: String(threshold),
      observed_value: observed,
      documentation: {
        content: `${service} is burning its error budget. Burnback rolls it back automatically.`,
        mime_type: 'text/markdown',
        subject: `[CRITICAL] ${service} error ratio above 1 %`,
        links: [],
      },
      summary: `Request Count for ${project} Cloud Run Revision labels {service_name=${service}} with metric labels {response_code_class=5xx} is above the threshold of ${threshold.toFixed(3)} with a value of ${Number(observed).toFixed(3)}.`,
    },
  };
}

/** The same incident, closed: the error ratio returned to normal. */
export function closedIncident(options: IncidentFixtureOptions & { endedAt?: number } = {}): MonitoringNotification {
  const open = openIncident({ observedValue: '0.004', ...options });
  const startedAt = open.incident.started_at;
  return {
    ...open,
    incident: {
      ...open.incident,
      state: 'closed',
      ended_at: options.endedAt ?? startedAt + 960,
      summary: open.incident.summary.replace(
        /is above the threshold of [\d.]+ with a value of [\d.]+\./,
        `returned to normal with a value of ${Number(open.incident.observed_value).toFixed(3)}.`,
      ),
    },
  };
}

/** An open incident whose error ratio (0.4 %) is under the 1 % threshold, e.g. a policy with a lower threshold of its own. */
export function belowThresholdIncident(options: IncidentFixtureOptions = {}): MonitoringNotification {
  return openIncident({ incidentId: '0.below7threshold', observedValue: '0.004', thresholdValue: 0.002, ...options });
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

/** JSON bytes of a notification, as the Pub/Sub channel puts them in `data`. */
export function notificationBytes(notification: unknown): Buffer {
  return Buffer.from(JSON.stringify(notification), 'utf8');
}

/**
 * An AlertEvent as ingest publishes it for the open-incident fixture (error ratio
 * 2.5 % on api-backend), for tests that start at the decider.
 */
export function alertEvent(incidentId: string, overrides: Partial<AlertEvent> = {}): AlertEvent {
  return {
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
