import fc from 'fast-check';
import { DEFAULT_POLICY } from '@burnback/contracts';
import { serviceConfig } from '@burnback/testkit/fixtures';
import { generatorUrl, pyrraExpr, slothPageExpr, slothTicketExpr } from '../../test/alertmanager-payloads.js';
import type { ServiceConfig } from '@burnback/platform';
import { burnPolicyOfWindows, classifyAlert, type AlertServiceConfig } from './alertmanager-signal.js';

const PROM_ERROR_RATIO = 'slo:sli_error:ratio_rate1h';
/** A service as config/local.yaml has it, with Alertmanager's parts: Sloth's label to match, Sloth's 1 h error ratio. */
const service = (name: string, labels: Record<string, string> = {}, overrides: Partial<ServiceConfig> = {}): ServiceConfig =>
  serviceConfig(name, {
    match: { resourceType: 'cloud_run_revision', resourceLabels: { service_name: name }, labels },
    signals: { errorRatio: { metrics: [], prometheusMetrics: [PROM_ERROR_RATIO] } },
    ...overrides,
  });
const apiBackend = service('api-backend', { sloth_service: 'api-backend' });
const checkout = service('checkout', { slo: 'checkout-availability' });

describe('what an Alertmanager alert measures', () => {
  const sloth = (window: string | null, value: number | null, expr = slothPageExpr('api-backend'), s: AlertServiceConfig = apiBackend) =>
    classifyAlert(
      { labels: { sloth_service: 'api-backend', ...(window === null ? {} : { sloth_window: window }) }, generatorURL: generatorUrl(expr) },
      s,
      { observed: value, threshold: null },
    );
  const classify = (
    expr: string | null,
    labels: Record<string, string> = {},
    value: number | null = 0.2,
    s: AlertServiceConfig = apiBackend,
  ) => classifyAlert({ labels, generatorURL: expr === null ? null : generatorUrl(expr) }, s, { observed: value, threshold: null });

  it("Sloth's page alert firing on its 5m/1h windows is a fast burn: the value (the 5 min error ratio) over the error budget", () => {
    expect(sloth('5m', 0.2)).toEqual({
      signal: {
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
      },
      thresholdValue: 14.4 * 0.010000000000000009,
    });
    // The 1 h window names the same branch.
    expect(sloth('1h', 0.2).signal).toMatchObject({ burnPolicy: 'fast' });
  });

  it('on its 30m/6h windows, a slow burn with the service slow threshold', () => {
    const slowService = service('api-backend', {}, { policy: { ...DEFAULT_POLICY, slowBurnRate: 5 } });
    expect(sloth('30m', 0.07, slothPageExpr('api-backend'), slowService)).toMatchObject({
      signal: {
        signal: 'burn-rate',
        lookbackSeconds: 1800,
        signalValue: 7,
        signalThreshold: 6,
        burnPolicy: 'slow',
        burnWindows: { longSeconds: 21600, shortSeconds: 1800, threshold: 5 },
      },
      thresholdValue: 6 * 0.010000000000000009,
    });
  });

  it('without a value (no burnback_value annotation) it is still a burn rate, whose value is unknown', () => {
    expect(sloth('5m', null).signal).toMatchObject({ signal: 'burn-rate', signalValue: null, burnPolicy: 'fast' });
  });

  it("Pyrra's alerts are burn rates on their window pair, their labels agreeing", () => {
    const pyrra = (short: string, long: string, factor: number, labels: Record<string, string> = { short, long }) =>
      classify(
        pyrraExpr('checkout-availability', short, long, factor),
        { slo: 'checkout-availability', severity: 'critical', ...labels },
        0.3,
        checkout,
      );
    expect(pyrra('5m', '1h', 14)).toMatchObject({
      signal: { signal: 'burn-rate', burnPolicy: 'fast', signalValue: 30, signalThreshold: 14, lookbackSeconds: 300 },
      thresholdValue: 0.14,
    });
    expect(pyrra('30m', '6h', 7).signal).toMatchObject({
      burnPolicy: 'slow',
      burnWindows: { longSeconds: 21600, shortSeconds: 1800, threshold: 6 },
    });
    // A 30-day SLO window stretches Pyrra's windows a little: still the fast and slow policies.
    expect(pyrra('5m', '1h4m', 14).signal).toMatchObject({ burnPolicy: 'fast', burnWindows: { longSeconds: 3840, shortSeconds: 300 } });
    expect(pyrra('32m', '6h26m', 7).signal).toMatchObject({ burnPolicy: 'slow' });
    // Labels that read as something else than durations say nothing.
    expect(pyrra('5m', '1h', 14, { short: 'soon', long: 'later' }).signal).toMatchObject({ burnPolicy: 'fast' });
    expect(pyrra('5m', '1h', 14, {}).signal).toMatchObject({ burnPolicy: 'fast' });
    // Both must read as durations to say anything.
    expect(pyrra('5m', '1h', 14, { short: '5m', long: 'later' }).signal).toMatchObject({ burnPolicy: 'fast' });
    expect(pyrra('5m', '1h', 14, { short: 'soon', long: '1h' }).signal).toMatchObject({ burnPolicy: 'fast' });
  });

  it.each([
    [
      "Sloth's page alert that does not say which policy fired",
      () => sloth(null, 0.2),
      /^the rule joins 2 burn policies with or, and the alert does not say which fired \(no sloth_window label\)$/,
    ],
    ['a sloth_window that is not a duration', () => sloth('soon', 0.2), /no sloth_window label/],
    ['a sloth_window of no branch', () => sloth('2h', 0.2), /^sloth_window="2h" is not the window of exactly one branch of the rule$/],
    [
      "Sloth's ticket alert (2h/1d at 3×)",
      () => sloth('2h', 0.2, slothTicketExpr('api-backend')),
      /^a burn over 1 d \/ 2 h is neither the fast policy's windows \(1 h \/ 5 min\) nor the slow one's \(6 h \/ 30 min\): a ticket, not a rollback$/,
    ],
    ["Pyrra's warning alert (2h/1d at 2×)", () => classify(pyrraExpr('s', '2h', '1d', 2)), /a burn over 1 d \/ 2 h is neither/],
    ['windows 2 min away from the policy', () => classify(pyrraExpr('s', '7m', '1h', 14)), /a burn over 1 h \/ 7 min is neither/],
    [
      'labels that disagree with the rule',
      () => classify(pyrraExpr('s', '5m', '1h', 14), { short: '30m', long: '6h' }),
      /^the alert's labels say windows 6 h \/ 30 min, its rule 1 h \/ 5 min$/,
    ],
    [
      'a short-window label that disagrees',
      () => classify(pyrraExpr('s', '5m', '1h', 14), { short: '10m', long: '1h' }),
      /labels say windows 1 h \/ 10 min/,
    ],
    [
      'a long-window label that disagrees',
      () => classify(pyrraExpr('s', '5m', '1h', 14), { short: '5m', long: '2h' }),
      /labels say windows 2 h \/ 5 min/,
    ],
    [
      'an error budget a little off the service one',
      () => sloth('5m', 0.2, slothPageExpr('api-backend', '0.0100001')),
      /^the rule's error budget 0.0100001 is not the service's/,
    ],
    [
      'an SLO objective other than the service sloGoal',
      () => sloth('5m', 0.2, slothPageExpr('api-backend', '0.0009999999999999432')),
      /^the rule's error budget 0.001 is not the service's \(1 - policy.sloGoal = 0.01\): its burn rate would be misread; set policy.sloGoal to the SLO's objective$/,
    ],
    [
      'one window',
      () => classify('slo:sli_error:ratio_rate1h{sloth_service="api-backend"} > (14.4 * 0.01)'),
      /^a burn rate over one window is not a multi-window alert/,
    ],
    [
      'three windows',
      () =>
        classify(
          'slo:sli_error:ratio_rate5m > (14.4 * 0.01) and slo:sli_error:ratio_rate1h > (14.4 * 0.01) and slo:sli_error:ratio_rate6h > (14.4 * 0.01)',
        ),
      /^a burn rate over 3 windows or unequal factors is not a multi-window alert/,
    ],
    [
      'unequal factors',
      () => classify('slo:sli_error:ratio_rate5m > (14.4 * 0.01) and slo:sli_error:ratio_rate1h > (6 * 0.01)'),
      /over 2 windows or unequal factors/,
    ],
    [
      'different budgets',
      () => classify('slo:sli_error:ratio_rate5m > (14.4 * 0.01) and slo:sli_error:ratio_rate1h > (14.4 * 0.001)'),
      /^the rule compares its windows against different error budgets$/,
    ],
    [
      'windows of different SLOs',
      () =>
        classify('slo:sli_error:ratio_rate5m{sloth_slo="a"} > (14.4 * 0.01) and slo:sli_error:ratio_rate1h{sloth_slo="b"} > (14.4 * 0.01)'),
      /^the rule mixes series \(slo:sli_error:ratio_rate5m\{sloth_slo="a"\}, slo:sli_error:ratio_rate1h\{sloth_slo="b"\}\)$/,
    ],
    [
      'a Sloth and a Pyrra window',
      () => classify('slo:sli_error:ratio_rate5m > (14.4 * 0.01) and x:burnrate1h > (14.4 * 0.01)'),
      /the rule mixes series/,
    ],
    [
      'a burn alerting below',
      () => classify('slo:sli_error:ratio_rate5m < (14.4 * 0.01) and slo:sli_error:ratio_rate1h < (14.4 * 0.01)'),
      /^a burn rate alerting < does not fire on a burn$/,
    ],
    [
      'a factor on a series that is no burn series',
      () => classify('http_requests_total > (14.4 * 0.01) and slo:sli_error:ratio_rate1h > (14.4 * 0.01)'),
      /^http_requests_total > 0.144 is not a burn rate Burnback reads/,
    ],
    [
      'a plain threshold beside a burn window',
      () => classify('slo:sli_error:ratio_rate5m > (14.4 * 0.01) and slo:sli_error:ratio_rate1h > 0.144'),
      /^slo:sli_error:ratio_rate1h > 0.144 is not a burn rate Burnback reads/,
    ],
    [
      'no generatorURL (Grafana, vmalert)',
      () => classifyAlert({ labels: {} }, apiBackend, { observed: 1, threshold: null }),
      /^the alert's generatorURL carries no rule expression \(g0.expr\), so what it measures is unknown$/,
    ],
    [
      'a rule Burnback does not read',
      () => classify('sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.01'),
      /^the rule's expression is not one Burnback reads .*: sum\(rate/,
    ],
    [
      'a threshold on a metric the config does not name',
      () => classify('probe_success == 0'),
      /^a threshold on probe_success, which the service's config does not name in signals.errorRatio.prometheusMetrics$/,
    ],
    [
      'an error ratio for a service naming none',
      () => classify(`${PROM_ERROR_RATIO} > 0.01`, {}, 0.2, service('x', {}, { signals: { errorRatio: null } })),
      /does not name in signals.errorRatio.prometheusMetrics/,
    ],
    [
      'an error ratio alerting below',
      () => classify(`${PROM_ERROR_RATIO} < 0.01`),
      /^an error ratio alerting < 0.01 does not fire on errors$/,
    ],
    ['an error ratio alerting on equality', () => classify(`${PROM_ERROR_RATIO} == 0.01`), /alerting == 0.01/],
    ['an error-ratio threshold above 1', () => classify(`${PROM_ERROR_RATIO} > 2`), /^2 is not a ratio between 0 and 1$/],
    ['an error-ratio value above 1', () => classify(`${PROM_ERROR_RATIO} > 0.01`, {}, 1.5), /^1.5 is not a ratio between 0 and 1$/],
    ['a negative error-ratio value', () => classify(`${PROM_ERROR_RATIO} > 0.01`, {}, -0.1), /^-0.1 is not a ratio/],
  ])('%s is unsupported, with the reason', (_name, run, reason) => {
    const { signal } = run();
    expect(signal).toMatchObject({
      signal: 'unsupported',
      unsupportedReason: expect.stringMatching(reason),
      burnPolicy: null,
      signalValue: null,
    });
  });

  describe('a rule whose selector names another service than the one the alert maps to', () => {
    const cluster = service('api-backend', { cluster: 'prod-1' });
    const renamed = service('api-backend', { sloth_service: 'api' });
    it.each([
      ["Sloth's page rule of checkout", slothPageExpr('checkout'), apiBackend, /sloth_service="checkout"/],
      [
        'an error ratio on the generic service label of checkout',
        `${PROM_ERROR_RATIO}{service="checkout"} > 0.01`,
        apiBackend,
        /^the rule's selector slo:sli_error:ratio_rate1h\{service="checkout"\} is not api-backend's, the service the alert maps to \(service="api-backend", its name\): another service's SLO never rolls it back; if the rule is api-backend's, set match.labels.service to the rule's value in its config$/,
      ],
      [
        'a burnback_service matcher of checkout',
        `${PROM_ERROR_RATIO}{burnback_service="checkout"} > 0.01`,
        apiBackend,
        /burnback_service="checkout"/,
      ],
      [
        "Pyrra's slo another than the one match.labels names",
        pyrraExpr('checkout-latency', '5m', '1h', 14),
        checkout,
        /^the rule's selector http_requests:burnrate5m\{slo="checkout-latency"\} is not checkout's, the service the alert maps to \(slo="checkout-availability", its match.labels\)/,
      ],
      [
        'a match.labels label with another value',
        slothPageExpr('api-backend').replaceAll('sloth_slo=', 'cluster="staging-1", sloth_slo='),
        cluster,
        /cluster="staging-1"/,
      ],
      [
        "the service's name where match.labels names another",
        slothPageExpr('api-backend'),
        renamed,
        /sloth_service="api-backend"\} is not api-backend's, .*\(sloth_service="api", its match.labels\)/,
      ],
      [
        'a regex over services',
        `${PROM_ERROR_RATIO}{sloth_service=~"api-.*"} > 0.01`,
        apiBackend,
        /^the rule's selector slo:sli_error:ratio_rate1h\{sloth_service=~"api-\.\*"\} is not api-backend's, the service the alert maps to \(sloth_service="api-backend", its match.labels\): another service's SLO never rolls it back$/,
      ],
      ['a negative matcher', `${PROM_ERROR_RATIO}{sloth_service!="checkout"} > 0.01`, apiBackend, /sloth_service!="checkout"/],
      [
        'a value written with an escape JSON does not have',
        `${PROM_ERROR_RATIO}{sloth_service="api\\x2dbackend"} > 0.01`,
        apiBackend,
        /sloth_service="api\\x2dbackend"/,
      ],
    ])('%s is unsupported, with the reason', (_name, expr, s, reason) => {
      const labels = { sloth_window: '5m', slo: 'checkout-availability' };
      expect(classify(expr, labels, 0.2, s).signal).toMatchObject({
        signal: 'unsupported',
        unsupportedReason: expect.stringMatching(reason),
        burnPolicy: null,
        signalValue: null,
      });
    });

    it.each([
      ["Sloth's page rule of the service", slothPageExpr('api-backend'), apiBackend, 'burn-rate'],
      ['the name match.labels gives', slothPageExpr('api'), renamed, 'burn-rate'],
      [
        'the cluster match.labels gives',
        slothPageExpr('api-backend').replaceAll('sloth_slo=', 'cluster="prod-1", sloth_slo='),
        cluster,
        'burn-rate',
      ],
      [
        "Pyrra's slo when match.labels names none (an SLO's name is not a service's)",
        pyrraExpr('anything', '5m', '1h', 14),
        apiBackend,
        'burn-rate',
      ],
      ["Pyrra's slo match.labels names", pyrraExpr('checkout-availability', '5m', '1h', 14), checkout, 'burn-rate'],
      ['an escaped value that is the name', `${PROM_ERROR_RATIO}{sloth_service="api\\u002dbackend"} > 0.01`, apiBackend, 'error-ratio'],
      ['labels the check does not know', `${PROM_ERROR_RATIO}{job="x", sloth_slo=~"a|b"} > 0.01`, apiBackend, 'error-ratio'],
    ])('%s is read as usual', (_name, expr, s, signal) => {
      expect(classify(expr, { sloth_window: '5m' }, 0.2, s).signal).toMatchObject({ signal, unsupportedReason: null });
    });
  });

  it('quotes at most 300 characters of a rule it does not read', () => {
    const expr = `rate(x{a="${'y'.repeat(400)}"}[5m]) > 1`;
    const reason = classify(expr).signal.unsupportedReason!;
    expect(reason.endsWith(`${expr.slice(0, 300)}…`)).toBe(true);
    expect(classify('rate(x[5m]) > 1').signal.unsupportedReason!.endsWith(': rate(x[5m]) > 1')).toBe(true);
  });

  it("keeps the rule's comparison, and its threshold as the rule compares it", () => {
    const ops = {
      '>': 'COMPARISON_GT',
      '>=': 'COMPARISON_GE',
      '<': 'COMPARISON_LT',
      '<=': 'COMPARISON_LE',
      '==': 'COMPARISON_EQ',
      '!=': 'COMPARISON_NE',
    };
    for (const [op, comparison] of Object.entries(ops)) {
      expect(classify(`x ${op} 0.5`)).toMatchObject({ signal: { comparison }, thresholdValue: 0.5 });
    }
    expect(classify(null)).toEqual({ signal: expect.objectContaining({ comparison: null }), thresholdValue: null });
    expect(classify('rate(x[5m]) > 1')).toEqual({ signal: expect.objectContaining({ comparison: null }), thresholdValue: null });
    expect(classify('slo:sli_error:ratio_rate1h > (14.4 * 0.01)').thresholdValue).toBeCloseTo(0.144, 12);
  });

  it('an error ratio on a metric the config names, alerting above its threshold, is an error ratio', () => {
    expect(classify(`${PROM_ERROR_RATIO}{sloth_service="api-backend"} > 0.01`, {}, 0.05)).toEqual({
      signal: {
        signal: 'error-ratio',
        lookbackSeconds: null,
        comparison: 'COMPARISON_GT',
        signalValue: 0.05,
        signalThreshold: 0.01,
        sloName: null,
        sloSelector: null,
        burnPolicy: null,
        burnPolicySource: null,
        burnWindows: null,
        unsupportedReason: null,
      },
      thresholdValue: 0.01,
    });
    expect(classify(`${PROM_ERROR_RATIO} >= 1`, {}, 0).signal).toMatchObject({
      signal: 'error-ratio',
      comparison: 'COMPARISON_GE',
      signalValue: 0,
      signalThreshold: 1,
    });
    expect(classify(`${PROM_ERROR_RATIO} > 0`, {}, null).signal).toMatchObject({ signal: 'error-ratio', signalValue: null });
  });

  it('a burn rate is only ever a multi-window rule on the fast or slow windows, its value over its budget', () => {
    const window = fc.constantFrom('1m', '5m', '6m', '30m', '32m', '1h', '1h4m', '2h', '6h', '6h26m', '1d', '3d');
    fc.assert(
      fc.property(
        window,
        window,
        fc.integer({ min: 1, max: 30 }),
        fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
        (short, long, factor, value) => {
          const { signal } = classify(pyrraExpr('s', short, long, factor), {}, value);
          if (signal.signal !== 'burn-rate') {
            expect(signal.signal).toBe('unsupported');
            expect(signal.unsupportedReason).toEqual(expect.any(String));
            return;
          }
          expect(signal.unsupportedReason).toBeNull();
          expect(burnPolicyOfWindows(signal.burnWindows!.longSeconds, signal.burnWindows!.shortSeconds)).toBe(signal.burnPolicy);
          expect(signal.signalValue === null ? null : signal.signalValue).toBe(
            value === null ? null : Number((value / 0.01).toPrecision(12)),
          );
          expect(signal.signalThreshold).toBe(factor);
        },
      ),
    );
  });
});

describe('the burn policy of a pair of windows', () => {
  it.each([
    [3600, 300, 'fast'],
    [3840, 300, 'fast'],
    [4500, 375, 'fast'],
    [2700, 225, 'fast'],
    [4501, 300, null],
    [3600, 376, null],
    [2699, 300, null],
    [3600, 224, null],
    [21600, 1800, 'slow'],
    [23160, 1920, 'slow'],
    [27000, 2250, 'slow'],
    [27001, 1800, null],
    [16200, 1350, 'slow'],
    [16199, 1800, null],
    [21600, 2251, null],
    [86400, 7200, null],
    [300, 300, null],
  ])('%s s / %s s is %s', (long, short, policy) => {
    expect(burnPolicyOfWindows(long, short)).toBe(policy);
  });
});
