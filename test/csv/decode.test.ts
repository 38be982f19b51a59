import { gzipSync, createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decodeCsv } from '../../src/io/csv/decode.ts';
import { encodeCsv } from '../../src/io/csv/encode.ts';
import { DataError, ConfigError } from '../../src/errors.ts';
import { chunked } from './helpers.ts';

const rows = (t: { toArray(): any[] }) => t.toArray().map((r) => r.toJSON());

describe('decodeCsv', () => {
  it('handles quotes, escaped quotes, delimiters and newlines in quotes, CRLF and BOM, in any chunking', async () => {
    const text = '\uFEFFid,name,note\r\n1,"Smith, J.","said ""hi""\r\nand left"\r\n2,plain,\r\n3,"",x\r\n';
    for (const size of [1, 2, 3, 5, 64]) {
      const { table } = await decodeCsv(chunked(text, size), { sourceName: 'q.csv' });
      expect(table.schema.fields.map((f) => f.name)).toEqual(['id', 'name', 'note']);
      expect(rows(table)).toEqual([
        { id: 1n, name: 'Smith, J.', note: 'said "hi"\r\nand left' },
        { id: 2n, name: 'plain', note: null },
        { id: 3n, name: null, note: 'x' },
      ]);
    }
  });

  it('parses TLC number forms and timestamps exactly', async () => {
    const text = 'a,b,t\n.20,1,2021-01-01 00:30:10\n2.10,-5,2020-12-31 23:59:59.123456\n-5.5,1.0,2021-01-01\n1e3,,\n';
    const { table } = await decodeCsv(chunked(text), { sourceName: 'n.csv', columns: { a: 'float64', b: 'int64' }, parseDates: ['t'] });
    expect(rows(table).map((r) => r.a)).toEqual([0.2, 2.1, -5.5, 1000]);
    expect(rows(table).map((r) => r.b)).toEqual([1n, -5n, 1n, null]);
    const t = table.getChild('t')!;
    expect(String(t.type)).toBe('Timestamp<MICROSECOND>');
    expect(t.data[0].values.slice(0, 3)).toEqual(new BigInt64Array([1609461010000000n, 1609459199123456n, 1609459200000000n]));
    expect(t.get(3)).toBe(null);
  });

  it('rejects a fractional value in an int64 column with line, column and value', async () => {
    const error = await decodeCsv(chunked('id,n\n1,2\n2,1.5\n'), { sourceName: 'bad.csv', columns: { n: 'int64' } }).catch((e) => e);
    expect(error).toBeInstanceOf(DataError);
    expect(error).toMatchObject({ source: 'bad.csv', row: 3, column: 'n', value: '1.5' });
    expect(error.describe()).toContain("onBadRow: 'skip'");
  });

  it('skips rows with the wrong field count or bad values and reports them', async () => {
    const text = 'a,b\n1,2\n3\n4,x\n5,6,7\n8,9\n';
    const { table, report } = await decodeCsv(chunked(text), { sourceName: 's.csv', columns: { b: 'int64' }, onBadRow: 'skip' });
    expect(rows(table)).toEqual([
      { a: 1n, b: 2n },
      { a: 8n, b: 9n },
    ]);
    expect(report.badRows).toBe(3);
    expect(report.badRowSamples.map((s) => s.line)).toEqual([3, 4, 5]);
    expect(report.badRowSamples[0].reason).toContain('expected 2 fields, found 1');
    expect(report.badRowSamples[1].reason).toContain('column b');
  });

  it('widens inferred columns over the whole file instead of failing', async () => {
    const text = 'a,b,c,d\n1,1,true,2021-01-01\n2,x,False,2021-01-02 10:00:00\n2.5,3,,\n';
    const { table } = await decodeCsv(chunked(text), { sourceName: 'w.csv' });
    expect(table.schema.fields.map((f) => String(f.type))).toEqual(['Float64', 'Utf8', 'Bool', 'Timestamp<MICROSECOND>']);
    expect(rows(table)[1]).toEqual({ a: 2, b: 'x', c: false, d: Date.UTC(2021, 0, 2, 10) });
  });

  it('reads gzip streams and splits large inputs into record batches', async () => {
    const lines = `${['k,v', ...Array.from({ length: 300_000 }, (_, i) => `${i},${i / 4}`)].join('\n')}\n`;
    const gz = Readable.from([gzipSync(lines)]).pipe(createGunzip());
    const { table } = await decodeCsv(gz, { sourceName: 'big.csv.gz' });
    expect(table.numRows).toBe(300_000);
    expect(table.batches.length).toBeGreaterThan(1);
    expect(table.getChild('v')!.get(299_999)).toBe(299_999 / 4);
  });

  it('rejects text that is not UTF-8 (a Latin-1 file) naming row, column and value; skip counts it', async () => {
    const bytes = Buffer.concat([Buffer.from('id,name\n1,Caf'), Buffer.from([0xe9]), Buffer.from('\n2,ok\n3,"Zürich, ""Altstadt"""\n')]);
    const error = await decodeCsv(Readable.from([bytes]), { sourceName: 'zones.csv' }).catch((e) => e);
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toBe('zones.csv (line 2, column name, value "Café"): not UTF-8 text');
    expect(error.hint).toMatch(/Latin-1.*iconv.*onBadRow: 'skip'/);
    const { table, report } = await decodeCsv(Readable.from([bytes]), {
      sourceName: 'zones.csv',
      onBadRow: 'skip',
      columns: { name: 'string' },
    });
    expect(table.getChild('name')!.toArray()).toEqual(['ok', 'Zürich, "Altstadt"']);
    expect(report.badRows).toBe(1);
  });

  it('gives the last, partial batch buffers of its own size, not a full batch', async () => {
    const lines = [
      'id,fare,flag,at',
      ...Array.from({ length: 140_000 }, (_, i) => `${i},${i / 4},${i % 2 ? 'Y' : ''},2021-01-01 00:00:0${i % 10}`),
    ].join('\n');
    const { table } = await decodeCsv(Readable.from([Buffer.from(lines)]), {
      sourceName: 'partial.csv',
      columns: { id: 'int64', fare: 'float64', flag: 'string', at: 'timestamp' },
    });
    const last = table.batches.at(-1)!;
    expect(table.batches.length).toBeGreaterThan(1);
    expect(last.numRows).toBeLessThan(table.batches[0].numRows / 2);
    for (const data of last.data.children) {
      for (const buffer of [data.values, data.valueOffsets, data.nullBitmap]) {
        if (buffer) expect(buffer.buffer.byteLength, String(data.type)).toBeLessThanOrEqual(buffer.byteLength + 8);
      }
    }
    expect(last.getChild('fare')!.get(last.numRows - 1)).toBe(139_999 / 4);
    expect(last.getChild('flag')!.nullCount).toBeGreaterThan(0);
  });

  it('explains empty input, a missing declared column and a bad delimiter', async () => {
    await expect(decodeCsv(chunked(''), { sourceName: 'e.csv' })).rejects.toThrow(/empty/);
    await expect(decodeCsv(chunked('a,b\n1,2\n'), { sourceName: 'm.csv', columns: { VendorId: 'int64' } })).rejects.toThrow(
      /"VendorId" not in the header/,
    );
    await expect(decodeCsv(chunked('a\n'), { sourceName: 'd.csv', delimiter: ';;' })).rejects.toBeInstanceOf(ConfigError);
    const { table } = await decodeCsv(chunked('a,b\n'), { sourceName: 'h.csv' });
    expect(table.numRows).toBe(0);
  });
});

describe('encodeCsv', () => {
  it('round-trips through decodeCsv, quoting where needed', async () => {
    const text = 'i,f,s,t,b\n1,0.2,"a, ""b""",2021-01-01 00:00:01,true\n,,,,\n-7,1e-7,plain,2021-01-01 00:00:01.5,false\n';
    const options = { sourceName: 'r.csv', parseDates: ['t'] };
    const { table } = await decodeCsv(chunked(text), options);
    const parts: Uint8Array[] = [];
    for await (const part of encodeCsv(table)) parts.push(part);
    const encoded = Buffer.concat(parts).toString('utf8');
    expect(encoded.split('\n')[1]).toBe('1,0.2,"a, ""b""",2021-01-01 00:00:01,true');
    expect(encoded.split('\n')[3]).toBe('-7,1e-7,plain,2021-01-01 00:00:01.500000,false');
    const again = await decodeCsv(chunked(encoded, 11), options);
    expect(rows(again.table)).toEqual(rows(table));
  });
});
