/**
 * The decoder cuts a body into segments parsed on two threads (segment.ts,
 * segment-thread.ts). Small segments here make small files take that path: the
 * result must be what one parser reading in order gives — values, types, bad
 * rows and their line numbers — whichever thread parsed which segment.
 */
import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { decodeCsv } from '../../src/io/csv/decode.ts';
import { SegmentThread } from '../../src/io/csv/segment-thread.ts';
import { DUCKDB_THREADS_ENV } from '../../src/io/duckdb/threads.ts';

const rows = (t: { toArray(): any[] }) => t.toArray().map((r) => r.toJSON());
const taxiLike = (n: number, bad: (i: number) => string | undefined = () => undefined) =>
  `id,fare,flag,at,note\n${Array.from({ length: n }, (_, i) => bad(i) ?? `${i},${i / 4},${i % 3 ? 'Y' : ''},2021-01-01 00:00:0${i % 10},n${i % 7}`).join('\n')}\n`;
const COLUMNS = { id: 'int64', fare: 'float64', flag: 'string', at: 'timestamp' } as const;
/** The bytes in 64 KiB chunks, as a download arrives. */
const stream = (text: string) => {
  const bytes = Buffer.from(text);
  return Readable.from(Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, i) => bytes.subarray(i * 65536, (i + 1) * 65536)));
};

describe('decodeCsv in segments', () => {
  it('gives the same table from many segments on two threads as from one', async () => {
    const text = taxiLike(50_000);
    const one = await decodeCsv(stream(text), { sourceName: 's.csv', columns: COLUMNS, segmentBytes: 64 << 20 });
    const many = await decodeCsv(stream(text), { sourceName: 's.csv', columns: COLUMNS, segmentBytes: 100_000 });
    expect(one.table.batches).toHaveLength(1);
    expect(many.table.batches.length).toBeGreaterThan(10);
    expect(many.table.schema.fields.map((f) => String(f.type))).toEqual(one.table.schema.fields.map((f) => String(f.type)));
    expect(String(many.table.getChild('note')!.type)).toBe('Utf8'); // undeclared, inferred over every segment
    expect(rows(many.table)).toEqual(rows(one.table));
    expect(many.table.getChild('flag')!.nullCount).toBe(one.table.getChild('flag')!.nullCount);
    expect(many.report).toEqual(one.report);
  });

  it('numbers bad rows by their line in the file, across segments, and fails on the first', async () => {
    const bad = (i: number) => (i === 30_000 ? `${i},x,Y,2021-01-01,n` : i === 41_000 ? `${i},1` : undefined);
    const text = taxiLike(45_000, bad);
    const skipped = await decodeCsv(stream(text), { sourceName: 's.csv', columns: COLUMNS, onBadRow: 'skip', segmentBytes: 100_000 });
    expect(skipped.table.numRows).toBe(44_998);
    expect(skipped.report.badRows).toBe(2);
    expect(skipped.report.badRowSamples.map((s) => s.line)).toEqual([30_002, 41_002]);
    const error = await decodeCsv(stream(text), { sourceName: 's.csv', columns: COLUMNS, segmentBytes: 100_000 }).catch((e) => e);
    expect(error).toBeInstanceOf(DataError);
    expect(error).toMatchObject({ row: 30_002, column: 'fare', value: 'x' });
  });

  it('reads on in order from the first quoted cell, keeping line numbers and values', async () => {
    const quoted = (i: number) =>
      i === 20_000 ? `${i},1.5,"Y, with a comma",2021-01-01,"two\nlines"` : i === 25_000 ? `${i},z` : undefined;
    const text = taxiLike(30_000, quoted);
    const { table, report } = await decodeCsv(stream(text), {
      sourceName: 'q.csv',
      columns: COLUMNS,
      onBadRow: 'skip',
      segmentBytes: 100_000,
    });
    expect(table.numRows).toBe(29_999);
    expect(rows(table)[20_000]).toMatchObject({ id: 20_000n, flag: 'Y, with a comma', note: 'two\nlines' });
    expect(rows(table)[20_001]).toMatchObject({ id: 20_001n });
    // Line 20,002 holds two lines, so row 25,000 is on line 25,003.
    expect(report.badRowSamples.map((s) => s.line)).toEqual([25_003]);
  });

  it('reports a last line cut short and a header with no rows as before', async () => {
    const cut = `${taxiLike(20_000)}20000,1.5`;
    const error = await decodeCsv(stream(cut), { sourceName: 'c.csv', columns: COLUMNS, segmentBytes: 100_000 }).catch((e) => e);
    expect(error).toBeInstanceOf(DataError);
    expect(error.row).toBe(20_002);
    expect(error.message).toMatch(/cut short/);
    const { table } = await decodeCsv(stream('id,fare\n'), { sourceName: 'h.csv', segmentBytes: 100_000 });
    expect(table.numRows).toBe(0);
  });

  it('parses every segment on this thread in a process given one core (a backfill worker)', async () => {
    const text = taxiLike(20_000);
    const sent = vi.spyOn(SegmentThread.prototype, 'parse');
    vi.stubEnv(DUCKDB_THREADS_ENV, '1');
    try {
      const alone = await decodeCsv(stream(text), { sourceName: 's.csv', columns: COLUMNS, segmentBytes: 100_000 });
      expect(sent).not.toHaveBeenCalled();
      vi.unstubAllEnvs();
      const shared = await decodeCsv(stream(text), { sourceName: 's.csv', columns: COLUMNS, segmentBytes: 100_000 });
      expect(sent).toHaveBeenCalled();
      expect(rows(alone.table)).toEqual(rows(shared.table));
    } finally {
      vi.unstubAllEnvs();
      sent.mockRestore();
    }
  });
});
