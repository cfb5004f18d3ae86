import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import type { RollbackProgress } from '@burnback/contracts';
import { startNotifierService, type NotifierService } from '@burnback/notifier';
import { closedIncident, LOCAL_CONFIG_PATH, openIncident, startReceiver, waitFor, type Receiver } from '@burnback/testkit';
import { runNotify } from '../src/commands/notify.js';
import { startPipeline, type Pipeline } from './pipeline-harness';

const SECRETS = {
  PAGERDUTY_ROUTING_KEY: 'R0UTING0KEY0FOR0THE0TEST0000001',
  BURNBACK_WEBHOOK_SECRET: 'the-webhook-secret-of-this-test',
};

/** The local config with a notify: block as the README shows it, pointing at this test's receivers. */
function configWithNotify(pd: Receiver, hook: Receiver): string {
  const config = parseYaml(readFileSync(LOCAL_CONFIG_PATH, 'utf8')) as Record<string, unknown>;
  config.notify = [
    { name: 'oncall', kind: 'pagerduty', routingKey: '${PAGERDUTY_ROUTING_KEY}', url: pd.url },
    { name: 'team-chat', kind: 'slack', url: '${SLACK_WEBHOOK_URL}' },
    {
      name: 'audit',
      kind: 'webhook',
      url: `${hook.url}/burnback`,
      secret: '${BURNBACK_WEBHOOK_SECRET}',
      on: ['escalate', 'rollback', 'rollback-succeeded'],
    },
  ];
  const path = join(mkdtempSync(join(tmpdir(), 'burnback-notify-')), 'config.yaml');
  writeFileSync(path, stringify(config));
  return path;
}

/**
 * Humans in the loop, through the whole pipeline on the emulators and gcp-sim:
 * an escalation pages the on-call (PagerDuty) and tells the team (Slack) why;
 * its close resolves the page; a rollback is a change event at its start and
 * end; every webhook post is signed.
 */
describe('the on-call hears of every decision where they already are', () => {
  let p: Pipeline | undefined;
  let notifier: NotifierService | undefined;
  let pd: Receiver;
  let slack: Receiver;
  let hook: Receiver;

  beforeEach(async () => {
    [pd, slack, hook] = await Promise.all([
      startReceiver(),
      startReceiver({ okStatus: 200, okBody: 'ok' }),
      startReceiver({ okStatus: 204, okBody: '' }),
    ]);
  });
  afterEach(async () => {
    await notifier?.close();
    await p?.close();
    await Promise.all([pd, slack, hook].map((r) => r.close()));
  });

  const env = () => ({
    ...SECRETS,
    SLACK_WEBHOOK_URL: `${slack.url}/services/T0/B0/slacksecret`,
    BURNBACK_CONFIG: configWithNotify(pd, hook),
  });

  it('an escalation pages once with its reason and its close resolves it; a rollback is a change event at start and end; posts are signed', async () => {
    p = await startPipeline('notify', { env: env() });
    notifier = await startNotifierService({
      pubsub: p.env.pubsub,
      db: p.env.db,
      logger: p.env.logger,
      destinations: p.config.notify,
      retryMinutes: p.config.notifyRetryMinutes,
    });

    // A burn on checkout that began before its serving release: the evidence is thin, so Burnback escalates.
    await p.notify(openIncident({ ...p.fixture, service: 'checkout', incidentId: '0.thin', startedAt: p.fixture.startedAt - 600 }));
    const [trigger] = await waitFor(() => pd.to('/v2/enqueue').length === 1 && pd.to('/v2/enqueue'), {
      what: 'the page',
      timeoutMs: 30_000,
    });
    const escalation = (await p.decisions()).find((d) => d.incidentId === '0.thin')!;
    expect(escalation.action).toBe('escalate');
    expect(trigger!.json).toMatchObject({
      routing_key: SECRETS.PAGERDUTY_ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'burnback-0.thin',
      payload: { summary: `Burnback: checkout needs a human: ${escalation.reason}`, custom_details: { decision: escalation.decisionId } },
    });
    const [chat] = await waitFor(() => slack.requests.length === 1 && slack.requests, { what: 'the Slack message' });
    expect(chat!.path).toBe('/services/T0/B0/slacksecret');
    expect((chat!.json as { text: string }).text.split('\n')[0]).toBe(`*${escalation.reason}*`);
    const [signed] = await waitFor(() => hook.requests.length === 1 && hook.requests, { what: 'the webhook post' });
    expect(signed!.headers['x-burnback-signature']).toBe(
      `sha256=${createHmac('sha256', SECRETS.BURNBACK_WEBHOOK_SECRET).update(signed!.body).digest('hex')}`,
    );
    expect(signed!.json).toMatchObject({ specversion: '1.0', id: escalation.decisionId, data: { action: 'escalate' } });

    // The incident closes: the page is resolved with the same key.
    await p.notify(closedIncident({ ...p.fixture, service: 'checkout', incidentId: '0.thin', endedAt: Math.ceil(Date.now() / 1000) }));
    const pages = await waitFor(() => pd.to('/v2/enqueue').length === 2 && pd.to('/v2/enqueue'), {
      what: 'the resolve',
      timeoutMs: 30_000,
    });
    expect(pages[1]!.json).toEqual({ routing_key: SECRETS.PAGERDUTY_ROUTING_KEY, event_action: 'resolve', dedup_key: 'burnback-0.thin' });

    // A burn on api-backend's serving release rolls back: a change event when it starts and when it ends.
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.burn' }));
    const done = (
      await p.progress.waitFor(
        1,
        (m) => m.json<RollbackProgress>().incidentId === '0.burn' && m.json<RollbackProgress>().stage === 'succeeded',
        60_000,
      )
    )[0]!.json<RollbackProgress>();
    const changes = await waitFor(() => pd.to('/v2/change/enqueue').length === 2 && pd.to('/v2/change/enqueue'), {
      what: 'two change events',
      timeoutMs: 30_000,
    });
    const summaries = changes.map((c) => (c.json as { payload: { summary: string } }).payload.summary);
    expect(summaries[0]).toMatch(/^Burnback: api-backend rollback started: /);
    expect(summaries[1]).toMatch(/^Burnback: api-backend rolled back: /);
    expect(changes[1]!.json).toMatchObject({
      payload: { custom_details: { rollback: done.rollbackId, releases: `${done.fromReleaseId} → ${done.releaseId}` } },
    });
    // The rollback's decision and its success reached Slack and the webhook too; nothing paged for it.
    await waitFor(() => slack.requests.length === 3 && hook.requests.length === 3, {
      what: 'the rollback in chat and on the webhook',
      timeoutMs: 30_000,
    });
    expect(slack.requests.map((r) => (r.json as { text: string }).text.split('\n')[1])).toEqual([
      'Burnback: checkout needs a human',
      'Burnback: api-backend is rolling back',
      'Burnback: api-backend rolled back',
    ]);
    expect(pd.to('/v2/enqueue')).toHaveLength(2);
  }, 180_000);

  it('`burnback notify test` sends a test page (trigger, then resolve) and a test chat message, and prints the answers without secrets', async () => {
    const lines: string[] = [];
    const base = { GOOGLE_CLOUD_PROJECT: 'burnback-local', ...env() };
    expect(await runNotify(['test', 'oncall'], base, (l) => lines.push(l))).toBe(0);
    expect(pd.requests.map((r) => (r.json as { event_action: string }).event_action)).toEqual(['trigger', 'resolve']);
    expect(lines).toEqual([
      expect.stringMatching(/^oncall \(pagerduty\) trigger: HTTP 202 \{"status":"success"/),
      expect.stringMatching(/^oncall \(pagerduty\) resolve: HTTP 202 /),
    ]);
    expect(await runNotify(['test', 'team-chat'], base, (l) => lines.push(l))).toBe(0);
    expect((slack.requests[0]!.json as { text: string }).text).toMatch(
      /^\*test message from burnback notify test team-chat: nothing is burning\*/,
    );
    slack.answer(404);
    expect(await runNotify(['test', 'team-chat'], base, (l) => lines.push(l))).toBe(1);
    expect(lines.at(-1)).toMatch(/^team-chat \(slack\) message: HTTP 404 /);
    expect(await runNotify(['test', 'nobody'], base, (l) => lines.push(l))).toBe(1);
    expect(lines.join('\n')).not.toMatch(/slacksecret|R0UTING0KEY|the-webhook-secret/);
  });
});
