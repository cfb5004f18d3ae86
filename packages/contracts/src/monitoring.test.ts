import { MonitoringNotification, SUPPORTED_NOTIFICATION_VERSIONS } from './index.js';

/** The notification schema: lenient where Google's senders differ, strict where a value would be wrong. */
const incident = {
  incident_id: '0.abc',
  started_at: 1_764_151_200,
  state: 'open',
};
const parse = (patch: Record<string, unknown>, envelope: Record<string, unknown> = {}) =>
  MonitoringNotification.safeParse({ version: '1.2', incident: { ...incident, ...patch }, ...envelope });

describe('MonitoringNotification', () => {
  it('the supported schema versions are 1.2 and the console test', () => {
    expect(SUPPORTED_NOTIFICATION_VERSIONS).toEqual(['1.2', 'test']);
  });

  it('fills the documented defaults of an incident that leaves them out', () => {
    const r = parse({});
    expect(r.success).toBe(true);
    expect(r.data!.incident).toMatchObject({
      scoping_project_id: '',
      url: '',
      severity: 'no severity',
      policy_name: '',
      condition_name: '',
      summary: '',
    });
  });

  it('takes the state in any case and keeps it lower-case', () => {
    expect(parse({ state: 'OPEN' }).data!.incident.state).toBe('open');
    expect(parse({ state: 'Closed' }).data!.incident.state).toBe('closed');
    expect(parse({ state: 'acknowledged' }).success).toBe(false);
  });

  it('an empty incident id or version is refused', () => {
    expect(parse({ incident_id: '' }).success).toBe(false);
    expect(parse({}, { version: '' }).success).toBe(false);
    expect(parse({ incident_id: 'x' }).success).toBe(true);
    expect(parse({}, { version: 'v' }).success).toBe(true);
  });

  it('start and end times must be whole, non-negative seconds a date can hold', () => {
    expect(parse({ started_at: 253_402_300_799, ended_at: 253_402_300_799 }).success).toBe(true);
    expect(parse({ started_at: 0, ended_at: 0 }).success).toBe(true);
    expect(parse({ started_at: 253_402_300_800 }).success).toBe(false);
    expect(parse({ ended_at: 253_402_300_800 }).success).toBe(false);
  });

  it('a resource and metric keep their labels, turning numbers and booleans into text', () => {
    const r = parse({ resource: { type: 'cloud_run_revision', labels: { n: 3, b: false } }, metric: { type: 'm', labels: { x: 1 } } });
    expect(r.data!.incident.resource).toEqual({ type: 'cloud_run_revision', labels: { n: '3', b: 'false' } });
    expect(r.data!.incident.metric).toEqual({ type: 'm', labels: { x: '1' } });
  });

  it('a label a sender wrote as null is dropped, not kept as the text "null"', () => {
    const r = parse({
      resource: { type: 'cloud_run_revision', labels: { gone: null, kept: 'x' } },
      metric: { type: 'm', labels: { gone: null } },
    });
    expect(r.data!.incident.resource).toEqual({ type: 'cloud_run_revision', labels: { kept: 'x' } });
    expect(r.data!.incident.metric).toEqual({ type: 'm', labels: {} });
  });

  it('an incident id that cannot be stored is refused with the id rule’s reason, at the id', () => {
    const r = parse({ incident_id: 'a/b' });
    expect(r.success).toBe(false);
    expect(r.error!.issues).toEqual([
      expect.objectContaining({ code: 'custom', path: ['incident', 'incident_id'], message: expect.stringContaining('holds a "/"') }),
    ]);
  });

  it('a resource without type or labels gets empty ones', () => {
    expect(parse({ resource: {} }).data!.incident.resource).toEqual({ type: '', labels: {} });
  });

  it('documentation may be the console test string or an object', () => {
    expect(parse({ documentation: 'text' }).success).toBe(true);
    expect(parse({ documentation: { content: 'c', mime_type: 'text/markdown' } }).success).toBe(true);
    expect(parse({ documentation: 5 }).success).toBe(false);
  });
});
