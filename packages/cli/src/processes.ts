import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The parent pid of `pid`, from /proc (Linux); null elsewhere or when it is gone. */
export function parentOf(pid: number): number | null {
  try {
    // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses, so read after the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : null;
  } catch {
    return null;
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Calls `onGone` once when what started this process is gone: its parent, and,
 * when npm ran it (npm → sh → node), npm too. Checked every `intervalMs`; a
 * reparented process (its parent pid changed) counts as gone. Returns a stop function.
 */
export function watchStarters(onGone: () => void, intervalMs = 1000): () => void {
  const parent = process.ppid;
  const starters = [parent];
  const grandparent = process.env.npm_lifecycle_event ? parentOf(parent) : null;
  if (grandparent !== null && grandparent > 1) starters.push(grandparent);
  const timer = setInterval(() => {
    if (process.ppid !== parent || !starters.every(alive)) {
      clearInterval(timer);
      onGone();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Whether a TCP port can be listened on at `host`. */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Who listens on a TCP port: `pid 123 (node …/main.ts)`, from `ss` or `lsof`; null when neither can tell. */
export function holderOf(port: number): { pid: number; command: string } | null {
  const tryRun = (cmd: string, args: string[]): string | null => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 3000 });
    } catch {
      return null;
    }
  };
  const fromSs = tryRun('ss', ['-ltnpH', `sport = :${port}`])?.match(/pid=(\d+)/);
  const fromLsof = fromSs ? null : tryRun('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fp'])?.match(/^p(\d+)/m);
  const pid = Number((fromSs ?? fromLsof)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const command = (() => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    } catch {
      return tryRun('ps', ['-o', 'args=', '-p', String(pid)])?.trim() ?? '';
    }
  })();
  return { pid, command: command || 'unknown command' };
}

/**
 * Fails with one message naming every taken port, what holds it and how to
 * free it, before anything is started (instead of a service dying on EADDRINUSE).
 */
export async function assertPortsFree(ports: Record<string, { port: number; envVar: string }>, host = '127.0.0.1'): Promise<void> {
  const problems: string[] = [];
  for (const [part, { port, envVar }] of Object.entries(ports)) {
    if (await portIsFree(port, host)) continue;
    const holder = holderOf(port);
    problems.push(
      `port ${port} (${part}) is taken${holder ? ` by pid ${holder.pid} (${holder.command}): stop it with \`kill ${holder.pid}\`` : ''}, or choose another port with ${envVar}`,
    );
  }
  if (problems.length > 0) throw new PortsTakenError(problems);
}

export class PortsTakenError extends Error {
  override name = 'PortsTakenError';
  constructor(readonly problems: string[]) {
    super(`cannot start: ${problems.join('; ')}`);
  }
}
