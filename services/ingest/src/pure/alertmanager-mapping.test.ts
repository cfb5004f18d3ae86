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
    ["the service label, with the service's project_id", { service: 'checkout', project_id: 'burnback-local' }, 'checkout'],
    ["the service label, with the service's match.labels", { service: 'checkout', slo: 'checkout-availability' }, 'checkout'],
    ["Sloth's sloth_service label, matched in config", { sloth_service: 'api-backend', sloth_slo: 'availability' }, 'api-backend'],
    ["Pyrra's slo label, matched in config", { slo: 'checkout-availability', severity: 'critical' }, 'checkout'],
    [
      'a service label naming no configured service, then match.labels',
      { service: 'frontend', sloth_service: 'api-backend' },
      'api-backend',
    ],
    [
      'an empty burnback_service label, then service',
      { burnback_service: '', service: 'api-backend', project_id: 'burnback-local' },
      'api-backend',
    ],
    ['burnback_service alone, with nothing to corroborate it', { burnback_service: 'checkout' }, 'checkout'],
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
      "a service label with nothing else of the service's (another environment's Prometheus)",
      { service: 'api-backend', cluster: 'staging-1' },
      /^label service="api-backend" alone does not place the alert, as any environment's Prometheus may set it: it carries neither project_id="burnback-local" nor all of api-backend's match.labels \{sloth_service="api-backend"\}. Add burnback_service="api-backend" to the rule's labels, or give api-backend match.labels in the config that only its alerts carry \(a cluster, a namespace\)$/,
      true,
    ],
    [
      'a service label whose service has match.labels for another service',
      { service: 'api-backend', slo: 'checkout-availability' },
      /^label service="api-backend" alone does not place the alert/,
      true,
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
    expect(mapAlertToService({ burnback_service: 'api-backend' }, plain)).toMatchObject({ kind: 'service' });
    expect(mapAlertToService({ service: 'api-backend', project_id: 'burnback-local' }, plain)).toMatchObject({ kind: 'service' });
    // The generic service label alone names nothing: the config gives it nothing to corroborate it with.
    expect(mapAlertToService({ service: 'api-backend' }, plain)).toEqual({
      kind: 'unmapped',
      reason: expect.stringMatching(
        /carries neither project_id="burnback-local" nor match.labels \(api-backend has none\)\. Add burnback_service="api-backend"/,
      ),
      misconfigured: true,
    });
    const noLabels = servicesOf(serviceConfig('api-backend'));
    expect(mapAlertToService({ anything: 'x' }, noLabels)).toMatchObject({ kind: 'unmapped' });
  });

  it("a service label never maps an alert alone: only with the service's project_id or all its match.labels", () => {
    const label = fc
      .stringMatching(/^[a-z][a-z_]{0,8}$/)
      .filter((k) => !['burnback_service', 'service', 'project_id', 'sloth_service', 'slo'].includes(k));
    const corroboration = fc.constantFrom<Record<string, string>>(
      {},
      { project_id: 'burnback-local' },
      { project_id: 'shop-staging' },
      { sloth_service: 'api-backend' },
      { sloth_service: 'api-backend-staging' },
      { slo: 'checkout-availability' },
    );
    fc.assert(
      fc.property(
        fc.dictionary(label, fc.string({ maxLength: 8 }), { maxKeys: 5 }),
        fc.constantFrom('api-backend', 'checkout'),
        corroboration,
        (extra, name, also) => {
          const mapped = mapAlertToService({ ...extra, ...also, service: name }, services);
          const [own, value] = name === 'api-backend' ? ['sloth_service', 'api-backend'] : ['slo', 'checkout-availability'];
          const corroborated = also.project_id === 'burnback-local' || also[own] === value;
          const contradicted = also.project_id === 'shop-staging' || (also[own] !== undefined && !corroborated);
          expect(mapped.kind === 'service' ? mapped.service.name : 'unmapped').toBe(corroborated && !contradicted ? name : 'unmapped');
        },
      ),
    );
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
