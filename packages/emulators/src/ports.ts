import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

const listen = (port: number): Promise<Server | null> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });

const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/**
 * Where ports are chosen: below the OS's ephemeral range (Linux:
 * /proc/sys/net/ipv4/ip_local_port_range, 32768–60999 by default). A port from
 * that range can be handed by the OS to any outgoing connection or port-0 bind
 * (every gRPC channel of a parallel test suite) between the moment it is chosen
 * and the moment a slow-starting process binds it; below it, only another
 * caller's random choice can collide. Where the range is unknown, the OS chooses.
 */
function chosenRange(): { low: number; high: number } | undefined {
  try {
    const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (!ephemeralLow || ephemeralLow <= 20_000) return undefined;
    return { low: 10_000, high: ephemeralLow - 1 };
  } catch {
    return undefined;
  }
}

const bindAny = async (): Promise<number> => {
  const server = await listen(0);
  if (!server) throw new Error('cannot bind any port on 127.0.0.1');
  const { port } = server.address() as { port: number };
  await close(server);
  return port;
};

/** A port nothing listens on right now, outside the OS's ephemeral range where it is known. */
export async function freePort(): Promise<number> {
  const range = chosenRange();
  if (!range) return bindAny();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = range.low + Math.floor(Math.random() * (range.high - range.low + 1));
    const server = await listen(port);
    if (server) {
      await close(server);
      return port;
    }
  }
  return bindAny();
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
