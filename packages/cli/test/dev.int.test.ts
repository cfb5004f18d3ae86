import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LOCAL_MANAGEMENT_TOKEN, REPO_ROOT } from '@burnback/cli';
import { ServiceRuntime } from '@burnback/platform';
import { freePort, freePortRange, portAnswers, uniqueProjectId, waitFor, waitForOutput } from '@burnback/testkit';
import { DEV_READY_LINE } from '../src/commands/dev';
import { holderOf } from '../src/processes';
import type { ServiceStatus } from '../src/commands/status';

const run = promisify(execFile);
const BIN = ['--conditions=@burnback/source', '--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/bin.ts')];

/** The README's walk-through: the commands of the fenced block after its `walk-through` marker, in order, without comments. */
function walkThrough(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const marker = readme.indexOf('<!-- walk-through:');
  expect(marker).toBeGreaterThan(0);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(marker))![1]!;
  return block
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean);
}

describe('npm start (burnback dev)', () => {
  let dev: ChildProcess;
  let output = '';
  // Ports free right now (ingest takes the base, decider, executor and notifier the next three); the emulators are reused where they run.
  let PORT_BASE: number;
  let SIM_PORT: number;
  let CONTROL_PORT: number;
  let env: NodeJS.ProcessEnv;
  /** A README command (`npm run …`), run as written, with this stack's ports in the environment. */
  const npmRun = (command: string) => {
    const [npm, ...args] = command.split(' ');
    expect({ npm, quoted: /['"]/.test(command) }).toEqual({ npm: 'npm', quoted: false });
    return run('npm', args, { cwd: REPO_ROOT, env });
  };

  beforeAll(async () => {
    PORT_BASE = await freePortRange(4);
    SIM_PORT = await freePort();
    CONTROL_PORT = await freePort();
    env = {
      ...process.env,
      GOOGLE_CLOUD_PROJECT: uniqueProjectId('dev-stack'),
      BURNBACK_DEV_PORT_BASE: String(PORT_BASE),
      GCP_SIM_PORT: String(SIM_PORT),
      GCP_SIM_CONTROL_PORT: String(CONTROL_PORT),
      METADATA_SERVER_DETECTION: 'none',
    };
    dev = spawn(process.execPath, [...BIN, 'dev', '--json', '--rollout-step-ms', '200'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    dev.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    dev.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    // The banner comes in more than one chunk: wait for its last line, not its first.
    await waitForOutput(dev, () => output, DEV_READY_LINE, { timeoutMs: 150_000, what: 'burnback dev to start' });
  }, 180_000);

  afterAll(async () => {
    if (dev.exitCode === null) dev.kill('SIGKILL');
  });

  it('prints where every part listens', () => {
    expect(output).toContain(`gcp-sim (Cloud Deploy gRPC)    127.0.0.1:${SIM_PORT}`);
    expect(output).toContain(`gcp-sim control (HTTP)         http://127.0.0.1:${CONTROL_PORT}`);
    expect(output).toContain(`ingest (HTTP front door)       http://127.0.0.1:${PORT_BASE}`);
    expect(output).toContain(`decider (health, metrics)      http://127.0.0.1:${PORT_BASE + 1}`);
    expect(output).toContain(`executor (health, metrics)     http://127.0.0.1:${PORT_BASE + 2}`);
    expect(output).toContain(`notifier (health, metrics)     http://127.0.0.1:${PORT_BASE + 3}`);
    expect(output).toContain(`Pub/Sub emulator               ${process.env.PUBSUB_EMULATOR_HOST}`);
  });

  it('runs each service as its container does: compiled, with its NODE_OPTIONS (the heap bound), after compiling them', () => {
    expect(output).toMatch(/^burnback {2}services compiled \(tsc -b, [\d.]+ s\); watching their sources$/m);
    for (const [i, service] of (['ingest', 'decider', 'executor', 'notifier'] as const).entries()) {
      const holder = holderOf(PORT_BASE + i);
      expect({ service, command: holder?.command }).toEqual({
        service,
        command: `${process.execPath} ${join(REPO_ROOT, `services/${service}/dist/main.js`)}`,
      });
      const environ = readFileSync(`/proc/${holder!.pid}/environ`, 'utf8').split('\0');
      expect({ service, nodeOptions: environ.find((e) => e.startsWith('NODE_OPTIONS=')) }).toEqual({
        service,
        nodeOptions: `NODE_OPTIONS=${ServiceRuntime[service].nodeOptions}`,
      });
    }
  });

  it("runs the README's walk-through as written: a rollback, a refusal by cooldown, a rollback through the webhook", async () => {
    const commands = walkThrough();
    expect(commands).toEqual([
      'npm run trigger',
      'npm run burnback -- simulate cooldown',
      'npm run trigger -- --via webhook --service checkout',
    ]);
    // What each command must show, in the README's order.
    const outcomes: Array<(stdout: string) => void> = [
      (stdout) => {
        expect(stdout).toMatch(/\(api-backend; run [0-9a-f]+, since /);
        expect(stdout).toMatch(
          /decision ROLLBACK on burn: roll back: error ratio 2\.5 % exceeds the threshold of 1 %; caused by rel-002 \(confidence 0\.925\)/,
        );
        expect(stdout).toMatch(/rollback of burn succeeded: production rolled back to rel-001 \(rollout burnback-rb-[0-9a-f]+ SUCCEEDED\)/);
      },
      (stdout) => {
        expect(stdout).toMatch(/ship rel-003: production SUCCEEDED/);
        expect(stdout).toMatch(/decision HOLD on again: no rollback: last rollback succeeded \d+ min ago is within the 30 min cooldown/);
        expect(stdout).toMatch(/1 decisions on notifications, 0 rollback\(s\); Cloud Deploy ran 0 rollback rollout\(s\) on production/);
      },
      (stdout) => {
        expect(stdout).toMatch(/\(checkout, through the webhook; run [0-9a-f]+, since /);
        expect(stdout).toMatch(/decision ROLLBACK on burn: roll back: .*caused by rel-002/);
        expect(stdout).toMatch(/rollback of burn succeeded: production rolled back to rel-001/);
      },
    ];
    for (const [i, command] of commands.entries()) {
      const { stdout } = await npmRun(command);
      expect({ command, done: stdout.includes('scenario done: every expectation met') }).toEqual({ command, done: true });
      outcomes[i]!(stdout);
    }

    // npm start's log: each rollback went accepted → started → succeeded, at INFO.
    const progress = output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { severity?: string; event?: string; stage?: string; component?: string; service?: string })
      .filter((l) => l.component === 'executor' && l.event === 'rollback_progress');
    for (const service of ['api-backend', 'checkout']) {
      const lines = progress.filter((l) => l.service === service);
      expect({ service, stages: lines.map((l) => l.stage) }).toEqual({ service, stages: ['accepted', 'started', 'succeeded'] });
      expect(lines.every((l) => l.severity === 'INFO')).toBe(true);
    }
    // The third command went through the webhook: ingest counted it there.
    const metrics = await (await fetch(`http://127.0.0.1:${PORT_BASE}/metrics`)).text();
    expect(metrics).toMatch(/^burnback_notifications_accepted_total\{source="webhook",component="ingest"\} 1$/m);
  }, 120_000);

  it("after the walk-through: burnback status shows both services cooling down, GET /rollback/status/{id} the rollback's timeline; a pause holds a copied scenario's burn", async () => {
    const cli = async (...args: string[]) => (await run(process.execPath, [...BIN, ...args], { cwd: REPO_ROOT, env })).stdout;
    const api = async (method: string, path: string) => {
      const res = await fetch(`http://127.0.0.1:${PORT_BASE}${path}`, {
        method,
        headers: { authorization: `Bearer ${LOCAL_MANAGEMENT_TOKEN}` },
      });
      return (await res.json()) as Record<string, unknown>;
    };
    const statuses = async () => (JSON.parse(await cli('status', '--json')) as { services: ServiceStatus[] }).services;
    const [apiBackend, checkout] = await statuses();
    expect(apiBackend).toMatchObject({ service: 'api-backend', serving: { releaseId: 'rel-003' }, lastDecision: { action: 'hold' } });
    expect(checkout).toMatchObject({ service: 'checkout', serving: { releaseId: 'rel-001' }, lastDecision: { action: 'rollback' } });
    for (const s of [apiBackend!, checkout!]) expect(s.cooldown!.remainingMinutes).toBeGreaterThanOrEqual(29);
    // The held burn is decided again when the cooldown ends; checkout's incident was rolled back and has nothing pending.
    expect(apiBackend!.redecision).toMatchObject({ trigger: 'lapsed', rule: 'cooldown' });
    expect(Date.parse(apiBackend!.redecision!.dueAt) - Date.now()).toBeGreaterThan(28 * 60_000);
    expect(checkout!.redecision).toBeNull();

    const { decisions } = JSON.parse(await cli('decisions', '--json', '--service', 'api-backend')) as {
      decisions: Array<{ decisionId: string; action: string }>;
    };
    expect(decisions.map((d) => d.action)).toEqual(['hold', 'rollback']);
    const rollback = await api('GET', `/rollback/status/${decisions[1]!.decisionId}`);
    expect(rollback).toMatchObject({ status: 'succeeded', releases: { from: 'rel-002', to: 'rel-001' } });
    expect((rollback.timeline as Array<{ stage: string }>).map((t) => t.stage)).toEqual(
      expect.arrayContaining(['decided: rollback', 'accepted', 'started', 'succeeded']),
    );

    const paused = await api('POST', '/services/api-backend/pause?minutes=30&reason=investigating&by=sre');
    expect(paused).toMatchObject({ pause: { by: 'sre', reason: 'investigating' } });
    // A scenario of one's own, as the README suggests: a copy of burn.yaml that expects the pause to hold the burn.
    const dir = mkdtempSync(join(tmpdir(), 'burnback-dev-'));
    try {
      const mine = join(dir, 'paused.yaml');
      writeFileSync(
        mine,
        [
          'description: a burn while the service is paused',
          'service: api-backend',
          'steps:',
          '  - burn: { incident: paused }',
          "  - expect: { decision: hold, incident: paused, reason: '^no rollback: api-backend is paused until .* by sre: investigating$' }",
          '',
        ].join('\n'),
      );
      expect(await cli('simulate', mine)).toMatch(/scenario done: every expectation met/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const next = (await statuses())[0]!;
    expect(next.lastDecision).toMatchObject({ action: 'hold', reason: expect.stringMatching(/is paused until .* by sre: investigating$/) });
    expect(next.pause).toMatchObject({ by: 'sre' });
    expect(await cli('status')).toMatch(/^ {2}PAUSED {7}until .* by sre: investigating$/m);
  }, 90_000);

  it('SIGTERM stops everything it started and exits 0', async () => {
    const exited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)));
    dev.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('burnback  stopped');
    for (const port of [PORT_BASE, PORT_BASE + 1, PORT_BASE + 2, PORT_BASE + 3]) expect(await portAnswers(port)).toBe(false);
  }, 30_000);
});

describe('npm start stops when what started it is gone', () => {
  it('a killed npm (here: the shell between it and burnback dev) stops the whole stack, not only itself', async () => {
    const portBase = await freePortRange(4);
    const simPort = await freePort();
    const controlPort = await freePort();
    let output = '';
    // npm runs scripts as `sh -c "node … dev"`; SIGKILL to the shell is what a killed npm leaves behind.
    const command = [process.execPath, ...BIN, 'dev', '--rollout-step-ms', '200'].map((a) => `'${a}'`).join(' ');
    const shell = spawn('sh', ['-c', `${command}; true`], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        npm_lifecycle_event: 'start',
        GOOGLE_CLOUD_PROJECT: uniqueProjectId('dev-orphan'),
        BURNBACK_DEV_PORT_BASE: String(portBase),
        GCP_SIM_PORT: String(simPort),
        GCP_SIM_CONTROL_PORT: String(controlPort),
        METADATA_SERVER_DETECTION: 'none',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    shell.stdout.on('data', (b: Buffer) => (output += b.toString()));
    shell.stderr.on('data', (b: Buffer) => (output += b.toString()));
    // The banner comes in more than one chunk: wait for its last line, not its first.
    await waitForOutput(shell, () => output, DEV_READY_LINE, { timeoutMs: 150_000, what: 'the stack to start' });
    // Piped, the log stays human (no --json): the decider's start line is not JSON.
    expect(output).toMatch(/^\d\d:\d\d:\d\d\.\d{3} decider +INFO +decider consuming/m);
    expect(await portAnswers(portBase)).toBe(true);

    shell.kill('SIGKILL');
    await waitFor(() => output.includes('burnback  stopped'), { timeoutMs: 30_000, what: () => `the stack to stop:\n${output}` });
    expect(output).toContain('stopping (the npm that started it is gone)');
    for (const port of [portBase, portBase + 1, portBase + 2, portBase + 3]) expect(await portAnswers(port)).toBe(false);
  }, 210_000);

  it('a taken port stops the start at once, naming what holds it', async () => {
    const holder = createServer();
    const port = await new Promise<number>((resolve) =>
      holder.listen(0, '127.0.0.1', () => resolve((holder.address() as { port: number }).port)),
    );
    try {
      const failed = await run(process.execPath, [...BIN, 'dev'], {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          GCP_SIM_PORT: String(port),
          // Any free port: a developer's own npm start may hold the default 8088.
          GCP_SIM_CONTROL_PORT: String(await freePort()),
          GOOGLE_CLOUD_PROJECT: uniqueProjectId('dev-port'),
          METADATA_SERVER_DETECTION: 'none',
        },
      }).catch((e: { code: number; stderr: string }) => e);
      expect((failed as { code: number }).code).not.toBe(0);
      expect((failed as { stderr: string }).stderr).toContain(`port ${port} (gcp-sim) is taken by pid ${process.pid}`);
      expect((failed as { stderr: string }).stderr).toContain('or choose another port with GCP_SIM_PORT');
    } finally {
      await new Promise<void>((done) => holder.close(() => done()));
    }
  }, 60_000);
});
