import type { AlertEvent } from '@burnback/contracts';

/**
 * The alert a human's request publishes on burnback-alerts (a manual rollback, an
 * approval): no measurement — the decider judges it on who asked and why — so every
 * Monitoring field is empty and the signal is `unsupported` with `unsupportedReason`.
 */
export function humanRequestAlert(request: {
  incidentId: string;
  service: string;
  startedAt: string;
  /** When the request was made (observed and received then). */
  at: string;
  project: string;
  notificationId: string;
  unsupportedReason: string;
  policyName: string;
  manual: NonNullable<AlertEvent['manual']>;
}): AlertEvent {
  return {
    incidentId: request.incidentId,
    service: request.service,
    state: 'open',
    startedAt: request.startedAt,
    endedAt: null,
    observedAt: request.at,
    receivedAt: request.at,
    observedValue: null,
    thresholdValue: null,
    signal: 'unsupported',
    lookbackSeconds: null,
    comparison: null,
    signalValue: null,
    signalThreshold: null,
    sloName: null,
    sloSelector: null,
    burnPolicy: null,
    burnPolicySource: null,
    burnWindows: null,
    unsupportedReason: request.unsupportedReason,
    policyName: request.policyName,
    conditionName: '',
    severity: '',
    resourceType: '',
    resourceLabels: {},
    policyUserLabels: {},
    scopingProjectId: request.project,
    url: '',
    source: 'manual',
    notificationId: request.notificationId,
    manual: request.manual,
  };
}
