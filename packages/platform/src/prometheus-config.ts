import { z } from 'zod';

/**
 * The parts of a service's config that Prometheus Alertmanager's alerts are
 * read with (`POST /webhook/alertmanager`): which labels map an alert to the
 * service, and which Prometheus metrics (recording rules) hold an error ratio.
 */

/** A Prometheus label name (letters, digits and `_`, not starting with a digit). */
const PROMETHEUS_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** A Prometheus metric name, recording rules' colons included (`slo:sli_error:ratio_rate1h`). */
const PROMETHEUS_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * `match.labels`: labels an Alertmanager alert must all carry, with these exact
 * values, to map to the service (Sloth's `sloth_service`, Pyrra's `slo`, a
 * `cluster`); they also corroborate a generic `service` label, and a rule whose
 * selector matches one of them with another value is not the service's. None by
 * default: then only the `burnback_service` label names the service (or
 * `service` with the service's `project_id`).
 */
export const MatchLabels = z
  .record(
    z.string().regex(PROMETHEUS_LABEL_NAME, 'expected a Prometheus label name (letters, digits and _)'),
    z.string().min(1, 'a label value to match cannot be empty'),
  )
  .default({});

/**
 * `signals.errorRatio.prometheusMetrics`: Prometheus metrics whose value is a
 * ratio of bad to total requests (Sloth's `slo:sli_error:ratio_rate1h`, Pyrra's
 * `http_requests:burnrate1h`). An Alertmanager alert whose rule is one of them
 * compared above a threshold is an error ratio; none by default.
 */
export const PrometheusMetrics = z
  .array(z.string().regex(PROMETHEUS_METRIC_NAME, 'expected a Prometheus metric name such as slo:sli_error:ratio_rate1h'))
  .min(1, 'name at least one Prometheus metric');
