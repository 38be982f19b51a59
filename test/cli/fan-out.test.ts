import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { shareOfThreads, workerArgs } from '../../src/cli/fan-out.ts';
import { openInstance } from '../../src/io/duckdb/session.ts';
import { DUCKDB_THREADS_ENV } from '../../src/io/duckdb/threads.ts';

describe('backfill worker arguments', () => {
  it('replaces --parallel and adds the shared backfill id', () => {
    expect(
      workerArgs(['backfill', 'p', '--start', '2021-01-01', '--parallel', '4', '--end', '2021-01-31'], ['--backfill-id', 'bf-1']),
    ).toEqual(['backfill', 'p', '--start', '2021-01-01', '--end', '2021-01-31', '--parallel', '1', '--backfill-id', 'bf-1']);
    expect(workerArgs(['backfill', 'p', '-p', '2', '--parallel=3'], [])).toEqual(['backfill', 'p', '--parallel', '1']);
  });
});

describe('DuckDB threads of parallel backfills', () => {
  afterEach(() => {
    delete process.env[DUCKDB_THREADS_ENV];
  });

  it('gives each of N processes its share of the cores, at least one', () => {
    const cores = availableParallelism();
    expect(shareOfThreads(1)).toEqual({ [DUCKDB_THREADS_ENV]: String(cores) });
    expect(shareOfThreads(cores)).toEqual({ [DUCKDB_THREADS_ENV]: '1' });
    expect(shareOfThreads(cores * 4)).toEqual({ [DUCKDB_THREADS_ENV]: '1' });
  });

  it('DuckDB databases opened in such a process use that many threads; explicit settings win', async () => {
    process.env[DUCKDB_THREADS_ENV] = '1';
    const threads = async (settings?: Record<string, string>) => {
      const db = await openInstance(':memory:', settings);
      const connection = await db.connect();
      try {
        return (await connection.runAndReadAll("SELECT current_setting('threads')")).getRowsJS()[0][0];
      } finally {
        connection.closeSync();
        db.closeSync();
      }
    };
    expect(await threads()).toBe(1n);
    expect(await threads({ threads: '2' })).toBe(2n);
  });
});
