import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { FETCH_BLOCKED_PORTS, freePort, freePortRange } from '../src/ports';

const ephemeralLow = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return undefined;
  }
})();

const bindable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });

describe('free ports', () => {
  it('chooses ports that can be bound, below the ephemeral range where the OS names it', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(await bindable(port)).toBe(true);
      if (ephemeralLow && ephemeralLow > 20_000) expect(port).toBeLessThan(ephemeralLow);
    }
  });

  it('a range is consecutive and every port in it free', async () => {
    const base = await freePortRange(4);
    for (let k = 0; k < 4; k++) expect(await bindable(base + k)).toBe(true);
  });

  it('never chooses a port fetch refuses (10080: "bad port"), nor a range holding one', async () => {
    await expect(fetch('http://127.0.0.1:10080/')).rejects.toMatchObject({ cause: { message: 'bad port' } });
    if (!ephemeralLow || ephemeralLow <= 20_000) return;
    const span = ephemeralLow - 10_000;
    // The draw that lands on 10080, then one that lands on 10100; and for a range of four, a base two below 10080.
    const random = jest.spyOn(Math, 'random');
    try {
      random.mockReturnValueOnce((80 + 0.5) / span).mockReturnValueOnce((100 + 0.5) / span);
      expect(await freePort()).toBe(10_100);
      random.mockReturnValueOnce((78 + 0.5) / span).mockReturnValueOnce((200 + 0.5) / span);
      expect(await freePortRange(4)).toBe(10_200);
    } finally {
      random.mockRestore();
    }
    expect(FETCH_BLOCKED_PORTS.has(10_080)).toBe(true);
  });
});
