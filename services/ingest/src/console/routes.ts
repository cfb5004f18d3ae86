/**
 * The console: read-only pages under /console/ on ingest's port, behind the
 * management token. `GET /console/login` shows a form; `POST /console/login`
 * takes the token once and sets a session cookie (signed with a key derived
 * from the token, HttpOnly, SameSite=Strict, Path=/console, 12 h); a request
 * with `Authorization: Bearer <token>` needs no cookie. Without either, a
 * browser asking for a page is sent to the login, anything else is answered
 * 401, and no page shows any data. Every answer carries a Content-Security-Policy
 * that allows only the console's own script and style (no inline script).
 */
import { createHmac, randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import type { Firestore } from '@google-cloud/firestore';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { documentIdProblem, serviceNameProblem } from '@burnback/contracts';
import type { Logger, ServiceConfig } from '@burnback/platform';
import { CONSOLE_CSS, CONSOLE_JS, FAVICON_SVG } from './assets.js';
import { decisionPage } from '../pure/console/decision-view.js';
import { ATTENTION_HOURS, fleetView } from '../pure/console/fleet.js';
import { viewTime } from '../pure/console/format.js';
import { rollbackPage } from '../pure/console/rollback-view.js';
import { hoursParam, servicePage } from '../pure/console/service-view.js';
import {
  bearerToken,
  CONSOLE_PATH,
  checkSession,
  loginForm,
  safeNext,
  sameOrigin,
  SESSION_COOKIE,
  SESSION_HOURS,
  sessionValue,
  wantsHtml,
} from '../pure/console/session.js';
import { readDecision, readFleet, readRollback, readService } from './reads.js';
import { renderDecision, renderFleet, renderLogin, renderProblem, renderRollback, renderService } from './render.js';

export interface ConsoleDeps {
  db: Firestore;
  /** The management token; null: every console page answers 503 and says why. */
  token: string | null;
  services: ReadonlyMap<string, ServiceConfig>;
  now: () => Date;
  logger: Logger;
  tokenMatches: (presented: string | undefined, expected: string | null) => boolean;
}

/** Only the console's own files; no inline script or style, no frames, forms post only here. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: under no-referrer a browser posts the login form with `Origin: null`.
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * The key that signs session cookies: derived from the management token, so a
 * new token ends every session, and the token itself never signs anything.
 */
export function sessionKey(token: string): string {
  return createHmac('sha256', token).update('burnback console session v1').digest('base64');
}

const PARAM_NAMES: Record<string, string> = { id: 'id in the path', name: 'service name' };

export function registerConsole(app: FastifyInstance, deps: ConsoleDeps): void {
  void app.register(
    async (scope) => {
      await scope.register(fastifyCookie, { secret: deps.token ? sessionKey(deps.token) : randomBytes(32).toString('base64') });
      scope.addHook('onRequest', async (_req, reply) => {
        void reply.headers({ ...SECURITY_HEADERS, 'cache-control': 'no-store' });
      });

      const html = (reply: FastifyReply, status: number, body: string) => reply.code(status).type('text/html; charset=utf-8').send(body);
      const problem = (reply: FastifyReply, status: number, heading: string, message: string, signedIn = true) =>
        html(reply, status, renderProblem(status, heading, message, signedIn));
      const disabled = (reply: FastifyReply) =>
        problem(reply, 503, 'The console is disabled', 'the console is disabled: BURNBACK_MANAGEMENT_TOKEN is not configured', false);
      const authFailed = (req: FastifyRequest, reason: string) =>
        deps.logger.warn('authentication failed', { event: 'auth_failed', path: req.url.split('?')[0], ip: req.ip, reason });

      /** Whether the request is authenticated: a valid bearer token, or a session cookie that is signed, well-formed and not expired. */
      const session = (req: FastifyRequest): 'ok' | 'none' | 'forbidden' => {
        const header = req.headers.authorization;
        const bearer = bearerToken(header);
        if (bearer !== undefined) {
          if (deps.tokenMatches(bearer, deps.token)) return 'ok';
          authFailed(req, 'invalid bearer token');
          return 'forbidden';
        }
        const cookie = req.cookies[SESSION_COOKIE];
        if (cookie === undefined) return 'none';
        const unsigned = req.unsignCookie(cookie);
        if (!unsigned.valid || unsigned.value === null) {
          authFailed(req, 'session cookie with a bad signature');
          return 'none';
        }
        const check = checkSession(unsigned.value, deps.now().getTime());
        if (check.ok) return 'ok';
        // An expired session is the normal end of one; anything else was not made by this console.
        if (check.why !== 'expired') authFailed(req, `session cookie ${check.why}`);
        return 'none';
      };

      /** Authentication first, then the ids in the path: a refusal before any read. */
      const guard = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
        if (!deps.token) return void (await disabled(reply));
        const outcome = session(req);
        if (outcome === 'forbidden') return void (await problem(reply, 403, 'Not allowed', 'invalid token', false));
        if (outcome === 'none') {
          if ((req.method === 'GET' || req.method === 'HEAD') && wantsHtml(req.headers.accept)) {
            const next = safeNext(req.url);
            return void (await reply.redirect(
              `${CONSOLE_PATH}/login${next === `${CONSOLE_PATH}/` ? '' : `?next=${encodeURIComponent(next)}`}`,
              303,
            ));
          }
          void reply.header('www-authenticate', 'Bearer realm="burnback-console"');
          return void (await problem(
            reply,
            401,
            'Log in first',
            'log in at /console/login with the management token, or give it as Authorization: Bearer',
            false,
          ));
        }
        for (const [name, value] of Object.entries((req.params ?? {}) as Record<string, unknown>)) {
          if (typeof value !== 'string') continue;
          const why = name === 'name' ? serviceNameProblem(value) : documentIdProblem(value, `the ${PARAM_NAMES[name] ?? name}`);
          if (why) return void (await problem(reply, 400, 'Not a valid name', why));
        }
      };

      scope.setNotFoundHandler((req, reply) =>
        problem(reply, 404, 'No such page', `the console has no page ${req.url.split('?')[0] ?? ''}`, false),
      );
      scope.setErrorHandler((err: { statusCode?: number }, _req, reply) => {
        const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
        if (status === 500) deps.logger.error('console page failed', { event: 'http_error', error: err });
        return problem(
          reply,
          status,
          status === 500 ? 'Something went wrong' : 'Bad request',
          status === 413
            ? 'the request is too large'
            : status === 500
              ? 'internal error (logged)'
              : 'the request is not one the console takes',
          false,
        );
      });

      const asset = (path: string, type: string, body: string) =>
        scope.get(`/static/${path}`, async (_req, reply) => reply.header('cache-control', 'public, max-age=300').type(type).send(body));
      asset('console.css', 'text/css; charset=utf-8', CONSOLE_CSS);
      asset('console.js', 'text/javascript; charset=utf-8', CONSOLE_JS);
      asset('favicon.svg', 'image/svg+xml', FAVICON_SVG);

      scope.get<{ Querystring: Record<string, unknown> }>('/login', async (req, reply) => {
        if (!deps.token) return disabled(reply);
        return html(reply, 200, renderLogin({ next: safeNext(req.query.next), problem: null, hours: SESSION_HOURS }));
      });

      scope.post('/login', { bodyLimit: 16 * 1024 }, async (req, reply) => {
        if (!deps.token) return disabled(reply);
        if (!sameOrigin(req.headers.origin, req.headers.host)) {
          authFailed(req, 'login posted from another origin');
          return problem(reply, 403, 'Not allowed', 'a login must be posted from the console itself', false);
        }
        const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
        const form = loginForm(body);
        const next = safeNext(form.next);
        if (!deps.tokenMatches(form.token, deps.token)) {
          authFailed(req, form.token === undefined ? 'console login without a token' : 'invalid token at console login');
          return html(
            reply,
            401,
            renderLogin({
              next,
              problem: form.token === undefined ? 'Give the management token.' : 'That is not the management token.',
              hours: SESSION_HOURS,
            }),
          );
        }
        const https = req.protocol === 'https' || req.headers['x-forwarded-proto'] === 'https';
        void reply.setCookie(SESSION_COOKIE, sessionValue(deps.now().getTime()), {
          signed: true,
          httpOnly: true,
          sameSite: 'strict',
          path: CONSOLE_PATH,
          maxAge: SESSION_HOURS * 3600,
          secure: https,
        });
        deps.logger.info('console login', { event: 'console_login', ip: req.ip });
        return reply.redirect(next, 303);
      });

      scope.post('/logout', async (req, reply) => {
        if (!sameOrigin(req.headers.origin, req.headers.host))
          return problem(reply, 403, 'Not allowed', 'a logout must be posted from the console itself', false);
        void reply.clearCookie(SESSION_COOKIE, { path: CONSOLE_PATH, httpOnly: true, sameSite: 'strict' });
        return problem(reply, 200, 'Logged out', 'the session cookie is cleared; log in again at /console/login', false);
      });

      scope.get('/', { onRequest: guard }, async (_req, reply) => {
        const now = deps.now();
        const rows = fleetView(await readFleet(deps.db, deps.services, now), viewTime(now.getTime()));
        return html(reply, 200, renderFleet(rows, ATTENTION_HOURS));
      });

      scope.get<{ Params: { name: string }; Querystring: Record<string, unknown> }>(
        '/services/:name',
        { onRequest: guard },
        async (req, reply) => {
          const service = deps.services.get(req.params.name);
          if (!service)
            return problem(
              reply,
              404,
              'No such service',
              `no service ${JSON.stringify(req.params.name.slice(0, 100))} in Burnback's configuration (it names ${[...deps.services.keys()].join(', ') || 'none'})`,
            );
          const hours = hoursParam(req.query.hours);
          if (hours === null)
            return problem(reply, 400, 'Bad look-back', 'hours must be a whole number of hours from 1 to 168, given once');
          const now = deps.now();
          const input = await readService(deps.db, service, now, hours);
          return html(reply, 200, renderService(servicePage(input, viewTime(now.getTime()))));
        },
      );

      scope.get<{ Params: { id: string } }>('/decisions/:id', { onRequest: guard }, async (req, reply) => {
        const found = await readDecision(deps.db, req.params.id);
        if (!found)
          return problem(reply, 404, 'No such decision', `no decision ${JSON.stringify(req.params.id.slice(0, 100))} is on record`);
        return html(reply, 200, renderDecision(decisionPage(found.decision, viewTime(deps.now().getTime()), found.incidentDecisionIds)));
      });

      scope.get<{ Params: { id: string } }>('/rollbacks/:id', { onRequest: guard }, async (req, reply) => {
        const now = deps.now();
        const found = await readRollback(deps.db, req.params.id, now);
        if (!found)
          return problem(
            reply,
            404,
            'No such rollback',
            `no rollback ${JSON.stringify(req.params.id.slice(0, 100))} is on record (a rollback id starts with rb-, a validation's with rv-; a decision's page links to its rollback)`,
          );
        return html(reply, 200, renderRollback(rollbackPage(found.rollback, found.decision, found.notices, viewTime(now.getTime()))));
      });
    },
    { prefix: CONSOLE_PATH },
  );
}
