/**
 * Arrow in and out of DuckDB. In: through the `pipekit_arrow` table function
 * (arrow-scan.ts), or a Parquet file for column types it does not copy. Out:
 * through a Parquet file — DuckDB writes it with all its threads and
 * parquet-wasm decodes it in one pass, which beats reading result chunks
 * value by value in JavaScript (measured on a taxi month).
 */
import { createWriteStream, openAsBlob } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Table } from 'apache-arrow';
import { parquetReadable, readParquetRowGroups } from '../parquet/index.ts';
import { canScan, scanArrow } from './arrow-scan.ts';
import { quoteIdent, quoteString } from './identifiers.ts';
import type { DuckDbSession } from './session.ts';

let counter = 0;
const nextFile = (session: DuckDbSession, stem: string) => join(session.tempDir, `${stem}-${++counter}.parquet`);

/** Makes `table` readable for the rest of the session and returns the SQL expression (a table function call) over it. */
export async function stageTable(session: DuckDbSession, table: Table): Promise<string> {
  if (canScan(table)) {
    const { sql, release } = scanArrow(session.connection, table);
    session.onClose(release);
    return sql;
  }
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
