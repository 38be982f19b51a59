import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { DUCKDB_THREADS_ENV } from '../io/duckdb/threads.ts';

/**
 * glibc keeps freed memory for reuse unless told to hand big blocks back:
 * a worker that has dropped a month's table then shrinks before the next
 * month, and N workers need less than N peaks. The container image sets
 * the same (Dockerfile); an explicit setting in the environment wins.
 */
const RETURN_FREED_MEMORY = { MALLOC_MMAP_THRESHOLD_: '131072' };

/**
 * DuckDB threads for each of `processes` processes sharing this machine, as
 * an environment entry. DuckDB starts a thread per core in every process;
 * with N processes doing so they contend for the cores (12 months of 200k
 * rows at --parallel 2 on 2 cores: 7.0-9.8 s with one thread each, 7.7-10.2 s
 * with two, measured pairwise). The price: with one thread DuckDB runs its
 * COPYs on libuv's threads and keeps their allocator caches, ~110 MB more
 * for a full taxi month's partitions (nothing visible at 200k rows).
 */
export function shareOfThreads(processes: number): Record<string, string> {
  return { [DUCKDB_THREADS_ENV]: String(Math.max(1, Math.floor(availableParallelism() / processes))) };
}

/**
 * Runs this same CLI command in child processes, one per task index, each
 * told its share with PIPEKIT_TASK_INDEX / PIPEKIT_TASK_COUNT — the local
 * twin of a Cloud Run job executed with `--tasks=N`. Blocks are JavaScript
 * on one thread, so separate processes are what lets a backfill use every
 * core. Resolves with the child exit codes.
 */
export async function fanOut(
  indices: readonly number[],
  taskCount: number,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number[]> {
  const script = process.argv[1]!;
  return Promise.all(
    indices.map(
      (index) =>
        new Promise<number>((resolve) => {
          const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
            stdio: ['ignore', 'ignore', 'inherit'],
            env: {
              ...RETURN_FREED_MEMORY,
              ...shareOfThreads(taskCount),
              ...env,
              PIPEKIT_TASK_INDEX: String(index),
              PIPEKIT_TASK_COUNT: String(taskCount),
            },
          });
          child.on('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1)));
          child.on('error', () => resolve(1));
        }),
    ),
  );
}

/** The current command's arguments with `--parallel`/`-p` replaced and extra options added. */
export function workerArgs(argv: readonly string[], extra: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--parallel' || arg === '-p') {
      i++;
      continue;
    }
    if (arg.startsWith('--parallel=')) continue;
    out.push(arg);
  }
  return [...out, '--parallel', '1', ...extra];
}
