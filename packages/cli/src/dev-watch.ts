/**
 * What `burnback dev` restarts after a change, decided without I/O: which
 * workspaces' compiled output each service's process loads, which services the
 * files a build wrote concern, and a debouncer that gathers the services of
 * builds in quick succession into one restart each.
 */
import { posix } from 'node:path';

/** A workspace of the repository: its folder (repo-relative, `/`-separated), package name and dependencies (package names). */
export interface Workspace {
  dir: string;
  name: string;
  dependencies: readonly string[];
}

/** What the compiler child (dev-compiler.ts) tells `burnback dev` over IPC. */
export type CompilerMessage =
  /** A compiler error or warning, formatted as tsc prints it. */
  | { kind: 'diagnostic'; text: string }
  /** A build (the first, or one after a change) finished: its error count and the files whose content it changed (absolute). */
  | { kind: 'built'; errors: number; changed: string[] };

/**
 * The folders whose `dist/` a service's process loads: the service's own and
 * those of the workspaces it depends on, transitively (package.json
 * `dependencies`, which is what node resolves at run time; other packages are not followed).
 */
export function runtimeClosure(workspaces: readonly Workspace[], serviceDir: string): string[] {
  const byName = new Map(workspaces.map((w) => [w.name, w]));
  const start = workspaces.find((w) => w.dir === serviceDir);
  if (!start) throw new Error(`${serviceDir} is not a workspace`);
  const seen = new Set<Workspace>([start]);
  const queue = [start];
  while (queue.length > 0) {
    for (const name of queue.shift()!.dependencies) {
      const dep = byName.get(name);
      if (dep && !seen.has(dep)) {
        seen.add(dep);
        queue.push(dep);
      }
    }
  }
  return [...seen].map((w) => w.dir);
}

/** Compiled output node loads (not source maps or declarations). */
const RUNTIME_FILE = /\.(c|m)?js$|\.json$/;

/**
 * The services whose process loads one of `changed` (repo-relative paths): a
 * JavaScript file under the `dist/` of a folder in the service's closure.
 * In the order of `closures`.
 */
export function servicesToRestart(changed: readonly string[], closures: Readonly<Record<string, readonly string[]>>): string[] {
  const runtime = changed.map((file) => posix.normalize(file.split('\\').join('/'))).filter((file) => RUNTIME_FILE.test(file));
  return Object.entries(closures)
    .filter(([, dirs]) => runtime.some((file) => dirs.some((dir) => file.startsWith(`${dir}/dist/`))))
    .map(([service]) => service);
}

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}
const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Gathers services to restart and hands them to `fire` once `quietMs` passed
 * with no more: an editor saving several files, or a change that rebuilds a
 * shared package and then the services, restarts each service once.
 */
export function debounceRestarts(
  quietMs: number,
  fire: (services: string[]) => void,
  timers: Timers = realTimers,
): { add(services: readonly string[]): void; cancel(): void } {
  const pending = new Set<string>();
  let timer: unknown = null;
  const flush = () => {
    timer = null;
    const services = [...pending];
    pending.clear();
    if (services.length > 0) fire(services);
  };
  return {
    add(services) {
      if (services.length === 0) return;
      for (const s of services) pending.add(s);
      if (timer !== null) timers.clear(timer);
      timer = timers.set(flush, quietMs);
    },
    cancel() {
      if (timer !== null) timers.clear(timer);
      timer = null;
      pending.clear();
    },
  };
}

/**
 * Restarts services one at a time each: a restart asked for while one of the
 * same service runs happens once more after it (never two at once, never lost).
 * `run` restarts one service; `done` hears how each restart ended.
 */
export function restartQueue(
  run: (service: string) => Promise<void>,
  done: (service: string, error: Error | null) => void,
): { request(service: string): void } {
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();
  const request = (service: string): void => {
    if (running.has(service)) {
      again.add(service);
      return;
    }
    const restart = run(service).then(
      () => done(service, null),
      (err: unknown) => done(service, err instanceof Error ? err : new Error(String(err))),
    );
    running.set(
      service,
      restart.finally(() => {
        running.delete(service);
        if (again.delete(service)) request(service);
      }),
    );
  };
  return { request };
}
