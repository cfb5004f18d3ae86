import fc from 'fast-check';
import type { ServiceConfig } from '@burnback/platform';
import { serviceConfig, servicesOf } from '@burnback/testkit/fixtures';
import { mapAlertToService } from './alertmanager-signal.js';

/** A service as config/local.yaml has it, with the labels an Alertmanager alert must carry to map to it. */
const service = (name: string, labels: Record<string, string> = {}): ServiceConfig =>
  serviceConfig(name, { match: { resourceType: 'cloud_run_revision', resourceLabels: { service_name: name }, labels } });
const apiBackend = service('api-backend', { sloth_service: 'api-backend' });
const checkout = service('checkout', { slo: 'checkout-availability' });
const services = servicesOf(apiBackend, checkout);

describe('which service an Alertmanager alert belongs to', () => {
  const map = (labels: Record<string, string>) => {
    const m = mapAlertToService(labels, services);
    return m.kind === 'service' ? m.service.name : m;
  };

  it.each([
    ['the burnback_service label', { burnback_service: 'checkout', sloth_service: 'api-backend' }, 'checkout'],
    ['the service label', { service: 'checkout' }, 'checkout'],
    ["Sloth's sloth_service label, matched in config", { sloth_service: 'api-backend', sloth_slo: 'availability' }, 'api-backend'],
    ["Pyrra's slo label, matched in config", { slo: 'checkout-availability', severity: 'critical' }, 'checkout'],
    [
      'a service label naming no configured service, then match.labels',
      { service: 'frontend', sloth_service: 'api-backend' },
      'api-backend',
    ],
    ['an empty burnback_service label, then service', { burnback_service: '', service: 'api-backend' }, 'api-backend'],
    ['a project_id that is the service project', { burnback_service: 'api-backend', project_id: 'burnback-local' }, 'api-backend'],
    ['burnback_service before service', { burnback_service: 'api-backend', service: 'checkout' }, 'api-backend'],
  ])('maps by %s', (_name, labels, expected) => {
    expect(map(labels)).toBe(expected);
  });

  it.each([
    [
      'a burnback_service naming no configured service',
      { burnback_service: 'frontend' },
      /^label burnback_service="frontend" names no configured service$/,
      true,
    ],
    ['a burnback_service named like an object property', { burnback_service: 'constructor' }, /names no configured service/, true],
    [
      'a burnback_service on another project',
      { burnback_service: 'api-backend', project_id: 'shop-staging' },
      /^label burnback_service="api-backend" names a service this alert is not on: project_id "shop-staging" \(the service is in burnback-local\)$/,
      true,
    ],
    [
      'a burnback_service whose match.labels the alert contradicts',
      { burnback_service: 'api-backend', sloth_service: 'api-backend-staging' },
      /not on: sloth_service="api-backend-staging" \(the service matches sloth_service="api-backend"\)/,
      true,
    ],
    [
      'a service label on another project',
      { service: 'api-backend', project_id: 'shop-staging' },
      /^label service="api-backend" names a service this alert is not on/,
      false,
    ],
    [
      'labels no service matches',
      { alertname: 'ProbeFailure', job: 'http_checks' },
      /^no configured service matches the alert's labels \{"alertname":"ProbeFailure","job":"http_checks"\} \(name one/,
      false,
    ],
    ['no labels at all', {}, /no configured service matches the alert's labels \{\}/, false],
    [
      'match.labels on another project',
      { sloth_service: 'api-backend', project_id: 'shop-staging' },
      /: api-backend is not on project_id "shop-staging" \(the service is in burnback-local\) \(name one/,
      false,
    ],
  ])('leaves unmapped %s, saying why', (_name, labels, reason, misconfigured) => {
    expect(map(labels)).toEqual({ kind: 'unmapped', reason: expect.stringMatching(reason), misconfigured });
  });

  it('an alert several services match is a config problem', () => {
    const both = servicesOf(apiBackend, service('api-backend-2', { sloth_slo: 'availability' }));
    expect(mapAlertToService({ sloth_service: 'api-backend', sloth_slo: 'availability' }, both)).toEqual({
      kind: 'unmapped',
      reason: 'the alert matches several services: api-backend, api-backend-2',
      misconfigured: true,
    });
  });

  it('a service with no match.labels is never matched by labels, only named', () => {
    const plain = servicesOf(service('api-backend'));
    expect(mapAlertToService({ sloth_service: 'api-backend' }, plain)).toMatchObject({ kind: 'unmapped', misconfigured: false });
    expect(mapAlertToService({ service: 'api-backend' }, plain)).toMatchObject({ kind: 'service' });
    const noLabels = servicesOf(serviceConfig('api-backend'));
    expect(mapAlertToService({ anything: 'x' }, noLabels)).toMatchObject({ kind: 'unmapped' });
  });

  it('an alert carrying all of a service match.labels (and nothing that contradicts it) maps to it; one without any never maps', () => {
    const label = fc
      .stringMatching(/^[a-z][a-z_]{0,8}$/)
      .filter((k) => !['burnback_service', 'service', 'project_id', 'sloth_service', 'slo'].includes(k));
    fc.assert(
      fc.property(fc.dictionary(label, fc.string({ maxLength: 8 }), { maxKeys: 5 }), fc.boolean(), (extra, toApi) => {
        const labels = { ...extra, ...(toApi ? { sloth_service: 'api-backend' } : { slo: 'checkout-availability' }) };
        expect(map(labels)).toBe(toApi ? 'api-backend' : 'checkout');
        expect(map(extra)).toMatchObject({ kind: 'unmapped', misconfigured: false });
      }),
    );
  });
});
