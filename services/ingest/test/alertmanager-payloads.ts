/**
 * Alertmanager webhook notifications (`webhook_config`, version "4") as
 * Alertmanager posts them, for ingest's tests. The shapes are Alertmanager's
 * documented payload (prometheus.io "webhook_config": receiver, status,
 * alerts[] of status, labels, annotations, startsAt, endsAt, generatorURL,
 * fingerprint; groupLabels, commonLabels, commonAnnotations, externalURL,
 * groupKey, truncatedAlerts); the rules are the ones Sloth and Pyrra generate
 * (Sloth's page alert: 5m/1h at 14.4× or 30m/6h at 6× joined by `or`; Pyrra's:
 * one alert per window pair, `long`/`short`/`severity`/`slo` labels).
 */

/** A rule expression as Prometheus puts it in an alert's generatorURL. */
export const generatorUrl = (expr: string, base = 'http://prometheus.example.org:9090') =>
  `${base}/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=1`;

/** Go's zero time: what Alertmanager sends as endsAt of a firing alert. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * Alertmanager's own sample of a v4 notification (a blackbox probe failure): a
 * valid alert that measures no burn, and names no Burnback service.
 */
export const PROBE_FAILURE = {
  receiver: 'sms',
  status: 'firing',
  alerts: [
    {
      status: 'firing',
      labels: {
        alertname: 'ProbeFailure',
        instance: 'https://server.example.org',
        job: 'http_checks',
        monitor: 'master',
        severity: 'critical',
      },
      annotations: {
        description: 'Instance https://server.example.org has been down for over 5m. Job: http_checks',
        summary: 'BlackBox Probe Failure: https://server.example.org',
      },
      startsAt: '2023-02-06T13:08:45.828Z',
      endsAt: GO_ZERO_TIME,
      generatorURL: 'http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0&g0.tab=1',
      fingerprint: '1a30ba71cca2921f',
    },
  ],
  groupLabels: { alertname: 'ProbeFailure' },
  commonLabels: {
    alertname: 'ProbeFailure',
    instance: 'https://server.example.org',
    job: 'http_checks',
    monitor: 'master',
    severity: 'critical',
  },
  commonAnnotations: {
    description: 'Instance https://server.example.org has been down for over 5m. Job: http_checks',
    summary: 'BlackBox Probe Failure: https://server.example.org',
  },
  externalURL: 'http://prometheus.example.org:9093',
  version: '4',
  groupKey: '{}/{severity="critical"}:{alertname="ProbeFailure"}',
  truncatedAlerts: 0,
};

/** Sloth's page alert of `service` / SLO `availability` (objective 99 %: error budget 1 − 0.99), as Sloth 0.11+ generates it. */
export function slothPageExpr(service: string, budget = '0.010000000000000009'): string {
  const sel = `{sloth_id="${service}-availability", sloth_service="${service}", sloth_slo="availability"}`;
  return [
    '(',
    `    (slo:sli_error:ratio_rate5m${sel} > (14.4 * ${budget}))`,
    '    and ignoring (sloth_window)',
    `    (slo:sli_error:ratio_rate1h${sel} > (14.4 * ${budget}))`,
    ')',
    'or ignoring (sloth_window)',
    '(',
    `    (slo:sli_error:ratio_rate30m${sel} > (6 * ${budget}))`,
    '    and ignoring (sloth_window)',
    `    (slo:sli_error:ratio_rate6h${sel} > (6 * ${budget}))`,
    ')',
  ].join('\n');
}

/** Sloth's ticket alert: 2h/1d at 3× or 6h/3d at 1×. */
export function slothTicketExpr(service: string, budget = '0.010000000000000009'): string {
  const sel = `{sloth_id="${service}-availability", sloth_service="${service}", sloth_slo="availability"}`;
  return (
    `((slo:sli_error:ratio_rate2h${sel} > (3 * ${budget})) and ignoring (sloth_window) (slo:sli_error:ratio_rate1d${sel} > (3 * ${budget})))` +
    ` or ignoring (sloth_window) ((slo:sli_error:ratio_rate6h${sel} > (1 * ${budget})) and ignoring (sloth_window) (slo:sli_error:ratio_rate3d${sel} > (1 * ${budget})))`
  );
}

/** Pyrra's burn-rate alert on one window pair (factor 14 on 1h/5m, 7 on 6h/30m for a 28-day SLO window). */
export function pyrraExpr(slo: string, short: string, long: string, factor: number, target = '0.99'): string {
  const sel = `{job="api-backend",slo="${slo}"}`;
  return `http_requests:burnrate${short}${sel} > (${factor} * (1-${target})) and http_requests:burnrate${long}${sel} > (${factor} * (1-${target}))`;
}

export interface AlertOptions {
  status?: 'firing' | 'resolved';
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  expr?: string;
  fingerprint?: string;
}

/** One alert of a notification, as Alertmanager writes it. */
export function alert(options: AlertOptions = {}): Record<string, unknown> {
  const status = options.status ?? 'firing';
  return {
    status,
    labels: options.labels ?? { alertname: 'ApiBackendErrorBudgetBurn' },
    annotations: options.annotations ?? {},
    startsAt: options.startsAt ?? '2026-11-26T10:00:00.123456789Z',
    endsAt: options.endsAt ?? (status === 'resolved' ? '2026-11-26T10:16:00.5Z' : GO_ZERO_TIME),
    generatorURL: generatorUrl(options.expr ?? slothPageExpr('api-backend')),
    fingerprint: options.fingerprint ?? '3f1c0e2a9b8d7c6e',
  };
}

/** Sloth's page alert of api-backend firing on its fast windows (Sloth's labels, `sloth_window` of the series that fired). */
export function slothPageAlert(options: AlertOptions & { value?: string; window?: string } = {}): Record<string, unknown> {
  return alert({
    labels: {
      alertname: 'ApiBackendAvailabilityBurn',
      sloth_id: 'api-backend-availability',
      sloth_service: 'api-backend',
      sloth_slo: 'availability',
      sloth_severity: 'page',
      sloth_window: options.window ?? '5m',
      ...options.labels,
    },
    annotations: {
      summary: 'api-backend availability SLO error budget burn rate is over expected.',
      title: '(page) api-backend availability SLO error budget burn rate is too fast.',
      ...(options.value === undefined ? {} : { burnback_value: options.value }),
      ...options.annotations,
    },
    ...(options.status ? { status: options.status } : {}),
    ...(options.startsAt ? { startsAt: options.startsAt } : {}),
    ...(options.endsAt ? { endsAt: options.endsAt } : {}),
    ...(options.fingerprint ? { fingerprint: options.fingerprint } : {}),
    expr: options.expr ?? slothPageExpr('api-backend'),
  });
}

/** A notification of a group of alerts, as Alertmanager's webhook_config posts it. */
export function notification(alerts: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const labels = ((alerts[0] as { labels?: unknown } | null)?.labels ?? {}) as Record<string, string>;
  return {
    receiver: 'burnback',
    status: alerts.some((a) => a?.status === 'firing') ? 'firing' : 'resolved',
    alerts,
    groupLabels: { alertname: labels.alertname ?? '' },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.org:9093',
    version: '4',
    groupKey: `{}:{alertname="${labels.alertname ?? ''}"}`,
    truncatedAlerts: 0,
    ...extra,
  };
}
