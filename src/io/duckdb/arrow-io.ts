/**
 * Arrow in and out of DuckDB through Parquet files. node-api has no Arrow
 * bridge; DuckDB reads and writes Parquet with all its threads, and
 * parquet-wasm decodes it in one pass, which beats copying result chunks
 * value by value in JavaScript (measured on a taxi month).
 */
import { createWriteStream, openAsBlob } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Table } from 'apache-arrow';
import { parquetReadable, readParquetRowGroups } from '../parquet/index.ts';
import { quoteIdent, quoteString } from './identifiers.ts';
import type { DuckDbSession } from './session.ts';

let counter = 0;
const nextFile = (session: DuckDbSession, stem: string) => join(session.tempDir, `${stem}-${++counter}.parquet`);

/** Writes `table` to a staging Parquet file and returns the `read_parquet(…)` expression over it. */
export async function stageTable(session: DuckDbSession, table: Table): Promise<string> {
  const file = nextFile(session, 'input');
  // A throw-away file on local disk: spend no CPU on making it small.
  await pipeline(parquetReadable(table, { compression: 'none', dictionary: false }), createWriteStream(file));
  return `read_parquet(${quoteString(file)})`;
}

/** Makes `table` queryable as the temporary view `name` for the rest of the session. */
export async function stageAsView(session: DuckDbSession, table: Table, name: string): Promise<void> {
  await session.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS SELECT * FROM ${await stageTable(session, table)}`);
}

/** Runs a SELECT (or any query DuckDB accepts in `COPY (…) TO`) and returns its rows as Arrow. */
export async function fetchArrow(session: DuckDbSession, query: string): Promise<Table> {
  const file = nextFile(session, 'result');
  await session.run(`COPY (${query}) TO ${quoteString(file)} (FORMAT PARQUET, COMPRESSION UNCOMPRESSED)`);
  return readParquetRowGroups(await openAsBlob(file), { source: `${session.path} query result` });
}
