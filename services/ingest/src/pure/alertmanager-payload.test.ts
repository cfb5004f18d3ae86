import fc from 'fast-check';
import { incidentIdProblem } from '@burnback/contracts';
import { alert, GO_ZERO_TIME, notification, PROBE_FAILURE } from '../../test/alertmanager-payloads.js';
import {
  alertIncidentId,
  alertmanagerNotificationFor,
  alertNotificationId,
  alertOwnNotification,
  AlertmanagerAlert,
  isoTimeOf,
  MAX_ALERTS,
  readAlertmanagerNotification,
  type AlertEntry,
} from './alertmanager-payload.js';

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');
const read = (value: unknown) => readAlertmanagerNotification(bytes(value));
const alertsOf = (value: unknown): AlertEntry[] => {
  const r = read(value);
  if (!r.ok) throw new Error(`refused: ${r.problem}`);
  return r.alerts;
};
const readOne = (value: Record<string, unknown>) => {
  const [entry] = alertsOf(notification([value]));
  return entry!;
};

describe("Alertmanager's webhook notification", () => {
  it("reads Alertmanager's documented sample: one firing alert, its incident its fingerprint and start", () => {
    const r = read(PROBE_FAILURE);
    expect(r).toEqual({
      ok: true,
      receiver: 'sms',
      truncatedAlerts: 0,
      alerts: [
        {
          ok: true,
          index: 0,
          alert: expect.objectContaining({ status: 'firing', fingerprint: '1a30ba71cca2921f' }),
          incidentId: 'am-1a30ba71cca2921f-2023-02-06T13:08:45.828Z',
          state: 'open',
          startedAt: '2023-02-06T13:08:45.828Z',
          endedAt: null,
          notificationId: expect.stringMatching(/^ntf-[0-9a-f]{24}$/),
        },
      ],
      group: PROBE_FAILURE,
    });
  });

  it('a resolved alert is the same incident, closed at its endsAt, under another notification id', () => {
    const firing = readOne(alert());
    const resolved = readOne(alert({ status: 'resolved', endsAt: '2026-11-26T12:16:00.5+02:00' }));
    expect(firing).toMatchObject({ ok: true, state: 'open', endedAt: null, startedAt: '2026-11-26T10:00:00.123Z' });
    expect(resolved).toMatchObject({ ok: true, state: 'closed', endedAt: '2026-11-26T10:16:00.500Z' });
    if (!firing.ok || !resolved.ok) throw new Error('unread');
    expect(resolved.incidentId).toBe(firing.incidentId);
    expect(resolved.incidentId).toBe('am-3f1c0e2a9b8d7c6e-2026-11-26T10:00:00.123Z');
    expect(resolved.notificationId).not.toBe(firing.notificationId);
    // A resolved alert without a real endsAt ended at an unknown time.
    expect(readOne(alert({ status: 'resolved', endsAt: GO_ZERO_TIME }))).toMatchObject({ state: 'closed', endedAt: null });
    expect(readOne({ ...alert({ status: 'resolved' }), endsAt: null })).toMatchObject({ state: 'closed', endedAt: null });
  });

  it.each([
    ['not JSON', Buffer.from('{"version": "4",'), 'invalid-json', /^notification is not JSON/],
    ['a JSON array', bytes([PROBE_FAILURE]), 'not-a-notification', /a JSON object with "version" and "alerts"/],
    ['JSON null', bytes(null), 'not-a-notification', /a JSON object/],
    [
      'version 3',
      bytes({ ...PROBE_FAILURE, version: '3' }),
      'not-a-notification',
      /unsupported Alertmanager webhook version "3" \(supported: "4"\)/,
    ],
    ['no version', bytes({ alerts: PROBE_FAILURE.alerts }), 'not-a-notification', /version null/],
    ['a Monitoring notification', bytes({ version: '1.2', incident: {} }), 'not-a-notification', /version "1.2"/],
    ['version 4 as a number', bytes({ ...PROBE_FAILURE, version: 4 }), 'not-a-notification', /version 4 /],
    ['no alerts', bytes({ ...PROBE_FAILURE, alerts: undefined }), 'not-a-notification', /^invalid Alertmanager notification: alerts:/],
    ['an empty list of alerts', bytes({ ...PROBE_FAILURE, alerts: [] }), 'not-a-notification', /a notification with no alerts/],
    ['alerts that are not a list', bytes({ ...PROBE_FAILURE, alerts: {} }), 'not-a-notification', /alerts:/],
    ['common labels that are not labels', bytes({ ...PROBE_FAILURE, commonLabels: 'x' }), 'not-a-notification', /commonLabels/],
    ['a negative truncatedAlerts', bytes({ ...PROBE_FAILURE, truncatedAlerts: -1 }), 'not-a-notification', /truncatedAlerts/],
  ])('refuses %s as a whole, with the reason', (_name, raw, reason, problem) => {
    const r = readAlertmanagerNotification(raw);
    expect(r).toEqual({ ok: false, reason, problem: expect.stringMatching(problem) });
  });

  it('takes the envelope fields Alertmanager may leave out or send as null', () => {
    const minimal = { version: '4', alerts: [alert()] };
    expect(read(minimal)).toMatchObject({ ok: true, receiver: null, truncatedAlerts: 0 });
    const nulls = { ...notification([alert()]), receiver: null, groupLabels: null, commonAnnotations: null, truncatedAlerts: null };
    expect(read(nulls)).toMatchObject({ ok: true, receiver: null, truncatedAlerts: 0 });
    expect(read({ ...notification([alert()]), truncatedAlerts: 3 })).toMatchObject({ ok: true, receiver: 'burnback', truncatedAlerts: 3 });
    expect(read({ ...notification([alert()]), receiver: '\ud800' })).toMatchObject({ ok: true, receiver: null });
  });

  it.each([
    ['no fingerprint (an Alertmanager older than 0.19)', { fingerprint: undefined }, /fingerprint/],
    ['an empty fingerprint', { fingerprint: '' }, /the alert has no fingerprint/],
    ['a fingerprint with a slash', { fingerprint: 'a/b' }, /its fingerprint cannot make an incident id: incident id .* holds a "\/"/],
    [
      'an oversize fingerprint',
      { fingerprint: 'f'.repeat(600) },
      /its fingerprint cannot make an incident id: incident id is \d+ bytes long/,
    ],
    ['a status that is neither firing nor resolved', { status: 'pending' }, /status/],
    ['a capitalised status', { status: 'FIRING' }, /status/],
    ['no labels', { labels: undefined }, /labels/],
    ['a label that is not text', { labels: { alertname: 'x', n: 1 } }, /labels\.n/],
    ['annotations that are not text', { annotations: { burnback_value: 0.5 } }, /annotations\.burnback_value/],
    ['a start that is not RFC 3339', { startsAt: '26/11/2026 10:00' }, /startsAt: expected an RFC 3339 time after 1970/],
    ["Go's zero time as the start", { startsAt: GO_ZERO_TIME }, /startsAt/],
    ['a start without a time zone', { startsAt: '2026-11-26T10:00:00' }, /startsAt/],
    ['a generatorURL that is not text', { generatorURL: 42 }, /generatorURL/],
    ['an unpaired surrogate in an annotation', { annotations: { summary: '\ud800' } }, /not well-formed Unicode/],
  ])('refuses an alert with %s, and only that alert', (_name, change, problem) => {
    const bad = { ...alert({ fingerprint: 'badbadbadbadbad0' }), ...change };
    const entries = alertsOf(notification([alert({ fingerprint: 'aaaaaaaaaaaaaaa1' }), bad, alert({ fingerprint: 'aaaaaaaaaaaaaaa2' })]));
    expect(entries.map((e) => [e.index, e.ok])).toEqual([
      [0, true],
      [1, false],
      [2, true],
    ]);
    const given = (bad as { fingerprint?: unknown }).fingerprint;
    const fingerprint = typeof given === 'string' && given.length <= 128 ? given : null;
    expect(entries[1]).toEqual({ ok: false, index: 1, fingerprint, problem: expect.stringMatching(problem) });
  });

  it("names a refused alert's fingerprint when it has a usable one", () => {
    const [refused] = alertsOf(notification([{ ...alert({ fingerprint: 'c0ffee0000000001' }), status: 'pending' }]));
    expect(refused).toMatchObject({ ok: false, fingerprint: 'c0ffee0000000001' });
    const [none] = alertsOf(notification([{ ...alert(), fingerprint: 7 }]));
    expect(none).toMatchObject({ ok: false, fingerprint: null });
    const [long] = alertsOf(notification([{ ...alert(), status: 'x', fingerprint: 'f'.repeat(129) }]));
    expect(long).toMatchObject({ ok: false, fingerprint: null });
    const [junk] = alertsOf(notification(['an alert'] as never));
    expect(junk).toMatchObject({ ok: false, fingerprint: null });
    const [nothing] = alertsOf(notification([null] as never));
    expect(nothing).toMatchObject({ ok: false, fingerprint: null });
    const [surrogate] = alertsOf(notification([{ ...alert(), status: 'x', fingerprint: '\ud800' }]));
    expect(surrogate).toMatchObject({ ok: false, fingerprint: null });
  });

  it(`reads at most ${MAX_ALERTS} alerts of one notification and refuses the rest, saying so`, () => {
    const many = Array.from({ length: MAX_ALERTS + 2 }, (_, i) => alert({ fingerprint: i.toString(16).padStart(16, '0') }));
    const entries = alertsOf(notification(many));
    expect(entries.filter((e) => e.ok)).toHaveLength(MAX_ALERTS);
    expect(entries.slice(MAX_ALERTS)).toEqual([
      {
        ok: false,
        index: MAX_ALERTS,
        fingerprint: expect.any(String),
        problem: `Burnback reads at most ${MAX_ALERTS} alerts of one notification (set max_alerts)`,
      },
      { ok: false, index: MAX_ALERTS + 1, fingerprint: expect.any(String), problem: expect.stringMatching(/at most/) },
    ]);
  });
});

describe("an alert's times, incident and notification id", () => {
  it.each([
    ['2026-11-26T10:00:00Z', '2026-11-26T10:00:00.000Z'],
    ['2026-11-26T10:00:00.1Z', '2026-11-26T10:00:00.100Z'],
    ['2018-08-03T09:52:26.739266876+02:00', '2018-08-03T07:52:26.739Z'],
    ['2026-11-26T10:00:00.999999999-05:30', '2026-11-26T15:30:00.999Z'],
    ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
    [GO_ZERO_TIME, null],
    ['1969-12-31T23:59:59Z', null],
    ['2026-11-26T10:00:00', null],
    ['2026-11-26 10:00:00Z', null],
    ['2026-11-26T10:00:00.1234567890Z', null],
    ['2026-13-40T10:00:00Z', null],
    ['', null],
  ])('%s is %s', (text, iso) => {
    expect(isoTimeOf(text)).toBe(iso);
  });

  const parsed = (value: Record<string, unknown>) => AlertmanagerAlert.parse(value);

  it("is the same for the same alert, whatever its keys' order or a firing alert's endsAt", () => {
    const a = parsed(alert({ labels: { a: '1', b: '2' }, annotations: { x: 'y', burnback_value: '0.2' } }));
    const b = parsed({
      ...alert({ labels: { b: '2', a: '1' }, annotations: { burnback_value: '0.2', x: 'y' } }),
      endsAt: '2026-11-26T10:04:00Z',
    });
    const id = alertNotificationId(a, 'am-x', 'open');
    expect(alertNotificationId(b, 'am-x', 'open')).toBe(id);
    // Anything else makes it another notification: the state, the incident, a label, an annotation (a new value), the rule.
    expect(alertNotificationId(a, 'am-x', 'closed')).not.toBe(id);
    expect(alertNotificationId(a, 'am-y', 'open')).not.toBe(id);
    expect(
      alertNotificationId(parsed(alert({ labels: { a: '1', b: '3' }, annotations: { x: 'y', burnback_value: '0.2' } })), 'am-x', 'open'),
    ).not.toBe(id);
    expect(
      alertNotificationId(parsed(alert({ labels: { a: '1', b: '2' }, annotations: { x: 'y', burnback_value: '0.3' } })), 'am-x', 'open'),
    ).not.toBe(id);
    expect(
      alertNotificationId(
        parsed({
          ...alert({ labels: { a: '1', b: '2' }, annotations: { x: 'y', burnback_value: '0.2' } }),
          generatorURL: 'http://p/graph?g0.expr=a+%3E+1',
        }),
        'am-x',
        'open',
      ),
    ).not.toBe(id);
    expect(
      alertNotificationId(
        parsed({ ...alert({ labels: { a: '1', b: '2' }, annotations: { x: 'y', burnback_value: '0.2' } }), generatorURL: undefined }),
        'am-x',
        'open',
      ),
    ).not.toBe(id);
  });

  it("a resolved alert's endsAt is part of its notification", () => {
    const a = parsed(alert({ status: 'resolved', endsAt: '2026-11-26T10:16:00Z' }));
    const b = parsed(alert({ status: 'resolved', endsAt: '2026-11-26T10:17:00Z' }));
    expect(alertNotificationId(a, 'am-x', 'closed')).not.toBe(alertNotificationId(b, 'am-x', 'closed'));
    expect(alertNotificationId(a, 'am-x', 'closed')).toBe(
      alertNotificationId(parsed(alert({ status: 'resolved', endsAt: '2026-11-26T10:16:00Z' })), 'am-x', 'closed'),
    );
    // No endsAt and a null one are the same; so are no generatorURL and a null one.
    const noEnd = alertNotificationId(parsed({ ...alert({ status: 'resolved' }), endsAt: undefined }), 'am-x', 'closed');
    expect(noEnd).toMatch(/^ntf-[0-9a-f]{24}$/);
    expect(alertNotificationId(parsed({ ...alert({ status: 'resolved' }), endsAt: null }), 'am-x', 'closed')).toBe(noEnd);
    const noUrl = alertNotificationId(parsed({ ...alert(), generatorURL: undefined }), 'am-x', 'open');
    expect(alertNotificationId(parsed({ ...alert(), generatorURL: null }), 'am-x', 'open')).toBe(noUrl);
  });

  it('every read alert has an incident id Burnback can store and send, and a replayed alert alone gives the same id', () => {
    const hex = fc.stringMatching(/^[0-9a-f]{16}$/);
    const time = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59Z'), noInvalidDate: true });
    const labels = fc.dictionary(fc.stringMatching(/^[a-z_]{1,8}$/), fc.string({ maxLength: 10 }), { maxKeys: 4 });
    fc.assert(
      fc.property(fc.array(fc.tuple(hex, time, labels, fc.boolean()), { minLength: 1, maxLength: 4 }), (specs) => {
        const alerts = specs.map(([fingerprint, at, l, resolved]) =>
          alert({ fingerprint, startsAt: at.toISOString(), labels: l, status: resolved ? 'resolved' : 'firing' }),
        );
        const raw = JSON.stringify(notification(alerts));
        for (const entry of alertsOf(JSON.parse(raw))) {
          expect(entry.ok).toBe(true);
          if (!entry.ok) continue;
          expect(incidentIdProblem(entry.incidentId)).toBeNull();
          expect(entry.incidentId).toBe(alertIncidentId(entry.alert.fingerprint, entry.startedAt));
          const alone = alertmanagerNotificationFor(raw, entry.notificationId)!;
          const again = alertsOf(JSON.parse(alone));
          expect(again).toHaveLength(1);
          expect(again[0]).toMatchObject({ ok: true, notificationId: entry.notificationId, incidentId: entry.incidentId });
        }
      }),
    );
  });

  it('any JSON is read or refused, never thrown', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const r = readAlertmanagerNotification(JSON.stringify(value) ?? 'null');
        expect(typeof r.ok).toBe('boolean');
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { minLength: 1, maxLength: 5 }), (alerts) => {
        const r = read({ version: '4', alerts });
        expect(r.ok && r.alerts.length === alerts.length).toBe(true);
      }),
    );
  });
});

describe('a stored notification sent again for one of its alerts (replay)', () => {
  it('is the group with only that alert; none for an id no alert has, or a notification that is not one', () => {
    const raw = JSON.stringify(
      notification([alert({ fingerprint: 'aaaaaaaaaaaaaaa1' }), alert({ fingerprint: 'aaaaaaaaaaaaaaa2' })], { truncatedAlerts: 2 }),
    );
    const [, second] = alertsOf(JSON.parse(raw));
    if (!second?.ok) throw new Error('unread');
    const alone = JSON.parse(alertmanagerNotificationFor(raw, second.notificationId)!) as Record<string, unknown>;
    expect(alone).toEqual({ ...(JSON.parse(raw) as object), alerts: [alert({ fingerprint: 'aaaaaaaaaaaaaaa2' })], truncatedAlerts: 0 });
    expect(alertmanagerNotificationFor(raw, 'ntf-000000000000000000000000')).toBeNull();
    expect(alertmanagerNotificationFor('{"version":"3"}', second.notificationId)).toBeNull();
    const withBad = JSON.stringify(notification([{ ...alert(), status: 'x' }]));
    expect(alertmanagerNotificationFor(withBad, second.notificationId)).toBeNull();
  });

  it("is, for an alert's own notification (what ingest keeps), that notification unchanged", () => {
    const raw = JSON.stringify(
      notification([alert({ fingerprint: 'aaaaaaaaaaaaaaa1' }), alert({ fingerprint: 'aaaaaaaaaaaaaaa2' })], { truncatedAlerts: 2 }),
    );
    const r = readAlertmanagerNotification(raw);
    const second = r.ok ? r.alerts[1] : undefined;
    if (!r.ok || !second?.ok) throw new Error('unread');
    const own = alertOwnNotification(r.group, 1);
    expect(own).toBe(alertmanagerNotificationFor(raw, second.notificationId));
    expect(alertmanagerNotificationFor(own, second.notificationId)).toBe(own);
    // Without truncatedAlerts in the group, the same.
    const plain = { ...(JSON.parse(raw) as Record<string, unknown>), truncatedAlerts: undefined };
    const p = readAlertmanagerNotification(JSON.stringify(plain));
    const first = p.ok ? p.alerts[0] : undefined;
    if (!p.ok || !first?.ok) throw new Error('unread');
    const plainOwn = alertOwnNotification(p.group, 0);
    expect(alertmanagerNotificationFor(plainOwn, first.notificationId)).toBe(plainOwn);
  });
});
