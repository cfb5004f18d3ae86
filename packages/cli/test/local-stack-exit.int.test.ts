import { spawn } from 'node:child_process';
import { REPO_ROOT } from '@burnback/cli';
import { isEmulatorUp, waitUntilDown } from '@burnback/emulators';
import { freePort, freePortRange, portAnswers, uniqueProjectId, waitForOutput } from '@burnback/testkit';

/**
 * A process that started the local stack and then ends abruptly (an uncaught error, or a closed pipe on its output,
 * as a bench piped into `head` does) never runs the stack's stop: what it started must not outlive it. An emulator
 * left so holds its port and its state, and the next start reuses it (a storm measured on one was half as fast).
 */
const SCRIPT = `
const cli = await import('@burnback/cli');
// The workspace packages are CommonJS: imported from an ES module, their exports may come as the default's.
const { startLocalStack } = cli.startLocalStack ? cli : cli.default;
const stack = await startLocalStack({ projectId: process.env.GOOGLE_CLOUD_PROJECT, env: process.env, print: () => undefined, pretty: false });
console.log('UP ' + JSON.stringify(stack.emulators.map((e) => ({ host: e.host, startedByUs: e.startedByUs }))));
process.stdin.once('data', () => setTimeout(() => { throw new Error('an abrupt end'); }, 0));
`;

describe('the local stack, when the process that started it ends abruptly', () => {
  it('takes down the emulators it started and the services with it', async () => {
    const [pubsubPort, firestorePort, simPort, controlPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const portBase = await freePortRange(4);
    const hosts = [`127.0.0.1:${pubsubPort}`, `127.0.0.1:${firestorePort}`];
    let output = '';
    const child = spawn(process.execPath, ['--conditions=@burnback/source', '--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        // Emulators of its own, on ports nothing else uses: the suite's are never reused here.
        PUBSUB_EMULATOR_HOST: hosts[0],
        FIRESTORE_EMULATOR_HOST: hosts[1],
        GOOGLE_CLOUD_PROJECT: uniqueProjectId('abrupt'),
        BURNBACK_DEV_PORT_BASE: String(portBase),
        GCP_SIM_PORT: String(simPort),
        GCP_SIM_CONTROL_PORT: String(controlPort),
        METADATA_SERVER_DETECTION: 'none',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    try {
      await waitForOutput(child, () => output, 'UP [', { timeoutMs: 150_000, what: 'the stack to start' });
      // The positive control: it started both emulators itself, and they and the services answer.
      const started = JSON.parse(/^UP (.*)$/m.exec(output)![1]!) as Array<{ host: string; startedByUs: boolean }>;
      expect(started).toEqual(hosts.map((host) => ({ host, startedByUs: true })));
      for (const host of hosts) expect(await isEmulatorUp(host)).toBe(true);
      expect(await portAnswers(portBase)).toBe(true);

      child.stdin.write('go\n');
      expect(await exited).not.toBe(0);
      expect(output).toContain('an abrupt end');
      for (const host of hosts) expect(await waitUntilDown(host, 15_000)).toBe(true);
      for (const port of [portBase, portBase + 1, portBase + 2, portBase + 3]) expect(await portAnswers(port)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 240_000);
});
