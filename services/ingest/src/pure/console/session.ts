/**
 * The console's session, pure: what its cookie holds (the format version and
 * when it expires; @fastify/cookie signs it), whether a presented one is still
 * good, where a login may send the browser next, and how a request says it
 * wants a page rather than JSON.
 */

/** The session cookie's name; its path is the console's (`/console`), so no other route ever receives it. */
export const SESSION_COOKIE = 'burnback_console';
/** Where the cookie is sent, and the console's own prefix. */
export const CONSOLE_PATH = '/console';
/** How long a login lasts. */
export const SESSION_HOURS = 12;
export const SESSION_MS = SESSION_HOURS * 3_600_000;
/** A clock that runs a little ahead on another replica must not refuse a fresh cookie. */
const SKEW_MS = 5 * 60_000;

const VALUE = /^v1\.(\d{13})$/;

/** The cookie's value (before signing) for a login at `now`: the format and the expiry, in epoch ms. */
export function sessionValue(now: number): string {
  return `v1.${String(Math.floor(now) + SESSION_MS).padStart(13, '0')}`;
}

export type SessionCheck = { ok: true; expiresAt: number } | { ok: false; why: 'malformed' | 'expired' | 'from the future' };

/**
 * Whether an (already verified) cookie value is a session still in force at
 * `now`: well-formed, not expired, and not expiring later than a login now
 * could make it (a value no login of this console produced).
 */
export function checkSession(value: string, now: number): SessionCheck {
  const m = VALUE.exec(value);
  if (!m) return { ok: false, why: 'malformed' };
  const expiresAt = Number(m[1]);
  if (expiresAt <= now) return { ok: false, why: 'expired' };
  if (expiresAt > now + SESSION_MS + SKEW_MS) return { ok: false, why: 'from the future' };
  return { ok: true, expiresAt };
}

/**
 * Where a login sends the browser: `next` when it is one of the console's own
 * pages (an absolute path under /console/, no scheme, host or `//`, no
 * backslash or control character that a browser might read as another origin),
 * else the fleet.
 */
export function safeNext(next: unknown): string {
  const home = `${CONSOLE_PATH}/`;
  if (typeof next !== 'string' || next.length > 2000) return home;
  if (next !== CONSOLE_PATH && !next.startsWith(home)) return home;
  // A control character or a backslash, anywhere: browsers strip or rewrite some of them (\t, \n, \ → /).
  for (let i = 0; i < next.length; i++) {
    const c = next.charCodeAt(i);
    if (c < 0x21 || c === 0x7f || c === 0x5c) return home;
  }
  // No `//` (another host), and no dot segment, spelled out or percent-encoded (a browser resolves both).
  if (next.includes('//') || /\/\.\.?(\/|\?|#|$)/.test(next) || /%2e/i.test(next)) return home;
  return next;
}

/** Whether the request is a browser's asking for a page (it is then sent to the login rather than answered 401). */
export function wantsHtml(accept: unknown): boolean {
  return typeof accept === 'string' && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

/** The token of an `Authorization: Bearer <token>` header; undefined for any other header or none. */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^bearer +(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

/** The `token` and `next` fields of a login form (application/x-www-form-urlencoded), each at most once. */
export function loginForm(body: string): { token: string | undefined; next: string | undefined } {
  const form = new URLSearchParams(body);
  const once = (name: string): string | undefined => {
    const all = form.getAll(name);
    return all.length === 1 && all[0] !== '' ? all[0] : undefined;
  };
  return { token: once('token'), next: once('next') };
}

/**
 * Whether a form POST comes from the console's own origin: browsers send
 * `Origin` with every POST; when it is there, its host must be the one the
 * request was sent to (a login forced from another site is refused). Without
 * `Origin` (a script, curl) there is nothing to compare.
 */
export function sameOrigin(origin: unknown, host: unknown): boolean {
  if (origin === undefined) return true;
  if (typeof origin !== 'string' || typeof host !== 'string') return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}
