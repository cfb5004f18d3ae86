import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LISTEN_HOST, listenHostFrom, loadConfig } from './config.js';
import { ConfigError } from './errors.js';

const dir = mkdtempSync(join(tmpdir(), 'burnback-config-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const good = file(
  'good.yaml',
  `
policy:
  cooldownMinutes: 20
services:
  api-backend:
    pipeline: api-backend-pipeline
    target: production
  checkout:
    project: shop-prod
    region: europe-west1
    pipeline: checkout
    target: prod
    match: { resourceLabels: { service_name: checkout-svc } }
    policy: { mode: observe }
`,
);
const env = (extra: Record<string, string | undefined> = {}) => ({
  GOOGLE_CLOUD_PROJECT: 'burnback-local',
  BURNBACK_CONFIG: good,
  ...extra,
});

const errorOf = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('reads services, merges policy defaults and applies the project default', () => {
    const config = loadConfig(env({ PORT: '9090', CLOUD_DEPLOY_ENDPOINT: '127.0.0.1:8087' }));
    expect(config.port).toBe(9090);
    expect(config.cloudDeployEndpoint).toBe('127.0.0.1:8087');
    expect(config.services.get('api-backend')).toMatchObject({
      project: 'burnback-local',
      region: 'us-central1',
      target: 'production',
      match: { resourceLabels: { service_name: 'api-backend' } },
    });
    expect(config.services.get('api-backend')!.policy).toMatchObject({
      cooldownMinutes: 20,
      maxRollbacksPerHour: 3,
      errorRatioThreshold: 0.01,
      mode: 'auto',
    });
    expect(config.services.get('checkout')).toMatchObject({
      project: 'shop-prod',
      region: 'europe-west1',
      match: { resourceLabels: { service_name: 'checkout-svc' } },
    });
    expect(config.services.get('checkout')!.policy).toMatchObject({ mode: 'observe', cooldownMinutes: 20 });
  });

  it.each([
    ['a missing project', { GOOGLE_CLOUD_PROJECT: undefined }, 'GOOGLE_CLOUD_PROJECT'],
    ['a malformed emulator host', { PUBSUB_EMULATOR_HOST: 'localhost' }, 'PUBSUB_EMULATOR_HOST'],
    ['a short webhook token', { BURNBACK_WEBHOOK_TOKEN: 'short' }, 'BURNBACK_WEBHOOK_TOKEN'],
    ['a port out of range', { PORT: '70000' }, 'PORT'],
    ['a missing config file', { BURNBACK_CONFIG: join(dir, 'nope.yaml') }, 'BURNBACK_CONFIG'],
    ['invalid YAML', { BURNBACK_CONFIG: file('bad.yaml', 'services: [\n') }, 'BURNBACK_CONFIG'],
    ['a bad target id', { BURNBACK_CONFIG: file('t.yaml', 'services:\n  a:\n    pipeline: p\n    target: Prod_1\n') }, 'services.a.target'],
    [
      'an unknown key',
      { BURNBACK_CONFIG: file('u.yaml', 'services:\n  a:\n    pipeline: p\n    target: t\n    tagret: x\n') },
      'services.a',
    ],
    [
      'an out-of-range policy value',
      { BURNBACK_CONFIG: file('p.yaml', 'policy:\n  errorRatioThreshold: 2\n') },
      'policy.errorRatioThreshold',
    ],
    [
      'a bad per-service policy',
      { BURNBACK_CONFIG: file('sp.yaml', 'services:\n  a:\n    pipeline: p\n    target: t\n    policy: { cooldownMinutes: -1 }\n') },
      'services.a.policy.cooldownMinutes',
    ],
  ])('%s is a ConfigError naming the key', (_name, extra, key) => {
    const err = errorOf(() => loadConfig(env(extra)));
    expect(err.key).toContain(key);
    expect(err.message).toContain(key);
  });

  const serviceYaml = (name: string, extra: string) => file(name, `services:\n  a:\n    pipeline: p\n    target: t\n${extra}`);
  const SLO = 'projects/shop-prod/services/checkout/serviceLevelObjectives/availability-99';

  it('a service without slo, signals or onMonitoringUnavailable has none, and would escalate', () => {
    expect(loadConfig(env()).services.get('api-backend')).toMatchObject({
      slo: null,
      onMonitoringUnavailable: 'escalate',
      signals: { errorRatio: null },
    });
  });

  it.each([
    ['an SLO, escalating by default', `    slo: ${SLO}\n`, { slo: SLO, onMonitoringUnavailable: 'escalate' }],
    [
      'an SLO that decides without Monitoring',
      `    slo: ${SLO}\n    onMonitoringUnavailable: decide-without\n`,
      { onMonitoringUnavailable: 'decide-without' },
    ],
    ['an SLO that holds explicitly', `    slo: ${SLO}\n    onMonitoringUnavailable: hold\n`, { onMonitoringUnavailable: 'hold' }],
    [
      'an SLO that escalates explicitly',
      `    slo: ${SLO}\n    onMonitoringUnavailable: escalate\n`,
      { onMonitoringUnavailable: 'escalate' },
    ],
    ['a project number', '    projectNumber: 123456789012\n', { projectNumber: '123456789012' }],
    ['a project number in quotes', "    projectNumber: '123456789012'\n", { projectNumber: '123456789012' }],
    [
      'the metrics read as error ratios, with what makes their requests bad',
      '    signals:\n      errorRatio:\n        metricTypes: [run.googleapis.com/request_count, custom.googleapis.com/checkout/errors]\n' +
        "        badRequests:\n          custom.googleapis.com/checkout/errors: 'metric.labels.status >= 500'\n",
      {
        signals: {
          errorRatio: {
            metrics: [
              {
                metricType: 'run.googleapis.com/request_count',
                badRequests: { label: 'metric.label.response_code_class', kind: 'equals', values: ['5xx'] },
              },
              {
                metricType: 'custom.googleapis.com/checkout/errors',
                badRequests: { label: 'metric.label.status', kind: 'atLeast', min: 500 },
              },
            ],
          },
        },
      },
    ],
    [
      "a shipped type's predicate, replaced",
      '    signals:\n      errorRatio:\n        metricTypes: [run.googleapis.com/request_count]\n        badRequests:\n          run.googleapis.com/request_count: \'metric.labels.response_code_class = one_of("5xx", "429")\'\n',
      {
        signals: {
          errorRatio: {
            metrics: [
              {
                metricType: 'run.googleapis.com/request_count',
                badRequests: { label: 'metric.label.response_code_class', kind: 'equals', values: ['5xx', '429'] },
              },
            ],
          },
        },
      },
    ],
    [
      'the defaults of App Engine, Istio and the load balancer',
      '    signals:\n      errorRatio:\n        metricTypes: [appengine.googleapis.com/http/server/response_count, istio.io/service/server/request_count, loadbalancing.googleapis.com/https/request_count]\n',
      {
        signals: {
          errorRatio: {
            metrics: [
              { badRequests: { label: 'metric.label.response_code', kind: 'atLeast', min: 500 } },
              { badRequests: { label: 'metric.label.response_code', kind: 'atLeast', min: 500 } },
              { badRequests: { label: 'metric.label.response_code_class', kind: 'equals', values: ['500'] } },
            ],
          },
        },
      },
    ],
    ['empty signals', '    signals: {}\n', { signals: { errorRatio: null } }],
    [
      "the labels an Alertmanager alert must carry (Sloth's sloth_service), beside the resource labels",
      '    match: { labels: { sloth_service: api-backend, cluster: prod } }\n',
      { match: { resourceType: null, resourceLabels: { service_name: 'a' }, labels: { sloth_service: 'api-backend', cluster: 'prod' } } },
    ],
    [
      'Prometheus metrics read as error ratios, and no Monitoring metric',
      "    signals: { errorRatio: { prometheusMetrics: ['slo:sli_error:ratio_rate1h', 'http_requests:burnrate1h'] } }\n",
      { signals: { errorRatio: { metrics: [], prometheusMetrics: ['slo:sli_error:ratio_rate1h', 'http_requests:burnrate1h'] } } },
    ],
    [
      'Monitoring metrics only, and so no Prometheus metric',
      '    signals: { errorRatio: { metricTypes: [run.googleapis.com/request_count] } }\n',
      { signals: { errorRatio: { prometheusMetrics: [] } } },
    ],
  ])('reads %s', (name, extra, expected) => {
    expect(loadConfig(env({ BURNBACK_CONFIG: serviceYaml(`ok-${name}.yaml`, extra) })).services.get('a')).toMatchObject(expected);
  });

  it.each([
    [
      'an SLO that is not an SLO name',
      '    slo: availability-99\n',
      'services.a.slo',
      /expected projects\/PROJECT\/services\/SERVICE\/serviceLevelObjectives\/SLO/,
    ],
    ['an SLO name with a missing part', '    slo: projects/p/services/s\n', 'services.a.slo', /serviceLevelObjectives/],
    [
      'an unknown onMonitoringUnavailable',
      `    slo: ${SLO}\n    onMonitoringUnavailable: retry\n`,
      'services.a.onMonitoringUnavailable',
      /decide-without|hold/,
    ],
    [
      'onMonitoringUnavailable without an SLO',
      '    onMonitoringUnavailable: decide-without\n',
      'services.a.onMonitoringUnavailable',
      /only means something with slo/,
    ],
    [
      'an empty list of error-ratio metrics',
      '    signals: { errorRatio: { metricTypes: [] } }\n',
      'services.a.signals.errorRatio.metricTypes',
      /at least one metric type/,
    ],
    [
      'a metric type that is not one',
      '    signals: { errorRatio: { metricTypes: [request_count] } }\n',
      'services.a.signals.errorRatio.metricTypes.0',
      /expected a metric type/,
    ],
    [
      'a metric type whose bad requests nobody named',
      '    signals: { errorRatio: { metricTypes: [run.googleapis.com/request_count, custom.googleapis.com/errors] } }\n',
      'services.a.signals.errorRatio.metricTypes.1',
      /Burnback does not know what makes a custom\.googleapis\.com\/errors request bad: name it in badRequests/,
    ],
    [
      'a bad-request predicate that is not one',
      "    signals: { errorRatio: { metricTypes: [a.com/b], badRequests: { a.com/b: 'metric.labels.code < 500' } } }\n",
      'services.a.signals.errorRatio.badRequests.a.com/b',
      /expected one comparison on a metric label/,
    ],
    [
      'a bad-request predicate for a type not read as an error ratio',
      "    signals: { errorRatio: { metricTypes: [run.googleapis.com/request_count], badRequests: { a.com/b: 'metric.labels.code >= 500' } } }\n",
      'services.a.signals.errorRatio.badRequests.a.com/b',
      /a\.com\/b is not one of metricTypes/,
    ],
    ['an unknown signal', '    signals: { cpu: {} }\n', 'services.a.signals', /unknown key\(s\) cpu/],
    [
      'an errorRatio naming no metric at all',
      '    signals: { errorRatio: {} }\n',
      'services.a.signals.errorRatio',
      /name metricTypes \(Cloud Monitoring\) or prometheusMetrics \(Alertmanager\)/,
    ],
    [
      'an empty list of Prometheus metrics',
      '    signals: { errorRatio: { prometheusMetrics: [] } }\n',
      'services.a.signals.errorRatio.prometheusMetrics',
      /at least one Prometheus metric/,
    ],
    [
      'a Prometheus metric that is not a metric name',
      "    signals: { errorRatio: { prometheusMetrics: ['rate(x[5m])'] } }\n",
      'services.a.signals.errorRatio.prometheusMetrics.0',
      /expected a Prometheus metric name/,
    ],
    [
      'a match label that is not a label name',
      "    match: { labels: { 'sloth-service': x } }\n",
      'services.a.match.labels',
      /expected a Prometheus label name/,
    ],
    [
      'an empty match label value',
      "    match: { labels: { sloth_service: '' } }\n",
      'services.a.match.labels.sloth_service',
      /cannot be empty/,
    ],
    ['match labels that are not a map', '    match: { labels: [a] }\n', 'services.a.match.labels', /./],
    [
      'an unknown errorRatio key',
      '    signals: { errorRatio: { metricTypes: [run.googleapis.com/request_count], invert: true } }\n',
      'services.a.signals.errorRatio',
      /unknown key\(s\) invert/,
    ],
  ])('%s is a ConfigError naming the key', (name, extra, key, message) => {
    const err = errorOf(() => loadConfig(env({ BURNBACK_CONFIG: serviceYaml(`bad-${name}.yaml`, extra) })));
    expect(err.key).toContain(key);
    expect(err.message).toMatch(message);
  });
});

describe('loadConfig, edge by edge', () => {
  it('an empty file is a config with no services and the runbook defaults', () => {
    const config = loadConfig(env({ BURNBACK_CONFIG: file('empty.yaml', '') }));
    expect(config.services.size).toBe(0);
    expect(config.policy).toEqual({
      enabled: true,
      mode: 'auto',
      sloGoal: 0.99,
      errorRatioThreshold: 0.01,
      fastBurnRate: 14.4,
      slowBurnRate: 6,
      maxRollbacksPerHour: 3,
      cooldownMinutes: 30,
      minConfidence: 0.8,
      freeze: [],
      breakerBurningServices: 5,
      breakerWindowMinutes: 10,
      breakerInFlightRollbacks: 5,
      pauseDefaultMinutes: 60,
      pauseMaxMinutes: 1440,
      monitoringRetryMinutes: 5,
      maxAlertAgeMinutes: 60,
      approvalTtlMinutes: 30,
    });
  });

  it('without optional settings every endpoint is the real API and the defaults apply', () => {
    const config = loadConfig(env());
    expect(config).toMatchObject({
      projectId: 'burnback-local',
      pubsubEmulatorHost: null,
      firestoreEmulatorHost: null,
      cloudDeployEndpoint: null,
      cloudMonitoringEndpoint: null,
      webhookToken: null,
      managementToken: null,
      port: 8080,
      logLevel: 'info',
      pollIntervalMs: 2000,
      trackerLeaseMs: 60_000,
      commandResendMs: 120_000,
      chaosCrashAt: [],
      configPath: good,
    });
  });

  it('reads every setting the environment gives', () => {
    const config = loadConfig(
      env({
        PUBSUB_EMULATOR_HOST: '127.0.0.1:8085',
        FIRESTORE_EMULATOR_HOST: 'localhost:8086',
        CLOUD_MONITORING_ENDPOINT: '127.0.0.1:8087',
        BURNBACK_WEBHOOK_TOKEN: 'a-token-of-16-chars',
        BURNBACK_MANAGEMENT_TOKEN: 'a-management-token',
        LOG_LEVEL: 'debug',
        BURNBACK_POLL_INTERVAL_MS: '250',
        BURNBACK_TRACKER_LEASE_MS: '5000',
        BURNBACK_COMMAND_RESEND_MS: '15000',
        BURNBACK_CHAOS_CRASH_AT: 'decided-before-publish:2,tracking-before-record',
        PORT: '0',
      }),
    );
    expect(config).toMatchObject({
      pubsubEmulatorHost: '127.0.0.1:8085',
      firestoreEmulatorHost: 'localhost:8086',
      cloudMonitoringEndpoint: '127.0.0.1:8087',
      webhookToken: 'a-token-of-16-chars',
      managementToken: 'a-management-token',
      logLevel: 'debug',
      pollIntervalMs: 250,
      trackerLeaseMs: 5000,
      commandResendMs: 15000,
      chaosCrashAt: [
        { point: 'decided-before-publish', at: 2 },
        { point: 'tracking-before-record', at: 1 },
      ],
      port: 0,
    });
  });

  it('a blank variable counts as unset, not as a bad value', () => {
    const config = loadConfig(env({ PUBSUB_EMULATOR_HOST: '', BURNBACK_WEBHOOK_TOKEN: '', PORT: '' }));
    expect(config.pubsubEmulatorHost).toBeNull();
    expect(config.webhookToken).toBeNull();
    expect(config.port).toBe(8080);
  });

  it('a missing required variable says it is required', () => {
    const err = errorOf(() => loadConfig(env({ BURNBACK_CONFIG: undefined })));
    expect(err.key).toBe('BURNBACK_CONFIG');
    expect(err.message).toMatch(/is required/);
  });

  it('a present but bad variable says what is wrong with it, not that it is missing', () => {
    const err = errorOf(() => loadConfig(env({ GOOGLE_CLOUD_PROJECT: 'Bad_Project' })));
    expect(err.key).toBe('GOOGLE_CLOUD_PROJECT');
    expect(err.message).not.toMatch(/is required/);
    expect(err.message).toMatch(/expected a Google Cloud project id/);
  });

  it.each([
    ['PORT', '-1'],
    ['PORT', '65536'],
    ['BURNBACK_POLL_INTERVAL_MS', '9'],
    ['BURNBACK_POLL_INTERVAL_MS', '60001'],
    ['BURNBACK_TRACKER_LEASE_MS', '999'],
    ['BURNBACK_TRACKER_LEASE_MS', '600001'],
    ['BURNBACK_TRACKER_LEASE_MS', '1500.5'],
    ['BURNBACK_COMMAND_RESEND_MS', '999'],
    ['BURNBACK_COMMAND_RESEND_MS', '3600001'],
    ['BURNBACK_COMMAND_RESEND_MS', '2000.5'],
    ['BURNBACK_CHAOS_CRASH_AT', 'decided-after-publish'],
    ['BURNBACK_CHAOS_CRASH_AT', 'decided-before-publish'],
    ['LOG_LEVEL', 'verbose'],
    ['CLOUD_DEPLOY_ENDPOINT', 'http://127.0.0.1:8087'],
    ['FIRESTORE_EMULATOR_HOST', '127.0.0.1:'],
  ])('%s=%s is refused', (key, value) => {
    expect(errorOf(() => loadConfig(env({ [key]: value }))).key).toBe(key);
  });

  it.each([
    ['neither emulator', {}],
    ['only the Pub/Sub emulator', { PUBSUB_EMULATOR_HOST: '127.0.0.1:8085' }],
    ['only the Firestore emulator', { FIRESTORE_EMULATOR_HOST: '127.0.0.1:8086' }],
  ])('the chaos switch is refused with %s: a worker never kills itself on purpose outside the chaos suite', (_what, hosts) => {
    const err = errorOf(() => loadConfig(env({ ...hosts, BURNBACK_CHAOS_CRASH_AT: 'decided-before-publish' })));
    expect(err.key).toBe('BURNBACK_CHAOS_CRASH_AT');
    expect(err.message).toMatch(/refused unless PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST are both set/);
    expect(
      loadConfig(
        env({
          PUBSUB_EMULATOR_HOST: '127.0.0.1:8085',
          FIRESTORE_EMULATOR_HOST: '127.0.0.1:8086',
          BURNBACK_CHAOS_CRASH_AT: 'decided-before-publish',
        }),
      ).chaosCrashAt,
    ).toEqual([{ point: 'decided-before-publish', at: 1 }]);
  });

  it.each([
    ['PORT', '65535', 'port', 65535],
    ['BURNBACK_POLL_INTERVAL_MS', '10', 'pollIntervalMs', 10],
    ['BURNBACK_POLL_INTERVAL_MS', '60000', 'pollIntervalMs', 60000],
    ['BURNBACK_TRACKER_LEASE_MS', '1000', 'trackerLeaseMs', 1000],
    ['BURNBACK_TRACKER_LEASE_MS', '600000', 'trackerLeaseMs', 600000],
    ['BURNBACK_COMMAND_RESEND_MS', '1000', 'commandResendMs', 1000],
    ['BURNBACK_COMMAND_RESEND_MS', '3600000', 'commandResendMs', 3600000],
  ])('%s=%s is the edge that is still accepted', (key, value, field, expected) => {
    expect(loadConfig(env({ [key]: value }))[field as 'port']).toBe(expected);
  });

  it('a service policy overrides the file policy, which overrides the defaults, setting by setting', () => {
    const config = loadConfig(
      env({
        BURNBACK_CONFIG: file(
          'merge.yaml',
          'policy: { cooldownMinutes: 10, maxRollbacksPerHour: 2 }\nservices:\n  a:\n    pipeline: p\n    target: t\n    policy: { maxRollbacksPerHour: 1 }\n',
        ),
      }),
    );
    expect(config.policy).toMatchObject({ cooldownMinutes: 10, maxRollbacksPerHour: 2, fastBurnRate: 14.4 });
    expect(config.services.get('a')!.policy).toMatchObject({ cooldownMinutes: 10, maxRollbacksPerHour: 1, fastBurnRate: 14.4 });
  });

  it('a service matches its own Cloud Run service by default, and its resource type only when given', () => {
    const config = loadConfig(
      env({
        BURNBACK_CONFIG: file(
          'match.yaml',
          'services:\n  a:\n    pipeline: p\n    target: t\n  b:\n    pipeline: p\n    target: t2\n    match: { resourceType: k8s_container, resourceLabels: { container_name: web } }\n  c:\n    pipeline: p\n    target: t3\n    match: { resourceType: cloud_run_revision }\n',
        ),
      }),
    );
    expect(config.services.get('a')!.match).toEqual({ resourceType: null, resourceLabels: { service_name: 'a' }, labels: {} });
    expect(config.services.get('b')!.match).toEqual({
      resourceType: 'k8s_container',
      resourceLabels: { container_name: 'web' },
      labels: {},
    });
    expect(config.services.get('c')!.match).toEqual({
      resourceType: 'cloud_run_revision',
      resourceLabels: { service_name: 'c' },
      labels: {},
    });
    expect(config.services.get('a')!.name).toBe('a');
  });

  it.each([
    ['an upper-case service name', 'services:\n  Api:\n    pipeline: p\n    target: t\n', 'services.Api', /lowercase/],
    ['an unknown top-level key', 'polcy: {}\n', '', /unknown key\(s\) polcy/],
    ['an unknown policy key', 'policy: { coolDown: 5 }\n', 'policy', /unknown key\(s\) coolDown/],
    [
      'a pipeline that is not a resource id',
      'services:\n  a:\n    pipeline: My Pipe\n    target: t\n',
      'services.a.pipeline',
      /Cloud Deploy resource id/,
    ],
    ['an empty region', "services:\n  a:\n    pipeline: p\n    target: t\n    region: ''\n", 'services.a.region', /./],
    ['a fractional hourly limit', 'policy: { maxRollbacksPerHour: 1.5 }\n', 'policy.maxRollbacksPerHour', /./],
    ['an SLO goal of 1', 'policy: { sloGoal: 1 }\n', 'policy.sloGoal', /./],
    ['a zero fast-burn rate', 'policy: { fastBurnRate: 0 }\n', 'policy.fastBurnRate', /./],
  ])('%s is refused, naming the key', (_name, yaml, key, message) => {
    const err = errorOf(() => loadConfig(env({ BURNBACK_CONFIG: file(`e-${key || 'root'}.yaml`, yaml) })));
    expect(err.key).toBe(key ? `${join(dir, `e-${key}.yaml`)}.${key}` : join(dir, 'e-root.yaml'));
    expect(err.message).toMatch(message);
  });
});

describe('loadConfig says exactly what is wrong', () => {
  it.each([
    ['PUBSUB_EMULATOR_HOST', '127.0.0.1:8085/extra', 'PUBSUB_EMULATOR_HOST: expected host:port, e.g. 127.0.0.1:8085'],
    ['GOOGLE_CLOUD_PROJECT', 'my-project_', 'GOOGLE_CLOUD_PROJECT: expected a Google Cloud project id'],
    ['BURNBACK_WEBHOOK_TOKEN', 'fifteen-chars!!', 'BURNBACK_WEBHOOK_TOKEN: the webhook token must be at least 16 characters'],
    ['BURNBACK_MANAGEMENT_TOKEN', 'fifteen-chars!!', 'BURNBACK_MANAGEMENT_TOKEN: the management token must be at least 16 characters'],
  ])('%s=%s: "%s"', (key, value, message) => {
    expect(errorOf(() => loadConfig(env({ [key]: value }))).message).toBe(message);
  });

  it('a missing config path says it is required and what it is', () => {
    expect(errorOf(() => loadConfig(env({ BURNBACK_CONFIG: undefined }))).message).toBe(
      'BURNBACK_CONFIG: is required (the path to the Burnback YAML config)',
    );
  });

  it('a missing project says it is required and what it is', () => {
    expect(errorOf(() => loadConfig(env({ GOOGLE_CLOUD_PROJECT: undefined }))).message).toBe(
      'GOOGLE_CLOUD_PROJECT: is required (the Google Cloud project id)',
    );
  });

  it('an unreadable file and invalid YAML name the file and the cause', () => {
    const missing = join(dir, 'nope.yaml');
    expect(errorOf(() => loadConfig(env({ BURNBACK_CONFIG: missing }))).message).toMatch(
      new RegExp(`^BURNBACK_CONFIG: cannot read ${missing}: ENOENT`),
    );
    const bad = file('bad2.yaml', 'services: [\n');
    expect(errorOf(() => loadConfig(env({ BURNBACK_CONFIG: bad }))).message).toMatch(
      new RegExp(`^BURNBACK_CONFIG: ${bad} is not valid YAML: \\S`),
    );
  });

  it('a service name with an upper-case letter after a valid start is refused with the rule', () => {
    const f = file('case.yaml', 'services:\n  api-Backend:\n    pipeline: p\n    target: t\n');
    expect(errorOf(() => loadConfig(env({ BURNBACK_CONFIG: f }))).message).toBe(
      `${f}.services.api-Backend: service names are lowercase letters, digits, _ and -, at most 63`,
    );
  });

  it('an unknown key names every unknown key, joined', () => {
    const f = file('keys.yaml', 'polcy: {}\nservice: {}\n');
    expect(errorOf(() => loadConfig(env({ BURNBACK_CONFIG: f }))).message).toBe(`${f}: unknown key(s) polcy, service`);
  });

  it('a bad policy value names the file, the section and the setting', () => {
    const f = file('pv.yaml', 'policy:\n  errorRatioThreshold: 2\n');
    expect(errorOf(() => loadConfig(env({ BURNBACK_CONFIG: f }))).key).toBe(`${f}.policy.errorRatioThreshold`);
    const g = file('spv.yaml', 'services:\n  a:\n    pipeline: p\n    target: t\n    policy: { cooldownMinutes: -1 }\n');
    expect(errorOf(() => loadConfig(env({ BURNBACK_CONFIG: g }))).key).toBe(`${g}.services.a.policy.cooldownMinutes`);
  });
});

describe('one service per Cloud Deploy target', () => {
  const services = (b: string) => `services:\n  api:\n    pipeline: p\n    target: prod\n  web:\n${b}`;

  it('two services that share one pipeline target are refused at start, naming both', () => {
    const err = errorOf(() => loadConfig(env({ BURNBACK_CONFIG: file('shared.yaml', services('    pipeline: p\n    target: prod\n')) })));
    expect(err.key).toContain('services.web');
    expect(err.message).toContain('services "api" and "web" share the Cloud Deploy target burnback-local/us-central1/p/prod');
  });

  it.each([
    ['another target', '    pipeline: p\n    target: staging\n'],
    ['another pipeline', '    pipeline: q\n    target: prod\n'],
    ['another region', '    region: europe-west1\n    pipeline: p\n    target: prod\n'],
  ])('services on %s are accepted', (name, web) => {
    const config = loadConfig(env({ BURNBACK_CONFIG: file(`${name.replace(/ /g, '-')}.yaml`, services(web)) }));
    expect([...config.services.keys()]).toEqual(['api', 'web']);
  });

  it('services on one region, pipeline and target in two projects need both project numbers, naming the one missing', () => {
    const both = (api: string, web: string) =>
      `services:\n  api:\n    pipeline: p\n    target: prod\n${api}  web:\n    project: other-project\n    pipeline: p\n    target: prod\n${web}`;
    const refused = errorOf(() => loadConfig(env({ BURNBACK_CONFIG: file('two-projects.yaml', both('', '')) })));
    expect(refused.key).toContain('services.api.projectNumber');
    expect(refused.message).toContain(
      'services "api" (project burnback-local) and "web" (project other-project) both roll back us-central1/p/prod: Cloud Deploy\'s notifications may name a project by its number, so name projectNumber for both',
    );
    const oneNumber = errorOf(() =>
      loadConfig(env({ BURNBACK_CONFIG: file('one-number.yaml', both('    projectNumber: 111111111111\n', '')) })),
    );
    expect(oneNumber.key).toContain('services.web.projectNumber');
    const config = loadConfig(
      env({
        BURNBACK_CONFIG: file('numbers.yaml', both('    projectNumber: 111111111111\n', '    projectNumber: 222222222222\n')),
      }),
    );
    expect([...config.services.values()].map((s) => s.projectNumber)).toEqual(['111111111111', '222222222222']);
  });

  it('a project number is digits', () => {
    const err = errorOf(() =>
      loadConfig(
        env({
          BURNBACK_CONFIG: file('bad-number.yaml', 'services:\n  api:\n    pipeline: p\n    target: prod\n    projectNumber: shop-prod\n'),
        }),
      ),
    );
    expect(err.key).toContain('services.api.projectNumber');
    expect(err.message).toContain('expected the project number (digits)');
  });
});

describe('the front door settings: listen address and push authentication', () => {
  const SA = 'burnback-push@shop-prod.iam.gserviceaccount.com';
  const AUDIENCE = 'https://burnback-ingest-abc123-uc.a.run.app/pubsub/push';

  it('by default the servers listen on loopback and the push route has no authentication (so it answers 503)', () => {
    const config = loadConfig(env());
    expect(config.listenHost).toBe('127.0.0.1');
    expect(DEFAULT_LISTEN_HOST).toBe('127.0.0.1');
    expect(config.pushAuth).toBeNull();
    expect(loadConfig(env({ BURNBACK_LISTEN_HOST: '', BURNBACK_PUSH_AUDIENCE: '', BURNBACK_PUSH_SERVICE_ACCOUNT: '' }))).toMatchObject({
      listenHost: '127.0.0.1',
      pushAuth: null,
    });
  });

  it.each(['0.0.0.0', '::', '::1', '10.1.2.3', 'localhost', 'ingest.internal', 'a'])('BURNBACK_LISTEN_HOST=%s is taken', (host) => {
    expect(loadConfig(env({ BURNBACK_LISTEN_HOST: host })).listenHost).toBe(host);
    expect(listenHostFrom({ BURNBACK_LISTEN_HOST: host })).toBe(host);
  });

  it.each([
    '0.0.0.0:8080',
    'http://0.0.0.0',
    'two words',
    '-leading-hyphen',
    'trailing-.example',
    'under_score',
    '[::1]',
    `${'a'.repeat(64)}.example`,
  ])('BURNBACK_LISTEN_HOST=%s is refused, naming the key', (host) => {
    const message = 'BURNBACK_LISTEN_HOST: expected an IP address or host name to listen on, e.g. 127.0.0.1 or 0.0.0.0';
    const err = errorOf(() => loadConfig(env({ BURNBACK_LISTEN_HOST: host })));
    expect([err.key, err.message]).toEqual(['BURNBACK_LISTEN_HOST', message]);
    const direct = errorOf(() => listenHostFrom({ BURNBACK_LISTEN_HOST: host }));
    expect([direct.key, direct.message]).toEqual(['BURNBACK_LISTEN_HOST', message]);
  });

  it('listenHostFrom reads loopback when the variable is unset or blank', () => {
    expect(listenHostFrom({})).toBe('127.0.0.1');
    expect(listenHostFrom({ BURNBACK_LISTEN_HOST: '' })).toBe('127.0.0.1');
  });

  it('the push OIDC settings give the audience and the service account to verify', () => {
    expect(loadConfig(env({ BURNBACK_PUSH_AUDIENCE: AUDIENCE, BURNBACK_PUSH_SERVICE_ACCOUNT: SA })).pushAuth).toEqual({
      kind: 'oidc',
      audience: AUDIENCE,
      serviceAccount: SA,
    });
    expect(
      loadConfig(env({ BURNBACK_PUSH_AUDIENCE: AUDIENCE, BURNBACK_PUSH_SERVICE_ACCOUNT: SA, BURNBACK_PUSH_ALLOW_UNSIGNED: 'false' }))
        .pushAuth,
    ).toEqual({ kind: 'oidc', audience: AUDIENCE, serviceAccount: SA });
  });

  it('unsigned pushes are accepted only when BURNBACK_PUSH_ALLOW_UNSIGNED is exactly true', () => {
    expect(loadConfig(env({ BURNBACK_PUSH_ALLOW_UNSIGNED: 'true' })).pushAuth).toEqual({ kind: 'unsigned' });
    expect(loadConfig(env({ BURNBACK_PUSH_ALLOW_UNSIGNED: 'false' })).pushAuth).toBeNull();
  });

  it.each([
    [
      'a service account that is not an email',
      { BURNBACK_PUSH_AUDIENCE: AUDIENCE, BURNBACK_PUSH_SERVICE_ACCOUNT: 'burnback-push' },
      'BURNBACK_PUSH_SERVICE_ACCOUNT',
      'BURNBACK_PUSH_SERVICE_ACCOUNT: expected the push subscription service account email, e.g. push@PROJECT.iam.gserviceaccount.com',
    ],
    [
      'an audience without a service account',
      { BURNBACK_PUSH_AUDIENCE: AUDIENCE },
      'BURNBACK_PUSH_SERVICE_ACCOUNT',
      'BURNBACK_PUSH_SERVICE_ACCOUNT: is required with BURNBACK_PUSH_AUDIENCE (the push subscription service account email)',
    ],
    [
      'a service account without an audience',
      { BURNBACK_PUSH_SERVICE_ACCOUNT: SA },
      'BURNBACK_PUSH_AUDIENCE',
      'BURNBACK_PUSH_AUDIENCE: is required with BURNBACK_PUSH_SERVICE_ACCOUNT (the audience of the push subscription OIDC token)',
    ],
    [
      'unsigned pushes together with OIDC',
      { BURNBACK_PUSH_AUDIENCE: AUDIENCE, BURNBACK_PUSH_SERVICE_ACCOUNT: SA, BURNBACK_PUSH_ALLOW_UNSIGNED: 'true' },
      'BURNBACK_PUSH_ALLOW_UNSIGNED',
      'BURNBACK_PUSH_ALLOW_UNSIGNED: cannot be combined with BURNBACK_PUSH_AUDIENCE: unsigned pushes are for the local emulator only',
    ],
    [
      'a flag that is not true or false',
      { BURNBACK_PUSH_ALLOW_UNSIGNED: 'yes' },
      'BURNBACK_PUSH_ALLOW_UNSIGNED',
      'BURNBACK_PUSH_ALLOW_UNSIGNED: expected true or false',
    ],
    [
      'a flag in capitals',
      { BURNBACK_PUSH_ALLOW_UNSIGNED: 'TRUE' },
      'BURNBACK_PUSH_ALLOW_UNSIGNED',
      'BURNBACK_PUSH_ALLOW_UNSIGNED: expected true or false',
    ],
  ])('%s is refused, naming the key', (_name, extra, key, message) => {
    const err = errorOf(() => loadConfig(env(extra)));
    expect([err.key, err.message]).toEqual([key, message]);
  });
});

/**
 * Values that only look right: each pattern must hold for the whole value, not a
 * part of it, or a typo (a scheme, a trailing word) would be taken and fail later,
 * far from its cause.
 */
describe('loadConfig takes a value only when all of it fits', () => {
  it.each([
    ['PUBSUB_EMULATOR_HOST', 'http://127.0.0.1:8085', 'expected host:port, e.g. 127.0.0.1:8085'],
    ['FIRESTORE_EMULATOR_HOST', '127.0.0.1:8086/v1', 'expected host:port, e.g. 127.0.0.1:8085'],
    ['CLOUD_DEPLOY_ENDPOINT', '127.0.0.1:8087x', 'expected host:port, e.g. 127.0.0.1:8085'],
    [
      'BURNBACK_PUSH_SERVICE_ACCOUNT',
      'the burnback-push@shop-prod.iam.gserviceaccount.com',
      'expected the push subscription service account email, e.g. push@PROJECT.iam.gserviceaccount.com',
    ],
    [
      'BURNBACK_PUSH_SERVICE_ACCOUNT',
      'burnback-push@shop-prod.iam.gserviceaccount.com,other@x.com',
      'expected the push subscription service account email, e.g. push@PROJECT.iam.gserviceaccount.com',
    ],
  ])('%s=%s is refused with what it expects', (key, value, message) => {
    const extra = key === 'BURNBACK_PUSH_SERVICE_ACCOUNT' ? { BURNBACK_PUSH_AUDIENCE: 'https://ingest.example/pubsub/push' } : {};
    const err = errorOf(() => loadConfig(env({ ...extra, [key]: value })));
    expect([err.key, err.message]).toEqual([key, `${key}: ${message}`]);
  });

  it('an environment error names the variable itself, with no prefix', () => {
    const err = errorOf(() => loadConfig(env({ PORT: 'eighty' })));
    expect(err.key).toBe('PORT');
  });

  const serviceFile = (name: string, lines: string) =>
    file(`whole-${name}.yaml`, `services:\n  a:\n    pipeline: p\n    target: t\n${lines}`);

  it.each([
    ['words before it', 'see projects/shop/services/checkout/serviceLevelObjectives/availability'],
    ['a path after it', 'projects/shop/services/checkout/serviceLevelObjectives/availability/extra'],
  ])('an SLO name with %s is refused', (what, slo) => {
    const err = errorOf(() => loadConfig(env({ BURNBACK_CONFIG: serviceFile(`slo-${what.replace(/ /g, '-')}`, `    slo: ${slo}\n`) })));
    expect(err.key).toMatch(/\.services\.a\.slo$/);
    expect(err.message).toBe(`${err.key}: expected projects/PROJECT/services/SERVICE/serviceLevelObjectives/SLO`);
  });

  it.each([
    ['a prefix', 'metric:run.googleapis.com/request_count'],
    ['a trailing word', 'run.googleapis.com/request_count?x'],
  ])('an error-ratio metric type with %s is refused', (what, metric) => {
    const path = serviceFile(`metric-${what.replace(/ /g, '-')}`, `    signals: { errorRatio: { metricTypes: ['${metric}'] } }\n`);
    const err = errorOf(() => loadConfig(env({ BURNBACK_CONFIG: path })));
    expect(err.key).toMatch(/\.services\.a\.signals\.errorRatio\.metricTypes\.0$/);
    expect(err.message).toBe(`${err.key}: expected a metric type such as run.googleapis.com/request_count`);
  });

  it('a service name with an upper-case letter after the first is refused', () => {
    const path = file('whole-name.yaml', 'services:\n  api-Backend:\n    pipeline: p\n    target: t\n');
    const err = errorOf(() => loadConfig(env({ BURNBACK_CONFIG: path })));
    expect(err.message).toContain('service names are lowercase');
  });

  it('BURNBACK_LISTEN_HOST takes a host name whose labels are one character', () => {
    expect(listenHostFrom({ BURNBACK_LISTEN_HOST: 'a.b.c' })).toBe('a.b.c');
  });
});

describe('loadConfig and the notify: block', () => {
  const yaml = [
    'services:\n  a:\n    region: r\n    pipeline: p\n    target: t\n',
    'notify:\n',
    "  - { name: oncall, kind: pagerduty, routingKey: '${PD_KEY}' }\n",
    "  - { name: chat, kind: slack, url: '${SLACK_URL}', services: [a] }\n",
    'notifyRetryMinutes: 5\n',
  ].join('');

  it('ingest, the decider and the executor check the block but start without its secrets, and hold none of them', () => {
    const config = loadConfig(env({ BURNBACK_CONFIG: file('notify-shape.yaml', yaml) }));
    expect(config.notify).toEqual([]);
    expect(config.notifyRetryMinutes).toBe(5);
  });

  it('the notifier reads each ${VAR}, and a variable not set stops it naming the variable', () => {
    const path = file('notify-secrets.yaml', yaml);
    const config = loadConfig(env({ BURNBACK_CONFIG: path, PD_KEY: 'k'.repeat(32), SLACK_URL: 'https://hooks.slack.com/services/T/B/x' }), {
      resolveNotify: true,
    });
    expect(config.notify.map((d) => [d.name, d.kind, d.url, d.routingKey, d.services])).toEqual([
      ['oncall', 'pagerduty', 'https://events.pagerduty.com', 'k'.repeat(32), null],
      ['chat', 'slack', 'https://hooks.slack.com/services/T/B/x', null, ['a']],
    ]);
    const err = errorOf(() => loadConfig(env({ BURNBACK_CONFIG: path, PD_KEY: 'k' }), { resolveNotify: true }));
    expect(err.message).toBe(`${path}.notify[1].url: reads \${SLACK_URL}, which is not set in the environment`);
  });

  it('a mistake in the block stops every service, secrets or not', () => {
    const path = file(
      'notify-bad.yaml',
      yaml.replace("kind: slack, url: '${SLACK_URL}', services: [a]", "kind: slack, url: '${SLACK_URL}', services: [b]"),
    );
    expect(errorOf(() => loadConfig(env({ BURNBACK_CONFIG: path }))).message).toBe(
      `${path}.notify[1].services: "b" is not a configured service`,
    );
    expect(loadConfig(env()).notifyRetryMinutes).toBe(30);
  });
});
