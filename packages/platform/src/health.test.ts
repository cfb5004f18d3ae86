import { capturedLogger, rawHttpClient, waitFor } from '@burnback/testkit';
import { startHealthServer } from './health.js';
import { createMetrics } from './metrics.js';

/** A worker's health server with a logger whose JSON lines the test reads back. */
async function healthServer(closeGraceMs: number) {
  const { logger, lines } = capturedLogger('test');
  const server = await startHealthServer({ port: 0, host: '127.0.0.1', metrics: createMetrics('test'), logger, closeGraceMs });
  /** The events logged up to now: a marker logged last and seen back is the positive control that nothing is still on its way. */
  const events = async () => {
    logger.info('marker', { event: 'marker' });
    await waitFor(() => lines.some((l) => l.event === 'marker'), { what: 'the marker log line' });
    return lines.map((l) => l.event).filter((e) => e !== 'marker');
  };
  return { server, lines, events, url: new URL(server.address!) };
}

describe('the workers’ health server', () => {
  it('answers /healthz and /metrics, and closes quietly when nothing is in flight', async () => {
    const { server, events, url } = await healthServer(60_000);
    expect(await (await fetch(new URL('/healthz', url))).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(new URL('/metrics', url))).text()).toMatch(/^# HELP /m);
    await server.close();
    expect(await events()).toEqual(['http_listening']);
  });

  it('ends the connection of a request it refuses before reading the body, so close does not wait for the body', async () => {
    const { server, events, url } = await healthServer(60_000);
    const client = await rawHttpClient(url);
    client.socket.write('POST /healthz HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000\r\n\r\n' + 'x'.repeat(1000));
    await client.ended;
    expect(client.received()).toMatch(/^HTTP\/1\.1 404 /);
    expect(client.received().toLowerCase()).toContain('connection: close');
    await server.close();
    expect(await events()).toEqual(['http_listening']);
  });

  it('cuts off a request still unfinished after the grace period, and says so', async () => {
    const { server, lines, url } = await healthServer(50);
    const client = await rawHttpClient(url);
    // The headers never end. Handed to the kernel (loopback: in the server's socket at once), then a few turns of the
    // event loop, each with a poll phase, for the server to accept and read them: the request is then under way.
    await new Promise<void>((resolve) => client.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n', () => resolve()));
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
    await server.close();
    await client.ended;
    await waitFor(() => lines.some((l) => l.event === 'http_close_forced'), { what: 'the forced close to be logged' });
    expect(lines.at(-1)).toMatchObject({ severity: 'WARNING', event: 'http_close_forced', address: url.origin });
  });
});
