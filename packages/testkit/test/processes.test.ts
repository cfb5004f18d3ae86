import { spawn } from 'node:child_process';
import { waitForOutput } from '../src/processes';

const node = (script: string) => {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  return { child, read: () => output };
};

describe('waitForOutput', () => {
  it('resolves once the text is printed', async () => {
    const { child, read } = node("console.log('starting'); setTimeout(() => console.log('ready'), 100); setTimeout(() => {}, 5000)");
    try {
      await waitForOutput(child, read, 'ready', { timeoutMs: 10_000 });
      expect(read()).toContain('starting');
    } finally {
      child.kill();
    }
  });

  it('fails at once, with the output and the exit code, when the process exits first', async () => {
    const { child, read } = node("console.error('port 8080 is taken'); process.exit(3)");
    // Its timeout (30 s) is past jest's own (5 s): waiting it out fails this test.
    await expect(waitForOutput(child, read, 'ready', { timeoutMs: 30_000, what: 'the stack to start' })).rejects.toThrow(
      /exited \(code 3\) before printing the stack to start; its output:\nport 8080 is taken/,
    );
  });

  it('a timeout shows what was printed until then', async () => {
    const { child, read } = node("console.log('still starting'); setTimeout(() => {}, 5000)");
    try {
      await expect(waitForOutput(child, read, 'ready', { timeoutMs: 500 })).rejects.toThrow(
        /timed out after 500 ms waiting for 'ready'; output so far:\nstill starting/,
      );
    } finally {
      child.kill();
    }
  });

  it('text printed just before the exit still counts', async () => {
    const { child, read } = node("console.log('ready'); process.exit(0)");
    await expect(waitForOutput(child, read, 'ready')).resolves.toBeUndefined();
  });
});
