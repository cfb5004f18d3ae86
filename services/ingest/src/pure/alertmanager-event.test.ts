import fc from 'fast-check';
import { AlertEvent, DEFAULT_POLICY } from '@burnback/contracts';
import { decide, initialServiceState } from '@burnback/policy';
import { blamedTarget, closedIncident, notificationBytes, openIncident, serviceConfig, servicesOf } from '@burnback/testkit/fixtures';
import { alert, notification, PROBE_FAILURE, slothPageAlert, slothPageExpr, slothTicketExpr } from '../../test/alertmanager-payloads.js';
import { parseNotification, toAlertEvent } from '../parse.js';
import { readAlertmanagerNotification } from './alertmanager-payload.js';
import { alertValueOf, toAlertmanagerEvent, type AlertmanagerEventResult } from './alertmanager-event.js';

const PROM_ERROR_RATIO = 'slo:sli_error:ratio_rate1h';
const apiBackend = serviceConfig('api-backend', {
  match: { resourceType: 'cloud_run_revision', resourceLabels: { service_name: 'api-backend' }, labels: { sloth_service: 'api-backend' } },
  signals: { errorRatio: { metrics: serviceConfig().signals.errorRatio!.metrics, prometheusMetrics: [PROM_ERROR_RATIO] } },
});
const services = servicesOf(apiBackend);
const OBSERVED = new Date('2026-11-26T10:05:00.000Z');

/** The first alert of a notification, through the bytes, as ingest reads it. */
function eventOf(n: Record<string, unknown>): AlertmanagerEventResult {
  const read = readAlertmanagerNotification(notificationBytes(n));
  if (!read.ok || !read.alerts[0]!.ok) throw new Error(`unread: ${JSON.stringify(read)}`);
  return toAlertmanagerEvent(read.alerts[0]!, { services, observedAt: OBSERVED });
}
const event = (n: Record<string, unknown>): AlertEvent => {
  const r = eventOf(n);
  if (r.kind !== 'event') throw new Error(`no event: ${JSON.stringify(r)}`);
  return r.event;
};

/** An error-ratio alert of api-backend on Sloth's 1 h error ratio, named by burnback_service, as `simulate --via alertmanager` sends it. */
const errorRatioAlert = (value: string, options: { status?: 'firing' | 'resolved' } = {}) =>
  alert({
    ...options,
    labels: { alertname: 'ApiBackendErrorRatio', burnback_service: 'api-backend', severity: 'critical' },
    annotations: { burnback_value: value, summary: 'api-backend error ratio above 1 %' },
    expr: `${PROM_ERROR_RATIO}{sloth_service="api-backend"} > 0.01`,
    startsAt: '2026-11-26T10:00:00Z',
  });

describe('an Alertmanager alert as an AlertEvent', () => {
  it("carries the alert's incident, service, times, value, classification and labels, and decodes as an AlertEvent", () => {
    const e = event(notification([slothPageAlert({ value: '0.2', labels: { project_id: 'burnback-local' } })]));
    expect(e).toEqual({
      incidentId: 'am-3f1c0e2a9b8d7c6e-2026-11-26T10:00:00.123Z',
      service: 'api-backend',
      state: 'open',
      startedAt: '2026-11-26T10:00:00.123Z',
      endedAt: null,
      observedAt: '2026-11-26T10:05:00.000Z',
      observedValue: 0.2,
      thresholdValue: 14.4 * 0.010000000000000009,
      signal: 'burn-rate',
      lookbackSeconds: 300,
      comparison: 'COMPARISON_GT',
      signalValue: 20,
      signalThreshold: 14.4,
      sloName: null,
      sloSelector: null,
      burnPolicy: 'fast',
      burnPolicySource: 'sibling-windows',
      burnWindows: { longSeconds: 3600, shortSeconds: 300, threshold: 14.4 },
      unsupportedReason: null,
      policyName: 'ApiBackendAvailabilityBurn',
      conditionName: 'api-backend availability SLO error budget burn rate is over expected.',
      severity: 'page',
      resourceType: 'prometheus_alert',
      resourceLabels: {
        alertname: 'ApiBackendAvailabilityBurn',
        sloth_id: 'api-backend-availability',
        sloth_service: 'api-backend',
        sloth_slo: 'availability',
        sloth_severity: 'page',
        sloth_window: '5m',
        project_id: 'burnback-local',
      },
      policyUserLabels: {},
      scopingProjectId: 'burnback-local',
      url: expect.stringMatching(/^http:\/\/prometheus\.example\.org:9090\/graph\?g0\.expr=/),
      source: 'alertmanager',
      notificationId: expect.stringMatching(/^ntf-[0-9a-f]{24}$/),
    });
    expect(AlertEvent.parse(e)).toEqual(e);
  });

  it('names its condition by the summary, else the title, and its severity by severity, else sloth_severity', () => {
    const bare = event(notification([alert({ labels: { burnback_service: 'api-backend' }, annotations: { title: 'T' } })]));
    expect(bare).toMatchObject({ policyName: '', conditionName: 'T', severity: 'no severity', scopingProjectId: '', observedValue: null });
    const none = event(
      notification([{ ...alert({ labels: { burnback_service: 'api-backend', severity: 'warning' } }), generatorURL: undefined }]),
    );
    expect(none).toMatchObject({ conditionName: '', severity: 'warning', url: '', signal: 'unsupported', thresholdValue: null });
  });

  it('a resolved alert closes the incident its firing alert opened', () => {
    const firing = event(notification([errorRatioAlert('0.05')]));
    const resolved = event(notification([errorRatioAlert('0.004', { status: 'resolved' })]));
    expect(resolved).toMatchObject({
      incidentId: firing.incidentId,
      state: 'closed',
      endedAt: '2026-11-26T10:16:00.500Z',
      observedValue: 0.004,
    });
    expect(resolved.notificationId).not.toBe(firing.notificationId);
  });

  it("Alertmanager's documented sample maps to no service: unmapped, with the reason and the project it names", () => {
    expect(eventOf(PROBE_FAILURE)).toEqual({
      kind: 'unmapped',
      reason: expect.stringMatching(/^no configured service matches the alert's labels/),
      misconfigured: false,
      project: '',
    });
    expect(eventOf(notification([alert({ labels: { burnback_service: 'nope', project_id: 'shop-prod' } })]))).toMatchObject({
      kind: 'unmapped',
      misconfigured: true,
      project: 'shop-prod',
    });
  });

  it('a staging Prometheus\'s alert labelled only service="api-backend" is unmapped, saying what to add, never production\'s', () => {
    const staging = alert({
      labels: { alertname: 'ApiBackendAvailabilityBurn', service: 'api-backend', cluster: 'staging-1', sloth_window: '5m' },
      annotations: { burnback_value: '0.9' },
      expr: slothPageExpr('api-backend').replaceAll('sloth_service="api-backend"', 'service="api-backend"'),
    });
    expect(eventOf(notification([staging]))).toEqual({
      kind: 'unmapped',
      reason: expect.stringMatching(/^label service="api-backend" alone does not place the alert.*Add burnback_service="api-backend"/),
      misconfigured: true,
      project: '',
    });
    // With the labels the config asks for (match.labels: sloth_service), it is api-backend's.
    const production = slothPageAlert({ value: '0.9', labels: { service: 'api-backend' } });
    expect(eventOf(notification([production]))).toMatchObject({ kind: 'event', event: { service: 'api-backend' } });
  });

  it('a value that is not a number refuses the alert, with why', () => {
    expect(eventOf(notification([slothPageAlert({ value: 'NaN' })]))).toEqual({
      kind: 'refused',
      problem: 'annotation burnback_value is not a number: "NaN"',
    });
  });
});

describe("the alert's value (its burnback_value annotation)", () => {
  it.each([
    ['absent', {}, { value: null }],
    ['blank', { burnback_value: '  ' }, { value: null }],
    ['a decimal', { burnback_value: '0.05' }, { value: 0.05 }],
    ['padded', { burnback_value: ' 0.05\n' }, { value: 0.05 }],
    ["as Go's %g writes it", { burnback_value: '1.44e-01' }, { value: 0.144 }],
    ['signed', { burnback_value: '+1' }, { value: 1 }],
    ['NaN', { burnback_value: 'NaN' }, { problem: 'annotation burnback_value is not a number: "NaN"' }],
    ['+Inf', { burnback_value: '+Inf' }, { problem: 'annotation burnback_value is not a number: "+Inf"' }],
    ['hexadecimal', { burnback_value: '0x10' }, { problem: 'annotation burnback_value is not a number: "0x10"' }],
    ['a huge exponent', { burnback_value: '1e999' }, { problem: 'annotation burnback_value is not a number: "1e999"' }],
    ['text', { burnback_value: 'high' }, { problem: 'annotation burnback_value is not a number: "high"' }],
    [
      'too long',
      { burnback_value: '1'.repeat(65) },
      { problem: 'annotation burnback_value is 65 characters long; a number is at most 64' },
    ],
    ['as long as a number may be', { burnback_value: `0.${'1'.repeat(62)}` }, { value: Number(`0.${'1'.repeat(62)}`) }],
  ])('%s is %j', (_name, annotations, expected) => {
    expect(alertValueOf(annotations)).toEqual(expected);
  });

  it('any text is a number or a problem, never thrown', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const v = alertValueOf({ burnback_value: text });
        expect('value' in v ? v.value === null || Number.isFinite(v.value) : v.problem.length > 0).toBe(true);
      }),
    );
  });
});

/**
 * Judged like its Monitoring twin: the alert through ingest's reading and
 * decide(), against a target where rel-002 shipped 10 min before it started.
 */
describe('an Alertmanager alert judged like its Monitoring twin', () => {
  const judge = (e: AlertEvent) => decide(initialServiceState('api-backend'), e, DEFAULT_POLICY, null, blamedTarget(e.startedAt));
  const monitoring = (n: ReturnType<typeof openIncident>) =>
    toAlertEvent(parseNotification(notificationBytes(n)), {
      services,
      source: 'webhook',
      observedAt: OBSERVED,
      notificationId: 'ntf-twin',
    });
  const STARTED = Date.parse('2026-11-26T10:00:00Z') / 1000;

  it('a 5 % error ratio rolls back, as the Monitoring incident of the same burn does', () => {
    const twin = judge(monitoring(openIncident({ observedValue: '0.05', startedAt: STARTED })));
    const am = judge(event(notification([errorRatioAlert('0.05')])));
    expect(twin.action).toBe('rollback');
    expect({ action: am.action, reason: am.reason }).toEqual({ action: twin.action, reason: twin.reason });
  });

  it('resolved, it holds as the closed Monitoring incident does', () => {
    const twin = judge(monitoring(closedIncident({ startedAt: STARTED })));
    const am = judge(event(notification([errorRatioAlert('0.004', { status: 'resolved' })])));
    expect([am.action, twin.action]).toEqual(['hold', 'hold']);
  });

  it.each([
    ["Sloth's fast burn at 20×", slothPageAlert({ value: '0.2' }), 'rollback', /burn rate 20× over 5 min/],
    [
      "Sloth's fast burn at 10×, under the 14.4× bar",
      slothPageAlert({ value: '0.1' }),
      'hold',
      /burn rate 10× over 5 min .* does not exceed the fast-burn threshold of 14.4×/,
    ],
    [
      "Sloth's slow burn at 7×",
      slothPageAlert({ value: '0.07', window: '30m' }),
      'rollback',
      /burn rate 7× over 30 min .* exceeds the slow-burn threshold of 6×/,
    ],
    ['a burn without its value', slothPageAlert({}), 'hold', /the alert carries no observed value/],
    [
      "Sloth's page alert that does not say which policy fired",
      slothPageAlert({ value: '0.9', labels: { sloth_window: '' } }),
      'ignore',
      /does not say which fired/,
    ],
    [
      "Sloth's ticket",
      slothPageAlert({ value: '0.9', window: '2h', expr: slothTicketExpr('api-backend') }),
      'ignore',
      /a ticket, not a rollback/,
    ],
    [
      "checkout's Sloth burn named api-backend by burnback_service",
      slothPageAlert({
        value: '0.9',
        labels: { burnback_service: 'api-backend', sloth_service: 'api-backend' },
        expr: slothPageExpr('checkout'),
      }),
      'ignore',
      /the rule's selector slo:sli_error:ratio_rate5m\{sloth_service="checkout"\} is not api-backend's/,
    ],
    [
      'an error ratio on a metric the config does not name',
      alert({
        labels: { burnback_service: 'api-backend' },
        annotations: { burnback_value: '0.5' },
        expr: 'http_errors:ratio > 0.01',
        startsAt: '2026-11-26T10:00:00Z',
      }),
      'ignore',
      /does not name in signals.errorRatio.prometheusMetrics/,
    ],
  ])('%s', (_name, a, action, reason) => {
    const d = judge(event(notification([a])));
    expect({ action: d.action, reason: d.reason }).toEqual({ action, reason: expect.stringMatching(reason) });
  });

  it('a burn-rate alert never rolls back when its value is under the bar, whatever the windows', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 0.144, noNaN: true }), fc.constantFrom('5m', '30m'), (value, window) => {
        const d = judge(event(notification([slothPageAlert({ value: String(value), window })])));
        if (window === '5m' || value <= 0.06) expect(d.action).not.toBe('rollback');
      }),
    );
  });
});
