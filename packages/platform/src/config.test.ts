import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './index.js';

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
    policy: { dryRun: true }
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
    expect(config.services['api-backend']).toMatchObject({
      project: 'burnback-local',
      region: 'us-central1',
      target: 'production',
      match: { resourceLabels: { service_name: 'api-backend' } },
    });
    expect(config.services['api-backend']!.policy).toMatchObject({
      cooldownMinutes: 20,
      maxRollbacksPerHour: 3,
      errorRatioThreshold: 0.01,
      dryRun: false,
    });
    expect(config.services.checkout).toMatchObject({
      project: 'shop-prod',
      region: 'europe-west1',
      match: { resourceLabels: { service_name: 'checkout-svc' } },
    });
    expect(config.services.checkout!.policy).toMatchObject({ dryRun: true, cooldownMinutes: 20 });
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
  ])('%s is a ConfigError naming %s', (_name, extra, key) => {
    const err = errorOf(() => loadConfig(env(extra)));
    expect(err.key).toContain(key);
    expect(err.message).toContain(key);
  });

  const serviceYaml = (name: string, extra: string) => file(name, `services:\n  a:\n    pipeline: p\n    target: t\n${extra}`);
  const SLO = 'projects/shop-prod/services/checkout/serviceLevelObjectives/availability-99';

  it('a service without slo, signals or onMonitoringUnavailable has none, and would hold', () => {
    expect(loadConfig(env()).services['api-backend']).toMatchObject({
      slo: null,
      onMonitoringUnavailable: 'hold',
      signals: { errorRatio: null },
    });
  });

  it.each([
    ['an SLO, holding by default', `    slo: ${SLO}\n`, { slo: SLO, onMonitoringUnavailable: 'hold' }],
    [
      'an SLO that decides without Monitoring',
      `    slo: ${SLO}\n    onMonitoringUnavailable: decide-without\n`,
      { onMonitoringUnavailable: 'decide-without' },
    ],
    ['an SLO that holds explicitly', `    slo: ${SLO}\n    onMonitoringUnavailable: hold\n`, { onMonitoringUnavailable: 'hold' }],
    [
      'the metrics read as error ratios',
      '    signals:\n      errorRatio:\n        metricTypes: [run.googleapis.com/request_count, custom.googleapis.com/checkout/errors]\n',
      { signals: { errorRatio: { metricTypes: ['run.googleapis.com/request_count', 'custom.googleapis.com/checkout/errors'] } } },
    ],
    ['empty signals', '    signals: {}\n', { signals: { errorRatio: null } }],
  ])('reads %s', (name, extra, expected) => {
    expect(loadConfig(env({ BURNBACK_CONFIG: serviceYaml(`ok-${name}.yaml`, extra) })).services.a).toMatchObject(expected);
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
    ['an unknown signal', '    signals: { cpu: {} }\n', 'services.a.signals', /unknown key\(s\) cpu/],
    [
      'an unknown errorRatio key',
      '    signals: { errorRatio: { metricTypes: [a.com/b], invert: true } }\n',
      'services.a.signals.errorRatio',
      /unknown key\(s\) invert/,
    ],
  ])('%s is a ConfigError naming the key', (name, extra, key, message) => {
    const err = errorOf(() => loadConfig(env({ BURNBACK_CONFIG: serviceYaml(`bad-${name}.yaml`, extra) })));
    expect(err.key).toContain(key);
    expect(err.message).toMatch(message);
  });
});
