import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeParquetWithDuckDb } from '../../src/io/duckdb/parquet-encoder.ts';
import { ConnectionError } from '../../src/errors.ts';
import { readParquet } from '../../src/io/parquet/index.ts';

// The encoder makes its folder under os.tmpdir() on first use: give this file's process a private one.
const privateTmp = mkdtempSync(join(tmpdir(), 'pipekit-encoder-test-'));
process.env.TMPDIR = privateTmp;
afterAll(() => rmSync(privateTmp, { recursive: true, force: true }));

describe('DuckDB Parquet encoder', () => {
  it('encodes a table to Parquet bytes and leaves no file behind', async () => {
    const bytes = await encodeParquetWithDuckDb(tableFromArrays({ a: Int32Array.from([1, 2, 3]) }));
    expect(readParquet(bytes).getChild('a')!.toArray()).toEqual(Int32Array.from([1, 2, 3]));
    const [folder, ...more] = readdirSync(privateTmp);
    expect(more).toEqual([]);
    expect(readdirSync(join(privateTmp, folder!))).toEqual([]);
  });

  it('a file DuckDB cannot write is a ConnectionError naming it, with what to check', async () => {
    await encodeParquetWithDuckDb(tableFromArrays({ a: Int32Array.from([1]) }));
    // Take the encoder's temporary folder away from under it.
    for (const name of readdirSync(privateTmp)) rmSync(join(privateTmp, name), { recursive: true, force: true });
    const error = await encodeParquetWithDuckDb(tableFromArrays({ a: Int32Array.from([1]) })).catch((e) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/pipekit-parquet-.*\.parquet: DuckDB could not write the Parquet file/);
    expect(error.hint).toMatch(/TMPDIR/);
  });
});
