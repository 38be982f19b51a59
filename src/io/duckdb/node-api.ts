/**
 * `@duckdb/node-api`, loaded through require(). It is CommonJS whose index
 * re-exports ~120 files, and an ESM import first has Node scan every one of
 * them for export names: 0.20-0.22 s to load it against 0.08-0.09 s required,
 * paid by every process that writes Parquet or opens the warehouse. The same
 * module instance either way (the require cache), so classes stay one.
 */
import { createRequire } from 'node:module';
import type * as NodeApi from '@duckdb/node-api';

export const duckdbApi = createRequire(import.meta.url)('@duckdb/node-api') as typeof NodeApi;
