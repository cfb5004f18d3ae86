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

describe('CloudEvents binary mode, edge by edge', () => {
  const parts = encodeCloudEvent(event);
  const withAttrs = (attrs: Record<string, string | undefined>) => ({
    data: parts.data,
    attributes: Object.fromEntries(Object.entries({ ...parts.attributes, ...attrs }).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >,
  });
  const reasonOf = (message: Parameters<typeof decodeCloudEvent>[0]): string => {
    try {
      decodeCloudEvent(message, [EventTypes.rollbackCommand]);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected the message to be refused');
  };

  it('sets every context attribute, and the data is the event data as JSON', () => {
    expect(parts.attributes).toEqual({
      'ce-specversion': '1.0',
      'ce-type': 'dev.burnback.rollback.command.v1',
      'ce-source': '//burnback/decider',
      'ce-id': 'rb-1',
      'ce-time': '2026-11-26T10:00:00.000Z',
      'ce-subject': 'services/api-backend/rollbacks/rb-1',
      'content-type': 'application/json',
    });
    expect(JSON.parse(parts.data.toString('utf8'))).toEqual(command);
  });

  it('names every missing context attribute', () => {
    expect(reasonOf({ data: parts.data, attributes: { 'ce-type': EventTypes.rollbackCommand } })).toBe(
      'not a CloudEvent: missing attribute(s) ce-specversion, ce-source, ce-id',
    );
    expect(reasonOf({ data: parts.data, attributes: null })).toBe(
      'not a CloudEvent: missing attribute(s) ce-specversion, ce-type, ce-source, ce-id',
    );
  });

  it('says which spec version and which type it refused', () => {
    expect(reasonOf(withAttrs({ 'ce-specversion': '0.3' }))).toBe("unsupported CloudEvents specversion '0.3'");
    expect(reasonOf(withAttrs({ 'ce-type': 'com.example.other' }))).toBe(
      "unexpected event type 'com.example.other' (accepted: dev.burnback.rollback.command.v1)",
    );
    expect(reasonOf(withAttrs({ 'ce-type': 'toString' }))).toMatch(/unexpected event type 'toString'/);
  });

  it('accepts JSON content types with parameters and refuses any other', () => {
    expect(decodeCloudEvent(withAttrs({ 'content-type': 'application/json; charset=utf-8' }), [EventTypes.rollbackCommand]).data).toEqual(
      command,
    );
    expect(reasonOf(withAttrs({ 'content-type': 'text/plain' }))).toBe("unsupported content type 'text/plain'");
    expect(reasonOf(withAttrs({ 'content-type': undefined, 'ce-datacontenttype': 'application/avro' }))).toBe(
      "unsupported content type 'application/avro'",
    );
    expect(decodeCloudEvent(withAttrs({ 'content-type': undefined }), [EventTypes.rollbackCommand]).data).toEqual(command);
  });

  it('reads data given as text or as bytes', () => {
    const text = parts.data.toString('utf8');
    expect(decodeCloudEvent({ data: text, attributes: parts.attributes }, [EventTypes.rollbackCommand]).data).toEqual(command);
    expect(decodeCloudEvent({ data: new Uint8Array(parts.data), attributes: parts.attributes }, [EventTypes.rollbackCommand]).data).toEqual(
      command,
    );
  });

  it('an event without subject or time decodes them as empty', () => {
    const decoded = decodeCloudEvent(withAttrs({ 'ce-subject': undefined, 'ce-time': undefined }), [EventTypes.rollbackCommand]);
    expect(decoded.subject).toBe('');
    expect(decoded.time).toBe('');
  });

  it('a schema violation names each failing path, at most five, and the root by name', () => {
    const bad = { ...command, service: '', target: '', pipeline: '', project: '', region: '', reason: 5 };
    const reason = reasonOf({ ...parts, data: Buffer.from(JSON.stringify(bad)) });
    expect(reason.startsWith('invalid dev.burnback.rollback.command.v1: ')).toBe(true);
    expect(reason.split('; ')).toHaveLength(5);
    expect(reason).toMatch(/^invalid dev\.burnback\.rollback\.command\.v1: service: /);
    expect(reasonOf({ ...parts, data: Buffer.from('7') })).toMatch(/^invalid dev\.burnback\.rollback\.command\.v1: \(root\): /);
  });

  it('refusing to encode says which event type and why', () => {
    expect(() => encodeCloudEvent({ ...event, data: { ...command, service: '' } })).toThrow(
      /^refusing to encode invalid dev\.burnback\.rollback\.command\.v1: service: /,
    );
  });
});

describe('CloudEvents refusals name their cause', () => {
  const parts = encodeCloudEvent(event);
  const reasonOf = (message: Parameters<typeof decodeCloudEvent>[0], accept = [EventTypes.rollbackCommand] as const): string => {
    try {
      decodeCloudEvent(message, [...accept]);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected the message to be refused');
  };

  it('lists every accepted type, comma-separated', () => {
    const other = { ...parts, attributes: { ...parts.attributes, 'ce-type': 'x.y' } };
    expect(() => decodeCloudEvent(other, [EventTypes.rollbackCommand, EventTypes.rollbackProgress])).toThrow(
      "unexpected event type 'x.y' (accepted: dev.burnback.rollback.command.v1, dev.burnback.rollback.progress.v1)",
    );
  });

  it('says why the data is not JSON and keeps the parser error as the cause', () => {
    let caught: (Error & { cause?: unknown }) | undefined;
    try {
      decodeCloudEvent({ ...parts, data: Buffer.from('{nope') }, [EventTypes.rollbackCommand]);
    } catch (err) {
      caught = err as Error;
    }
    expect(caught!.message).toMatch(/^event data is not JSON: \S/);
    expect(caught!.cause).toBeInstanceOf(SyntaxError);
  });

  it('names a nested failing path with dots', () => {
    const data = Buffer.from(JSON.stringify({ ...command, rolloutId: 'Bad_Id' }));
    expect(reasonOf({ ...parts, data })).toMatch(/^invalid dev\.burnback\.rollback\.command\.v1: rolloutId: /);
  });
});
