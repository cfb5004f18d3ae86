import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LOCAL_MANAGEMENT_TOKEN, REPO_ROOT } from '@burnback/cli';
import { freePort, freePortRange, uniqueProjectId, waitFor } from '@burnback/testkit';
import type { ServiceStatus } from '../src/commands/status';

const run = promisify(execFile);
const BIN = ['--conditions=@burnback/source', '--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/bin.ts')];

const portAnswers = async (port: number) => {
  try {
    await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(500) });
    return true;
  } catch {
    return false;
  }
};

describe('npm start (burnback dev)', () => {
  let dev: ChildProcess;
  let output = '';
  // Ports free right now (ingest takes the base, decider and executor the next two); the emulators are reused where they run.
  let PORT_BASE: number;
  let SIM_PORT: number;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    PORT_BASE = await freePortRange(3);
    SIM_PORT = await freePort();
    env = {
      ...process.env,
      GOOGLE_CLOUD_PROJECT: uniqueProjectId('dev-stack'),
      BURNBACK_DEV_PORT_BASE: String(PORT_BASE),
      GCP_SIM_PORT: String(SIM_PORT),
      METADATA_SERVER_DETECTION: 'none',
    };
    dev = spawn(process.execPath, [...BIN, 'dev', '--json', '--rollout-step-ms', '200'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    dev.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    dev.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    await waitFor(() => output.includes('Burnback is running locally'), {
      timeoutMs: 90_000,
      what: `burnback dev to start; output so far:\n${output}`,
    });
  }, 120_000);

  afterAll(async () => {
    if (dev.exitCode === null) dev.kill('SIGKILL');
  });

  it('prints where every part listens', () => {
    expect(output).toContain(`gcp-sim (Cloud Deploy gRPC)    127.0.0.1:${SIM_PORT}`);
    expect(output).toContain(`ingest (HTTP front door)       http://127.0.0.1:${PORT_BASE}`);
    expect(output).toContain(`decider (health, metrics)      http://127.0.0.1:${PORT_BASE + 1}`);
    expect(output).toContain(`executor (health, metrics)     http://127.0.0.1:${PORT_BASE + 2}`);
    expect(output).toContain(`Pub/Sub emulator               ${process.env.PUBSUB_EMULATOR_HOST}`);
  });

  it('trigger publishes an incident and the stack rolls production back to rel-001', async () => {
    const { stdout } = await run(process.execPath, [...BIN, 'trigger'], { cwd: REPO_ROOT, env });
    expect(stdout).toMatch(/published open incident .* to monitoring-incidents/);
    await waitFor(() => /production rolled back to rel-001 \(rollout burnback-rb-[0-9a-f]+ SUCCEEDED\)/.test(output), {
      timeoutMs: 30_000,
      what: 'the rollback to succeed',
    });
    const lines = output.split('\n').filter((l) => l.startsWith('{'));
    const executorLines = lines
      .map((l) => JSON.parse(l) as { severity?: string; event?: string; stage?: string; component?: string })
      .filter((l) => l.component === 'executor' && l.event === 'rollback_progress');
    expect(executorLines.map((l) => l.stage)).toEqual(['accepted', 'started', 'succeeded']);
    expect(executorLines.every((l) => l.severity === 'INFO')).toBe(true);
  });

  it("after the trigger: burnback status shows the cooldown, GET /rollback/status/{id} the rollback's timeline; a pause makes the next trigger a paused decision", async () => {
    const cli = async (...args: string[]) => (await run(process.execPath, [...BIN, ...args], { cwd: REPO_ROOT, env })).stdout;
    const api = async (method: string, path: string) => {
      const res = await fetch(`http://127.0.0.1:${PORT_BASE}${path}`, {
        method,
        headers: { authorization: `Bearer ${LOCAL_MANAGEMENT_TOKEN}` },
      });
      return (await res.json()) as Record<string, unknown>;
    };
    // The decider records the rollback's outcome from burnback-progress; the cooldown then counts from the finish.
    const status = await waitFor(
      async () => {
        const s = (JSON.parse(await cli('status', '--json')) as { services: ServiceStatus[] }).services[0]!;
        return s.cooldown && s.serving?.releaseId === 'rel-001' ? s : undefined;
      },
      { what: 'burnback status to show the cooldown', timeoutMs: 30_000 },
    );
    expect(status.cooldown!.remainingMinutes).toBeGreaterThanOrEqual(29);
    expect(status.lastDecision).toMatchObject({ action: 'rollback' });

    const rollback = await api('GET', `/rollback/status/${status.lastDecision!.decisionId}`);
    expect(rollback).toMatchObject({ status: 'succeeded', releases: { from: 'rel-002', to: 'rel-001' } });
    expect((rollback.timeline as Array<{ stage: string }>).map((t) => t.stage)).toEqual(
      expect.arrayContaining(['decided: rollback', 'accepted', 'started', 'succeeded']),
    );

    const paused = await api('POST', '/services/api-backend/pause?minutes=30&reason=investigating&by=sre');
    expect(paused).toMatchObject({ pause: { by: 'sre', reason: 'investigating' } });
    await run(process.execPath, [...BIN, 'trigger'], { cwd: REPO_ROOT, env });
    const next = await waitFor(
      async () => {
        const s = (JSON.parse(await cli('status', '--json')) as { services: ServiceStatus[] }).services[0]!;
        return s.lastDecision && s.lastDecision.decisionId !== status.lastDecision!.decisionId ? s : undefined;
      },
      { what: 'the next trigger to be decided', timeoutMs: 30_000 },
    );
    expect(next.lastDecision).toMatchObject({
      action: 'hold',
      reason: expect.stringMatching(/^no rollback: api-backend is paused until .* by sre: investigating$/),
    });
    expect(next.pause).toMatchObject({ by: 'sre' });
    expect(await cli('status')).toMatch(/^ {2}PAUSED {7}until .* by sre: investigating$/m);
  }, 90_000);

  it('SIGTERM stops everything it started and exits 0', async () => {
    const exited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)));
    dev.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('burnback  stopped');
    for (const port of [PORT_BASE, PORT_BASE + 1, PORT_BASE + 2]) expect(await portAnswers(port)).toBe(false);
  }, 30_000);
});

describe('npm start stops when what started it is gone', () => {
  it('a killed npm (here: the shell between it and burnback dev) stops the whole stack, not only itself', async () => {
    const portBase = await freePortRange(3);
    const simPort = await freePort();
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
        METADATA_SERVER_DETECTION: 'none',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    shell.stdout.on('data', (b: Buffer) => (output += b.toString()));
    shell.stderr.on('data', (b: Buffer) => (output += b.toString()));
    await waitFor(() => output.includes('Burnback is running locally'), { timeoutMs: 90_000, what: `the stack to start:\n${output}` });
    // Piped, the log stays human (no --json): the decider's start line is not JSON.
    expect(output).toMatch(/^decider +INFO +decider consuming/m);
    expect(await portAnswers(portBase)).toBe(true);

    shell.kill('SIGKILL');
    await waitFor(() => output.includes('burnback  stopped'), { timeoutMs: 30_000, what: `the stack to stop:\n${output}` });
    expect(output).toContain('stopping (the npm that started it is gone)');
    for (const port of [portBase, portBase + 1, portBase + 2]) expect(await portAnswers(port)).toBe(false);
  }, 150_000);

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
