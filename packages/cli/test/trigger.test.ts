import { runTrigger, TRIGGER_SCENARIO } from '../src/commands/trigger';

/** What a command wrote to stdout and stderr, and its exit code; no stack is needed for these (they stop before connecting). */
async function capture(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    return { code: await runTrigger(args, {}), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('burnback trigger, an alias of burnback simulate burn', () => {
  it('plays scenarios/burn.yaml', () => {
    expect(TRIGGER_SCENARIO).toBe('burn');
  });

  it("--help says what it plays, and takes simulate's options", async () => {
    const { code, stdout } = await capture(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^burnback trigger \(npm run trigger\): burnback simulate burn, the simplest scenario/);
    expect(stdout).toContain('Plays scenarios/burn.yaml');
    for (const option of ['--via pubsub|webhook', '--webhook', '--service NAME', '--run ID']) expect(stdout).toContain(option);
  });

  it.each([
    [['--state', 'closed'], /^--state is replaced by scenario steps: copy scenarios\/burn\.yaml, add '- close: \{ incident: burn \}'/],
    [['--state=below'], /^--state is replaced by scenario steps/],
    [['--incident', '0.abc'], /^--incident is replaced by --run ID: the incident is 0\.sim-<run>-burn/],
  ])('refuses the replaced option %j, naming what replaced it', async (args, message) => {
    const { code, stderr } = await capture(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('passes the rest to simulate, which refuses what it does not take', async () => {
    expect(await capture(['--via', 'pigeon'])).toMatchObject({
      code: 2,
      stderr: "--via must be pubsub, webhook or alertmanager (got 'pigeon')\n",
    });
    expect(await capture(['--colour'])).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--colour'") });
  });
});
