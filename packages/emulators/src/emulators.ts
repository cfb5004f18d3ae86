import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** One gcloud emulator Burnback needs. */
export interface EmulatorSpec {
  name: 'pubsub' | 'firestore';
  /** host:port it listens on. */
  host: string;
  /** Environment variable the Google clients read to find it. */
  envVar: 'PUBSUB_EMULATOR_HOST' | 'FIRESTORE_EMULATOR_HOST';
  args: (hostPort: string, projectId: string) => string[];
}

export const EMULATORS: Record<EmulatorSpec['name'], EmulatorSpec> = {
  pubsub: {
    name: 'pubsub',
    host: '127.0.0.1:8085',
    envVar: 'PUBSUB_EMULATOR_HOST',
    args: (hp, project) => ['beta', 'emulators', 'pubsub', 'start', `--host-port=${hp}`, `--project=${project}`, '--quiet'],
  },
  firestore: {
    name: 'firestore',
    host: '127.0.0.1:8086',
    envVar: 'FIRESTORE_EMULATOR_HOST',
    args: (hp) => ['emulators', 'firestore', 'start', `--host-port=${hp}`, '--quiet'],
  },
};

export interface RunningEmulator {
  name: EmulatorSpec['name'];
  host: string;
  /** True when we started it (and so must stop it); false when an emulator was already there. */
  startedByUs: boolean;
  /** Process-group id of what we started (gcloud is a wrapper; the Java child must die too). */
  pgid: number | null;
}

/** True when an emulator answers its HTTP root ("Ok") at host:port. */
export async function isEmulatorUp(host: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.text();
    return res.ok;
  } catch {
    return false;
  }
}

// No relative imports in this file, on purpose: jest's globalSetup requires it without the
// moduleNameMapper that maps './x.js' to './x.ts', so it cannot use ./wait.js's waitFor.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where an emulator we start writes its output (a file, not a pipe: it must outlive us without SIGPIPE). */
export function emulatorLogPath(name: string): string {
  return join(tmpdir(), 'burnback-emulators', `${name}.log`);
}

const tail = (file: string): string => {
  try {
    return readFileSync(file, 'utf8').slice(-3000);
  } catch {
    return '(no output)';
  }
};

/**
 * Reuses an emulator that already answers at `host`, else starts one with gcloud in
 * its own process group and waits until it answers. Throws with gcloud's output
 * if it does not come up (gcloud missing, component not installed, port taken).
 */
export async function ensureEmulator(
  spec: EmulatorSpec,
  opts: {
    host?: string;
    projectId: string;
    timeoutMs?: number;
    log?: (line: string) => void;
    /** The output file's name in the emulators' log directory (default `<name>.log`; a second emulator needs its own). */
    logFile?: string;
  },
): Promise<RunningEmulator> {
  const host = opts.host ?? spec.host;
  if (await isEmulatorUp(host)) return { name: spec.name, host, startedByUs: false, pgid: null };

  const logFile = opts.logFile ? join(dirname(emulatorLogPath(spec.name)), opts.logFile) : emulatorLogPath(spec.name);
  mkdirSync(dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'w');
  const child: ChildProcess = spawn('gcloud', spec.args(host, opts.projectId), {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1' },
  });
  closeSync(out);
  // Set from the child's events; read in the wait loop below.
  const status: { exited: number | null; spawnError: Error | null } = { exited: null, spawnError: null };
  child.on('exit', (code) => (status.exited = code ?? -1));
  child.on('error', (err) => (status.spawnError = err));
  child.unref();
  const running: RunningEmulator = { name: spec.name, host, startedByUs: true, pgid: child.pid ?? null };

  const timeoutMs = opts.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (status.spawnError)
      throw new Error(`cannot start the ${spec.name} emulator: ${status.spawnError.message} (is the gcloud CLI installed?)`);
    if (status.exited !== null)
      throw new Error(`the ${spec.name} emulator exited with code ${status.exited}; its output (${logFile}):\n${tail(logFile)}`);
    if (await isEmulatorUp(host)) {
      opts.log?.(`${spec.name} emulator started on ${host} (output: ${logFile})`);
      return running;
    }
    await sleep(250);
  }
  await stopEmulator(running);
  throw new Error(`the ${spec.name} emulator did not answer on ${host} within ${timeoutMs} ms; its output (${logFile}):\n${tail(logFile)}`);
}

const signalGroup = (pgid: number, signal: NodeJS.Signals): boolean => {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // the group is gone
  }
};

/**
 * Stops an emulator we started: SIGTERM to its whole process group (gcloud is a
 * wrapper; the Java child must go too), then SIGKILL if the port still answers.
 * Never touches an emulator we did not start.
 */
export async function stopEmulator(emulator: RunningEmulator, graceMs = 10_000): Promise<void> {
  if (!emulator.startedByUs || emulator.pgid === null) return;
  if (!signalGroup(emulator.pgid, 'SIGTERM')) return;
  if (await waitUntilDown(emulator.host, graceMs)) {
    signalGroup(emulator.pgid, 'SIGKILL'); // stragglers that no longer hold the port
    return;
  }
  signalGroup(emulator.pgid, 'SIGKILL');
  await waitUntilDown(emulator.host, 5_000);
}

/**
 * Kills an emulator we started at once (SIGKILL to its whole process group), for a process exiting abruptly that
 * cannot wait for stopEmulator: without it the emulator's Java process outlives its starter, holding the port and
 * its state, and the next start reuses it. Never touches an emulator we did not start.
 */
export function killEmulatorNow(emulator: RunningEmulator): void {
  if (emulator.startedByUs && emulator.pgid !== null) signalGroup(emulator.pgid, 'SIGKILL');
}

/** Waits until nothing answers on the emulator's port any more. */
export async function waitUntilDown(host: string, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await isEmulatorUp(host, 300))) return true;
    await sleep(200);
  }
  return false;
}
