import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@burnback/cli';
import { freePort, freePortRange, uniqueProjectId, waitFor } from '@burnback/testkit';

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

  it('SIGTERM stops everything it started and exits 0', async () => {
    const exited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)));
    dev.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('burnback  stopped');
    for (const port of [PORT_BASE, PORT_BASE + 1, PORT_BASE + 2]) expect(await portAnswers(port)).toBe(false);
  }, 30_000);
});
