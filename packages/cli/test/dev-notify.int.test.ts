import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml, stringify } from 'yaml';
import { REPO_ROOT } from '@burnback/cli';
import { freePort, freePortRange, startReceiver, uniqueProjectId, waitFor, waitForOutput, type Receiver } from '@burnback/testkit';
import { DEV_READY_LINE } from '../src/commands/dev';

const run = promisify(execFile);
const BIN = ['--conditions=@burnback/source', '--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/bin.ts')];
const SECRETS = { PAGERDUTY_ROUTING_KEY: 'R0UTING0KEY0OF0THE0DEV0STACK001', BURNBACK_WEBHOOK_SECRET: 'dev-stack-webhook-secret-0001' };

/**
 * `npm start` with a notify: block as the README shows it, pointed at local receivers
 * standing in for PagerDuty, Slack and a webhook: the notifier runs with the stack, an
 * escalation pages with the incident's dedup_key and tells Slack why, its close
 * resolves the page, a rollback is a change event at its start and end, and every
 * webhook post is signed.
 */
describe('npm start with a notify: block', () => {
  let dev: ChildProcess;
  let output = '';
  let env: NodeJS.ProcessEnv;
  let pd: Receiver;
  let slack: Receiver;
  let hook: Receiver;

  beforeAll(async () => {
    [pd, slack, hook] = await Promise.all([
      startReceiver(),
      startReceiver({ okStatus: 200, okBody: 'ok' }),
      startReceiver({ okStatus: 204, okBody: '' }),
    ]);
    const config = parseYaml(readFileSync(join(REPO_ROOT, 'config/local.yaml'), 'utf8')) as Record<string, unknown>;
    config.notify = [
      { name: 'oncall', kind: 'pagerduty', routingKey: '${PAGERDUTY_ROUTING_KEY}', url: pd.url },
      { name: 'team-chat', kind: 'slack', url: '${SLACK_WEBHOOK_URL}' },
      { name: 'audit', kind: 'webhook', url: `${hook.url}/burnback`, secret: '${BURNBACK_WEBHOOK_SECRET}' },
    ];
    const dir = mkdtempSync(join(tmpdir(), 'burnback-dev-notify-'));
    writeFileSync(join(dir, 'config.yaml'), stringify(config));
    // A burn long after the serving release shipped escalates; then its incident closes.
    writeFileSync(
      join(dir, 'escalate-then-close.yaml'),
      stringify({
        description: 'a late burn escalates, then its incident closes',
        service: 'api-backend',
        steps: [
          { burn: { incident: 'late', errorRatio: 0.05, startedAfter: '3h' } },
          { expect: { decision: 'escalate', incident: 'late', reason: 'confidence .* is below' } },
          { close: { incident: 'late' } },
          { expect: { decision: 'hold', incident: 'late', reason: 'is closed' } },
        ],
      }),
    );
    const base = await freePortRange(4);
    env = {
      ...process.env,
      ...SECRETS,
      SLACK_WEBHOOK_URL: `${slack.url}/services/T0/B0/devsecret`,
      BURNBACK_CONFIG: join(dir, 'config.yaml'),
      GOOGLE_CLOUD_PROJECT: uniqueProjectId('dev-notify'),
      BURNBACK_DEV_PORT_BASE: String(base),
      GCP_SIM_PORT: String(await freePort()),
      GCP_SIM_CONTROL_PORT: String(await freePort()),
      METADATA_SERVER_DETECTION: 'none',
      SCENARIO_DIR: dir,
    };
    dev = spawn(process.execPath, [...BIN, 'dev', '--json', '--rollout-step-ms', '200'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    dev.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    dev.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    await waitForOutput(dev, () => output, DEV_READY_LINE, { timeoutMs: 150_000, what: 'burnback dev to start' });
  }, 180_000);

  afterAll(async () => {
    if (dev && dev.exitCode === null) {
      const exited = new Promise((resolve) => dev.once('exit', resolve));
      dev.kill('SIGTERM');
      await exited;
    }
    await Promise.all([pd, slack, hook].map((r) => r?.close()));
  }, 30_000);

  it('pages an escalation once and resolves it on close; a rollback is a change event at its start and end; posts are signed', async () => {
    expect(output).toMatch(
      /notifier consuming burnback-notifier-decisions and burnback-notifier-progress; destinations: oncall \(pagerduty\), team-chat \(slack\), audit \(webhook\)/,
    );
    const played = await run('npm', ['run', 'burnback', '--', 'simulate', join(env.SCENARIO_DIR!, 'escalate-then-close.yaml')], {
      cwd: REPO_ROOT,
      env,
    });
    expect(played.stdout).toMatch(/scenario done: every expectation met/);
    const incident = /incident (0\.sim-[0-9a-f]+-late)/.exec(played.stdout)![1]!;

    const pages = await waitFor(() => pd.to('/v2/enqueue').length === 2 && pd.to('/v2/enqueue'), {
      what: 'the trigger and its resolve',
      timeoutMs: 30_000,
    });
    expect(pages.map((p) => p.json)).toEqual([
      expect.objectContaining({ routing_key: SECRETS.PAGERDUTY_ROUTING_KEY, event_action: 'trigger', dedup_key: `burnback-${incident}` }),
      { routing_key: SECRETS.PAGERDUTY_ROUTING_KEY, event_action: 'resolve', dedup_key: `burnback-${incident}` },
    ]);
    const summary = (pages[0]!.json as { payload: { summary: string } }).payload.summary;
    expect(summary).toMatch(/^Burnback: api-backend needs a human: escalate: confidence .* is below/);
    const [chat] = await waitFor(() => slack.requests.length >= 1 && slack.requests, { what: 'the Slack message' });
    expect((chat!.json as { text: string }).text.split('\n')[0]).toBe(`*${summary.replace('Burnback: api-backend needs a human: ', '')}*`);

    await run('npm', ['run', 'trigger'], { cwd: REPO_ROOT, env });
    const changes = await waitFor(() => pd.to('/v2/change/enqueue').length === 2 && pd.to('/v2/change/enqueue'), {
      what: 'two change events',
      timeoutMs: 60_000,
    });
    expect(changes.map((c) => (c.json as { payload: { summary: string } }).payload.summary)).toEqual([
      expect.stringMatching(/^Burnback: api-backend rollback started: /),
      expect.stringMatching(/^Burnback: api-backend rolled back: /),
    ]);
    // Slack heard of the escalation, the rollback decision and its success; the webhook of the same, each signed.
    await waitFor(() => slack.requests.length === 3 && hook.requests.length === 3, {
      what: 'three chat messages and three posts',
      timeoutMs: 30_000,
    });
    for (const post of hook.requests)
      expect(post.headers['x-burnback-signature']).toBe(
        `sha256=${createHmac('sha256', SECRETS.BURNBACK_WEBHOOK_SECRET).update(post.body).digest('hex')}`,
      );
    // Nothing of the routing key, the chat URL's secret path or the webhook key reached the stack's output.
    expect(output).not.toMatch(/R0UTING0KEY|devsecret|dev-stack-webhook-secret/);
  }, 180_000);
});
