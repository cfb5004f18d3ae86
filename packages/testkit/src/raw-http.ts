import { connect, type Socket } from 'node:net';

/**
 * A raw HTTP client on one connection: what it sends is exactly what the test
 * writes (half a request, a body that never ends), and it never gives up on its
 * own. For tests of how a server treats connections.
 */
export async function rawHttpClient(address: string | URL): Promise<{ socket: Socket; received: () => string; ended: Promise<void> }> {
  const { hostname, port } = new URL(address);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let text = '';
  socket.on('data', (b: Buffer) => (text += b.toString('latin1')));
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  return { socket, received: () => text, ended };
}
