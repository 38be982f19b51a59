/**
 * Native work that must end before the process exits.
 *
 * Why: a DuckDB statement reading Arrow through the `pipekit_arrow` scan
 * calls back into JavaScript from DuckDB's threads. `process.exit()` while
 * one runs deadlocks: the exiting main thread waits for those threads, which
 * wait for a callback the main thread will never run. A cancelled or timed-out
 * block leaves its statement running in the background, so every such
 * statement registers here with a way to interrupt it, and the CLI settles
 * them (interrupt, then wait for them to unwind) before it exits.
 */
interface Entry {
  readonly interrupt: () => void;
  readonly done: Promise<void>;
}

const running = new Set<Entry>();

/** Registers `work` until it settles; `interrupt` must make it settle soon. Returns `work`. */
export function trackNativeWork<T>(work: Promise<T>, interrupt: () => void): Promise<T> {
  const entry: Entry = {
    interrupt,
    done: work.then(
      () => undefined,
      () => undefined,
    ),
  };
  running.add(entry);
  void entry.done.then(() => running.delete(entry));
  return work;
}

/** How many statements are in flight (for tests and logs). */
export function nativeWorkInFlight(): number {
  return running.size;
}

/**
 * Interrupts every registered statement and waits until all have unwound, at
 * most `timeoutMs`; returns false when some were still running then.
 */
export async function settleNativeWork(timeoutMs = 10_000): Promise<boolean> {
  if (running.size === 0) return true;
  const entries = [...running];
  for (const entry of entries) {
    try {
      entry.interrupt();
    } catch {
      // already finished or closed
    }
  }
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    Promise.all(entries.map((e) => e.done)).then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
  ]);
  clearTimeout(timer);
  return settled;
}
