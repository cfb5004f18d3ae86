import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { PubSub } from '@google-cloud/pubsub';
import { Topics } from '@burnback/contracts';
import { belowThresholdIncident, closedIncident, notificationBytes, openIncident } from '@burnback/testkit';
import { DEFAULT_PROJECT, LOCAL_PORTS, LOCAL_WEBHOOK_TOKEN, localPorts } from '../local-stack.js';

const HELP = `burnback trigger: send a Cloud Monitoring incident (schema 1.2) to the local stack

By default publishes an open incident on Cloud Run service api-backend with an
error ratio of 2.5 % (threshold 1 %) to monitoring-incidents, as Monitoring's
Pub/Sub channel would, starting now: the burn started after rel-002 (which gcp-sim
announced as serving production when the stack started), so Burnback blames rel-002
and rolls production back to rel-001. A burn long after the latest rollout escalates
instead (see the decision's confidence).

Options:
  --state open|closed|below  open (default), the same incident closed, or one below the threshold
  --incident ID              incident id (default: a new one each time)
  --service NAME             Cloud Run service_name label (default api-backend)
  --webhook                  POST to ingest's webhook instead of publishing to Pub/Sub

Environment: GOOGLE_CLOUD_PROJECT (default ${DEFAULT_PROJECT}), PUBSUB_EMULATOR_HOST (default 127.0.0.1:8085),
BURNBACK_WEBHOOK_TOKEN, INGEST_URL (default http://127.0.0.1:${LOCAL_PORTS.ingest}).`;

export async function runTrigger(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      state: { type: 'string', default: 'open' },
      incident: { type: 'string' },
      service: { type: 'string', default: 'api-backend' },
      webhook: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const projectId = process.env.GOOGLE_CLOUD_PROJECT || DEFAULT_PROJECT;
  const incidentId = values.incident ?? `0.${randomBytes(6).toString('hex')}`;
  const fixture = { incidentId, service: values.service, projectId, startedAt: Math.ceil(Date.now() / 1000) };
  const notification =
    values.state === 'open'
      ? openIncident(fixture)
      : values.state === 'closed'
        ? closedIncident({ ...fixture, endedAt: Math.floor(Date.now() / 1000) })
        : values.state === 'below'
          ? belowThresholdIncident(fixture)
          : null;
  if (!notification) {
    process.stderr.write(`--state must be open, closed or below (got '${values.state}')\n`);
    return 2;
  }

  if (values.webhook) {
    const base = process.env.INGEST_URL ?? `http://127.0.0.1:${localPorts(process.env).ingest}`;
    const token = process.env.BURNBACK_WEBHOOK_TOKEN ?? LOCAL_WEBHOOK_TOKEN;
    const res = await fetch(`${base}/webhook/error-budget-alert?auth_token=${encodeURIComponent(token)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(notification),
    });
    process.stdout.write(`webhook answered ${res.status}: ${await res.text()}\n`);
    return res.ok ? 0 : 1;
  }

  process.env.PUBSUB_EMULATOR_HOST ??= '127.0.0.1:8085';
  process.env.METADATA_SERVER_DETECTION = 'none';
  const pubsub = new PubSub({ projectId });
  try {
    const id = await pubsub.topic(Topics.monitoringIncidents).publishMessage({ data: notificationBytes(notification) });
    process.stdout.write(
      `published ${values.state} incident ${incidentId} (service ${values.service}, error ratio ${notification.incident.observed_value}) to ${Topics.monitoringIncidents} in ${projectId} as message ${id}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(
      `cannot publish to ${Topics.monitoringIncidents} on ${process.env.PUBSUB_EMULATOR_HOST} (is 'npm start' running?): ${(err as Error).message}\n`,
    );
    return 1;
  } finally {
    await pubsub.close();
  }
}
