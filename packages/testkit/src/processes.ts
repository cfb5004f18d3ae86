import type { ChildProcess } from 'node:child_process';

/**
 * Waits until `read()` (what `child` printed so far) contains `text`. Fails at once,
 * with the output and how the process ended, when `child` exits first (a taken
 * port, a bad config): a start that already failed is not waited out to the
 * timeout. The timeout's error shows the output gathered until then.
 */
export function waitForOutput(
  child: ChildProcess,
  read: () => string,
  text: string,
  options: { timeoutMs?: number; what?: string } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const what = options.what ?? `'${text}'`;
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      clearInterval(poll);
      clearTimeout(timer);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      // Output still in the pipe when the process exits arrives just after: read it once more.
      setImmediate(() =>
        read().includes(text)
          ? done()
          : done(new Error(`the process exited (${signal ?? `code ${code}`}) before printing ${what}; its output:\n${read()}`)),
      );
    };
    const poll = setInterval(() => {
      if (read().includes(text)) done();
    }, 50);
    const timer = setTimeout(
      () => done(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; output so far:\n${read()}`)),
      timeoutMs,
    );
    if (child.exitCode !== null || child.signalCode !== null) onExit(child.exitCode, child.signalCode);
    else child.on('exit', onExit);
    if (read().includes(text)) done();
  });
}

/** Whether something answers HTTP on 127.0.0.1:`port` (a service's /healthz) within half a second. */
export async function portAnswers(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(500) });
    return true;
  } catch {
    return false;
  }
}
