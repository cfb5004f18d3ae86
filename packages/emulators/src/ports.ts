import { createServer, type Server } from 'node:net';

const listen = (port: number): Promise<Server | null> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });

const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** A port nothing listens on right now: bind port 0, read what the OS chose, close. */
export async function freePort(): Promise<number> {
  const server = await listen(0);
  if (!server) throw new Error('cannot bind any port on 127.0.0.1');
  const { port } = server.address() as { port: number };
  await close(server);
  return port;
}

/**
 * The first of `count` consecutive free ports, for a process that takes a base
 * port and the ones after it (`burnback dev`'s BURNBACK_DEV_PORT_BASE).
 */
export async function freePortRange(count: number, attempts = 20): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const base = await freePort();
    if (base + count - 1 > 65_535) continue;
    const held = await Promise.all(Array.from({ length: count }, (_, k) => listen(base + k)));
    await Promise.all(held.flatMap((s) => (s ? [close(s)] : [])));
    if (held.every((s) => s !== null)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found in ${attempts} attempts`);
}
