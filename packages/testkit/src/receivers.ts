import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver took, as it came. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON (null when it is not JSON). */
  json: unknown;
  /** The status the receiver answered with. */
  answered: number;
  at: Date;
}

/**
 * A real HTTP server standing in for PagerDuty, Slack, Google Chat or a webhook:
 * it records every request and answers 202 (PagerDuty's `{"status":"success"}`),
 * or what `failNext` / `answer` tells it to.
 */
export interface Receiver {
  /** http://127.0.0.1:port (no trailing slash). */
  url: string;
  readonly requests: ReceivedRequest[];
  /** The requests whose path starts with `path`. */
  to(path: string): ReceivedRequest[];
  /** The next `count` requests are answered `status` (e.g. 503 then recover, or 429), or left without an answer (status 0: the connection is cut). */
  failNext(count: number, status: number): void;
  /** Every later request is answered `status` until called again (null: back to normal). */
  answer(status: number | null): void;
  close(): Promise<void>;
}

export async function startReceiver(options: { okStatus?: number; okBody?: string } = {}): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const failures: number[] = [];
  let always: number | null = null;
  const okStatus = options.okStatus ?? 202;
  const okBody = options.okBody ?? JSON.stringify({ status: 'success', message: 'Event processed' });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = null;
      }
      const status = failures.length > 0 ? failures.shift()! : (always ?? okStatus);
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json, answered: status, at: new Date() });
      if (status === 0) {
        req.socket.destroy();
        return;
      }
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(status < 300 ? okBody : JSON.stringify({ status: 'error', message: `receiver answered ${status}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    to: (path) => requests.filter((r) => r.path.startsWith(path)),
    failNext(count, status) {
      for (let i = 0; i < count; i++) failures.push(status);
    },
    answer(status) {
      always = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
