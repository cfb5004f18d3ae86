import fc from 'fast-check';
import {
  documentIdProblem,
  incidentIdProblem,
  MAX_INCIDENT_ID_BYTES,
  MAX_SERVICE_NAME_BYTES,
  PubSubLimits,
  pubsubMessageProblem,
  serviceNameProblem,
} from './index.js';

describe('ids that can be stored and sent', () => {
  it.each(['0.opqiw61fsv7p', 'abc', '_x_', '__x', 'x__', '...', 'a.b', 'é', '😀', 'a b', '__'])('accepts %j', (id) => {
    expect(incidentIdProblem(id)).toBeNull();
  });

  it.each([
    ['', 'incident id is empty'],
    ['x/y', 'incident id "x/y" holds a "/", which Firestore reads as a path'],
    ['a/b/c', 'incident id "a/b/c" holds a "/", which Firestore reads as a path'],
    ['.', 'incident id "." is not a valid Firestore document id'],
    ['..', 'incident id ".." is not a valid Firestore document id'],
    ['__x__', 'incident id "__x__" matches __…__, which Firestore reserves'],
    ['____', 'incident id "____" matches __…__, which Firestore reserves'],
    ['a\u0000b', 'incident id holds a control character (U+0000)'],
    ['a\nb', 'incident id holds a control character (U+000A)'],
    ['a\u007fb', 'incident id holds a control character (U+007F)'],
    ['a\ud800', 'incident id holds an unpaired UTF-16 surrogate (not well-formed Unicode)'],
    ['\ud800b', 'incident id holds an unpaired UTF-16 surrogate (not well-formed Unicode)'],
    ['a\udc00', 'incident id holds an unpaired UTF-16 surrogate (not well-formed Unicode)'],
  ])('refuses %j: %s', (id, reason) => {
    expect(incidentIdProblem(id)).toBe(reason);
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(incidentIdProblem('a'.repeat(MAX_INCIDENT_ID_BYTES))).toBeNull();
    expect(incidentIdProblem('a'.repeat(MAX_INCIDENT_ID_BYTES + 1))).toBe(
      `incident id is ${MAX_INCIDENT_ID_BYTES + 1} bytes long; at most ${MAX_INCIDENT_ID_BYTES} are accepted`,
    );
    expect(incidentIdProblem('é'.repeat(MAX_INCIDENT_ID_BYTES / 2))).toBeNull();
    expect(incidentIdProblem('é'.repeat(MAX_INCIDENT_ID_BYTES / 2 + 1))).toContain('bytes long');
    expect(documentIdProblem('a'.repeat(1500), 'id')).toBeNull();
    expect(documentIdProblem('a'.repeat(1501), 'id')).toBe('id is 1501 bytes long; at most 1500 are accepted');
  });

  it('service names: the same rules, shorter', () => {
    expect(serviceNameProblem('api-backend')).toBeNull();
    expect(serviceNameProblem('a'.repeat(MAX_SERVICE_NAME_BYTES + 1))).toContain('service name is');
    expect(serviceNameProblem('a/b')).toContain('service name "a/b" holds a "/"');
  });

  it('accepts every well-formed id of printable characters within the limit, without "/" or the reserved forms', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 100 }), (id) => {
        const reserved = id === '.' || id === '..' || (id.length >= 4 && id.startsWith('__') && id.endsWith('__'));
        // eslint-disable-next-line no-control-regex
        const control = /[\u0000-\u001f\u007f]/.test(id);
        const expectOk = !id.includes('/') && !reserved && !control && Buffer.byteLength(id) <= MAX_INCIDENT_ID_BYTES;
        expect(incidentIdProblem(id) === null).toBe(expectOk);
      }),
    );
  });
});

describe('pubsubMessageProblem', () => {
  const data = Buffer.from('{}');
  it('accepts a message at every limit', () => {
    const attributes: Record<string, string> = {};
    for (let i = 0; i < 99; i++) attributes[`a${i}`] = 'v';
    attributes['k'.repeat(PubSubLimits.attributeKeyBytes)] = 'é'.repeat(PubSubLimits.attributeValueBytes / 2);
    expect(Object.keys(attributes)).toHaveLength(PubSubLimits.attributes);
    expect(pubsubMessageProblem(Buffer.alloc(PubSubLimits.dataBytes), attributes, 'o'.repeat(PubSubLimits.orderingKeyBytes))).toBeNull();
    expect(pubsubMessageProblem(data, {})).toBeNull();
  });
  it('names the limit a message goes over, by one', () => {
    expect(pubsubMessageProblem(Buffer.alloc(PubSubLimits.dataBytes + 1), {})).toBe(
      `the message is ${PubSubLimits.dataBytes + 1} bytes; Pub/Sub takes at most ${PubSubLimits.dataBytes}`,
    );
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`a${i}`, 'v']));
    expect(pubsubMessageProblem(data, many)).toBe('the message has 101 attributes; Pub/Sub takes at most 100');
    expect(pubsubMessageProblem(data, { ['k'.repeat(257)]: 'v' })).toBe(
      `attribute name "${'k'.repeat(40)}"… is 257 bytes; Pub/Sub takes at most 256`,
    );
    expect(pubsubMessageProblem(data, { big: 'é'.repeat(512) + 'x' })).toBe('attribute "big" is 1025 bytes; Pub/Sub takes at most 1024');
    expect(pubsubMessageProblem(data, {}, 'é'.repeat(512) + 'x')).toBe('the ordering key is 1025 bytes; Pub/Sub takes at most 1024');
  });
});
