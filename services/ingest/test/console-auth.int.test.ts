/**
 * Who gets into the console, over real HTTP on the Firestore emulator: the
 * login form's cookie and a bearer token; not a request without credentials,
 * with a wrong token, or with a tampered, expired, foreign or malformed cookie.
 * The security headers on every answer, and 503 without a management token.
 */
import { CONTENT_SECURITY_POLICY, sessionKey } from '../src/console/routes.js';
import { sessionValue } from '../src/pure/console/session.js';
import { BEARER, DECISION, HTML, ROLLBACK, seededConsole, sign, TOKEN, type SeededConsole } from './console-app.js';

describe('the console’s door', () => {
  let c: SeededConsole;
  beforeAll(async () => {
    c = await seededConsole('console-auth');
  });
  afterAll(async () => {
    await c.close();
  });
  const get: SeededConsole['get'] = (...args) => c.get(...args);
  const login: SeededConsole['login'] = (...args) => c.login(...args);
  const sessionCookie = () => c.sessionCookie();
  /** The console's data pages with the seeded ids in their paths; every route the app registered under /console but the public ones. */
  const PUBLIC = [
    '/console/login',
    '/console/logout',
    '/console/static/console.css',
    '/console/static/console.js',
    '/console/static/favicon.svg',
  ];
  const protectedPaths = () =>
    [...new Set(c.routes.filter((r) => r.url.startsWith('/console') && !PUBLIC.includes(r.url)).map((r) => r.url))].map((url) =>
      url.replace(':name', 'api-backend').replace(':id', url.includes('rollbacks') ? ROLLBACK.rollbackId : DECISION.decisionId),
    );

  it('refuses every data page without credentials, shows no data, and sends a browser to the login', async () => {
    const paths = protectedPaths();
    expect(paths).toEqual(
      expect.arrayContaining([
        '/console/',
        `/console/services/api-backend`,
        `/console/decisions/${DECISION.decisionId}`,
        `/console/rollbacks/${ROLLBACK.rollbackId}`,
      ]),
    );
    for (const path of paths) {
      const plain = await get(path);
      const text = await plain.text();
      expect([path, plain.status]).toEqual([path, 401]);
      expect(plain.headers.get('www-authenticate')).toBe('Bearer realm="burnback-console"');
      for (const secret of ['rel-002', 'roll back:', DECISION.decisionId.slice(4), 'dana', 'db migration'])
        expect(text).not.toContain(secret);
      const browser = await get(path, HTML);
      expect([path, browser.status]).toEqual([path, 303]);
      expect(browser.headers.get('location')).toBe(
        path === '/console/' ? '/console/login' : `/console/login?next=${encodeURIComponent(path)}`,
      );
      expect(await browser.text()).toBe('');
      for (const wrong of ['Bearer not-the-token', `Bearer ${TOKEN}x`]) {
        const res = await get(path, { authorization: wrong });
        expect([path, res.status]).toEqual([path, 403]);
        expect(await res.text()).not.toContain('rel-002');
      }
      // Basic credentials, or a bearer token in the query, are not how the console is reached.
      expect((await get(`${path}?auth_token=${TOKEN}`)).status).toBe(401);
      expect((await get(path, { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` })).status).toBe(401);
    }
    const failures = c.logs.lines.filter((l) => l.event === 'auth_failed');
    expect(failures.length).toBeGreaterThanOrEqual(paths.length * 2);
    expect(failures[0]).toMatchObject({ reason: 'invalid bearer token', path: expect.stringMatching(/^\/console/) });
    expect(JSON.stringify(c.logs.lines)).not.toContain(TOKEN);
  });

  it('logs in through the form: a signed, HttpOnly, SameSite=Strict cookie for /console that lasts 12 h', async () => {
    const form = await get('/console/login?next=%2Fconsole%2Fservices%2Fapi-backend', HTML);
    expect(form.status).toBe(200);
    const page = await form.text();
    expect(page).toContain('<form method="post" action="/console/login">');
    expect(page).toContain('name="next" value="/console/services/api-backend"');

    const before = c.logs.lines.length;
    const wrong = await login('guess');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.getSetCookie()).toEqual([]);
    expect(await wrong.text()).toContain('That is not the management token.');
    expect(c.logs.lines.slice(before)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ event: 'auth_failed', reason: 'invalid token at console login', path: '/console/login' }),
      ]),
    );
    expect(JSON.stringify(c.logs.lines)).not.toContain('guess');
    expect((await login('')).status).toBe(401);

    const ok = await login(TOKEN, '/console/services/api-backend');
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/console/services/api-backend');
    const [cookie] = ok.headers.getSetCookie();
    expect(cookie).toMatch(/^burnback_console=v1\.\d{13}\.[A-Za-z0-9%]+; Max-Age=43200; Path=\/console; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(TOKEN);
    // A next that leaves the console is not followed.
    expect((await login(TOKEN, 'https://evil.example/')).headers.get('location')).toBe('/console/');
    expect((await login(TOKEN, '//evil.example/console/')).headers.get('location')).toBe('/console/');
    // Behind a TLS front end the cookie is Secure too.
    expect((await login(TOKEN, undefined, { 'x-forwarded-proto': 'https' })).headers.getSetCookie()[0]).toMatch(
      /; Secure; SameSite=Strict$/,
    );
    // A login posted from another site is refused.
    const forged = await login(TOKEN, undefined, { origin: 'https://evil.example' });
    expect(forged.status).toBe(403);
    expect(forged.headers.getSetCookie()).toEqual([]);

    const session = cookie!.split(';')[0]!;
    const fleet = await get('/console/', { cookie: session, ...HTML });
    expect(fleet.status).toBe(200);
    expect(await fleet.text()).toContain('api-backend');
  });

  it('refuses a tampered, expired, foreign or malformed cookie, and a cookie after the token changed', async () => {
    const session = await sessionCookie();
    const [name, signed] = session.split('=') as [string, string];
    const [value, mac] = [signed.slice(0, signed.lastIndexOf('.')), signed.slice(signed.lastIndexOf('.') + 1)];
    const refused = async (cookie: string) => {
      const res = await get('/console/', { cookie });
      return res.status === 401 && !(await res.text()).includes('rel-00');
    };
    expect(await refused(`${name}=${value}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`)).toBe(true);
    // The expiry moved a day on, the signature kept: the signature no longer matches.
    expect(await refused(`${name}=v1.${Number(value.slice(3)) + 86_400_000}.${mac}`)).toBe(true);
    expect(await refused(`${name}=${value}`)).toBe(true);
    // Signed with another token's key, or with the token itself rather than the key derived from it.
    expect(await refused(`${name}=${sign(value, sessionKey('another-token'))}`)).toBe(true);
    expect(await refused(`${name}=${sign(value, TOKEN)}`)).toBe(true);
    // Well signed, but not a session this console makes: a far-future expiry, or another format.
    expect(await refused(`${name}=${sign(sessionValue(c.clock.now + 30 * 86_400_000), sessionKey(TOKEN))}`)).toBe(true);
    expect(await refused(`${name}=${sign('admin', sessionKey(TOKEN))}`)).toBe(true);
    // The same cookie is good now, and not after 12 h.
    expect((await get('/console/', { cookie: session })).status).toBe(200);
    const saved = c.clock.now;
    try {
      c.clock.now += 12 * 3_600_000 - 1000;
      expect((await get('/console/', { cookie: session })).status).toBe(200);
      c.clock.now += 1000;
      expect(await refused(session)).toBe(true);
      expect((await get('/console/', { cookie: session, ...HTML })).status).toBe(303);
    } finally {
      c.clock.now = saved;
    }
    // Logging out clears it (the browser drops it); no redirect, so a script sees the answer.
    const out = await fetch(`${c.address}/console/logout`, { method: 'POST', headers: { cookie: session }, redirect: 'manual' });
    expect(out.status).toBe(200);
    expect(out.headers.getSetCookie()[0]).toBe(
      'burnback_console=; Path=/console; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict',
    );
  });

  it('takes a bearer token instead of the cookie', async () => {
    const res = await get('/console/', BEARER);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it('sends the security headers with every answer: pages, refusals, files and unknown paths', async () => {
    for (const [path, headers, status] of [
      ['/console/', BEARER, 200],
      ['/console/', {}, 401],
      ['/console/login', {}, 200],
      ['/console/static/console.js', {}, 200],
      ['/console/nowhere', BEARER, 404],
      [`/console/decisions/a%2Fb`, BEARER, 400],
    ] as const) {
      const res = await get(path, headers);
      expect([path, res.status]).toEqual([path, status]);
      expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('same-origin');
    }
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect((await get('/console/', BEARER)).headers.get('cache-control')).toBe('no-store');
    const script = await get('/console/static/console.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain("getAttribute('data-refresh')");
  });

  it('answers 503 on every console page, with the reason, when no management token is configured', async () => {
    const off = await c.start(null, c.config.services);
    try {
      for (const path of ['/console/', '/console/login', '/console/services/api-backend', `/console/decisions/${DECISION.decisionId}`]) {
        const res = await get(path, BEARER, off.address);
        expect([path, res.status]).toEqual([path, 503]);
        const text = await res.text();
        expect(text).toContain('the console is disabled: BURNBACK_MANAGEMENT_TOKEN is not configured');
        expect(text).not.toContain('rel-00');
      }
      const post = await fetch(`${off.address}/console/login`, { method: 'POST', body: `token=${TOKEN}`, redirect: 'manual' });
      expect(post.status).toBe(503);
    } finally {
      await off.app.close();
    }
  });
});
