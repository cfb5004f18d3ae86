import type { ControlErrorBody, RollbackFaultRequestInput, RollbackFaultView } from './schema.js';

/** The control endpoint answered with an error (`status`, `code` and its message), or could not be reached (`status` 0). */
export class ControlError extends Error {
  override name = 'ControlError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A client of gcp-sim's control endpoint (`startGcpSim({ control })`, `npm start`'s `GCP_SIM_CONTROL_PORT`). */
export class GcpSimControl {
  constructor(readonly url: string) {}

  /** Fails the next rollbacks on a pipeline's target; the fault as gcp-sim keeps it (its `id` clears it). */
  async failRollbacks(request: RollbackFaultRequestInput): Promise<RollbackFaultView> {
    return (await this.call<{ fault: RollbackFaultView }>('POST', '/faults', request)).fault;
  }

  async faults(): Promise<RollbackFaultView[]> {
    return (await this.call<{ faults: RollbackFaultView[] }>('GET', '/faults')).faults;
  }

  /** Clears one fault; resolves with nothing cleared when it was used up already. */
  async clear(id: string): Promise<RollbackFaultView[]> {
    try {
      return (await this.call<{ cleared: RollbackFaultView[] }>('DELETE', `/faults/${encodeURIComponent(id)}`)).cleared;
    } catch (err) {
      if (err instanceof ControlError && err.status === 404) return [];
      throw err;
    }
  }

  /** Clears every fault on a pipeline, a target, or (with neither) everywhere. */
  async clearWhere(filter: { pipeline?: string; target?: string } = {}): Promise<RollbackFaultView[]> {
    const query = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    const suffix = query ? `?${query}` : '';
    return (await this.call<{ cleared: RollbackFaultView[] }>('DELETE', `/faults${suffix}`)).cleared;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new ControlError(0, 'UNAVAILABLE', `cannot reach gcp-sim's control endpoint at ${this.url} (${why})`, { cause: err });
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ControlError(
        res.status,
        'INTERNAL',
        `gcp-sim's control endpoint answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`,
      );
    }
    if (!res.ok) {
      const error = (parsed as Partial<ControlErrorBody>).error;
      throw new ControlError(
        res.status,
        error?.code ?? 'ERROR',
        `gcp-sim refused ${method} ${path} (${res.status}): ${error?.message ?? text}`,
      );
    }
    return parsed as T;
  }
}
