import type { MonitoringNotification } from '@burnback/contracts';

/**
 * Cloud Monitoring's incident notifications, as its Pub/Sub and webhook
 * notification channels deliver them: what `burnback simulate` (and
 * `npm run trigger`) publishes, and what the tests feed ingest (the test kit
 * re-exports these from its fixtures). Pure: no client, no I/O, so
 * `@burnback/gcp-sim/notifications` is an entry of its own that loads none of
 * the simulator's gRPC tooling.
 */

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

/** What an incident is on unless told otherwise: the local world's `api-backend` in `burnback-local`. */
export const INCIDENT_DEFAULTS = {
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
  const incidentId = options.incidentId ?? INCIDENT_DEFAULTS.incidentId;
  const service = options.service ?? INCIDENT_DEFAULTS.service;
  const project = options.projectId ?? INCIDENT_DEFAULTS.projectId;
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
      started_at: options.startedAt ?? INCIDENT_DEFAULTS.startedAt,
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
          filter: `resource.type = "cloud_run_revision" AND resource.labels.service_name = "${service}" AND metric.type = "run.googleapis.com/request_count" AND metric.labels.response_code_class = "5xx"`,
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

/** JSON bytes of a notification, as the Pub/Sub channel puts them in `data`. */
export function notificationBytes(notification: unknown): Buffer {
  return Buffer.from(JSON.stringify(notification), 'utf8');
}
