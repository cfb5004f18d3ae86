import { createServer, type Server } from 'node:net';
import { assertPortsFree, holderOf, parentOf, portIsFree, PortsTakenError } from '../src/processes';

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
