import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { DeploySim, SimLogger } from '../cloud-deploy/simulation.js';
import { DeployApiError } from '../errors.js';
import { firstIssue, RollbackFaultRequest, viewOf, type ControlErrorBody } from './schema.js';

/** Where the control endpoint listens: always 127.0.0.1, never another interface (it has no authentication). */
export const CONTROL_HOST = '127.0.0.1';
/** A fault request is a few hundred bytes; anything this large is not one. */
const MAX_BODY_BYTES = 16 * 1024;
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

const STATUS_CODES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  500: 'INTERNAL',
};

export interface ControlServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A refusal with its HTTP status; the message says what to change. */
class ControlRefusal extends Error {
  override name = 'ControlRefusal';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * gcp-sim's control endpoint: a small HTTP API, on 127.0.0.1 only, through
 * which a running stack (`npm start`) is told to fail the next rollbacks on a
 * pipeline's target, and to stop doing so. Failure injection used to be
 * reachable only in-process (`sim.deploy`); `burnback simulate` needs it from
 * another process.
 *
 * - `GET /faults` → `{ faults: [...] }`, oldest first
 * - `POST /faults` (JSON, see `RollbackFaultRequest`) → 201 `{ fault }`
 * - `DELETE /faults/{id}` → `{ cleared: [fault] }`; 404 when no such fault is pending
 * - `DELETE /faults?pipeline=P&target=T` (each optional) → `{ cleared: [...] }`
 * - `GET /healthz` → `{ status: "ok" }`
 *
 * Every error is `{"error": {"code", "message"}}` with a 4xx status that names
 * the fault in the request. Only `application/json` bodies are taken (a web page
 * cannot send one cross-origin without a preflight this server never grants),
 * and only requests addressed to a loopback name (no DNS rebinding).
 */
export async function startControlServer(
  deploy: DeploySim,
  options: { port?: number; projectId: string; region: string; logger: SimLogger },
): Promise<ControlServer> {
  const { logger } = options;
  const pipelineName = (ref: string): string =>
    ref.includes('/') ? ref : `projects/${options.projectId}/locations/${options.region}/deliveryPipelines/${ref}`;

  const send = (res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  const refuse = (res: ServerResponse, err: ControlRefusal): void => {
    const body: ControlErrorBody = { error: { code: STATUS_CODES[err.status] ?? 'ERROR', message: err.message } };
    send(res, err.status, body, err.headers);
  };

  const readJson = (req: IncomingMessage): Promise<unknown> => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json')
      return Promise.reject(new ControlRefusal(415, `send the body as application/json (got ${type || 'no content-type'})`));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        // Past the limit the rest is read and dropped, so the answer reaches a client still sending.
        if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      });
      req.on('error', reject);
      req.on('end', () => {
        if (size > MAX_BODY_BYTES)
          return reject(new ControlRefusal(413, `the body is ${size} bytes; a fault request is at most ${MAX_BODY_BYTES}`));
        if (size === 0) return reject(new ControlRefusal(400, 'the body is empty: send the fault as JSON'));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(new ControlRefusal(400, `the body is not JSON: ${(err as Error).message}`));
        }
      });
    });
  };

  /** The query's parameters; a repeated one is refused, not guessed. */
  const queryOf = (url: URL, allowed: readonly string[]): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const key of new Set(url.searchParams.keys())) {
      if (!allowed.includes(key))
        throw new ControlRefusal(400, `unknown query parameter ${key}${allowed.length ? ` (this route takes ${allowed.join(', ')})` : ''}`);
      const values = url.searchParams.getAll(key);
      if (values.length > 1) throw new ControlRefusal(400, `query parameter ${key} is given ${values.length} times; give it once`);
      if (values[0] === '') throw new ControlRefusal(400, `query parameter ${key} is empty`);
      out[key] = values[0]!;
    }
    return out;
  };

  const allow = (method: string | undefined, allowed: string[]): void => {
    if (!allowed.includes(method ?? ''))
      throw new ControlRefusal(405, `${method} is not allowed here; use ${allowed.join(' or ')}`, { allow: allowed.join(', ') });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    if (!LOOPBACK_NAMES.has(host))
      throw new ControlRefusal(403, `address the control endpoint as 127.0.0.1 or localhost (Host was ${host || 'missing'})`);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '') || '/';

    if (path === '/healthz') {
      allow(req.method, ['GET']);
      queryOf(url, []);
      return send(res, 200, { status: 'ok' });
    }
    if (path === '/faults') {
      allow(req.method, ['GET', 'POST', 'DELETE']);
      if (req.method === 'GET') {
        queryOf(url, []);
        return send(res, 200, { faults: deploy.rollbackFaults().map(viewOf) });
      }
      if (req.method === 'DELETE') {
        const query = queryOf(url, ['pipeline', 'target']);
        const cleared = deploy.clearRollbackFaults({
          ...(query.pipeline ? { pipeline: pipelineName(query.pipeline) } : {}),
          ...(query.target ? { targetId: query.target } : {}),
        });
        logger.info(`rollback faults cleared: ${cleared.map((f) => f.id).join(', ') || 'none was pending'}`, {
          event: 'faults_cleared',
          faults: cleared.map((f) => f.id),
          ...query,
        });
        return send(res, 200, { cleared: cleared.map(viewOf) });
      }
      queryOf(url, []);
      const parsed = RollbackFaultRequest.safeParse(await readJson(req));
      if (!parsed.success) throw new ControlRefusal(400, firstIssue(parsed.error));
      const request = parsed.data;
      try {
        const fault = deploy.addRollbackFault({
          pipeline: pipelineName(request.pipeline),
          targetId: request.target,
          kind: request.rollback,
          reason: request.reason,
          count: request.count,
          ...(request.cause ? { cause: request.cause } : {}),
          ...(request.code ? { code: request.code } : {}),
        });
        logger.info(
          `the next ${fault.remaining} rollback(s) of ${fault.pipeline} on ${fault.targetId} will fail (${fault.kind}): ${fault.reason}`,
          {
            event: 'fault_set',
            fault: viewOf(fault),
          },
        );
        return send(res, 201, { fault: viewOf(fault) });
      } catch (err) {
        if (err instanceof DeployApiError && err.code === 'NOT_FOUND') throw new ControlRefusal(404, err.message);
        if (err instanceof DeployApiError && err.code === 'INVALID_ARGUMENT') throw new ControlRefusal(400, err.message);
        throw err;
      }
    }
    const byId = /^\/faults\/([^/]+)$/.exec(path);
    if (byId) {
      allow(req.method, ['DELETE']);
      queryOf(url, []);
      const id = decodeURIComponent(byId[1]!);
      const cleared = deploy.clearRollbackFaults({ id });
      if (cleared.length === 0) throw new ControlRefusal(404, `no pending fault ${id} (it may have failed its rollbacks already)`);
      logger.info(`rollback fault ${id} cleared`, { event: 'faults_cleared', faults: [id] });
      return send(res, 200, { cleared: cleared.map(viewOf) });
    }
    throw new ControlRefusal(404, `no route ${path}: the control endpoint serves /faults, /faults/{id} and /healthz`);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof ControlRefusal) {
        logger.warn(`control request ${req.method} ${(req.url ?? '').split('?')[0]} refused (${err.status}): ${err.message}`, {
          method: req.method,
          path: (req.url ?? '').split('?')[0],
          status: err.status,
          reason: err.message,
        });
        // A body left unread would stall the client: read it to the end and drop it.
        req.resume();
        return refuse(res, err);
      }
      logger.warn(`control request ${req.method} ${(req.url ?? '').split('?')[0]} failed: ${String(err)}`, {
        method: req.method,
        path: (req.url ?? '').split('?')[0],
        error: String(err),
      });
      req.resume();
      refuse(res, new ControlRefusal(500, `gcp-sim could not handle the request: ${String(err)}`));
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, CONTROL_HOST, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
  let closing: Promise<void> | undefined;
  return {
    url: `http://${CONTROL_HOST}:${port}`,
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
