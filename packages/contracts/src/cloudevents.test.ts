import fc from 'fast-check';
import { decodeCloudEvent, encodeCloudEvent, EventTypes, InvalidEventError, errorKind, type RollbackCommand } from './index.js';

const command: RollbackCommand = {
  rollbackId: 'rb-1',
  decisionId: 'dec-1',
  incidentId: '0.abc',
  service: 'api-backend',
  project: 'burnback-local',
  region: 'us-central1',
  pipeline: 'api-backend-pipeline',
  target: 'production',
  rolloutId: 'burnback-rb-0123456789abcdef0123',
  releaseId: null,
  reason: 'roll back: error ratio 2.5 % exceeds the threshold of 1 %',
  requestedAt: '2026-11-26T10:00:00.000Z',
};
const event = {
  id: 'rb-1',
  type: EventTypes.rollbackCommand,
  source: '//burnback/decider',
  subject: 'services/api-backend/rollbacks/rb-1',
  time: '2026-11-26T10:00:00.000Z',
  data: command,
};

describe('CloudEvents binary mode', () => {
  it('round-trips an event through Pub/Sub message parts', () => {
    const parts = encodeCloudEvent(event);
    expect(parts.attributes).toMatchObject({
      'ce-specversion': '1.0',
      'ce-type': 'dev.burnback.rollback.command.v1',
      'ce-id': 'rb-1',
      'ce-source': '//burnback/decider',
      'content-type': 'application/json',
    });
    expect(decodeCloudEvent(parts, [EventTypes.rollbackCommand])).toEqual(event);
  });

  it('refuses to encode data that violates its schema', () => {
    expect(() => encodeCloudEvent({ ...event, data: { ...command, rolloutId: 'Not_Valid' } })).toThrow(/rolloutId/);
  });

  it.each([
    ['missing ce attributes', { data: Buffer.from('{}'), attributes: {} }, /missing attribute/],
    [
      'an unexpected type',
      { ...encodeCloudEvent(event), attributes: { ...encodeCloudEvent(event).attributes, 'ce-type': 'dev.burnback.alert.v1' } },
      /unexpected event type/,
    ],
    [
      'another spec version',
      { ...encodeCloudEvent(event), attributes: { ...encodeCloudEvent(event).attributes, 'ce-specversion': '0.3' } },
      /specversion/,
    ],
    ['non-JSON data', { ...encodeCloudEvent(event), data: Buffer.from('{nope') }, /not JSON/],
    ['a schema violation', { ...encodeCloudEvent(event), data: Buffer.from(JSON.stringify({ ...command, service: '' })) }, /service/],
  ])('rejects %s as a permanent InvalidEventError', (_name, message, reason) => {
    let caught: unknown;
    try {
      decodeCloudEvent(message, [EventTypes.rollbackCommand]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidEventError);
    expect(errorKind(caught)).toBe('permanent');
    expect((caught as Error).message).toMatch(reason);
  });

  it('never throws anything but InvalidEventError on arbitrary bytes and attributes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.dictionary(fc.constantFrom('ce-specversion', 'ce-type', 'ce-id', 'ce-source', 'content-type', 'x'), fc.string()),
        (data, attributes) => {
          try {
            decodeCloudEvent({ data: Buffer.from(data), attributes }, [EventTypes.rollbackCommand]);
          } catch (err) {
            expect((err as Error).name).toBe('InvalidEventError');
          }
        },
      ),
    );
  });
});
