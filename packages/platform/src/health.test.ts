import { connect, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { startHealthServer } from './health.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';

/** A worker's health server with a logger whose JSON lines the test reads back. */
async function healthServer(closeGraceMs: number) {
  const stream = new PassThrough();
  const lines: Array<Record<string, unknown>> = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const server = await startHealthServer({
    port: 0,
    host: '127.0.0.1',
    metrics: createMetrics('test'),
    logger: createLogger('test', { stream }),
    closeGraceMs,
  });
  return { server, lines, url: new URL(server.address!) };
}

async function rawClient(url: URL): Promise<{ socket: Socket; received: () => string; ended: Promise<void> }> {
  const socket = connect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let text = '';
  socket.on('data', (b: Buffer) => (text += b.toString('latin1')));
  socket.on('error', () => undefined);
  return { socket, received: () => text, ended: new Promise<void>((resolve) => socket.once('close', () => resolve())) };
}

describe('the workers’ health server', () => {
  it('answers /healthz and /metrics, and closes quietly when nothing is in flight', async () => {
    const { server, lines, url } = await healthServer(60_000);
    expect(await (await fetch(new URL('/healthz', url))).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(new URL('/metrics', url))).text()).toMatch(/^# HELP /m);
    await server.close();
    expect(lines.map((l) => l.event)).toEqual(['http_listening']);
  });

  it('ends the connection of a request it refuses before reading the body, so close does not wait for the body', async () => {
    const { server, lines, url } = await healthServer(60_000);
    const client = await rawClient(url);
    client.socket.write('POST /healthz HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000\r\n\r\n' + 'x'.repeat(1000));
    await client.ended;
    expect(client.received()).toMatch(/^HTTP\/1\.1 404 /);
    expect(client.received().toLowerCase()).toContain('connection: close');
    await server.close();
    expect(lines.map((l) => l.event)).toEqual(['http_listening']);
  });

  it('cuts off a request still unfinished after the grace period, and says so', async () => {
    const { server, lines, url } = await healthServer(50);
    const client = await rawClient(url);
    // The headers never end. Handed to the kernel (loopback: in the server's socket at once), then a few turns of the
    // event loop, each with a poll phase, for the server to accept and read them: the request is then under way.
    await new Promise<void>((resolve) => client.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n', () => resolve()));
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
    await server.close();
    await client.ended;
    expect(lines.at(-1)).toMatchObject({ severity: 'WARNING', event: 'http_close_forced', address: url.origin });
  });
});
