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
  for (;;) {
    const server = await listen(0);
    if (!server) throw new Error('cannot bind any port on 127.0.0.1');
    const { port } = server.address() as { port: number };
    await close(server);
    if (!FETCH_BLOCKED_PORTS.has(port)) return port;
  }
};

/**
 * Ports `fetch` refuses to connect to (the Fetch standard's "bad ports"; Node's fetch answers "bad port"). Everything
 * local is probed with fetch (an emulator's readiness, a service's /healthz), so a port chosen here must not be one:
 * a replay whose fresh Pub/Sub emulator drew 10080 waited its full 90 s for an answer fetch would never give.
 */
export const FETCH_BLOCKED_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117,
  119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636,
  989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** A port nothing listens on right now, outside the OS's ephemeral range where it is known, and one fetch reaches. */
export async function freePort(): Promise<number> {
  const range = chosenRange();
  if (!range) return bindAny();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = range.low + Math.floor(Math.random() * (range.high - range.low + 1));
    if (FETCH_BLOCKED_PORTS.has(port)) continue;
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
    const ports = Array.from({ length: count }, (_, k) => base + k);
    if (ports.some((port) => FETCH_BLOCKED_PORTS.has(port))) continue;
    const held = await Promise.all(ports.map(listen));
    await Promise.all(held.flatMap((s) => (s ? [close(s)] : [])));
    if (held.every((s) => s !== null)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found in ${attempts} attempts`);
}
