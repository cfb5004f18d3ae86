import fc from 'fast-check';
import { AlertEvent, DEFAULT_POLICY, type MonitoringNotification } from '@burnback/contracts';
import { decide, initialServiceState } from '@burnback/policy';
import {
  budgetIncident,
  burnRateIncident,
  cpuUtilisationIncident,
  incidentOf,
  latencyIncident,
  mqlIncident,
  notificationBytes,
  openIncident,
  promqlBurnRateIncident,
  requestRateIncident,
  serviceConfig,
  sloName,
  slowBurnIncident,
  stagingIncident,
  successRatioIncident,
  servicesOf,
} from '@burnback/testkit/fixtures';
import { mapToService, parseNotification, toAlertEvent, UnmappedNotification, valuesOf } from '../src/parse.js';
import {
  burnPolicyNamedIn,
  burnPolicyOfWindow,
  classifySignal,
  durationSeconds,
  metricTypeOf,
  sloSelectorsOf,
  type SignalServiceConfig,
} from '../src/signal.js';

const apiBackend = serviceConfig('api-backend');
const noErrorRatio = serviceConfig('api-backend', { signals: { errorRatio: null } });

/** Classifies a notification as ingest does: through the JSON bytes and the schema. */
const classify = (n: MonitoringNotification, service: SignalServiceConfig = apiBackend) => {
  const incident = parseNotification(notificationBytes(n)).incident;
  return classifySignal(incident, service, valuesOf(incident));
};

/** A burn-rate alert whose names say nothing of fast or slow. */
const neutralBurn = (lookback: string, extra: Parameters<typeof burnRateIncident>[0] = {}) =>
  burnRateIncident({ lookback, policyName: 'api-backend availability', conditionName: `Burn rate on ${lookback}`, ...extra });

describe('what an alert measures', () => {
  it.each<[string, MonitoringNotification, SignalServiceConfig, RegExp]>([
    ['CPU utilisation 0.835', cpuUtilisationIncident(), apiBackend, /container\/cpu\/utilizations alone is not a ratio of bad to total/],
    ['p99 latency', latencyIncident(), apiBackend, /request_latencies alone is not a ratio/],
    ['requests per second', requestRateIncident(), apiBackend, /request_count alone is not a ratio of bad to total requests/],
    ['a PromQL burn rate of 3', promqlBurnRateIncident(), apiBackend, /PromQL condition/],
    ['an MQL ratio', mqlIncident(), apiBackend, /MQL condition/],
    [
      'a success ratio the config does not name',
      successRatioIncident(),
      noErrorRatio,
      /does not name run\.googleapis\.com\/request_count in signals\.errorRatio\.metricTypes/,
    ],
    [
      'an error ratio of a metric the config does not name',
      openIncident(),
      serviceConfig('api-backend', {
        signals: {
          errorRatio: {
            metrics: [
              {
                metricType: 'custom.googleapis.com/errors',
                badRequests: { label: 'metric.label.code', kind: 'atLeast', min: 500, text: 'metric.labels.code >= 500' },
              },
            ],
          },
        },
      }),
      /does not name run\.googleapis\.com\/request_count/,
    ],
    [
      'a budget alert that fires when the budget is plentiful',
      budgetIncident({ comparison: 'COMPARISON_GT' }),
      apiBackend,
      /does not fire on a falling budget/,
    ],
    [
      'a burn rate alerting when it is low',
      burnRateIncident({ comparison: 'COMPARISON_LT' }),
      apiBackend,
      /burn rate alerting COMPARISON_LT does not fire on a burn/,
    ],
  ])('%s is unsupported, with the reason', (_name, notification, service, reason) => {
    const c = classify(notification, service);
    expect(c.signal).toBe('unsupported');
    expect(c.unsupportedReason).toMatch(reason);
    expect(c.signalValue).toBeNull();
    expect(c.burnPolicy).toBeNull();
  });

  it.each([
    [
      'an error ratio above its threshold (COMPARISON_GT)',
      openIncident(),
      { comparison: 'COMPARISON_GT', signalValue: 0.025, signalThreshold: 0.01 },
    ],
    [
      'a success ratio below 99 % (COMPARISON_LT): 0.97 is 3 % errors against a 1 % bar',
      successRatioIncident(),
      { comparison: 'COMPARISON_LT', signalValue: 0.03, signalThreshold: 0.01 },
    ],
  ])('%s is an error ratio with the direction applied', (_name, notification, expected) => {
    expect(classify(notification)).toEqual({
      signal: 'error-ratio',
      lookbackSeconds: null,
      sloName: null,
      sloSelector: null,
      burnPolicy: null,
      burnPolicySource: null,
      burnWindows: null,
      unsupportedReason: null,
      ...expected,
    });
  });

  it('a fast-burn SLO alert is a burn rate over its window, held to the fast policy', () => {
    expect(classify(burnRateIncident())).toEqual({
      signal: 'burn-rate',
      lookbackSeconds: 3600,
      comparison: 'COMPARISON_GT',
      signalValue: 15.2,
      signalThreshold: 14.4,
      sloName: sloName(),
      sloSelector: 'select_slo_burn_rate',
      burnPolicy: 'fast',
      burnPolicySource: 'display-name',
      burnWindows: { longSeconds: 3600, shortSeconds: 300, threshold: 14.4 },
      unsupportedReason: null,
    });
  });

  it("the slow-burn policy's 30-minute confirmation window is held to the slow bar, not the fast one", () => {
    expect(classify(slowBurnIncident())).toMatchObject({
      signal: 'burn-rate',
      lookbackSeconds: 1800,
      signalValue: 7.1,
      burnPolicy: 'slow',
      burnWindows: { longSeconds: 21600, shortSeconds: 1800, threshold: 6 },
    });
  });

  it.each([
    ['select_slo_health', '0.982', 0.99],
    ['select_slo_budget_fraction', '0.12', 0.25],
  ] as const)('%s falling below its threshold is a budget signal', (selector, observed, threshold) => {
    expect(classify(budgetIncident({ selector }))).toMatchObject({
      signal: 'budget',
      sloName: sloName(),
      sloSelector: selector,
      comparison: 'COMPARISON_LT',
      signalValue: Number(observed),
      signalThreshold: threshold,
      burnPolicy: null,
      unsupportedReason: null,
    });
  });

  it('other SLO selectors are unsupported', () => {
    const n = budgetIncident();
    n.incident.condition!.conditionThreshold!.filter = `select_slo_budget("${sloName()}")`;
    expect(classify(n)).toMatchObject({
      signal: 'unsupported',
      unsupportedReason: 'select_slo_budget is not a burn rate or a budget fraction',
    });
  });

  it.each([
    ['no lookback', `select_slo_burn_rate("${sloName()}")`, /needs a lookback such as "3600s" \(got none\)/],
    ['an unreadable lookback', `select_slo_burn_rate("${sloName()}", "an hour")`, /\(got an hour\)/],
    [
      'two SLOs',
      `select_slo_burn_rate("${sloName()}", "1h") AND select_slo_burn_rate("${sloName({ slo: 'latency' })}", "5m")`,
      /mixes SLO selectors or SLOs/,
    ],
    [
      'two SLOs, each window readable (only the guard against mixing refuses it)',
      `select_slo_burn_rate("${sloName()}", "3600s") AND select_slo_burn_rate("${sloName({ slo: 'latency' })}", "300s")`,
      /^the filter mixes SLO selectors or SLOs \(select_slo_burn_rate\(".*"\), select_slo_burn_rate\(".*latency"\)\)$/,
    ],
    [
      'three windows',
      ['1h', '5m', '30m'].map((l) => `select_slo_burn_rate("${sloName()}", "${l}")`).join(' AND '),
      /a burn-rate filter with 3 windows is not a multi-window alert/,
    ],
  ])('a burn-rate filter with %s is unsupported', (_name, filter, reason) => {
    const n = burnRateIncident();
    n.incident.condition!.conditionThreshold!.filter = filter;
    const c = classify(n);
    expect(c.signal).toBe('unsupported');
    expect(c.unsupportedReason).toMatch(reason);
    if (!/two SLOs/.test(_name)) expect(c.sloName).toBe(sloName());
  });

  /** The notification without a comparison (Monitoring omits an unset one). */
  const withoutComparison = (n: MonitoringNotification) => {
    delete (n.incident.condition!.conditionThreshold as { comparison?: unknown }).comparison;
    return n;
  };

  it.each([
    [
      'a health alert firing above its threshold',
      budgetIncident({ comparison: 'COMPARISON_GT' }),
      'select_slo_health alerting COMPARISON_GT does not fire on a falling budget',
    ],
    [
      'a budget-fraction alert with no comparison',
      withoutComparison(budgetIncident({ selector: 'select_slo_budget_fraction' })),
      'select_slo_budget_fraction alerting without a comparison does not fire on a falling budget',
    ],
    [
      'a burn-rate alert with no comparison',
      withoutComparison(burnRateIncident()),
      'a burn rate alerting without a comparison does not fire on a burn',
    ],
    [
      'a burn-rate alert firing when the burn is at most its threshold',
      burnRateIncident({ comparison: 'COMPARISON_LE' }),
      'a burn rate alerting COMPARISON_LE does not fire on a burn',
    ],
  ])('%s is unsupported, with its comparison (or none) named', (_name, notification, reason) => {
    expect(classify(notification)).toMatchObject({
      signal: 'unsupported',
      unsupportedReason: reason,
      sloName: sloName(),
      burnPolicy: null,
    });
  });

  it('a budget filter mixing two selectors (budget fraction and health) is unsupported, not read as either', () => {
    const n = budgetIncident();
    n.incident.condition!.conditionThreshold!.filter = `select_slo_budget_fraction("${sloName()}") AND select_slo_health("${sloName()}")`;
    expect(classify(n)).toMatchObject({
      signal: 'unsupported',
      unsupportedReason: expect.stringMatching(/^the filter mixes SLO selectors or SLOs \(select_slo_budget_fraction/),
    });
  });

  it.each([
    ['COMPARISON_GE', 0.025, 0.01],
    ['COMPARISON_LE', 0.975, 0.99],
  ])('an error ratio alerting %s reads its errors in the direction of the comparison', (comparison, observed, threshold) => {
    const n = openIncident({ observedValue: String(observed), thresholdValue: threshold });
    const condition = n.incident.condition!.conditionThreshold!;
    condition.comparison = comparison;
    // Alerting below its threshold, the ratio counts good requests: every one but the 5xx.
    if (comparison === 'COMPARISON_LE')
      condition.filter = condition.filter!.replace('response_code_class = "5xx"', 'response_code_class != "5xx"');
    expect(classify(n)).toMatchObject({ signal: 'error-ratio', comparison, signalValue: 0.025, signalThreshold: 0.01 });
  });

  it.each([
    [
      'a 4xx share',
      'COMPARISON_GT',
      '= "4xx"',
      'its numerator selects metric.label.response_code_class = "4xx": not only the bad requests (metric.labels.response_code_class = "5xx")',
    ],
    [
      'a share of everything but 2xx',
      'COMPARISON_GT',
      '!= "2xx"',
      'its numerator selects metric.label.response_code_class != "2xx": not only the bad requests',
    ],
    [
      'a 2xx share alerting below',
      'COMPARISON_LT',
      '= "2xx"',
      'it alerts below its threshold, so its numerator must select every request but the bad ones (metric.labels.response_code_class = "5xx"), and it selects metric.label.response_code_class = "2xx"',
    ],
  ])('%s is not an error ratio: ignored, with the reason', (_what, comparison, selects, reason) => {
    const n = openIncident({ observedValue: '0.07' });
    const condition = n.incident.condition!.conditionThreshold!;
    condition.comparison = comparison;
    condition.filter = condition.filter!.replace('= "5xx"', selects);
    const c = classify(n);
    expect(c).toMatchObject({ signal: 'unsupported', signalValue: null });
    expect(c.unsupportedReason).toContain(`a ratio of run.googleapis.com/request_count requests that is not an error ratio: ${reason}`);
  });

  it("a canary's share of traffic (nothing said of the response) is not an error ratio", () => {
    const n = openIncident({ observedValue: '0.25' });
    const condition = n.incident.condition!.conditionThreshold!;
    condition.filter = condition.filter!.replace(
      'metric.labels.response_code_class = "5xx"',
      'resource.labels.revision_name = "api-backend-00043-new"',
    );
    expect(classify(n).unsupportedReason).toBe(
      'a ratio of run.googleapis.com/request_count requests that is not an error ratio: its numerator says nothing of metric.label.response_code_class: not only the bad requests (metric.labels.response_code_class = "5xx")',
    );
  });

  it("a service's own bad-request predicate is what counts", () => {
    const n = openIncident();
    n.incident.condition!.conditionThreshold!.filter = n.incident.condition!.conditionThreshold!.filter!.replace(
      'metric.labels.response_code_class = "5xx"',
      'metric.labels.response_code_class = one_of("5xx", "429")',
    );
    expect(classify(n).signal).toBe('unsupported');
    const lenient = serviceConfig('api-backend', {
      signals: {
        errorRatio: {
          metrics: [
            {
              metricType: 'run.googleapis.com/request_count',
              badRequests: { label: 'metric.label.response_code_class', kind: 'equals', values: ['5xx', '429'], text: 'x' },
            },
          ],
        },
      },
    });
    expect(classifySignal(n.incident, lenient, valuesOf(n.incident))).toMatchObject({ signal: 'error-ratio', signalValue: 0.025 });
  });

  it.each([
    ['COMPARISON_EQ', '0.025', /a ratio alerting COMPARISON_EQ has no direction/],
    ['COMPARISON_NE', '0.025', /a ratio alerting COMPARISON_NE has no direction/],
    ['COMPARISON_UNSPECIFIED', '0.025', /has no direction/],
    [undefined, '0.025', /a ratio alerting without a comparison has no direction/],
    ['COMPARISON_GT', '1.5', /1\.5 is not a ratio between 0 and 1/],
    ['COMPARISON_GT', '-0.1', /-0\.1 is not a ratio between 0 and 1/],
  ])('a ratio alerting %s with value %s is unsupported', (comparison, observed, reason) => {
    const n = openIncident({ observedValue: observed });
    n.incident.condition!.conditionThreshold!.comparison = comparison;
    const c = classify(n);
    expect(c.signal).toBe('unsupported');
    expect(c.unsupportedReason).toMatch(reason);
  });

  it('an unknown comparison is recorded as none', () => {
    const n = openIncident();
    n.incident.condition!.conditionThreshold!.comparison = 'COMPARISON_ABOVE';
    expect(classify(n)).toMatchObject({ signal: 'unsupported', comparison: null });
  });

  it('a ratio whose threshold is not a ratio is unsupported too', () => {
    expect(classify(openIncident({ thresholdValue: 5 }))).toMatchObject({
      signal: 'unsupported',
      unsupportedReason: '5 is not a ratio between 0 and 1',
    });
  });

  it.each([
    ['an error ratio', openIncident({ observedValue: '' })],
    ['a success ratio (its complement is not taken of nothing)', successRatioIncident({ observedValue: '' })],
  ])('%s without an observed value stays an error ratio with no value', (_name, notification) => {
    expect(classify(notification)).toMatchObject({
      signal: 'error-ratio',
      signalValue: null,
      signalThreshold: 0.01,
    });
  });

  it('any value from 0 to 1, both ends included, is a ratio; any other is unsupported, naming it', () => {
    const incident = parseNotification(notificationBytes(openIncident())).incident;
    const value = fc.oneof(
      fc.constantFrom(0, 1),
      fc.double({ min: -2, max: 2, noNaN: true }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
    fc.assert(
      fc.property(value, fc.boolean(), (v, asThreshold) => {
        const values = asThreshold ? { observed: 0.5, threshold: v } : { observed: v, threshold: 0.01 };
        const c = classifySignal(incident, apiBackend, values);
        const ratio = v >= 0 && v <= 1;
        expect(c).toMatchObject(
          ratio
            ? { signal: 'error-ratio', signalValue: values.observed, signalThreshold: values.threshold, unsupportedReason: null }
            : { signal: 'unsupported', signalValue: null, unsupportedReason: `${v} is not a ratio between 0 and 1` },
        );
      }),
      {
        examples: [
          [0, false],
          [1, false],
          [0, true],
          [1, true],
        ],
      },
    );
  });

  it('a success ratio without a threshold keeps its value and no threshold', () => {
    const n = successRatioIncident();
    delete (n.incident as { threshold_value?: unknown }).threshold_value;
    expect(classify(n)).toMatchObject({ signal: 'error-ratio', signalValue: 0.03, signalThreshold: 0.01 });
    delete (n.incident.condition!.conditionThreshold as { thresholdValue?: unknown }).thresholdValue;
    expect(classify(n)).toMatchObject({ signal: 'error-ratio', signalValue: 0.03, signalThreshold: null });
  });

  it('a ratio whose denominator is a metric the config does not name is unsupported', () => {
    const n = openIncident();
    n.incident.condition!.conditionThreshold!.denominatorFilter = 'metric.type = "run.googleapis.com/container/instance_count"';
    expect(classify(n).unsupportedReason).toBe(
      "a ratio of run.googleapis.com/request_count to run.googleapis.com/container/instance_count, and the service's config does not name run.googleapis.com/container/instance_count in signals.errorRatio.metricTypes",
    );
  });

  it.each([
    ['no denominatorFilter', undefined],
    ['an empty denominatorFilter', ''],
    ['a denominatorFilter of white space only', ' \n\t '],
  ])('a ratio with %s is not a ratio', (_name, denominatorFilter) => {
    const n = openIncident();
    const condition = n.incident.condition!.conditionThreshold!;
    if (denominatorFilter === undefined) delete condition.denominatorFilter;
    else condition.denominatorFilter = denominatorFilter;
    expect(classify(n)).toMatchObject({
      signal: 'unsupported',
      unsupportedReason:
        'run.googleapis.com/request_count alone is not a ratio of bad to total requests (the condition has no denominatorFilter)',
    });
  });

  it('a ratio of two metrics the config does not name names both', () => {
    const n = openIncident();
    n.incident.condition!.conditionThreshold!.denominatorFilter = 'metric.type = "run.googleapis.com/container/instance_count"';
    expect(classify(n, noErrorRatio).unsupportedReason).toBe(
      "a ratio of run.googleapis.com/request_count to run.googleapis.com/container/instance_count, and the service's config does not name run.googleapis.com/request_count, run.googleapis.com/container/instance_count in signals.errorRatio.metricTypes",
    );
  });

  it("with several metrics configured, a ratio is read with its own metric's bad-request predicate, not the first one's", () => {
    const twoMetrics = serviceConfig('api-backend', {
      signals: {
        errorRatio: {
          metrics: [
            {
              metricType: 'custom.googleapis.com/errors',
              badRequests: { label: 'metric.label.code', kind: 'atLeast', min: 500, text: 'metric.labels.code >= 500' },
            },
            ...apiBackend.signals.errorRatio!.metrics,
          ],
        },
      },
    });
    expect(classify(openIncident(), twoMetrics)).toMatchObject({ signal: 'error-ratio', signalValue: 0.025, signalThreshold: 0.01 });
  });

  it('a ratio whose denominator names no metric type is unsupported', () => {
    const n = openIncident();
    n.incident.condition!.conditionThreshold!.denominatorFilter = 'resource.type = "cloud_run_revision"';
    expect(classify(n).unsupportedReason).toMatch(/to an unknown metric, and the service's config does not name \(none\)/);
  });

  it.each([
    ['no condition at all', { condition: null }, 'the notification carries no condition, so what it measures is unknown'],
    [
      'a metric-absence condition',
      { condition: { displayName: 'x', conditionAbsent: { filter: 'metric.type = "a/b"' } } },
      'a metric-absence condition',
    ],
    [
      'a log-match condition',
      { condition: { displayName: 'x', conditionMatchedLog: { filter: 'severity>=ERROR' } } },
      'a log-match condition',
    ],
    ['a SQL condition', { condition: { displayName: 'x', conditionSql: { query: 'SELECT 1' } } }, 'a SQL (Log Analytics) condition'],
    ['an unknown kind of condition', { condition: { displayName: 'x', conditionSomethingNew: {} } }, 'not a metric-threshold condition'],
    [
      'a threshold without a metric type',
      { condition: { conditionThreshold: { filter: 'resource.type = "x"', comparison: 'COMPARISON_GT' } } },
      'the condition names no single metric type, so what it measures is unknown',
    ],
  ])('%s is unsupported', (_name, patch, reason) => {
    const n = openIncident();
    const c = classify({ ...n, incident: { ...n.incident, ...patch } });
    expect(c).toMatchObject({ signal: 'unsupported', unsupportedReason: reason });
  });

  it('a PromQL condition next to a threshold is still PromQL', () => {
    const n = openIncident();
    (n.incident.condition as Record<string, unknown>).conditionPrometheusQueryLanguage = { query: 'up' };
    expect(classify(n).unsupportedReason).toMatch(/^a PromQL condition/);
  });
});

describe('which burn policy an SLO alert comes from', () => {
  it.each<[string, MonitoringNotification, 'fast' | 'slow', string, { longSeconds: number; shortSeconds: number }]>([
    [
      'the policy user label wins over a fast name and a 1 h window',
      burnRateIncident({ policyUserLabels: { 'burnback-burn-policy': 'slow' } }),
      'slow',
      'policy-label',
      { longSeconds: 21600, shortSeconds: 1800 },
    ],
    [
      'the label is read case- and space-insensitively',
      neutralBurn('6h', { policyUserLabels: { 'burnback-burn-policy': ' FAST ' } }),
      'fast',
      'policy-label',
      { longSeconds: 3600, shortSeconds: 300 },
    ],
    [
      'a policy named "fast burn" on a 6 h window is fast: the name, not the window',
      burnRateIncident({ lookback: '6h' }),
      'fast',
      'display-name',
      { longSeconds: 3600, shortSeconds: 300 },
    ],
    [
      'a condition named slow-burn',
      neutralBurn('1h', { conditionName: 'SLO slow-burn (1h)' }),
      'slow',
      'display-name',
      { longSeconds: 21600, shortSeconds: 1800 },
    ],
    [
      'a policy named Fast_Burn',
      neutralBurn('30m', { policyName: 'api-backend Fast_Burn' }),
      'fast',
      'display-name',
      { longSeconds: 3600, shortSeconds: 300 },
    ],
    [
      'a policy named slowburn',
      neutralBurn('1h', { policyName: 'api-backend slowburn' }),
      'slow',
      'display-name',
      { longSeconds: 21600, shortSeconds: 1800 },
    ],
    [
      'names that say both fall back to the window',
      neutralBurn('6h', { policyName: 'fast and slow burn' }),
      'slow',
      'window',
      { longSeconds: 21600, shortSeconds: 1800 },
    ],
    [
      'policy and condition names that disagree fall back to the window',
      neutralBurn('1h', { policyName: 'slow', conditionName: 'fast' }),
      'fast',
      'window',
      { longSeconds: 3600, shortSeconds: 300 },
    ],
    [
      '"breakfast" is not "fast"',
      neutralBurn('6h', { policyName: 'breakfast-api availability' }),
      'slow',
      'window',
      { longSeconds: 21600, shortSeconds: 1800 },
    ],
    [
      'the windows 6 h and 30 min in one filter are the slow policy',
      neutralBurn('6h', { shortLookback: '30m' }),
      'slow',
      'sibling-windows',
      { longSeconds: 21600, shortSeconds: 1800 },
    ],
    [
      'the windows 1 h and 5 min in one filter are the fast policy',
      neutralBurn('5m', { shortLookback: '60m' }),
      'fast',
      'sibling-windows',
      { longSeconds: 3600, shortSeconds: 300 },
    ],
    [
      'sibling windows are carried as they are',
      neutralBurn('2h', { shortLookback: '10m' }),
      'slow',
      'sibling-windows',
      { longSeconds: 7200, shortSeconds: 600 },
    ],
    ['a lone 1 h window is inferred fast', neutralBurn('3600s'), 'fast', 'window', { longSeconds: 3600, shortSeconds: 300 }],
    ['a lone 5 min window is inferred fast', neutralBurn('300s'), 'fast', 'window', { longSeconds: 3600, shortSeconds: 300 }],
    [
      'a lone 30 min window is inferred slow (its short window)',
      neutralBurn('30m'),
      'slow',
      'window',
      { longSeconds: 21600, shortSeconds: 1800 },
    ],
    ['a lone 6 h window is inferred slow', neutralBurn('6h'), 'slow', 'window', { longSeconds: 21600, shortSeconds: 1800 }],
    ['a lone 2 h window is inferred slow', neutralBurn('2h'), 'slow', 'window', { longSeconds: 21600, shortSeconds: 1800 }],
  ])('%s', (_name, notification, policy, source, windows) => {
    const c = classify(notification);
    expect(c).toMatchObject({ signal: 'burn-rate', burnPolicy: policy, burnPolicySource: source });
    expect(c.burnWindows).toEqual({ ...windows, threshold: policy === 'fast' ? 14.4 : 6 });
  });

  it('a label that is neither fast nor slow makes the alert unsupported rather than guessed', () => {
    expect(classify(burnRateIncident({ policyUserLabels: { 'burnback-burn-policy': 'medium' } }))).toMatchObject({
      signal: 'unsupported',
      unsupportedReason: 'policy user label burnback-burn-policy="medium" must be fast or slow',
      sloName: sloName(),
    });
  });

  it("the thresholds are the service's own", () => {
    const custom = serviceConfig('api-backend', { policy: { ...DEFAULT_POLICY, fastBurnRate: 10, slowBurnRate: 4 } });
    expect(classify(burnRateIncident(), custom).burnWindows!.threshold).toBe(10);
    expect(classify(slowBurnIncident(), custom).burnWindows!.threshold).toBe(4);
  });

  it('the long window of a two-window filter is the lookback', () => {
    expect(classify(neutralBurn('5m', { shortLookback: '1h' })).lookbackSeconds).toBe(3600);
  });

  it('the same window twice is one window', () => {
    expect(classify(neutralBurn('1h', { shortLookback: '3600s' }))).toMatchObject({ burnPolicySource: 'window', lookbackSeconds: 3600 });
  });

  it.each([
    [300, 'fast'],
    [600, 'fast'],
    [1800, 'slow'],
    [3600, 'fast'],
    [3601, 'slow'],
    [21600, 'slow'],
  ])('a lone window of %i s belongs to the %s policy', (seconds, policy) => {
    expect(burnPolicyOfWindow(seconds)).toBe(policy);
  });

  it.each([
    ['Fast burn', 'fast'],
    ['SLO FAST-BURN', 'fast'],
    ['fastburn', 'fast'],
    ['fast_burn', 'fast'],
    ['slow', 'slow'],
    ['(slow) 6h', 'slow'],
    ['breakfast', null],
    ['slowly', null],
    ['fast and slow', null],
    ['', null],
  ])('%j names the %s policy', (text, policy) => {
    expect(burnPolicyNamedIn(text)).toBe(policy);
  });
});

describe('reading filters', () => {
  it.each([
    ['3600s', 3600],
    ['60m', 3600],
    ['1h', 3600],
    ['1.5h', 5400],
    ['500ms', 0.5],
    ['250us', 0.00025],
    ['5000000000ns', 5],
    [' 30m ', 1800],
    ['0s', null],
    ['1d', null],
    ['h', null],
    ['', null],
  ])('the lookback %j is %p seconds', (text, seconds) => {
    expect(durationSeconds(text)).toBe(seconds);
  });

  it('finds every SLO selector with its arguments', () => {
    expect(
      sloSelectorsOf('select_slo_burn_rate( "projects/p/services/s/serviceLevelObjectives/o" , "1h" ) AND select_slo_health("x")'),
    ).toEqual([
      { selector: 'select_slo_burn_rate', slo: 'projects/p/services/s/serviceLevelObjectives/o', lookback: '1h' },
      { selector: 'select_slo_health', slo: 'x', lookback: null },
    ]);
    expect(sloSelectorsOf('metric.type = "a/b"')).toEqual([]);
  });

  it.each([
    ['a selector without its SLO', 'select_slo_health()'],
    ['a selector with three arguments', 'select_slo_burn_rate("projects/p/services/s/serviceLevelObjectives/o", "1h", "5m")'],
    ['a call of another function', 'has_substring("projects/p/services/s/serviceLevelObjectives/o")'],
    ['a filter that cannot be read', 'select_slo_burn_rate("projects/p/services/s/serviceLevelObjectives/o", "1h"'],
  ])('%s is no SLO selector', (_name, filter) => {
    expect(sloSelectorsOf(filter)).toEqual([]);
  });

  it.each([
    ['metric.type = "run.googleapis.com/request_count" AND resource.type = "x"', 'run.googleapis.com/request_count'],
    ['metric.type="a.com/b"', 'a.com/b'],
    ['metric.type = "a.com/b" OR metric.type = "a.com/b"', 'a.com/b'],
    ['metric.type = "a.com/b" OR metric.type = "a.com/c"', null],
    ['metric.labels.type = "a.com/b"', null],
    ['resource.type = "x"', null],
    ['metric.type != "a.com/b"', null],
    ['metric.type = "a.com/b" AND metric.type != "a.com/c"', 'a.com/b'],
    ['metric.type = starts_with("run.googleapis.com/")', null],
    ['metric.type = "a.com/b" AND (', null],
  ])('the filter %j selects the metric type %p', (filter, type) => {
    expect(metricTypeOf(filter)).toBe(type);
  });
});

describe('the monitored resource must be the service in its project and location', () => {
  const production = serviceConfig('api-backend');
  const stagingConfig = serviceConfig('api-backend-staging', {
    project: 'burnback-staging',
    match: { resourceType: 'cloud_run_revision', resourceLabels: { service_name: 'api-backend' } },
  });
  const incidentOfNotification = (n: MonitoringNotification) => parseNotification(notificationBytes(n)).incident;

  it("a staging project's api-backend does not map to production's", () => {
    expect(() => mapToService(incidentOfNotification(stagingIncident()), servicesOf(production))).toThrow(
      'no configured service matches incident 0.staging4same on resource cloud_run_revision {"project_id":"burnback-staging","service_name":"api-backend","location":"us-central1","revision_name":"api-backend-00042-xyz","configuration_name":"api-backend"}: api-backend is not on project burnback-staging (the service is in burnback-local)',
    );
  });

  it('with both configured, each project maps to its own service', () => {
    const services = servicesOf(production, stagingConfig);
    expect(mapToService(incidentOfNotification(stagingIncident()), services).name).toBe('api-backend-staging');
    expect(mapToService(incidentOfNotification(openIncident()), services).name).toBe('api-backend');
  });

  it('another region does not map either', () => {
    const n = openIncident();
    n.incident.resource!.labels.location = 'europe-west1';
    expect(() => mapToService(incidentOfNotification(n), servicesOf(production))).toThrow(
      /api-backend is not on location europe-west1 \(the service is in us-central1\)/,
    );
  });

  it('a resource that names its region in a region label is checked too', () => {
    const n = openIncident();
    delete n.incident.resource!.labels.location;
    n.incident.resource!.labels.region = 'europe-west1';
    expect(() => mapToService(incidentOfNotification(n), servicesOf(production))).toThrow(/location europe-west1/);
  });

  it('a resource without project or location labels maps by its other labels', () => {
    const n = openIncident();
    n.incident.resource!.labels = { service_name: 'api-backend' };
    expect(mapToService(incidentOfNotification(n), servicesOf(production)).name).toBe('api-backend');
  });

  it('the burnback-service label still maps, but not across projects', () => {
    const labelled = { 'burnback-service': 'api-backend' };
    expect(mapToService(incidentOfNotification(openIncident({ policyUserLabels: labelled })), servicesOf(production)).name).toBe(
      'api-backend',
    );
    expect(() => mapToService(incidentOfNotification(stagingIncident({ policyUserLabels: labelled })), servicesOf(production))).toThrow(
      'policy user label burnback-service="api-backend" names a service in another project: incident 0.staging4same is on project burnback-staging (the service is in burnback-local)',
    );
  });

  it('the burnback-service label overrides the location: the policy says which service it is', () => {
    const n = openIncident({ policyUserLabels: { 'burnback-service': 'api-backend' } });
    n.incident.resource!.labels.location = 'europe-west1';
    expect(mapToService(incidentOfNotification(n), servicesOf(production)).name).toBe('api-backend');
  });

  it('an SLO alert maps to the service whose config names the SLO, whatever its resource says', () => {
    const n = burnRateIncident();
    n.incident.resource = { type: 'audited_resource', labels: { project_id: 'burnback-local', service: 'monitoring.googleapis.com' } };
    const services = servicesOf(serviceConfig('api-backend', { slo: sloName() }), serviceConfig('other'));
    expect(mapToService(incidentOfNotification(n), services).name).toBe('api-backend');
  });

  it('an SLO two services name is refused instead of guessed', () => {
    const services = servicesOf(serviceConfig('a', { slo: sloName() }), serviceConfig('b', { slo: sloName() }));
    expect(() => mapToService(incidentOfNotification(burnRateIncident()), services)).toThrow(/matches several services: a, b/);
  });

  it('an alert on two SLOs, each named by a service, is refused, naming both SLOs', () => {
    const latency = sloName({ slo: 'latency' });
    const n = burnRateIncident();
    n.incident.condition!.conditionThreshold!.filter = `select_slo_burn_rate("${sloName()}", "1h") AND select_slo_burn_rate("${latency}", "1h")`;
    const services = servicesOf(serviceConfig('a', { slo: sloName() }), serviceConfig('b', { slo: latency }));
    expect(() => mapToService(incidentOfNotification(n), services)).toThrow(
      `incident 0.burn4rate on SLO ${sloName()}, ${latency} matches several services: a, b`,
    );
  });

  it("a service's SLO does not claim an alert that selects no SLO: that one maps by its resource", () => {
    const services = servicesOf(serviceConfig('checkout', { slo: sloName({ service: 'checkout' }) }), production);
    expect(mapToService(incidentOfNotification(openIncident()), services).name).toBe('api-backend');
  });
});

describe('the AlertEvent carries the classification', () => {
  const ctx = {
    services: servicesOf(apiBackend),
    source: 'pubsub' as const,
    observedAt: new Date('2026-11-26T10:05:00Z'),
    notificationId: 'ntf-1',
  };
  const eventOf = (n: MonitoringNotification) => toAlertEvent(parseNotification(notificationBytes(n)), ctx);

  it('an unsupported alert is still an AlertEvent for the decider, not a dead letter', () => {
    const event = eventOf(cpuUtilisationIncident());
    expect(AlertEvent.parse(event)).toEqual(event);
    expect(event).toMatchObject({
      signal: 'unsupported',
      observedValue: 0.835,
      thresholdValue: 0.8,
      comparison: 'COMPARISON_GT',
      signalValue: null,
    });
    expect(event.unsupportedReason).toMatch(/cpu\/utilizations/);
  });

  it('a burn-rate alert carries its SLO, policy, windows and thresholds', () => {
    const event = eventOf(slowBurnIncident());
    expect(AlertEvent.parse(event)).toEqual(event);
    expect(event).toMatchObject({
      signal: 'burn-rate',
      sloName: sloName(),
      burnPolicy: 'slow',
      burnPolicySource: 'display-name',
      burnWindows: { longSeconds: 21600, shortSeconds: 1800, threshold: 6 },
    });
  });

  it('an AlertEvent from an ingest that did not classify yet still decodes, with no classification', () => {
    const {
      comparison: _c,
      signalValue: _v,
      signalThreshold: _t,
      burnPolicy: _p,
      burnWindows: _w,
      unsupportedReason: _r,
      ...old
    } = eventOf(openIncident());
    expect(AlertEvent.parse(old)).toMatchObject({
      signal: 'error-ratio',
      comparison: null,
      signalValue: null,
      burnPolicy: null,
      unsupportedReason: null,
    });
  });
});

describe('nothing but a burn rate or a named error ratio is ever a rollback signal', () => {
  const services = servicesOf(apiBackend);
  const ctx = { services, source: 'pubsub' as const, observedAt: new Date('2026-11-26T10:05:00Z'), notificationId: 'ntf-p' };
  const comparisons = fc.constantFrom('COMPARISON_GT', 'COMPARISON_GE', 'COMPARISON_LT', 'COMPARISON_LE', 'COMPARISON_EQ', undefined);
  const value = fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constantFrom(0, 0.835, 3, 1000, 1e-9));
  const metricType = fc
    .tuple(
      fc.constantFrom('run.googleapis.com', 'compute.googleapis.com', 'custom.googleapis.com', 'prometheus.googleapis.com'),
      fc.stringMatching(/^[a-z_/]{1,20}$/),
    )
    .map(([d, p]) => `${d}/${p}`)
    .filter((t) => t !== 'run.googleapis.com/request_count');
  const threshold = (filter: string, comparison: string | undefined, extra: Record<string, unknown> = {}) => ({
    conditionThreshold: { filter, ...(comparison ? { comparison } : {}), duration: '60s', ...extra },
  });
  /** Conditions of every kind Burnback does not act on. */
  const condition = fc.oneof(
    // a metric no config names, with or without a denominator
    fc
      .tuple(metricType, comparisons, fc.boolean())
      .map(([t, c, ratio]) => threshold(`metric.type = "${t}"`, c, ratio ? { denominatorFilter: `metric.type = "${t}"` } : {})),
    // the named metric, but not as a ratio (a rate, a count)
    comparisons.map((c) => threshold('metric.type = "run.googleapis.com/request_count"', c)),
    // SLO selectors other than burn rate
    fc
      .tuple(
        fc.constantFrom(
          'select_slo_budget',
          'select_slo_compliance',
          'select_slo_counts',
          'select_slo_health',
          'select_slo_budget_fraction',
        ),
        comparisons,
      )
      .map(([s, c]) => threshold(`${s}("${sloName()}")`, c)),
    // query languages and other condition types
    fc.string().map((query) => ({ conditionPrometheusQueryLanguage: { query } })),
    fc.string().map((query) => ({ conditionMonitoringQueryLanguage: { query } })),
    fc.string().map((filter) => ({ conditionAbsent: { filter } })),
    fc.string().map((filter) => ({ conditionMatchedLog: { filter } })),
  );

  it('any condition that is not a supported kind classifies as unsupported (or budget), and decide() never rolls back on it', () => {
    fc.assert(
      fc.property(condition, value, value, (cond, observed, thresholdValue) => {
        const n = incidentOf({ policyName: 'p', conditionName: 'c', condition: cond, observedValue: String(observed), thresholdValue });
        const event = toAlertEvent(parseNotification(notificationBytes(n)), ctx);
        expect(['unsupported', 'budget']).toContain(event.signal);
        expect(event.signal === 'unsupported' ? event.unsupportedReason : 'budget').toBeTruthy();
        const decision = decide(initialServiceState('api-backend'), event, DEFAULT_POLICY);
        expect(decision.action).toBe('ignore');
        expect(decision.errorRatio).toBeNull();
      }),
      { numRuns: 400 },
    );
  });

  it('classification never throws on any parsed notification: it is unsupported, not a dead letter', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), comparisons, (cond, c) => {
        const n = openIncident();
        let incident;
        try {
          incident = parseNotification(
            notificationBytes({ ...n, incident: { ...n.incident, condition: { ...cond, comparison: c } } }),
          ).incident;
        } catch (err) {
          expect((err as Error).name).toBe('PermanentError');
          return;
        }
        expect(() => classifySignal(incident, apiBackend, { observed: 0.5, threshold: 0.1 })).not.toThrow();
      }),
      { numRuns: 200 },
    );
  });

  it("a staging notification maps to no service (another project's alert), never an event for production", () => {
    const mapping = () => toAlertEvent(parseNotification(notificationBytes(stagingIncident())), ctx);
    expect(mapping).toThrow(UnmappedNotification);
    expect(mapping).toThrow(/api-backend is not on project burnback-staging/);
  });
});
