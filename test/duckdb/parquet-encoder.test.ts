import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Table, Utf8, makeData, makeVector, tableFromArrays } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeParquet } from '../../src/io/duckdb/parquet-encoder.ts';
import { ConnectionError, DataError } from '../../src/errors.ts';
import { readParquet } from '../../src/io/parquet/index.ts';

// The encoder makes its folder under os.tmpdir() on first use: give this file's process a private one.
const privateTmp = mkdtempSync(join(tmpdir(), 'pipekit-encoder-test-'));
process.env.TMPDIR = privateTmp;
afterAll(() => rmSync(privateTmp, { recursive: true, force: true }));

describe('DuckDB Parquet encoder', () => {
  it('encodes a table to Parquet bytes and leaves no file behind', async () => {
    const bytes = await encodeParquet(tableFromArrays({ a: Int32Array.from([1, 2, 3]) }));
    expect(readParquet(bytes).getChild('a')!.toArray()).toEqual(Int32Array.from([1, 2, 3]));
    const [folder, ...more] = readdirSync(privateTmp);
    expect(more).toEqual([]);
    expect(readdirSync(join(privateTmp, folder!))).toEqual([]);
  });

  it('a file DuckDB cannot write is a ConnectionError naming it, with what to check', async () => {
    await encodeParquet(tableFromArrays({ a: Int32Array.from([1]) }));
    // Put a file where the encoder's temporary folder was.
    for (const name of readdirSync(privateTmp)) {
      rmSync(join(privateTmp, name), { recursive: true, force: true });
      writeFileSync(join(privateTmp, name), 'not a folder');
    }
    const error = await encodeParquet(tableFromArrays({ a: Int32Array.from([1]) })).catch((e) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/pipekit-parquet-.*\.parquet: could not write the Parquet file/);
    expect(error.hint).toMatch(/TMPDIR/);
    for (const name of readdirSync(privateTmp)) rmSync(join(privateTmp, name), { force: true });
  });

  it('makes its folder again when a tmp cleaner has removed it', async () => {
    await encodeParquet(tableFromArrays({ a: Int32Array.from([1]) }));
    for (const name of readdirSync(privateTmp)) rmSync(join(privateTmp, name), { recursive: true, force: true });
    expect(
      readParquet(await encodeParquet(tableFromArrays({ a: Int32Array.from([7]) })))
        .getChild('a')!
        .get(0),
    ).toBe(7);
  });
});

describe('DuckDB Parquet encoder and bad text', () => {
  it('a Utf8 column that is not UTF-8 is a DataError naming the column and row, and nothing is written', async () => {
    const bytes = Uint8Array.from([...Buffer.from('okCaf'), 0xe9]);
    const name = makeVector(makeData({ type: new Utf8(), length: 2, valueOffsets: Int32Array.from([0, 2, 6]), data: bytes }));
    const error = await encodeParquet(new Table({ name })).catch((e) => e);
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toMatch(/column "name", row 1 of its batch: the text is not valid UTF-8/);
    expect(error.hint).toMatch(/UTF-8/);
  });
});

describe('DuckDB Parquet encoder options', () => {
  it('only whole row group sizes and known codecs reach the COPY statement', async () => {
    const t = tableFromArrays({ a: Int32Array.from([1]) });
    const error = await encodeParquet(t, { rowGroupSize: 1.5 }).catch((e) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toMatch(/^rowGroupSize must be a positive whole number, not 1.5$/);
    await expect(encodeParquet(t, { compression: 'snappy); DROP TABLE x; --' as never })).rejects.toThrow(/compression must be one of/);
  });
});
