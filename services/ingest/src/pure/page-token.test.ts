import fc from 'fast-check';
import { decodePageToken, encodePageToken, MAX_PAGE_TOKEN_LENGTH } from './page-token.js';

const PROBLEM = { problem: 'pageToken is not one this route gave' };
const token = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

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
    ['too long', 'A'.repeat(MAX_PAGE_TOKEN_LENGTH + 1)],
  ])('refuses %s', (_what, value) => {
    expect(decodePageToken(value)).toEqual(PROBLEM);
  });

  it('accepts the longest id and a token at the length cap boundary as the cap says', () => {
    const longest = { decidedAt: '2026-12-06T10:00:00.000Z', decisionId: 'd'.repeat(200) };
    expect(encodePageToken(longest).length).toBeLessThanOrEqual(MAX_PAGE_TOKEN_LENGTH);
    expect(decodePageToken(encodePageToken(longest))).toEqual(longest);
  });
});
