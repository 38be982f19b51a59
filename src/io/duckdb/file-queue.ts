/**
 * One queue per DuckDB file for the whole process. Two DuckDB instances open
 * on the same file at once — two warehouses of one process, as when a
 * backfill runs dates side by side — each checkpoint over the other's writes,
 * and rows are lost without an error. So every use of a file waits for the
 * previous one, whichever warehouse made it, to finish and close.
 */
const tails = new Map<string, Promise<unknown>>();

/** Runs `task` after every earlier task queued under `key`; a failed task does not stop the queue. */
export function serializeOn<T>(key: string, task: () => Promise<T>): Promise<T> {
  const run = (tails.get(key) ?? Promise.resolve()).then(task);
  const tail = run.catch(() => undefined);
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
}

/** Resolves when everything queued under `key` so far has finished. */
export function drained(key: string): Promise<unknown> {
  return tails.get(key) ?? Promise.resolve();
}
