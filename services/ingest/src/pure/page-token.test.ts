import fc from 'fast-check';
import { decodePageToken, encodePageToken } from './page-token.js';

const PROBLEM = { problem: 'pageToken is not one this route gave' };
const token = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const VALID = token(['2026-12-06T10:00:00.000Z', 'dec-1']);

describe('the page token of GET /rollback/recent', () => {
  it('gives back the cursor it was made from', () => {
    const cursor = { decidedAt: '2026-12-06T10:00:00.000Z', decisionId: 'dec-0123456789abcdef01234567' };
    expect(decodePageToken(encodePageToken(cursor))).toEqual(cursor);
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.stringMatching(/^[A-Za-z0-9._:-]{1,200}$/),
        (at, decisionId) => {
          const c = { decidedAt: at.toISOString(), decisionId };
          expect(decodePageToken(encodePageToken(c))).toEqual(c);
        },
      ),
      { seed: 17 },
    );
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc$'],
    ['a bare time (the old token)', '2026-01-01T00:00:00Z'],
    ['not JSON', Buffer.from('{x').toString('base64url')],
    ['not a pair', token(['2026-12-06T10:00:00.000Z'])],
    ['a triple', token(['2026-12-06T10:00:00.000Z', 'dec-1', 'x'])],
    ['an object', token({ decidedAt: '2026-12-06T10:00:00.000Z', decisionId: 'dec-1' })],
    ['a time without milliseconds', token(['2026-12-06T10:00:00Z', 'dec-1'])],
    ['an impossible time', token(['2026-13-40T10:00:00.000Z', 'dec-1'])],
    ['a number for the time', token([1, 'dec-1'])],
    ['an id with a slash', token(['2026-12-06T10:00:00.000Z', 'dec/1'])],
    ['an empty id', token(['2026-12-06T10:00:00.000Z', ''])],
    ['an id of 201 characters', token(['2026-12-06T10:00:00.000Z', 'd'.repeat(201)])],
    ['an id that is not a string', token(['2026-12-06T10:00:00.000Z', 7])],
    ['a valid token with a character outside base64url after it (the decoder would skip it)', `${VALID}$`],
    ['a valid token with a character outside base64url before it', `.${VALID}`],
    ['the time wrapped in an array (it reads as the time once made a string)', token([['2026-12-06T10:00:00.000Z'], 'dec-1'])],
    ['the id wrapped in an array', token(['2026-12-06T10:00:00.000Z', ['dec-1']])],
    ['text before the time', token(['x2026-12-06T10:00:00.000Z', 'dec-1'])],
    ['text after the time', token(['2026-12-06T10:00:00.000Zx', 'dec-1'])],
    ['an extended year (Date.parse takes it)', token(['+002026-12-06T10:00:00.000Z', 'dec-1'])],
    ['a time with an offset', token(['2026-12-06T11:00:00.000+01:00', 'dec-1'])],
    ['text before the id', token(['2026-12-06T10:00:00.000Z', '/dec-1'])],
    ['text after the id', token(['2026-12-06T10:00:00.000Z', 'dec-1/'])],
  ])('refuses %s', (_what, value) => {
    expect(decodePageToken(value)).toEqual(PROBLEM);
  });

  it('accepts the longest id, a token of non-ASCII text is refused, and the positive control decodes', () => {
    const longest = { decidedAt: '2026-12-06T10:00:00.000Z', decisionId: 'd'.repeat(200) };
    expect(decodePageToken(encodePageToken(longest))).toEqual(longest);
    expect(decodePageToken(VALID)).toEqual({ decidedAt: '2026-12-06T10:00:00.000Z', decisionId: 'dec-1' });
    expect(decodePageToken(token(['2026-12-06T10:00:00.000Z', 'déc']))).toEqual(PROBLEM);
    // The token is UTF-8 JSON: a pair whose id is not ASCII decodes as written, and is refused for the id, not the bytes.
    expect(encodePageToken({ decidedAt: '2026-12-06T10:00:00.000Z', decisionId: 'é' })).toBe(token(['2026-12-06T10:00:00.000Z', 'é']));
  });
});
