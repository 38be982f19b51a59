/**
 * DuckDB threads per process (default: one per core), set by
 * `backfill --parallel N` for itself and its workers so that N processes
 * share the cores. Its own module: the CLI reads it without loading DuckDB.
 */
export const DUCKDB_THREADS_ENV = 'PIPEKIT_DUCKDB_THREADS';
