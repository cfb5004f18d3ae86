import fc from 'fast-check';
import { PermanentError, type MonitoringNotification } from '@burnback/contracts';
import type { ServiceConfig } from '@burnback/platform';
import { closedIncident, notificationBytes, openIncident, serviceConfig, servicesOf } from '@burnback/testkit/fixtures';
import {
  isWellFormedJson,
  mapToService,
  MAX_NUMBER_TEXT,
  notificationIdFor,
  parseNotification,
  parseValue,
  RejectedNotification,
  rejectionReasonOf,
  UnmappedNotification,
  toAlertEvent,
} from '../src/parse.js';
import { durationSeconds, sloSelectorsOf } from '../src/signal.js';

/** The edges of notification parsing: what a value is, which time is which, what maps where. */
const service = (name: string, labels: Record<string, string>, resourceType: string | null): ServiceConfig =>
  serviceConfig(name, { match: { resourceType, resourceLabels: labels } });
const services = servicesOf(service('api-backend', { service_name: 'api-backend' }, 'cloud_run_revision'));
const ctx = { services, source: 'webhook' as const, observedAt: new Date('2026-11-26T10:05:00Z'), notificationId: 'ntf-9' };
const withIncident = (patch: Record<string, unknown>, base: MonitoringNotification = openIncident()): Buffer =>
  notificationBytes({ ...base, incident: { ...base.incident, ...patch } });
const event = (raw: Buffer) => toAlertEvent(parseNotification(raw), ctx);
/** What `fn` throws (it must throw). */
const thrownBy = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
};
const burnFilter = (lookback: string) =>
  `select_slo_burn_rate("projects/p/services/api-backend/serviceLevelObjectives/availability", "${lookback}")`;

describe('values', () => {
  it.each(['2.5%', '0x10', '1e', '--1', 'NaN', 'Infinity', '1,5'])('"%s" is not a number', (text) => {
    expect(() => parseValue(text, 'observed_value')).toThrow(PermanentError);
    expect(() => parseValue(text, 'observed_value')).toThrow(`incident.observed_value is not a number: ${JSON.stringify(text)}`);
  });

  it.each([
    ['0.025', 0.025],
    [' 0.5 ', 0.5],
    ['1e-3', 0.001],
    ['1e3', 1000],
    ['2.5E+2', 250],
    ['.25', 0.25],
    ['-.5', -0.5],
    [7, 7],
    [0, 0],
    ['0', 0],
  ])('%p is the number %p', (text, n) => {
    expect(parseValue(text, 'x')).toBe(n);
  });

  it.each([null, undefined, '', '   '])('%p is no value', (text) => {
    expect(parseValue(text, 'x')).toBeNull();
  });

  it(`a number is read from up to ${MAX_NUMBER_TEXT} characters (white space aside); a longer text is refused by its length`, () => {
    const longest = `0.${'0'.repeat(MAX_NUMBER_TEXT - 3)}1`;
    expect(longest).toHaveLength(64);
    expect(parseValue(`  ${longest}  `, 'observed_value')).toBe(1e-62);
    const err = thrownBy(() => parseValue(`${longest}0`, 'observed_value'));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toBe('incident.observed_value is 65 characters long; a number is at most 64');
  });

  it('a non-finite JSON number is refused too', () => {
    expect(() => parseValue(Number.POSITIVE_INFINITY, 'threshold_value')).toThrow('incident.threshold_value is not a number');
  });

  it('every finite number written as text reads back as itself', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
        (n) => expect(parseValue(String(n), 'x')).toBe(n),
      ),
    );
  });
});

describe('the threshold', () => {
  it('the notification threshold_value wins over the condition thresholdValue', () => {
    const raw = withIncident({ threshold_value: '0.02' });
    expect(event(raw).thresholdValue).toBe(0.02);
  });

  it('the condition thresholdValue is the fallback when threshold_value is absent', () => {
    const n = openIncident({ thresholdValue: 0.03 });
    expect(event(withIncident({ threshold_value: undefined }, n)).thresholdValue).toBe(0.03);
  });

  it('no threshold anywhere is no threshold', () => {
    const n = openIncident();
    n.incident.condition = null;
    expect(event(withIncident({ threshold_value: null }, n)).thresholdValue).toBeNull();
  });
});

describe('times', () => {
  it('a closed incident starts when it started and ends when it ended', () => {
    const e = event(notificationBytes(closedIncident({ startedAt: 1_764_151_200, endedAt: 1_764_152_160 })));
    expect(e.startedAt).toBe('2025-11-26T10:00:00.000Z');
    expect(e.endedAt).toBe('2025-11-26T10:16:00.000Z');
    expect(e.observedAt).toBe('2026-11-26T10:05:00.000Z');
  });

  it('the last second a date can hold is accepted and one more is not', () => {
    expect(event(withIncident({ started_at: 253_402_300_799 })).startedAt).toBe('9999-12-31T23:59:59.000Z');
    expect(() => parseNotification(withIncident({ started_at: 253_402_300_800 }))).toThrow(/incident\.started_at/);
    expect(() => parseNotification(withIncident({ ended_at: 253_402_300_800 }))).toThrow(/incident\.ended_at/);
    expect(() => parseNotification(withIncident({ started_at: -1 }))).toThrow(/incident\.started_at/);
    expect(() => parseNotification(withIncident({ started_at: 1.5 }))).toThrow(/incident\.started_at/);
  });
});

describe('burn-rate lookbacks', () => {
  it.each([
    ['3600000000000ns', 3600],
    ['3600000000us', 3600],
    ['3600000ms', 3600],
    ['3600s', 3600],
    ['60m', 3600],
    ['1h', 3600],
    ['1.5h', 5400],
    ['1.25h', 4500],
    ['300s', 300],
    ['30m', 1800],
  ])('"%s" is %i s', (lookback, seconds) => {
    const n = openIncident();
    n.incident.condition!.conditionThreshold!.filter = burnFilter(lookback);
    const [selector] = sloSelectorsOf(parseNotification(notificationBytes(n)).incident.condition!.conditionThreshold!.filter!);
    expect(selector).toMatchObject({ selector: 'select_slo_burn_rate', lookback });
    expect(durationSeconds(lookback)).toBeCloseTo(seconds, 9);
  });

  it.each(['3600', '60 m', '1d', 'h', 'x1h', '1hx'])('an unreadable lookback "%s" is unknown, not guessed', (lookback) => {
    const n = openIncident();
    n.incident.condition!.conditionThreshold!.filter = burnFilter(lookback);
    expect(durationSeconds(lookback)).toBeNull();
    expect(event(notificationBytes(n))).toMatchObject({ signal: 'unsupported', lookbackSeconds: null });
  });

  it('tolerates white space inside the selector', () => {
    expect(sloSelectorsOf('select_slo_burn_rate (  "projects/p/services/s/serviceLevelObjectives/a" ,  "6h"  )')).toEqual([
      { selector: 'select_slo_burn_rate', slo: 'projects/p/services/s/serviceLevelObjectives/a', lookback: '6h' },
    ]);
  });

  it('an incident without a condition measures nothing Burnback acts on and has no lookback', () => {
    const n = openIncident();
    n.incident.condition = undefined;
    expect(event(notificationBytes(n))).toMatchObject({ signal: 'unsupported', lookbackSeconds: null });
  });
});

describe('mapping by resource', () => {
  const incidentOn = (type: string, labels: Record<string, string>) =>
    parseNotification(withIncident({ resource: { type, labels } })).incident;

  it('a service that names a resource type does not match an incident on another type with the same labels', () => {
    expect(() => mapToService(incidentOn('k8s_container', { service_name: 'api-backend' }), services)).toThrow(
      'no configured service matches incident 0.nx8k2f1q7d3a on resource k8s_container {"service_name":"api-backend"}',
    );
  });

  it('a service that names no resource type matches any type', () => {
    const any = servicesOf(service('a', { service_name: 'api-backend' }, null));
    expect(mapToService(incidentOn('k8s_container', { service_name: 'api-backend' }), any).name).toBe('a');
  });

  it('every resource label of the service must match, not just one', () => {
    const two = servicesOf(service('a', { service_name: 'api-backend', configuration_name: 'web' }, 'cloud_run_revision'));
    expect(() => mapToService(incidentOn('cloud_run_revision', { service_name: 'api-backend', configuration_name: 'api' }), two)).toThrow(
      /no configured service matches/,
    );
    expect(mapToService(incidentOn('cloud_run_revision', { service_name: 'api-backend', configuration_name: 'web' }), two).name).toBe('a');
  });

  it.each([
    ['no service of its resource at all', servicesOf(service('web', { service_name: 'web' }, 'cloud_run_revision')), ''],
    [
      'each service of its resource, elsewhere',
      servicesOf(
        serviceConfig('api-prod', {
          project: 'burnback-prod',
          match: { resourceType: null, resourceLabels: { service_name: 'api-backend' } },
        }),
        serviceConfig('api-eu', { region: 'europe-west1', match: { resourceType: null, resourceLabels: { service_name: 'api-backend' } } }),
      ),
      ': api-prod is not on project burnback-local (the service is in burnback-prod); api-eu is not on location us-central1 (the service is in europe-west1)',
    ],
  ])('an incident no service matches is refused naming %s', (_name, configured, elsewhere) => {
    const incident = incidentOn('cloud_run_revision', {
      project_id: 'burnback-local',
      service_name: 'api-backend',
      location: 'us-central1',
    });
    expect(thrownBy(() => mapToService(incident, configured)).message).toBe(
      `no configured service matches incident 0.nx8k2f1q7d3a on resource cloud_run_revision {"project_id":"burnback-local","service_name":"api-backend","location":"us-central1"}${elsewhere}`,
    );
  });

  it.each([
    ['absent', undefined],
    ['null', null],
  ])('an incident whose policy user labels are %s maps by its resource', (_name, labels) => {
    expect(mapToService(parseNotification(withIncident({ policy_user_labels: labels })).incident, services).name).toBe('api-backend');
  });

  it.each([
    [
      'the project its resource names',
      {
        scoping_project_id: 'ops-monitoring',
        resource: { type: 'cloud_run_revision', labels: { project_id: 'burnback-staging', service_name: 'api-backend' } },
      },
      'burnback-staging',
    ],
    [
      'its scoping project when the resource names none',
      { scoping_project_id: 'ops-monitoring', resource: { type: 'cloud_run_revision', labels: { service_name: 'billing' } } },
      'ops-monitoring',
    ],
    [
      'no project when neither names one',
      { scoping_project_id: undefined, resource: { type: 'cloud_run_revision', labels: { service_name: 'billing' } } },
      '',
    ],
  ])('an unmapped notification is named UnmappedNotification and counted under %s', (_name, patch, project) => {
    const err = thrownBy(() => mapToService(parseNotification(withIncident(patch)).incident, services));
    expect(err).toBeInstanceOf(UnmappedNotification);
    expect(err).toMatchObject({ name: 'UnmappedNotification', project, misconfigured: false });
  });

  it('an incident without a resource is described as (none)', () => {
    const n = openIncident();
    delete (n.incident as { resource?: unknown }).resource;
    expect(() => mapToService(parseNotification(notificationBytes(n)).incident, services)).toThrow('on resource (none) {}');
  });
});

describe('the alert event', () => {
  it('carries every field the decider and a replay need', () => {
    expect(event(notificationBytes(openIncident({ policyUserLabels: { team: 'sre' } })))).toEqual({
      incidentId: '0.nx8k2f1q7d3a',
      service: 'api-backend',
      state: 'open',
      startedAt: '2025-11-26T10:00:00.000Z',
      endedAt: null,
      observedAt: '2026-11-26T10:05:00.000Z',
      observedValue: 0.025,
      thresholdValue: 0.01,
      signal: 'error-ratio',
      lookbackSeconds: null,
      policyName: 'api-backend error budget: error ratio > 1 % over 1 h',
      conditionName: 'Error ratio above 1 %',
      severity: 'critical',
      resourceType: 'cloud_run_revision',
      resourceLabels: {
        project_id: 'burnback-local',
        service_name: 'api-backend',
        location: 'us-central1',
        revision_name: 'api-backend-00042-xyz',
        configuration_name: 'api-backend',
      },
      policyUserLabels: { team: 'sre' },
      scopingProjectId: 'burnback-local',
      url: 'https://console.cloud.google.com/monitoring/alerting/incidents/0.nx8k2f1q7d3a?project=burnback-local',
      source: 'webhook',
      notificationId: 'ntf-9',
      comparison: 'COMPARISON_GT',
      signalValue: 0.025,
      signalThreshold: 0.01,
      sloName: null,
      sloSelector: null,
      burnPolicy: null,
      burnPolicySource: null,
      burnWindows: null,
      unsupportedReason: null,
    });
  });

  it('a notification with only the required fields gets documented defaults', () => {
    const raw = notificationBytes({
      version: '1.2',
      incident: {
        incident_id: '0.min',
        started_at: 1_764_151_200,
        state: 'open',
        policy_user_labels: { 'burnback-service': 'api-backend' },
      },
    });
    expect(event(raw)).toMatchObject({
      severity: 'no severity',
      policyName: '',
      conditionName: '',
      resourceType: '',
      resourceLabels: {},
      scopingProjectId: '',
      url: '',
      observedValue: null,
      thresholdValue: null,
    });
  });

  it('label values that are numbers or booleans become strings', () => {
    const raw = withIncident({
      resource: { type: 'cloud_run_revision', labels: { service_name: 'api-backend', generation: 3, canary: true } },
    });
    expect(event(raw).resourceLabels).toEqual({ service_name: 'api-backend', generation: '3', canary: 'true' });
  });
});

describe('notification ids', () => {
  it('differ for different bytes of the same incident and state', () => {
    expect(notificationIdFor('0.a', 'open', '{"a":1}')).not.toBe(notificationIdFor('0.a', 'open', '{"a":2}'));
    expect(notificationIdFor('0.a', 'open', '{"a":1}')).not.toBe(notificationIdFor('0.b', 'open', '{"a":1}'));
    expect(notificationIdFor('0.a', 'open', '{"a":1}')).toMatch(/^ntf-[0-9a-f]{24}$/);
  });
});

describe('schema versions', () => {
  it('a notification without a version is refused with the reason', () => {
    const { version: _v, ...rest } = openIncident();
    expect(() => parseNotification(notificationBytes(rest))).toThrow('invalid Monitoring notification: version:');
  });

  it('a version that is not a string is refused by the schema, not accepted', () => {
    expect(() => parseNotification(notificationBytes({ ...openIncident(), version: 1.2 }))).toThrow(/version/);
  });

  it.each(['null', '5', '"1.2"', 'true', '[]'])('%s is not a notification', (json) => {
    expect(() => parseNotification(json)).toThrow('notification must be a JSON object with "version" and "incident"');
  });
});

describe('messages a sender can act on', () => {
  it('an unsupported version names it and every supported one', () => {
    expect(() => parseNotification(notificationBytes({ ...openIncident(), version: '2.0' }))).toThrow(
      'unsupported notification schema version "2.0" (supported: 1.2, test)',
    );
  });

  it('the console test notification is named as such', () => {
    expect(() => parseNotification(notificationBytes({ version: 'test', incident: {} }))).toThrow('Cloud Monitoring test notification');
  });

  it('a threshold that is not a number names the threshold field', () => {
    expect(() => event(withIncident({ threshold_value: 'high' }))).toThrow('incident.threshold_value is not a number: "high"');
  });
});

describe("why a notification is refused (the front door's fixed reasons), or not mapped", () => {
  const reasonOf = (fn: () => unknown): [string, string, string] => {
    try {
      fn();
    } catch (err) {
      // A notification no service matches is read and answered, not refused: never a permanent error (a dead letter).
      if (err instanceof UnmappedNotification) return ['unmapped', err.misconfigured ? 'misconfigured' : 'elsewhere', err.message];
      expect(err).toBeInstanceOf(PermanentError);
      return [rejectionReasonOf(err), err instanceof RejectedNotification ? 'rejected' : 'permanent', (err as Error).message];
    }
    throw new Error('expected a refusal');
  };
  const SLO = 'projects/burnback-local/services/api/serviceLevelObjectives/availability';
  const sloFilter = `select_slo_burn_rate("${SLO}", "3600s")`;
  const onSlo = (): Buffer =>
    withIncident({
      resource: { type: 'gce_instance', labels: {} },
      condition: { ...openIncident().incident.condition, conditionThreshold: { filter: sloFilter, comparison: 'COMPARISON_GT' } },
    });

  it.each([
    ['bytes that are not JSON', () => parseNotification('{"incident": '), 'invalid-json', 'rejected'],
    ['JSON that is not an object', () => parseNotification('null'), 'not-a-notification', 'permanent'],
    [
      'an unsupported version',
      () => parseNotification(withIncident({}, { ...openIncident(), version: '2.0' })),
      'not-a-notification',
      'permanent',
    ],
    ['a schema violation', () => parseNotification(withIncident({ incident_id: 7 })), 'not-a-notification', 'permanent'],
    ['a value that is not a number', () => event(withIncident({ observed_value: 'high' })), 'not-a-notification', 'permanent'],
    [
      'a user label naming no service',
      () => event(withIncident({ policy_user_labels: { 'burnback-service': 'nope' } })),
      'unmapped',
      'misconfigured',
    ],
    [
      'a user label naming a service of another project',
      () =>
        event(
          withIncident({
            policy_user_labels: { 'burnback-service': 'api-backend' },
            resource: { type: 'cloud_run_revision', labels: { project_id: 'elsewhere', service_name: 'api-backend' } },
          }),
        ),
      'unmapped',
      'misconfigured',
    ],
    [
      'a resource no service matches',
      () => event(withIncident({ resource: { type: 'cloud_run_revision', labels: { service_name: 'x' } } })),
      'unmapped',
      'elsewhere',
    ],
    [
      'a resource several services match',
      () =>
        toAlertEvent(parseNotification(notificationBytes(openIncident())), {
          ...ctx,
          services: servicesOf(...services.values(), service('twin', { service_name: 'api-backend' }, null)),
        }),
      'unmapped',
      'misconfigured',
    ],
    [
      'an SLO several services name',
      () =>
        toAlertEvent(parseNotification(onSlo()), {
          ...ctx,
          services: servicesOf(serviceConfig('a', { slo: SLO, target: 'ta' }), serviceConfig('b', { slo: SLO, target: 'tb' })),
        }),
      'unmapped',
      'misconfigured',
    ],
  ])('%s: %s', (name, fn, reason, kind) => {
    const [actualReason, actualKind, message] = reasonOf(fn);
    expect([actualReason, actualKind]).toEqual([reason, kind]);
    // Each case reaches the refusal it names (not another one on the way).
    const says: Record<string, RegExp> = {
      'bytes that are not JSON': /^notification is not JSON/,
      'JSON that is not an object': /must be a JSON object/,
      'an unsupported version': /unsupported notification schema version/,
      'a schema violation': /^invalid Monitoring notification/,
      'a value that is not a number': /is not a number/,
      'a user label naming no service': /names no configured service/,
      'a user label naming a service of another project': /names a service in another project/,
      'a resource no service matches': /^no configured service matches/,
      'a resource several services match': /on resource .* matches several services: api-backend, twin/,
      'an SLO several services name': /on SLO .* matches several services: a, b/,
    };
    expect(message).toMatch(says[name]!);
  });

  it('an error that is not a refusal of ours reads as not-a-notification', () => {
    expect(rejectionReasonOf(new Error('anything'))).toBe('not-a-notification');
    expect(rejectionReasonOf(new RejectedNotification('invalid-json', 'x'))).toBe('invalid-json');
  });
});

describe('strings that are not well-formed Unicode (found by the fuzz suite: they failed every store write, a 503 for ever)', () => {
  const text = (incidentId: string) => notificationBytes(openIncident()).toString('utf8').replace('"0.nx8k2f1q7d3a"', incidentId);

  it.each([
    ['an unpaired high surrogate in a value', '"\\ud800"'],
    ['an unpaired low surrogate in a value', '"a\\udc00b"'],
    ['surrogates in the wrong order', '"\\udc00\\ud800"'],
  ])('%s is refused as invalid JSON', (_name, incidentId) => {
    const parse = () => parseNotification(text(incidentId));
    expect(parse).toThrow(RejectedNotification);
    expect(parse).toThrow('notification holds a string that is not well-formed Unicode (an unpaired surrogate)');
    try {
      parse();
    } catch (err) {
      expect(rejectionReasonOf(err)).toBe('invalid-json');
    }
  });

  it('a surrogate pair (an emoji, escaped or not) is well-formed and accepted', () => {
    expect(parseNotification(text('"\\ud83d\\udca5"')).incident.incident_id).toBe('💥');
    expect(parseNotification(text('"💥"')).incident.incident_id).toBe('💥');
    // The bytes of a Pub/Sub message or a webhook body are UTF-8.
    expect(parseNotification(Buffer.from(text('"💥é"'), 'utf8')).incident.incident_id).toBe('💥é');
  });

  it('finds a lone surrogate in a key, in an array, and 100,000 levels deep without overflowing the stack', () => {
    expect(isWellFormedJson({ ['k\ud800']: 1 })).toBe(false);
    expect(isWellFormedJson([1, 'ok', ['\udfff']])).toBe(false);
    const deep = JSON.parse('[{"d":'.repeat(100_000) + '"\\ud800"' + '}]'.repeat(100_000)) as unknown;
    expect(isWellFormedJson(deep)).toBe(false);
    const fine = JSON.parse('[{"d":'.repeat(100_000) + '"ok 💥"' + '}]'.repeat(100_000)) as unknown;
    expect(isWellFormedJson(fine)).toBe(true);
    expect(isWellFormedJson(null)).toBe(true);
    expect(isWellFormedJson({ a: [true, 1.5, null, { b: 'é' }] })).toBe(true);
  });

  it('a value JSON cannot hold (undefined, a bigint) has no string to refuse, and is walked without throwing', () => {
    expect(isWellFormedJson(undefined)).toBe(true);
    expect(isWellFormedJson({ a: undefined, b: [undefined, 1n, 'ok'] })).toBe(true);
    expect(isWellFormedJson({ a: undefined, b: [undefined, '\ud800'] })).toBe(false);
  });
});
