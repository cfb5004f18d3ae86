import fc from 'fast-check';
import { PermanentError } from '@burnback/contracts';
import type { ServiceConfig } from '@burnback/platform';
import {
  belowThresholdIncident,
  closedIncident,
  notificationBytes,
  openIncident,
  serviceConfig,
  testNotification,
  servicesOf,
} from '@burnback/testkit/fixtures';
import { mapToService, notificationIdFor, parseNotification, TestNotification, toAlertEvent } from '../src/parse.js';

const service = (name: string, labels: Record<string, string>, resourceType: string | null = 'cloud_run_revision'): ServiceConfig =>
  serviceConfig(name, { match: { resourceType, resourceLabels: labels } });
const services = servicesOf(service('api-backend', { service_name: 'api-backend' }), service('checkout', { service_name: 'checkout' }));
const ctx = { services, source: 'pubsub' as const, observedAt: new Date('2026-11-26T10:05:00Z'), notificationId: 'ntf-1' };

describe('parsing Cloud Monitoring 1.2 notifications', () => {
  it('turns an open incident into an AlertEvent for the mapped service', () => {
    const event = toAlertEvent(parseNotification(notificationBytes(openIncident())), ctx);
    expect(event).toMatchObject({
      incidentId: '0.nx8k2f1q7d3a',
      service: 'api-backend',
      state: 'open',
      startedAt: '2025-11-26T10:00:00.000Z',
      endedAt: null,
      observedAt: '2026-11-26T10:05:00.000Z',
      observedValue: 0.025,
      thresholdValue: 0.01,
      signal: 'error-ratio',
      resourceType: 'cloud_run_revision',
      source: 'pubsub',
    });
  });

  it('reads a closed incident with its end time', () => {
    const event = toAlertEvent(parseNotification(notificationBytes(closedIncident())), ctx);
    expect(event.state).toBe('closed');
    expect(event.endedAt).toBe('2025-11-26T10:16:00.000Z');
  });

  it('reads a below-threshold incident with its own values', () => {
    const event = toAlertEvent(parseNotification(notificationBytes(belowThresholdIncident())), ctx);
    expect(event.observedValue).toBe(0.004);
  });

  it.each([
    ['"3600s"', 3600],
    ['"60m"', 3600],
    ['"6h"', 21600],
  ])('recognises a select_slo_burn_rate condition with lookback %s as a burn-rate signal over %i s', (lookback, seconds) => {
    const n = openIncident({ observedValue: '15.2' });
    n.incident.condition!.conditionThreshold!.filter = `select_slo_burn_rate("projects/p/services/api-backend/serviceLevelObjectives/availability", ${lookback})`;
    expect(toAlertEvent(parseNotification(notificationBytes(n)), ctx)).toMatchObject({
      signal: 'burn-rate',
      lookbackSeconds: seconds,
      observedValue: 15.2,
    });
  });

  it('an error-ratio condition has no lookback', () => {
    expect(toAlertEvent(parseNotification(notificationBytes(openIncident())), ctx).lookbackSeconds).toBeNull();
  });

  it('reads a blank observed value as no value, not zero', () => {
    expect(toAlertEvent(parseNotification(notificationBytes(openIncident({ observedValue: '  ' }))), ctx).observedValue).toBeNull();
  });

  it('rejects a start time no date can hold, naming the field', () => {
    const n = openIncident({ startedAt: 9e15 });
    expect(() => parseNotification(notificationBytes(n))).toThrow(/incident\.started_at/);
  });

  it('compares the state case-insensitively and accepts ended_at 0 as open-ended', () => {
    const n = JSON.parse(JSON.stringify(openIncident())) as Record<string, Record<string, unknown>>;
    n.incident!.state = 'OPEN';
    n.incident!.ended_at = 0;
    const event = toAlertEvent(parseNotification(notificationBytes(n)), ctx);
    expect(event.state).toBe('open');
    expect(event.endedAt).toBeNull();
  });

  it('recognises the console test notification instead of rejecting it', () => {
    expect(() => parseNotification(notificationBytes(testNotification()))).toThrow(TestNotification);
  });

  it.each([
    ['not JSON', Buffer.from('{"incident":'), /not JSON/],
    ['a JSON array', Buffer.from('[]'), /JSON object/],
    [
      'an unknown schema version',
      notificationBytes({ ...openIncident(), version: '2.0' }),
      /unsupported notification schema version "2.0"/,
    ],
    [
      'a missing incident id',
      notificationBytes({ version: '1.2', incident: { ...openIncident().incident, incident_id: undefined } }),
      /incident\.incident_id/,
    ],
    [
      'an unknown state',
      notificationBytes({ version: '1.2', incident: { ...openIncident().incident, state: 'acknowledged' } }),
      /incident\.state/,
    ],
  ])('rejects %s with a permanent error naming the problem', (_name, raw, reason) => {
    expect(() => parseNotification(raw)).toThrow(PermanentError);
    expect(() => parseNotification(raw)).toThrow(reason);
  });

  it('rejects a non-numeric observed value', () => {
    expect(() => toAlertEvent(parseNotification(notificationBytes(openIncident({ observedValue: 'lots' }))), ctx)).toThrow(
      /observed_value is not a number/,
    );
  });

  it('never throws anything but a PermanentError or TestNotification on arbitrary input', () => {
    const incidentish = fc.record({
      version: fc.oneof(fc.constant('1.2'), fc.constant('test'), fc.string()),
      incident: fc.oneof(
        fc.anything(),
        fc.constant(openIncident().incident),
        fc.record({ incident_id: fc.string(), started_at: fc.integer(), state: fc.string() }),
      ),
    });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string().map((s) => Buffer.from(s)),
          incidentish.map(notificationBytes),
          fc.anything().map((a) => notificationBytes(a ?? null)),
        ),
        (raw) => {
          try {
            toAlertEvent(parseNotification(raw), ctx);
          } catch (err) {
            expect(['PermanentError', 'TestNotification']).toContain((err as Error).name);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('mapping incidents to services', () => {
  const incident = (labels: Record<string, string>, user: Record<string, string> = {}) =>
    parseNotification(
      notificationBytes({
        ...openIncident(),
        incident: { ...openIncident().incident, resource: { type: 'cloud_run_revision', labels }, policy_user_labels: user },
      }),
    ).incident;

  it('maps by the Cloud Run service_name resource label', () => {
    expect(mapToService(incident({ service_name: 'checkout' }), services).name).toBe('checkout');
  });

  it('prefers the burnback-service policy user label', () => {
    expect(mapToService(incident({ service_name: 'checkout' }, { 'burnback-service': 'api-backend' }), services).name).toBe('api-backend');
  });

  it('rejects an incident no service matches, naming its resource', () => {
    expect(() => mapToService(incident({ service_name: 'billing' }), services)).toThrow(/no configured service matches .*billing/);
  });

  it('rejects a user label naming an unknown service', () => {
    expect(() => mapToService(incident({ service_name: 'api-backend' }, { 'burnback-service': 'nope' }), services)).toThrow(
      /names no configured service/,
    );
  });

  it('rejects an incident that matches two services instead of guessing', () => {
    const both = servicesOf(service('a', { service_name: 'x' }), service('b', {}, null));
    expect(() => mapToService(incident({ service_name: 'x' }), both)).toThrow(/matches several services: a, b/);
  });
});

describe('notification ids', () => {
  it('are the same for the same bytes and differ for a different state', () => {
    const raw = notificationBytes(openIncident());
    expect(notificationIdFor('0.a', 'open', raw)).toBe(notificationIdFor('0.a', 'open', Buffer.from(raw)));
    expect(notificationIdFor('0.a', 'closed', raw)).not.toBe(notificationIdFor('0.a', 'open', raw));
  });
});
