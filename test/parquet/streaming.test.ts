import { describe, expect, it } from 'vitest';
import { wasmMemory } from 'parquet-wasm';
import { readParquet, readParquetRowGroups, writeParquet, writeParquetStream } from '../../src/io/parquet/index.ts';
import { DataError } from '../../src/errors.ts';
import { taxiLikeTable } from './taxi-like.ts';

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<{ bytes: Uint8Array; pieces: number }> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return { bytes: new Uint8Array(Buffer.concat(parts)), pieces: parts.length };
}

const blobOf = (bytes: Uint8Array) => new Blob([bytes as Uint8Array<ArrayBuffer>]);
const rowsOf = (t: { toArray(): { toJSON(): unknown }[] }) => t.toArray().map((r) => r.toJSON());

describe('writeParquetStream / readParquetRowGroups', () => {
  it('writes the same rows as the one-call writer, a row group per chunk', async () => {
    const table = taxiLikeTable({ rows: 5_500, days: 3 });
    const { bytes, pieces } = await collect(writeParquetStream(table, { rowGroupSize: 1_000 }));
    expect(pieces).toBeGreaterThanOrEqual(6); // six row groups (plus the footer, which may come with the last)
    const back = await readParquetRowGroups(blobOf(bytes), { source: 'stream.parquet' });
    expect(back.numRows).toBe(5_500);
    expect(back.batches).toHaveLength(6);
    expect(rowsOf(back)).toEqual(rowsOf(readParquet(writeParquet(table))));
  });

  it('handles tables of one row group and of none', async () => {
    for (const rows of [0, 10]) {
      const table = taxiLikeTable({ rows, days: 1 });
      const { bytes } = await collect(writeParquetStream(table, { rowGroupSize: 1_000 }));
      const back = await readParquetRowGroups(blobOf(bytes));
      expect(back.numRows).toBe(rows);
      expect(back.schema.fields.map((f) => f.name)).toEqual(table.schema.fields.map((f) => f.name));
    }
  });

  it('keeps wasm memory at a few row groups, whatever the table size', async () => {
    // Warm up wasm memory with one row group's worth, then stream 40 of them.
    const rowGroupSize = 20_000;
    await collect(writeParquetStream(taxiLikeTable({ rows: rowGroupSize * 2, days: 2 }), { rowGroupSize }));
    const before = wasmMemory().buffer.byteLength;
    const big = taxiLikeTable({ rows: rowGroupSize * 40, days: 31 });
    const { bytes } = await collect(writeParquetStream(big, { rowGroupSize }));
    const grown = wasmMemory().buffer.byteLength - before;
    const tableBytes = big.batches.reduce((n, b) => n + b.data.byteLength, 0);
    // The one-call writer and reader each need more than twice the table.
    expect(grown).toBeLessThan(tableBytes / 4);
    const back = await readParquetRowGroups(blobOf(bytes));
    expect(back.numRows).toBe(big.numRows);
    expect(wasmMemory().buffer.byteLength - before).toBeLessThan(tableBytes / 3);
  });

  it('stops encoding when the consumer stops reading', async () => {
    const chunks = writeParquetStream(taxiLikeTable({ rows: 10_000, days: 3 }), { rowGroupSize: 1_000 });
    for await (const _ of chunks) break; // e.g. the upload failed
    // A new write still works: nothing is left waiting inside the encoder.
    const { bytes } = await collect(writeParquetStream(taxiLikeTable({ rows: 3_000, days: 1 }), { rowGroupSize: 1_000 }));
    expect((await readParquetRowGroups(blobOf(bytes))).numRows).toBe(3_000);
  });

  it('names the source when a blob is not Parquet, and unknown columns', async () => {
    await expect(readParquetRowGroups(blobOf(new TextEncoder().encode('a,b\n1,2\n')), { source: 'gs://b/x.parquet' })).rejects.toThrow(
      /gs:\/\/b\/x\.parquet.*could not be read as Parquet/,
    );
    const bytes = writeParquet(taxiLikeTable({ rows: 5, days: 1 }));
    const error = await readParquetRowGroups(blobOf(bytes), { columns: ['nope'], source: 'x.parquet' }).catch((e) => e);
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toMatch(/no column "nope"/);
  });
});
