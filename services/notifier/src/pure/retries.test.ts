import fc from 'fast-check';
import { ANSWER_MAX, backoffMs, cleanAnswer, REDACTED } from './retries.js';

describe('backoffMs', () => {
  it.each([
    [0, 1_000],
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [6, 32_000],
    [7, 60_000],
    [30, 60_000],
  ])('after %i failed attempt(s) waits %i ms', (attempts, wait) => {
    expect(backoffMs(attempts, { minMs: 1_000, maxMs: 60_000 })).toBe(wait);
  });

  it('never waits less than the minimum or more than the maximum, and never less than the attempt before', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        (n, minMs, extra) => {
          const b = { minMs, maxMs: minMs + extra };
          expect(backoffMs(n, b)).toBeGreaterThanOrEqual(minMs);
          expect(backoffMs(n, b)).toBeLessThanOrEqual(b.maxMs);
          expect(backoffMs(n + 1, b)).toBeGreaterThanOrEqual(backoffMs(n, b));
        },
      ),
    );
  });
});

describe('cleanAnswer', () => {
  const slack = { url: 'https://hooks.slack.com/services/T0/B0/s3cr3tpath', routingKey: null, secret: null };
  const pd = { url: 'https://events.pagerduty.com', routingKey: 'R0UTINGKEY000000000000000000001', secret: null };
  const hook = { url: 'https://example.internal/burnback?token=qu3ry-s3cr3t', routingKey: null, secret: 'sign1ng-k3y-0123456789' };

  it('keeps nothing of an empty answer', () => {
    expect(cleanAnswer(null, slack)).toBeNull();
    expect(cleanAnswer('', slack)).toBeNull();
    expect(cleanAnswer('ok', slack)).toBe('ok');
  });

  it.each([
    ['the chat URL', slack, 'Cannot POST https://hooks.slack.com/services/T0/B0/s3cr3tpath', `Cannot POST ${REDACTED}`],
    ['its path', slack, 'Cannot POST /services/T0/B0/s3cr3tpath', `Cannot POST ${REDACTED}`],
    ['the routing key', pd, '{"message":"bad key R0UTINGKEY000000000000000000001"}', `{"message":"bad key ${REDACTED}"}`],
    ['the query', hook, 'no route for /burnback?token=qu3ry-s3cr3t', `no route for ${REDACTED}?${REDACTED}`],
    ['the signing key', hook, 'key sign1ng-k3y-0123456789 refused', `key ${REDACTED} refused`],
  ])('removes %s from what a destination echoes', (_, destination, answer, kept) => {
    expect(cleanAnswer(answer, destination)).toBe(kept);
  });

  it('a secret inside a longer one is removed with it, leaving nothing of the longer one behind', () => {
    const inPath = { url: 'https://example.internal/hooks/K3YK3Y', routingKey: null, secret: 'K3YK3Y' };
    expect(cleanAnswer('no route for /hooks/K3YK3Y', inPath)).toBe(`no route for ${REDACTED}`);
  });

  it('a secret of four characters is removed; what is shorter (a bare host\'s "/", an empty query) is not a secret', () => {
    expect(cleanAnswer('key abcd refused', { url: 'https://example.internal', routingKey: 'abcd', secret: null })).toBe(
      `key ${REDACTED} refused`,
    );
    expect(cleanAnswer('key abc refused', { url: 'https://example.internal', routingKey: 'abc', secret: null })).toBe('key abc refused');
    expect(cleanAnswer('{"status":"ok","path":"/v2/enqueue?"}', pd)).toBe('{"status":"ok","path":"/v2/enqueue?"}');
    // Nothing unset counts either: an answer that says null keeps it.
    expect(cleanAnswer('null', pd)).toBe('null');
  });

  it(`keeps at most ${ANSWER_MAX} characters, never half of one, and never a lone surrogate`, () => {
    expect(cleanAnswer('x'.repeat(ANSWER_MAX + 10), slack)).toBe('x'.repeat(ANSWER_MAX));
    expect(cleanAnswer('x'.repeat(ANSWER_MAX), slack)).toBe('x'.repeat(ANSWER_MAX));
    expect(cleanAnswer('🔥'.repeat(ANSWER_MAX + 1), slack)).toBe('🔥'.repeat(ANSWER_MAX));
    expect(cleanAnswer('a\uD800b\uDC00c', slack)).toBe('a\uFFFDb\uFFFDc');
  });

  it('whatever the answer, what is kept holds no secret and is well formed', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 800 }), fc.constantFrom(slack, pd, hook), (noise, destination) => {
        const secret = destination.routingKey ?? destination.secret ?? destination.url;
        const kept = cleanAnswer(`${noise}${secret}${noise}`, destination) ?? '';
        expect(kept.includes(secret)).toBe(false);
        expect(Array.from(kept).length).toBeLessThanOrEqual(ANSWER_MAX);
        expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(kept)).toBe(false);
      }),
    );
  });
});
