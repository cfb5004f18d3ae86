/** Turns for work that must not overlap: a queue of tasks run one at a time, in arrival order. */

/** Runs tasks one at a time, in the order they arrive; a failed task does not stop the next. */
export type Serializer = <T>(task: () => Promise<T>) => Promise<T>;

export function createSerializer(): Serializer {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** A Serializer per key: tasks of one key run one at a time, in arrival order; tasks of different keys overlap. */
export type KeyedSerializer = <T>(key: string, task: () => Promise<T>) => Promise<T>;

export function createKeyedSerializer(): KeyedSerializer {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const run = (tails.get(key) ?? Promise.resolve()).then(task, task);
    const settled = run.catch(() => undefined);
    tails.set(key, settled);
    // A key whose last task settled holds nothing: the map keeps only keys with work queued.
    void settled.then(() => {
      if (tails.get(key) === settled) tails.delete(key);
    });
    return run;
  };
}
