import { AlertEvent, errorKind, type CloudEvent, type EventType, type TopicName } from '@burnback/contracts';
import { silentLogger, type Publisher } from '@burnback/platform';
import { serviceConfig, servicesOf } from '@burnback/testkit/fixtures';
import { alert, notification } from '../test/alertmanager-payloads.js';
import { ALERT_WRITES_IN_FLIGHT, createAlertmanagerHandler, type AlertmanagerOutcome, type AlertResult } from './alertmanager.js';
import { alertmanagerNotificationFor } from './pure/alertmanager-payload.js';
import { afterWriteError, tooLargeToKeep, type NotificationStore, type StoredNotification } from './store.js';

/**
 * The Alertmanager handler over a store that answers as the Firestore adapter
 * does (its size check, what each write error means: tooLargeToKeep,
 * afterWriteError) and counts the writes in flight; the emulator run of the
 * same, through the real adapter, is in test/alertmanager.int.test.ts.
 */
const PROM_ERROR_RATIO = 'slo:sli_error:ratio_rate1h';
const services = servicesOf(
  serviceConfig('api-backend', {
    match: {
      resourceType: 'cloud_run_revision',
      resourceLabels: { service_name: 'api-backend' },
      labels: { sloth_service: 'api-backend' },
    },
    signals: { errorRatio: { metrics: serviceConfig().signals.errorRatio!.metrics, prometheusMetrics: [PROM_ERROR_RATIO] } },
  }),
);

/** Alert `i` of a group: an error ratio of api-backend, its own fingerprint. */
const alertNo = (i: number, annotations: Record<string, string> = {}) =>
  alert({
    labels: { alertname: 'ApiBackendErrorRatio', burnback_service: 'api-backend', instance: `pod-${i}` },
    annotations: { burnback_value: '0.05', ...annotations },
    expr: `${PROM_ERROR_RATIO}{sloth_service="api-backend"} > 0.01`,
    startsAt: '2026-11-26T10:00:00Z',
    fingerprint: `f${String(i).padStart(15, '0')}`,
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Firestore's largest document. */
const ONE_MIB = 1024 * 1024;

function harness(options: { refuse?: (doc: StoredNotification) => unknown; delayMs?: (doc: StoredNotification) => number } = {}) {
  const docs = new Map<string, StoredNotification>();
  const published: Array<{ id: string; data: AlertEvent; orderingKey: string | undefined }> = [];
  const flight = { now: 0, most: 0, writes: 0 };
  // The store as the handler sees it (NotificationStore): Firestore's own behaviour is the integration suite's
  // (alertmanager.int, on the emulator); here, how many writes are in flight and what the handler does with each answer.
  // FirestoreNotificationStore's own answers (its size check, what each write error means) around a write that
  // refuses what it is told to and counts the writes in flight.
  const store: NotificationStore = {
    save: async (doc: StoredNotification) => {
      const tooLarge = tooLargeToKeep(doc);
      if (tooLarge) throw tooLarge;
      flight.writes++;
      flight.most = Math.max(flight.most, ++flight.now);
      try {
        await sleep(options.delayMs?.(doc) ?? 1 + (flight.writes % 3));
        const refusal = options.refuse?.(doc);
        if (refusal) throw refusal;
        if (docs.has(doc.id)) throw Object.assign(new Error('6 ALREADY_EXISTS'), { code: 6 });
        docs.set(doc.id, doc);
      } catch (err) {
        afterWriteError(doc, err);
      } finally {
        flight.now--;
      }
    },
  };
  const publisher: Publisher = {
    async publishEvent<T extends EventType>(_topic: TopicName, event: CloudEvent<T>, orderingKey?: string) {
      published.push({ id: event.id, data: event.data as AlertEvent, orderingKey });
      return event.id;
    },
    async publishRaw() {
      throw new Error('not used');
    },
  };
  const handle = createAlertmanagerHandler({ services, store, publisher, logger: silentLogger() });
  const send = (body: unknown) =>
    handle({
      raw: Buffer.from(JSON.stringify(body)),
      source: 'alertmanager',
      observedAt: new Date('2026-11-26T10:05:00Z'),
      receivedAt: new Date('2026-11-26T10:05:00Z'),
      messageId: null,
    });
  return { docs, published, flight, send };
}

const resultsOf = (outcome: AlertmanagerOutcome): AlertResult[] => {
  if (outcome.kind !== 'read') throw new Error(`refused: ${outcome.message}`);
  return outcome.results;
};

describe("the Alertmanager handler's keeping and publishing", () => {
  it('keeps a 300-alert group once per alert, each record only its own alert, a few at a time', async () => {
    const h = harness();
    const body = notification(Array.from({ length: 300 }, (_, i) => alertNo(i)));
    const results = resultsOf(await h.send(body));

    expect(results.map((r) => [r.index, r.status])).toEqual(Array.from({ length: 300 }, (_, i) => [i, 'accepted']));
    expect(h.docs.size).toBe(300);
    expect(h.published).toHaveLength(300);
    for (const r of results) {
      if (r.status !== 'accepted') throw new Error(r.reason);
      const kept = h.docs.get(r.eventId)!;
      const group = JSON.parse(kept.raw) as { alerts: Array<{ fingerprint: string }> };
      // Its own notification: the group's envelope with this alert alone, what replay sends again unchanged.
      expect(group.alerts.map((a) => a.fingerprint)).toEqual([r.fingerprint]);
      expect({ ...group, alerts: [] }).toEqual({ ...body, alerts: [], truncatedAlerts: 0 });
      expect(alertmanagerNotificationFor(kept.raw, r.eventId)).toBe(kept.raw);
      expect(kept).toMatchObject({ source: 'alertmanager', incidentId: r.incidentId, state: 'firing' });
    }
    // Everything kept is about one group's worth, not 300 of them.
    const keptBytes = [...h.docs.values()].reduce((sum, d) => sum + d.raw.length, 0);
    expect(keptBytes).toBeLessThan(2 * JSON.stringify(body).length);
    expect(h.flight.most).toBeGreaterThan(1);
    expect(h.flight.most).toBeLessThanOrEqual(ALERT_WRITES_IN_FLIGHT);
  });

  it('refuses alone an alert whose own notification is too large to keep; the others are accepted, never a retry', async () => {
    const h = harness();
    const huge = alertNo(1, { description: 'x'.repeat(ONE_MIB) });
    const results = resultsOf(await h.send(notification([alertNo(0), huge, alertNo(2)])));
    expect(results).toEqual([
      expect.objectContaining({ index: 0, status: 'accepted' }),
      {
        index: 1,
        fingerprint: huge.fingerprint,
        status: 'refused',
        reason: expect.stringMatching(
          /^cannot store notification ntf-[0-9a-f]{24}: notification ntf-[0-9a-f]{24} would be a \d+-byte document; Firestore keeps at most 1048576 bytes$/,
        ),
      },
      expect.objectContaining({ index: 2, status: 'accepted' }),
    ]);
    const accepted = results.flatMap((r) => (r.status === 'accepted' ? [r.eventId] : []));
    expect(h.published.map((p) => p.id).sort()).toEqual(accepted.sort());
    expect(h.published).toHaveLength(2);
    expect([...h.docs.values()].every((d) => d.raw.length < 2_000)).toBe(true);
  });

  it('refuses alone an alert Firestore answers INVALID_ARGUMENT for; the others are accepted', async () => {
    const h = harness({
      refuse: (doc) =>
        doc.raw.includes('"pod-1"') ? Object.assign(new Error('3 INVALID_ARGUMENT: a value Firestore cannot hold'), { code: 3 }) : null,
    });
    const results = resultsOf(await h.send(notification([alertNo(0), alertNo(1), alertNo(2)])));
    expect(results.map((r) => r.status)).toEqual(['accepted', 'refused', 'accepted']);
    expect(results[1]).toMatchObject({
      reason: expect.stringMatching(/: Firestore refused notification ntf-[0-9a-f]{24} \(gRPC 3 INVALID_ARGUMENT\): 3 INVALID_ARGUMENT/),
    });
    expect(h.published).toHaveLength(2);
  });

  it('a store that fails otherwise fails the whole notification, to be retried; what was not started is not started', async () => {
    const h = harness({ refuse: (doc) => (doc.raw.includes('"pod-3"') ? Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }) : null) });
    const failed = await h.send(notification(Array.from({ length: 100 }, (_, i) => alertNo(i)))).then(
      () => null,
      (err: unknown) => err,
    );
    expect(failed).toMatchObject({ name: 'TransientError', message: expect.stringMatching(/14 UNAVAILABLE/) });
    expect(errorKind(failed)).toBe('transient');
    expect(h.flight.writes).toBeLessThan(100);
    expect(h.flight.now).toBe(0);
  });

  it('keeps the alerts of one incident in the order they came, so its resolved alert never goes before its firing one', async () => {
    // The firing alert's write is slow; the resolved one of the same incident still waits for it.
    const h = harness({ delayMs: (doc) => (doc.state === 'firing' && doc.raw.includes('"pod-7"') ? 40 : 1) });
    const firing = alertNo(7);
    const resolved = { ...alertNo(7), status: 'resolved', endsAt: '2026-11-26T10:16:00Z' };
    const results = resultsOf(await h.send(notification([firing, ...Array.from({ length: 3 }, (_, i) => alertNo(100 + i)), resolved])));
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('accepted'));
    const incident = 'am-f000000000000007-2026-11-26T10:00:00.000Z';
    expect(h.published.filter((p) => p.data.incidentId === incident).map((p) => p.data.state)).toEqual(['open', 'closed']);
  });
});
