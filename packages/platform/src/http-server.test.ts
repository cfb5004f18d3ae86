import Fastify, { type FastifyInstance } from 'fastify';
import { capturedLogger, rawHttpClient, waitFor } from '@burnback/testkit';
import { closeConnectionsWithUnreadBodies, closeHttpServer } from './http-server.js';

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
};

describe('HTTP server close', () => {
  let app: FastifyInstance;
  let log: ReturnType<typeof capturedLogger>;
  beforeEach(() => {
    log = capturedLogger('test');
  });
  afterEach(async () => {
    app.server.closeAllConnections();
    await app.close();
  });

  /** A front door that refuses before reading the body, as ingest's authentication does. */
  const refusingApp = async (unreadBodies: boolean) => {
    app = Fastify({ logger: false });
    if (unreadBodies) closeConnectionsWithUnreadBodies(app);
    app.addHook('onRequest', async (_req, reply) => reply.code(401).send({ error: 'missing token' }));
    app.post('/webhook', async () => ({ ok: true }));
    return app.listen({ host: '127.0.0.1', port: 0 });
  };
  const halfSentPost = 'POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000\r\n\r\n' + 'x'.repeat(1000);

  it('a refusal before the body is read closes the connection, so close() does not wait for the rest of the body', async () => {
    const client = await rawHttpClient(await refusingApp(true));
    client.socket.write(halfSentPost);
    await until(() => client.received().includes('\r\n\r\n'));
    expect(client.received()).toMatch(/^HTTP\/1\.1 401 /);
    expect(client.received().toLowerCase()).toContain('connection: close');
    await client.ended;
    expect(await closeHttpServer(app, { logger: log.logger, graceMs: 60_000 })).toEqual({ forced: false });
  });

  it('without it the connection stays open, and close() cuts it after the grace period', async () => {
    const address = await refusingApp(false);
    const client = await rawHttpClient(address);
    client.socket.write(halfSentPost);
    await until(() => client.received().includes('\r\n\r\n'));
    expect(client.received().toLowerCase()).toContain('connection: keep-alive');
    const { port } = new URL(address);
    expect(await closeHttpServer(app, { logger: log.logger, graceMs: 50 })).toEqual({ forced: true });
    await client.ended;
    await waitFor(() => log.lines.length > 0, { what: 'the forced close to be logged' });
    expect(log.lines).toEqual([
      expect.objectContaining({ severity: 'WARNING', event: 'http_close_forced', address: `http://127.0.0.1:${port}` }),
    ]);
  });

  it('a request that completes keeps its connection for the next one', async () => {
    app = Fastify({ logger: false });
    closeConnectionsWithUnreadBodies(app);
    app.post('/webhook', async () => ({ ok: true }));
    const client = await rawHttpClient(await app.listen({ host: '127.0.0.1', port: 0 }));
    client.socket.write('POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}');
    await until(() => client.received().includes('{"ok":true}'));
    expect(client.received().toLowerCase()).toContain('connection: keep-alive');
    client.socket.end();
    await client.ended;
    expect(await closeHttpServer(app, { logger: log.logger })).toEqual({ forced: false });
  });

  it('waits for a request in flight that finishes within the grace period', async () => {
    app = Fastify({ logger: false });
    let finish!: () => void;
    const started = new Promise<void>((resolve) => {
      app.get('/slow', async () => {
        resolve();
        await new Promise<void>((r) => (finish = r));
        return { done: true };
      });
    });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const response = fetch(`${address}/slow`).then(async (r) => r.json());
    await started;
    const closing = closeHttpServer(app, { logger: log.logger, graceMs: 60_000 });
    finish();
    expect(await response).toEqual({ done: true });
    expect(await closing).toEqual({ forced: false });
  });
});
