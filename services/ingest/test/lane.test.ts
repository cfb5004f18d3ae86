import {
  belowThresholdIncident,
  closedIncident,
  notificationBytes,
  openIncident,
  serviceConfig,
  servicesOf,
  testNotification,
} from '@burnback/testkit/fixtures';
import { PermanentError } from '@burnback/contracts';
import { silentLogger } from '@burnback/platform';
import { createIngestHandler, laneOfReading, readNotification } from '../src/handler.js';

/** Which notifications ingest handles first (the fast lane's) and which may wait their turn (the bulk lane's). */
describe('the lane of a raw notification, as ingest reads it before handling it', () => {
  const services = servicesOf(serviceConfig('api-backend'));
  const at = new Date('2025-11-26T10:05:00.000Z');
  const laneOfBytes = (raw: Buffer) => laneOfReading(readNotification(raw, services, 'pubsub', at), services);
  const laneOf = (notification: unknown) => laneOfBytes(notificationBytes(notification));

  it('an open incident over its bar on a configured service is the fast lane', () => {
    expect(laneOf(openIncident())).toBe('fast');
  });

  it('below its bar, or closed, it is the bulk lane', () => {
    expect(laneOf(belowThresholdIncident())).toBe('bulk');
    expect(laneOf(closedIncident())).toBe('bulk');
  });

  it('one for no configured service, a test notification, or unreadable bytes can wait too, and it never throws', () => {
    expect(laneOf(openIncident({ projectId: 'someone-else' }))).toBe('bulk');
    expect(laneOf(testNotification())).toBe('bulk');
    expect(laneOfBytes(Buffer.from('{"incident": '))).toBe('bulk');
    expect(laneOfBytes(Buffer.from([0xff, 0xfe]))).toBe('bulk');
  });
});

/** A notification is read once (parsed, its id derived, its alert mapped): the lane and the handler share the reading. */
describe('a notification read once, for its lane and its handling', () => {
  const services = servicesOf(serviceConfig('api-backend'));
  const at = new Date('2025-11-26T10:05:00.000Z');
  const read = (notification: unknown) => readNotification(notificationBytes(notification), services, 'pubsub', at);

  it('says what each input is, with the id and alert the handler publishes, and never throws', () => {
    const open = read(openIncident());
    expect(open.kind).toBe('alert');
    if (open.kind !== 'alert') return;
    expect(open.alert.service).toBe('api-backend');
    expect(open.alert.notificationId).toBe(open.notificationId);
    expect(open.notificationId).toMatch(/^ntf-[0-9a-f]{24}$/);
    expect(open.alert.observedAt).toBe(at.toISOString());
    expect(read(testNotification())).toEqual({ kind: 'test', notificationId: expect.stringMatching(/^ntf-test-[0-9a-f]{16}$/) });
    const unmapped = read(openIncident({ projectId: 'someone-else' }));
    expect(unmapped.kind).toBe('unmapped');
    const invalid = readNotification(Buffer.from('{"incident": '), services, 'pubsub', at);
    expect(invalid.kind).toBe('invalid');
    if (invalid.kind === 'invalid') expect(invalid.error).toBeInstanceOf(PermanentError);
  });

  it('the handler answers from the reading it is given, without reading the bytes again', async () => {
    const untouchable = new Proxy(
      {},
      { get: () => () => Promise.reject(new Error('nothing is stored or published for a test notification')) },
    );
    const handle = createIngestHandler({
      services,
      store: untouchable as never,
      publisher: untouchable as never,
      logger: silentLogger(),
    });
    // Bytes that would not parse, with the reading of a test notification: the answer is the reading's.
    const incoming = { raw: Buffer.from('not json'), source: 'pubsub' as const, observedAt: at, messageId: 'm-1' };
    await expect(handle(incoming, { kind: 'test', notificationId: 'ntf-test-0123456789abcdef' })).resolves.toEqual({
      kind: 'test-notification',
      notificationId: 'ntf-test-0123456789abcdef',
    });
    // Without a reading, the same bytes are read here, and refused with the reason.
    await expect(handle(incoming)).rejects.toThrow(PermanentError);
  });
});
