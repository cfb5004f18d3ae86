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
