import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger, Metrics } from '@burnback/platform';
import type { AlertmanagerOutcome } from './alertmanager.js';
import type { IncomingNotification } from './handler.js';
import type { RejectionReason } from './parse.js';

/**
 * `POST /webhook/alertmanager`: Prometheus Alertmanager's `webhook_config`
 * notifications, behind the same token check as Monitoring's webhook (the
 * `auth` hook, run before the body is read). Thin: the handler reads and
 * publishes; this answers.
 */
export function registerAlertmanagerRoute(
  app: FastifyInstance,
  deps: {
    handle: (incoming: IncomingNotification) => Promise<AlertmanagerOutcome>;
    auth: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
    /** Answers a refused request in the front door's shape, counted under source `alertmanager`. */
    refuse: (reply: FastifyReply, reason: RejectionReason | 'empty-body' | 'unavailable', status: number, message: string) => unknown;
    now: () => Date;
    logger: Logger;
    metrics: Metrics;
  },
): void {
  const { logger, metrics, refuse } = deps;
  app.post('/webhook/alertmanager', { onRequest: deps.auth }, async (req, reply) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (raw.length === 0) return refuse(reply, 'empty-body', 400, 'empty body: expected an Alertmanager webhook notification (JSON)');
    let outcome: AlertmanagerOutcome;
    try {
      const receivedAt = deps.now();
      outcome = await deps.handle({ raw, source: 'alertmanager', observedAt: receivedAt, receivedAt, messageId: null });
    } catch (err) {
      logger.error('Alertmanager notification failed; Alertmanager should retry', { error: err });
      return refuse(reply, 'unavailable', 503, 'temporarily unable to accept the notification; retry');
    }
    if (outcome.kind === 'refused') {
      logger.warn('Alertmanager notification rejected', { event: 'webhook_rejected', reason: outcome.message });
      return refuse(reply, outcome.reason, 400, outcome.message);
    }
    const answer = alertmanagerAnswer(outcome);
    if (answer.status === 400) {
      metrics.notificationsRejected.inc({ source: 'alertmanager', reason: 'not-a-notification' });
      return reply.code(400).send({ error: { code: 'INVALID_ARGUMENT', message: answer.message }, results: outcome.results });
    }
    metrics.notificationsAccepted.inc({ source: 'alertmanager' });
    return reply.code(answer.status).send(answer.body);
  });
}

/**
 * The answer to an Alertmanager notification read alert by alert: 202 when any
 * alert was accepted, 200 when none was but some were read (each unmapped), 400
 * (with every alert's reason) when none could be read. Alertmanager retries only
 * a 5xx: a refused alert would be refused again.
 */
export function alertmanagerAnswer(
  outcome: Extract<AlertmanagerOutcome, { kind: 'read' }>,
): { status: 202 | 200; body: Record<string, unknown> } | { status: 400; message: string } {
  const count = (status: string) => outcome.results.filter((r) => r.status === status).length;
  const [accepted, unmapped, refused] = [count('accepted'), count('unmapped'), count('refused')];
  if (accepted + unmapped === 0)
    return {
      status: 400,
      message: `no alert of the notification could be read: ${outcome.results
        .slice(0, 5)
        .map((r) => `alert ${r.index}: ${'reason' in r ? r.reason : r.status}`)
        .join('; ')}${outcome.results.length > 5 ? '; …' : ''}`,
    };
  return {
    status: accepted > 0 ? 202 : 200,
    body: {
      status: accepted > 0 ? 'accepted' : 'unmapped',
      accepted,
      unmapped,
      refused,
      truncatedAlerts: outcome.truncatedAlerts,
      results: outcome.results,
    },
  };
}
