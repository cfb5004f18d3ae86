/**
 * The console's integration tests share this: ingest's app on the Firestore
 * emulator (built as management.int.test.ts builds it), a clock the test moves,
 * a log it reads back, the routes the app registered, and the records of a
 * rollback of api-backend and an escalation of checkout written as the decider
 * and the executor write them (console-fixtures.ts).
 */
import { createHmac } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Collections, targetDocIdFor, type StoredDeployEvent } from '@burnback/contracts';
import { createMetrics, PubSubPublisher, type Config, type Logger, type ServiceConfig } from '@burnback/platform';
import { capturedLogger, createTestEnvironment, type TestEnvironment } from '@burnback/testkit';
import { createIngestApp } from '../src/index.js';
import {
  at,
  decisionRecord,
  deployNotice,
  incidentRecord,
  MIN,
  rollbackRecord,
  serviceControls,
  serviceState,
  T0,
  targetRecord,
} from './console-fixtures.js';

export const TOKEN = 'test-console-token-0123456789abcdef';
/** What a browser sends as Accept for a page. */
export const HTML = { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8' };
export const BEARER = { authorization: `Bearer ${TOKEN}` };
export const DECISION = decisionRecord();
export const ROLLBACK = rollbackRecord();
export const ESCALATION = decisionRecord({
  decisionId: 'dec-checkout-escalated',
  incidentId: '0.checkout',
  service: 'checkout',
  action: 'escalate',
  rollbackId: null,
  reason: 'escalate: the rollback of checkout failed; a human decides now',
  decidedAt: at(70_000),
  evidence: null,
});

/** Signs a cookie value as @fastify/cookie does (HMAC-SHA256, base64 without padding), for cookies the console never made. */
export const sign = (value: string, key: string) =>
  `${value}.${createHmac('sha256', key).update(value).digest('base64').replace(/=+$/, '')}`;

export interface SeededConsole {
  env: TestEnvironment;
  config: Config;
  /** The app with TOKEN and the config's services. */
  address: string;
  logs: { logger: Logger; lines: Array<Record<string, unknown>> };
  /** Every route an app with a token registered (the fuzz suite finds routes the same way). */
  routes: Array<{ method: string; url: string }>;
  /** The console's clock: T0 + 5 min unless a test moves it. */
  clock: { now: number };
  /** Another app on the same store, clock and log (closed by the test). */
  start(token: string | null, services: ReadonlyMap<string, ServiceConfig>): Promise<{ app: FastifyInstance; address: string }>;
  get(path: string, headers?: Record<string, string>, base?: string): Promise<Response>;
  /** Posts the login form. */
  login(token: string, next?: string, headers?: Record<string, string>): Promise<Response>;
  /** A fresh session cookie (`name=value`). */
  sessionCookie(): Promise<string>;
  close(): Promise<void>;
}

export async function seededConsole(suite: string): Promise<SeededConsole> {
  const env = await createTestEnvironment(suite);
  const config = env.config();
  const publisher = new PubSubPublisher(env.pubsub);
  const logs = capturedLogger('ingest');
  const routes: SeededConsole['routes'] = [];
  const clock = { now: T0 + 5 * MIN };
  const start: SeededConsole['start'] = async (token, services) => {
    const app = createIngestApp({
      handle: async () => {
        throw new Error('no notification is sent in this suite');
      },
      deadLetter: publisher,
      webhookToken: null,
      pushAuth: null,
      management: { db: env.db, token, services },
      logger: logs.logger,
      metrics: createMetrics('ingest'),
      now: () => new Date(clock.now),
      onRoute: (route) => {
        if (token) for (const method of [route.method].flat()) routes.push({ method, url: route.url });
      },
    });
    return { app, address: await app.listen({ host: '127.0.0.1', port: 0 }) };
  };
  const main = await start(TOKEN, config.services);
  await seed(env, config);
  const login: SeededConsole['login'] = (token, next, headers = {}) =>
    fetch(`${main.address}/console/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ token, ...(next ? { next } : {}) }).toString(),
      redirect: 'manual',
    });
  return {
    env,
    config,
    address: main.address,
    logs,
    routes,
    clock,
    start,
    get: (path, headers = {}, base = main.address) => fetch(`${base}${path}`, { headers, redirect: 'manual' }),
    login,
    async sessionCookie() {
      const res = await login(TOKEN);
      if (res.status !== 303) throw new Error(`the login answered ${res.status}`);
      return res.headers.getSetCookie()[0]!.split(';')[0]!;
    },
    async close() {
      await main.app.close();
      await publisher.close();
      await env.close();
    },
  };
}

/**
 * api-backend: rolled back from rel-002 to rel-001 (DECISION, ROLLBACK), with
 * Cloud Deploy's notifications of the rollback's rollout; checkout: a failed
 * rollback, an escalation (ESCALATION) and a pause, so it needs a human.
 */
async function seed(env: TestEnvironment, config: Config): Promise<void> {
  const set = (collection: string, id: string, data: object) =>
    env.db
      .collection(collection)
      .doc(id)
      .set(JSON.parse(JSON.stringify(data)));
  const target = targetRecord({ project: env.projectId });
  const returned = {
    releaseId: 'rel-001',
    rollout: ROLLBACK.rolloutName!,
    from: at(32_500),
    stoppedAt: null,
    state: 'SUCCEEDED',
    phase: null,
    rollback: true,
    burnedAt: null,
  };
  await Promise.all([
    set(Collections.decisions, DECISION.decisionId, DECISION),
    set(Collections.decisions, ESCALATION.decisionId, ESCALATION),
    set(Collections.incidents, DECISION.incidentId, incidentRecord()),
    set(Collections.rollbacks, ROLLBACK.rollbackId, ROLLBACK),
    set(Collections.targets, targetDocIdFor(config.services.get('api-backend')!), {
      ...target,
      timeline: [...target.timeline, returned],
      serving: { releaseId: 'rel-001', since: at(32_500), burnedAt: null, rollout: ROLLBACK.rolloutName, phase: null },
    }),
    set(
      Collections.services,
      'api-backend',
      serviceState({
        lastDecisionId: DECISION.decisionId,
        recentRollbacks: [{ rollbackId: ROLLBACK.rollbackId, decidedAt: DECISION.decidedAt, outcome: 'succeeded', finishedAt: at(34_000) }],
      }),
    ),
    set(
      Collections.services,
      'checkout',
      serviceState({
        service: 'checkout',
        lastDecisionId: ESCALATION.decisionId,
        recentRollbacks: [{ rollbackId: 'rb-checkout-failed', decidedAt: at(40_000), outcome: 'failed', finishedAt: at(60_000) }],
      }),
    ),
    set(
      Collections.controls,
      'checkout',
      serviceControls({ service: 'checkout', pause: { until: at(60 * MIN), by: 'dana', reason: 'db migration', at: at(0) } }),
    ),
    ...[deployNotice('Start', 32_500), deployNotice('Succeed', 33_500, 'JobRun'), deployNotice('Succeed', 33_800)].map((n, i) =>
      set(Collections.deployEvents, `msg-${i}`, { messageId: `msg-${i}`, service: 'api-backend', ...n } satisfies StoredDeployEvent),
    ),
  ]);
}
