import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { CHAOS_ENV, CrashPoints, type CrashPlan, type CrashPoint } from '@burnback/platform';

export type Role = 'ingest' | 'decider' | 'executor';

/** The crash points each role's code passes through. */
export const POINTS_OF: Record<Role, readonly CrashPoint[]> = {
  ingest: [CrashPoints.archivedBeforePublish],
  decider: [CrashPoints.decidedBeforePublish],
  executor: [CrashPoints.rollbackTargetBeforeRecord, CrashPoints.trackingBeforeRecord],
};

/** Why a worker's process ended. */
export type ExitCause =
  /** It killed itself at a crash point it was armed with. */
  | 'chaos'
  /** The suite sent it SIGKILL (an arbitrary moment). */
  | 'killed-by-suite'
  /** The suite stopped it with SIGTERM (it drained) to restart it unarmed. */
  | 'stopped-by-suite'
  /** It exited non-zero saying why (`event: fatal`), e.g. its subscription vanished with the Pub/Sub emulator. */
  | 'fatal'
  /** Anything else: a crash nobody planned. */
  | 'unexplained';

export interface WorkerExit {
  worker: string;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ms since the epoch. */
  at: number;
  cause: ExitCause;
  point: CrashPoint | null;
  /** Its last log lines, for an exit nobody planned. */
  lastLines: string[];
}

interface Worker {
  name: string;
  role: Role;
  child: ChildProcess | null;
  /** Where its health server listens, as its log says (0 until then). */
  port: number;
  plans: CrashPlan[];
  startedAt: number;
  quickExits: number;
  lastLines: string[];
  crashedAt: CrashPoint | null;
  fatal: boolean;
}

export interface SupervisorOptions {
  repoRoot: string;
  /** The environment every worker gets (emulators, gcp-sim, config); PORT and the crash plan are added per process. */
  env: NodeJS.ProcessEnv;
  /** Each worker's output goes to `<logDir>/<worker>.log`. */
  logDir: string;
  /** How many kills each crash point should see in the run. */
  crashBudget: Partial<Record<CrashPoint, number>>;
  /** Which arrival at a point a newly armed process dies at (1 = the first). */
  crashAt: () => number;
  print: (line: string) => void;
}

/**
 * Runs Burnback's services as separate processes, as `npm start` does (node
 * with tsx on the sources), several of a role at once, and restarts each one
 * that dies — as Cloud Run or Kubernetes would — after a short backoff. Each
 * process it starts is armed (BURNBACK_CHAOS_CRASH_AT) with the crash points
 * of its role that still have kills to come, so kills keep happening at every
 * step boundary until each point has had its share.
 */
export class Supervisor {
  readonly exits: WorkerExit[] = [];
  private readonly workers = new Map<string, Worker>();
  private readonly suiteKills = new Set<number>();
  private readonly suiteStops = new Set<number>();
  private armed = true;
  private readonly logs = new Map<string, WriteStream>();
  private stopping = false;

  constructor(private readonly options: SupervisorOptions) {}

  /** Kills at each point so far. */
  crashes(point: CrashPoint): number {
    return this.exits.filter((e) => e.cause === 'chaos' && e.point === point).length;
  }

  async start(role: Role, count: number): Promise<void> {
    for (let index = 0; index < count; index++) {
      const name = count === 1 ? role : `${role}-${index + 1}`;
      const worker: Worker = {
        name,
        role,
        child: null,
        port: 0,
        plans: [],
        startedAt: 0,
        quickExits: 0,
        lastLines: [],
        crashedAt: null,
        fatal: false,
      };
      this.workers.set(name, worker);
      this.logs.set(name, createWriteStream(join(this.options.logDir, `${name}.log`), { flags: 'a' }));
      await this.spawn(worker);
    }
  }

  /** Names of the workers of a role (or all). */
  names(role?: Role): string[] {
    return [...this.workers.values()].filter((w) => role === undefined || w.role === role).map((w) => w.name);
  }

  /** Names of the workers whose process runs right now (not between an exit and its restart). */
  running(): string[] {
    return [...this.workers.values()].filter((w) => w.child?.pid !== undefined && w.child.exitCode === null).map((w) => w.name);
  }

  /** Process ids the suite started (for its last-resort cleanup). */
  pids(): number[] {
    return [...this.workers.values()].flatMap((w) => (w.child?.pid !== undefined && w.child.exitCode === null ? [w.child.pid] : []));
  }

  private plansFor(role: Role): CrashPlan[] {
    if (!this.armed) return [];
    return POINTS_OF[role]
      .filter((point) => this.crashes(point) < (this.options.crashBudget[point] ?? 0))
      .map((point) => ({ point, at: this.options.crashAt() }));
  }

  private async spawn(worker: Worker): Promise<void> {
    // Port 0: the worker binds a free port itself and logs its address (a port picked here beforehand could be
    // taken by any outgoing connection before the worker listens: EADDRINUSE, seen in CI). Unknown until then (0).
    worker.port = 0;
    worker.plans = this.plansFor(worker.role);
    worker.crashedAt = null;
    worker.fatal = false;
    worker.startedAt = Date.now();
    const env: NodeJS.ProcessEnv = {
      ...this.options.env,
      PORT: '0',
      [CHAOS_ENV]: worker.plans.map((p) => `${p.point}:${p.at}`).join(','),
    };
    const child = spawn(
      process.execPath,
      ['--conditions=@burnback/source', '--import', 'tsx', resolve(this.options.repoRoot, `services/${worker.role}/src/main.ts`)],
      // Its own process group: the suite's Ctrl-C reaches the suite, which then stops each worker itself.
      { cwd: this.options.repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    worker.child = child;
    const log = this.logs.get(worker.name)!;
    log.write(`--- ${new Date().toISOString()} started pid ${child.pid} armed [${env[CHAOS_ENV]}]\n`);
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream }).on('line', (line) => {
        log.write(`${line}\n`);
        worker.lastLines = [...worker.lastLines.slice(-11), line];
        if (line.includes('"event":"chaos_crash"')) worker.crashedAt = pointIn(line);
        if (line.includes('"event":"fatal"')) worker.fatal = true;
        const listening = /"address":"http:\/\/[^"]*:(\d+)"/.exec(line);
        if (listening && worker.child === child) worker.port = Number(listening[1]);
      });
    // 'close', not 'exit': the crash line must have been read from the pipe before the exit is classified.
    child.once('close', (code, signal) => this.onExit(worker, child, code, signal));
  }

  private onExit(worker: Worker, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (worker.child !== child) return;
    worker.child = null;
    const pid = child.pid ?? -1;
    const cause: ExitCause =
      signal === 'SIGKILL' && worker.crashedAt !== null
        ? 'chaos'
        : this.suiteKills.has(pid)
          ? 'killed-by-suite'
          : this.suiteStops.has(pid)
            ? 'stopped-by-suite'
            : code !== 0 && worker.fatal
              ? 'fatal'
              : 'unexplained';
    if (this.stopping && cause === 'unexplained') return; // stopped by stop()
    const exit: WorkerExit = {
      worker: worker.name,
      pid,
      code,
      signal,
      at: Date.now(),
      cause,
      point: cause === 'chaos' ? worker.crashedAt : null,
      lastLines: cause === 'unexplained' ? worker.lastLines : [],
    };
    this.exits.push(exit);
    this.options.print(
      `  ${worker.name} (pid ${pid}) ${cause === 'chaos' ? `killed itself at ${exit.point}` : cause === 'killed-by-suite' ? 'killed -9 by the suite' : cause === 'stopped-by-suite' ? 'stopped by the suite, to come back unarmed' : `exited (${signal ?? `code ${code}`}, ${cause})`}`,
    );
    if (this.stopping) return;
    // A process that dies right after starting (its subscription not there yet) waits longer each time.
    worker.quickExits = Date.now() - worker.startedAt < 10_000 ? worker.quickExits + 1 : 0;
    const backoffMs = Math.min(250 * 2 ** worker.quickExits, 4_000);
    setTimeout(() => {
      if (!this.stopping) void this.spawn(worker);
    }, backoffMs).unref();
  }

  /**
   * From now on no process is armed: each one still armed is stopped with
   * SIGTERM (it drains: what it holds goes back to Pub/Sub at once) and comes
   * back without crash points. Resolves once each of those has exited.
   */
  async disarm(): Promise<void> {
    this.armed = false;
    const armed = [...this.workers.values()].flatMap((w) => (w.plans.length > 0 ? (liveChild(w) ?? []) : []));
    for (const child of armed) this.suiteStops.add(child.pid);
    await Promise.all(armed.map((child) => terminate(child, null)));
  }

  /** SIGKILL to a worker at an arbitrary moment (it is restarted like any other). */
  kill9(name: string): boolean {
    const child = this.workers.get(name)?.child;
    if (!child?.pid || child.exitCode !== null) return false;
    this.suiteKills.add(child.pid);
    process.kill(-child.pid, 'SIGKILL');
    return true;
  }

  /** Resolves once every worker answers its health check (restarted ones included). */
  async healthy(): Promise<boolean> {
    const answers = await Promise.all(
      [...this.workers.values()].map(async (w) => {
        if (!w.child || w.child.exitCode !== null || w.port === 0) return false; // not listening yet
        try {
          const res = await fetch(`http://127.0.0.1:${w.port}/healthz`, { signal: AbortSignal.timeout(1000) });
          await res.text();
          return res.ok;
        } catch {
          return false;
        }
      }),
    );
    return answers.every(Boolean);
  }

  /** SIGTERM to every worker (each drains), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    const running = [...this.workers.values()].flatMap((w) => liveChild(w) ?? []);
    await Promise.all(running.map((child) => terminate(child, 10_000)));
    await Promise.all([...this.logs.values()].map((log) => new Promise<void>((done) => log.end(() => done()))));
  }
}

/** The worker's process while it runs (started, not yet exited or signalled). */
function liveChild(w: Worker): RunningChild | undefined {
  const child = w.child;
  return child?.pid && child.exitCode === null && child.signalCode === null ? (child as RunningChild) : undefined;
}

type RunningChild = ChildProcess & { pid: number };

/** SIGTERM to a running worker's group (it drains); SIGKILL after `killAfterMs` unless null. Resolves once it closed (or was killed). */
function terminate(child: RunningChild, killAfterMs: number | null): Promise<void> {
  return new Promise<void>((done) => {
    const timer =
      killAfterMs === null
        ? undefined
        : setTimeout(() => {
            killGroup(child.pid, 'SIGKILL');
            done();
          }, killAfterMs);
    child.once('close', () => {
      clearTimeout(timer);
      done();
    });
    killGroup(child.pid, 'SIGTERM');
  });
}

/** Signals a process group the suite started; gone already is fine. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // gone
  }
}

function pointIn(line: string): CrashPoint | null {
  try {
    const entry = JSON.parse(line) as { point?: unknown };
    return (Object.values(CrashPoints) as string[]).includes(String(entry.point)) ? (entry.point as CrashPoint) : null;
  } catch {
    return null;
  }
}
