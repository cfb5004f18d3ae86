import fc from 'fast-check';
import {
  bearerToken,
  checkSession,
  CONSOLE_PATH,
  loginForm,
  safeNext,
  sameOrigin,
  SESSION_COOKIE,
  SESSION_HOURS,
  SESSION_MS,
  sessionValue,
  wantsHtml,
} from './session.js';

const NOW = Date.parse('2026-12-06T10:00:00.000Z');

describe('the session cookie’s value', () => {
  it('is scoped to the console and lasts 12 h', () => {
    expect(SESSION_COOKIE).toBe('burnback_console');
    expect(CONSOLE_PATH).toBe('/console');
    expect(SESSION_HOURS).toBe(12);
    expect(SESSION_MS).toBe(12 * 3_600_000);
  });

  it('holds the format and the expiry', () => {
    expect(sessionValue(NOW)).toBe(`v1.${NOW + SESSION_MS}`);
    expect(sessionValue(NOW + 0.7)).toBe(`v1.${NOW + SESSION_MS}`);
  });

  it('is good from the login until just before it expires, and not at or after its expiry', () => {
    const value = sessionValue(NOW);
    expect(checkSession(value, NOW)).toEqual({ ok: true, expiresAt: NOW + SESSION_MS });
    expect(checkSession(value, NOW + SESSION_MS - 1)).toEqual({ ok: true, expiresAt: NOW + SESSION_MS });
    expect(checkSession(value, NOW + SESSION_MS)).toEqual({ ok: false, why: 'expired' });
    expect(checkSession(value, NOW + SESSION_MS + 1)).toEqual({ ok: false, why: 'expired' });
  });

  it('refuses an expiry no login could have made (more than 12 h and 5 min ahead), and any other shape', () => {
    expect(checkSession(sessionValue(NOW + 5 * 60_000), NOW)).toMatchObject({ ok: true });
    expect(checkSession(sessionValue(NOW + 5 * 60_000 + 1), NOW)).toEqual({ ok: false, why: 'from the future' });
    for (const bad of ['', 'v1.', 'v2.1765015200000', `v1.${NOW + SESSION_MS}x`, ` v1.${NOW + SESSION_MS}`, 'v1.12', `v1.-${NOW}`, 'admin'])
      expect(checkSession(bad, NOW)).toEqual({ ok: false, why: 'malformed' });
  });

  it('accepts exactly the values logins in the last 12 h made', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 * SESSION_MS }), (age) => {
        expect(checkSession(sessionValue(NOW - age), NOW).ok).toBe(age < SESSION_MS);
      }),
    );
  });
});

describe('where a login sends the browser', () => {
  it.each([
    ['/console/', '/console/'],
    ['/console', '/console'],
    ['/console/services/api-backend?hours=24', '/console/services/api-backend?hours=24'],
    ['/console/decisions/dec-1', '/console/decisions/dec-1'],
  ])('keeps the console’s own page %p', (next, kept) => expect(safeNext(next)).toBe(kept));

  it.each([
    [undefined],
    [42],
    [''],
    ['https://evil.example/console/'],
    ['//evil.example/console/'],
    ['/console//evil.example'],
    ['/consolex'],
    ['/console/\\evil.example'],
    ['/console/\t/evil'],
    ['/console/../rollback/recent'],
    ['/console/x/..'],
    ['/console/./x'],
    ['/rollback/recent'],
    ['javascript:alert(1)'],
    ['/console/ x'],
    ['/console/%2e%2e/rollback/recent'],
    ['/console/.'],
    [`/console/${'x'.repeat(2000)}`],
  ])('sends %p to the fleet instead', (next) => expect(safeNext(next)).toBe('/console/'));

  it('never leaves the console, whatever it is given', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `/console/${s}`),
          fc.webUrl(),
        ),
        (next) => {
          const out = safeNext(next);
          expect(out === '/console' || out.startsWith('/console/')).toBe(true);
          expect(out).not.toMatch(/\/\/|\\/);
          expect([...out].every((c) => c.charCodeAt(0) > 0x20 && c.charCodeAt(0) !== 0x7f)).toBe(true);
          // What a browser resolves it to stays on the console's origin and path.
          const url = new URL(out, 'https://burnback.example');
          expect(url.origin).toBe('https://burnback.example');
          expect(url.pathname === '/console' || url.pathname.startsWith('/console/')).toBe(true);
        },
      ),
    );
  });
});

describe('reading a request', () => {
  it('knows a browser asking for a page', () => {
    expect(wantsHtml('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe(true);
    expect(wantsHtml('text/html')).toBe(true);
    expect(wantsHtml('application/json, text/html;q=0.5')).toBe(true);
    expect(wantsHtml('TEXT/HTML')).toBe(true);
    expect(wantsHtml('application/json')).toBe(false);
    expect(wantsHtml('*/*')).toBe(false);
    expect(wantsHtml('text/htmlx')).toBe(false);
    expect(wantsHtml(undefined)).toBe(false);
    expect(wantsHtml(['text/html'])).toBe(false);
  });

  it('takes a bearer token and nothing else', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken('Basic YTpi')).toBeUndefined();
    expect(bearerToken('Bearerabc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken(['Bearer abc'])).toBeUndefined();
  });

  it('reads the login form’s token and next, each given once', () => {
    expect(loginForm('token=s3cr%2Bt&next=%2Fconsole%2Fservices%2Fa')).toEqual({ token: 's3cr+t', next: '/console/services/a' });
    expect(loginForm('token=a&token=b')).toEqual({ token: undefined, next: undefined });
    expect(loginForm('token=&next=')).toEqual({ token: undefined, next: undefined });
    expect(loginForm('')).toEqual({ token: undefined, next: undefined });
    expect(loginForm('{"token":"x"}')).toEqual({ token: undefined, next: undefined });
  });

  it('compares a form post’s Origin with the host it was sent to', () => {
    expect(sameOrigin(undefined, '127.0.0.1:8080')).toBe(true);
    expect(sameOrigin('http://127.0.0.1:8080', '127.0.0.1:8080')).toBe(true);
    expect(sameOrigin('https://burnback.example', 'Burnback.Example')).toBe(true);
    expect(sameOrigin('http://127.0.0.1:8081', '127.0.0.1:8080')).toBe(false);
    expect(sameOrigin('https://evil.example', '127.0.0.1:8080')).toBe(false);
    expect(sameOrigin('null', '127.0.0.1:8080')).toBe(false);
    expect(sameOrigin('http://127.0.0.1:8080', undefined)).toBe(false);
    expect(sameOrigin(['http://127.0.0.1:8080'], '127.0.0.1:8080')).toBe(false);
  });
});
