import { createServer, type Server } from 'node:net';
import { formatLogLine } from '../src/local-stack';
import { assertPortsFree, holderOf, parentOf, portIsFree, PortsTakenError } from '../src/processes';

describe('the terminal log', () => {
  const line = (entry: object) => JSON.stringify({ severity: 'INFO', ...entry });

  it('shows a dead letter with its reason, on one line', () => {
    expect(
      formatLogLine(
        'ingest',
        line({ severity: 'WARNING', message: 'message dead-lettered', event: 'dead_letter', reason: 'not JSON' }),
        true,
      ),
    ).toBe('ingest    WARNING  message dead-lettered (reason: not JSON)');
  });

  it('shows a decision with every verdict and its confidence, on one line', () => {
    const decision = line({
      message: 'decision for api-backend: roll back: error ratio 2.5 %',
      event: 'decision',
      verdicts: [
        { rule: 'enabled', passed: true },
        { rule: 'cooldown', passed: false },
      ],
      confidence: { value: 0.85 },
    });
    expect(formatLogLine('decider', decision, true)).toBe(
      'decider   INFO     decision for api-backend: roll back: error ratio 2.5 % [✓ enabled, ✗ in cooldown; confidence 0.85]',
    );
    expect(formatLogLine('decider', line({ message: 'm', event: 'decision', verdicts: [] }), true)).toBe('decider   INFO     m []');
  });

  it('colours only for a terminal, prints JSON as it is when asked, and keeps lines that are not JSON', () => {
    expect(formatLogLine('executor', line({ message: 'm' }), true, true)).toBe('executor  \x1b[36mINFO    \x1b[0m m');
    expect(formatLogLine('executor', line({ message: 'm' }), false)).toBe(line({ message: 'm' }));
    expect(formatLogLine('executor', 'plain text', true)).toBe('executor  plain text');
    expect(formatLogLine('executor', JSON.stringify({ message: 'm' }), true)).toBe('executor  DEFAULT  m');
  });
});

describe('processes and ports', () => {
  let server: Server | null = null;
  afterEach(async () => {
    await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
    server = null;
  });
  const listen = () =>
    new Promise<number>((resolve) => {
      server = createServer();
      server.listen(0, '127.0.0.1', () => resolve((server!.address() as { port: number }).port));
    });

  it('parentOf reads the parent pid from /proc', () => {
    expect(parentOf(process.pid)).toBe(process.ppid);
    expect(parentOf(2 ** 30)).toBeNull();
  });

  it('a taken port is reported with the process that holds it and how to free it', async () => {
    const port = await listen();
    expect(await portIsFree(port)).toBe(false);
    expect(holderOf(port)).toMatchObject({ pid: process.pid });
    expect(holderOf(port)!.command).toContain(process.execPath.split('/').pop());
    const failure = await assertPortsFree({ 'gcp-sim': { port, envVar: 'GCP_SIM_PORT' } }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PortsTakenError);
    expect((failure as Error).message).toBe(
      `cannot start: port ${port} (gcp-sim) is taken by pid ${process.pid} (${holderOf(port)!.command}): stop it with \`kill ${process.pid}\`, or choose another port with GCP_SIM_PORT`,
    );
  });

  it('free ports pass', async () => {
    const port = await listen();
    await new Promise<void>((done) => server!.close(() => done()));
    server = null;
    expect(await portIsFree(port)).toBe(true);
    await expect(assertPortsFree({ ingest: { port, envVar: 'BURNBACK_DEV_PORT_BASE' } })).resolves.toBeUndefined();
    expect(holderOf(port)).toBeNull();
  });
});
