const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value other than undefined/false, or throws naming what was awaited (`what` may be a function, read at the timeout, to show state gathered meanwhile). */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string | (() => string) } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const what = typeof options.what === 'function' ? options.what() : options.what;
      throw new Error(
        `timed out after ${options.timeoutMs ?? 20_000} ms waiting for ${what ?? 'a condition'}${lastError ? `: ${(lastError as Error).message}` : ''}`,
      );
    }
    await sleep(options.intervalMs ?? 50);
  }
}
