import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Decimal,
  Field,
  makeData,
  makeVector,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Type,
  Utf8,
  Int32,
  DateDay,
  vectorFromArray,
} from 'apache-arrow';
import type { Data, DataType } from 'apache-arrow';
import { readPartitioned } from '../../src/io/lake/partitioned-read.ts';
import { writePartitioned } from '../../src/io/lake/partitioned-write.ts';
import { createLocalStore } from '../../src/io/lake/local-store.ts';
import { PARTITION_FILE } from '../../src/io/lake/partitioned-write.ts';
import { take } from '../../src/table/take.ts';
import { DataError, NotFoundError } from '../../src/errors.ts';
import type { ObjectStore } from '../../src/io/types.ts';
import { taxiLikeTable } from '../parquet/taxi-like.ts';

let folder: string;
let store: ObjectStore;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'pipekit-parts-'));
  store = createLocalStore(folder);
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

const DAY_US = 86_400_000_000n;

/** The taxi-like table plus `tpep_pickup_date` derived from the pickup timestamp, as the Zoomcamp exporter does. */
function withPickupDate(table: Table): Table {
  const fields = [...table.schema.fields, new Field('tpep_pickup_date', new DateDay(), true)];
  const batches = table.batches.map((b) => {
    const ts = b.getChild('tpep_pickup_datetime')!.data[0];
    const micros = ts.values as BigInt64Array;
    const days = new Int32Array(b.numRows);
    for (let i = 0; i < days.length; i++) days[i] = Number(micros[ts.offset + i] / DAY_US);
    const day = makeData({ type: new DateDay(), length: b.numRows, data: days });
    return new RecordBatch(
      new Schema(fields),
      makeData({ type: new Struct(fields), length: b.numRows, nullCount: 0, children: [...b.data.children, day] }),
    );
  });
  return new Table(batches);
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function countByDay(table: Table): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of table.getChild('tpep_pickup_date')!) out.set(isoDay(v as number), (out.get(isoDay(v as number)) ?? 0) + 1);
  return out;
}

async function parquetFiles(prefix: string) {
  return (await store.list(`${prefix}/`)).filter((k) => k.endsWith('.parquet'));
}

describe('writePartitioned / readPartitioned', () => {
  const month = () => withPickupDate(taxiLikeTable({ rows: 3100 + 16, days: 31, stragglers: 16 }));

  it('writes one Hive folder per pickup date, incl. the previous-day straggler, without the partition column', async () => {
    const table = month();
    const result = await writePartitioned(store, table, 'nyc_taxi_data', { partitionBy: 'tpep_pickup_date' });
    expect(result.rows).toBe(table.numRows);
    expect(result.partitions.map((p) => p.value)).toEqual([
      '2020-12-31',
      ...Array.from({ length: 31 }, (_, d) => `2021-01-${String(d + 1).padStart(2, '0')}`),
    ]);
    expect(result.partitions[0].rows).toBe(16);
    expect(result.partitions.reduce((n, p) => n + p.rows, 0)).toBe(table.numRows);
    expect(result.target).toBe(store.url('nyc_taxi_data/'));
    expect(result.partitions[1].files[0]).toMatch(/nyc_taxi_data\/tpep_pickup_date=2021-01-01\/part-00000\.parquet$/);

    // One object per partition, and nothing else: what any glob reader sees is the dataset.
    const files = await store.list('nyc_taxi_data/');
    expect(files).toHaveLength(32);
    expect(files.every((k) => k.endsWith(`/${PARTITION_FILE}`))).toBe(true);

    const back = await readPartitioned(store, 'nyc_taxi_data');
    expect(back.numRows).toBe(table.numRows);
    const date = back.schema.fields.at(-1)!;
    expect(date.name).toBe('tpep_pickup_date');
    expect(date.type.typeId).toBe(Type.Date);
    expect(countByDay(back)).toEqual(countByDay(table));
    // Same columns (the partition column last, pyarrow's convention), same null counts.
    expect(back.schema.fields.map((f) => f.name).sort()).toEqual(table.schema.fields.map((f) => f.name).sort());
    expect(back.getChild('VendorID')!.nullCount).toBe(table.getChild('VendorID')!.nullCount);
  });

  it('partitions sliced batches by their own rows (Arrow has already applied the slice offset to the values)', async () => {
    const table = month();
    // Batches cut at odd places, as a streamed loader or a filter produces them.
    const sliced = new Table([table.slice(0, 1001), table.slice(1001, 2500), table.slice(2500)].flatMap((t) => t.batches));
    expect(sliced.batches.some((b) => b.data.children[0]!.offset > 0)).toBe(true);
    const result = await writePartitioned(store, sliced, 'sliced', { partitionBy: 'tpep_pickup_date' });
    expect(result.rows).toBe(table.numRows);
    expect(countByDay(await readPartitioned(store, 'sliced'))).toEqual(countByDay(table));
  });

  it('DuckDB (the default encoder) and parquet-wasm write the same rows, types and nulls; options reach the files', async () => {
    const table = month();
    await writePartitioned(
      store,
      table,
      'by_duckdb',
      { partitionBy: 'tpep_pickup_date' },
      { parquet: { compression: 'zstd', metadata: { source: 'test' } } },
    );
    await writePartitioned(store, table, 'by_wasm', { partitionBy: 'tpep_pickup_date' }, { encoder: 'wasm' });
    const duck = await readPartitioned(store, 'by_duckdb');
    const wasm = await readPartitioned(store, 'by_wasm');
    expect(duck.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(wasm.schema.fields.map((f) => `${f.name}:${f.type}`));
    const sorted = (t: Table) =>
      t
        .toArray()
        .map((r) => JSON.stringify(r.toJSON(), (_, v) => (typeof v === 'bigint' ? String(v) : v)))
        .sort();
    expect(sorted(duck)).toEqual(sorted(wasm));
    for (const f of table.schema.fields) expect(duck.getChild(f.name)!.nullCount, f.name).toBe(table.getChild(f.name)!.nullCount);

    const file = (await parquetFiles('by_duckdb'))[0];
    const { Compression, ParquetFile } = await import('parquet-wasm');
    const meta = (await ParquetFile.fromFile(new Blob([(await store.read(file)) as Uint8Array<ArrayBuffer>]))).metadata();
    const fileMeta = meta.fileMetadata();
    expect(fileMeta.keyValueMetadata().get('source')).toBe('test');
    expect(meta.rowGroup(0).column(0).compression()).toBe(Compression.ZSTD);
  });

  it('falls back to parquet-wasm for columns DuckDB cannot scan (decimals)', async () => {
    const table = month();
    const withDecimal = new Table({
      amount: makeVector(
        makeData({
          type: new Decimal(2, 10, 128),
          length: table.numRows,
          data: new Uint32Array(table.numRows * 4).map((_, i) => (i % 4 === 0 ? i : 0)),
        }),
      ),
      tpep_pickup_date: table.getChild('tpep_pickup_date')!,
    });
    const result = await writePartitioned(store, withDecimal, 'decimals', { partitionBy: 'tpep_pickup_date' });
    expect(result.rows).toBe(table.numRows);
    const back = await readPartitioned(store, 'decimals');
    expect(back.numRows).toBe(table.numRows);
    expect(back.getChild('amount')!.type.typeId).toBe(Type.Decimal);
  });

  it('rerunning the same dates leaves the same files count and rows; a partial rerun replaces only its partitions', async () => {
    const table = month();
    await writePartitioned(store, table, 'd', { partitionBy: 'tpep_pickup_date' });
    const first = await parquetFiles('d');
    await writePartitioned(store, table, 'd', { partitionBy: 'tpep_pickup_date' });
    const second = await parquetFiles('d');
    expect(second).toEqual(first); // the same objects, replaced
    expect((await readPartitioned(store, 'd')).numRows).toBe(table.numRows);

    // Rerun only Jan 5 with fewer rows: that partition shrinks, the others keep their files.
    const jan5 = new Int32Array(
      [...table.getChild('tpep_pickup_date')!].flatMap((v, i) => (isoDay(v as number) === '2021-01-05' ? [i] : [])),
    );
    const half = take(table, jan5.subarray(0, 10));
    const result = await writePartitioned(store, half, 'd', { partitionBy: 'tpep_pickup_date' });
    expect(result.partitions).toEqual([expect.objectContaining({ value: '2021-01-05', rows: 10 })]);
    const third = await parquetFiles('d');
    expect(third).toEqual(first);
    const back = countByDay(await readPartitioned(store, 'd'));
    expect(back.get('2021-01-05')).toBe(10);
    expect(back.get('2021-01-06')).toBe(countByDay(table).get('2021-01-06'));
  });

  it('a write that dies part-way leaves every partition whole: the new rows where it got to, the old ones elsewhere', async () => {
    const table = month();
    await writePartitioned(store, table, 'd', { partitionBy: 'tpep_pickup_date' });
    const doubled = new Table([...table.batches, ...table.batches]);
    let writes = 0;
    const dying: ObjectStore = {
      ...store,
      write: async (key, data, o) => {
        if (++writes > 5) throw new Error('process killed');
        return store.write(key, data, o);
      },
    };
    await expect(writePartitioned(dying, doubled, 'd', { partitionBy: 'tpep_pickup_date' }, { concurrency: 1 })).rejects.toThrow();
    expect(await store.list('d/')).toHaveLength(32);
    const before = countByDay(table);
    const after = countByDay(await readPartitioned(store, 'd'));
    // Each partition holds exactly its old or its new rows: five were rewritten (twice the rows), the rest untouched.
    expect([...after].filter(([day, n]) => n === 2 * before.get(day)!)).toHaveLength(5);
    expect([...after].filter(([day, n]) => n === before.get(day)!)).toHaveLength(27);
  });

  it('rewriting a dataset of an older pipekit (manifests, one file per write) leaves one object per partition', async () => {
    const table = month();
    await writePartitioned(store, table, 'd', { partitionBy: 'tpep_pickup_date' });
    for (const key of await store.list('d/')) {
      const folder = key.slice(0, key.lastIndexOf('/'));
      await store.write(`${folder}/part-lz0abc123456-00000.parquet`, await store.read(key));
      await store.write(`${folder}/_pipekit_manifest.json`, new TextEncoder().encode('{}'));
      await store.delete([key]);
    }
    await writePartitioned(store, table, 'd', { partitionBy: 'tpep_pickup_date' });
    const files = await store.list('d/');
    expect(files).toHaveLength(32);
    expect(files.every((k) => k.endsWith(`/${PARTITION_FILE}`))).toBe(true);
    expect((await readPartitioned(store, 'd')).numRows).toBe(table.numRows);
  });

  it('sweeps temp files of writers that were killed, and only theirs', async () => {
    const table = month();
    await writePartitioned(store, table, 'd', { partitionBy: 'tpep_pickup_date' });
    const { writeFile } = await import('node:fs/promises');
    const { hostname } = await import('node:os');
    const host =
      hostname()
        .replace(/[^A-Za-z0-9]/g, '')
        .slice(0, 24) || 'host';
    const partition = join(folder, 'd', 'tpep_pickup_date=2021-01-03');
    // A pid that cannot be alive (above the kernel's pid_max), and this process, still writing.
    await writeFile(join(partition, `.4999999-${host}-abcdef.pipekit-tmp`), 'half a file');
    await writeFile(join(partition, `.${process.pid}-${host}-abcdef.pipekit-tmp`), 'in progress');
    await writePartitioned(store, take(table, new Int32Array([0])), 'd', { partitionBy: 'tpep_pickup_date' });
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(partition)).sort()).toEqual([`.${process.pid}-${host}-abcdef.pipekit-tmp`, PARTITION_FILE]);
  });

  it('filters by partition value without reading other partitions', async () => {
    const table = month();
    await writePartitioned(store, table, 'd', { partitionBy: 'tpep_pickup_date' });
    const read: string[] = [];
    const spying: ObjectStore = { ...store, read: (key) => (read.push(key), store.read(key)) };
    const back = await readPartitioned(spying, 'd', { filter: { tpep_pickup_date: ['2020-12-31', '2021-01-02'] } });
    expect([...countByDay(back)]).toEqual([
      ['2020-12-31', 16],
      ['2021-01-02', countByDay(table).get('2021-01-02')],
    ]);
    expect(read.every((k) => /=2020-12-31\/|=2021-01-02\//.test(k))).toBe(true);

    const none = await readPartitioned(store, 'd', { filter: { tpep_pickup_date: ['1999-01-01'] } });
    expect(none.numRows).toBe(0);
    expect(none.schema.fields.map((f) => f.name)).toContain('tpep_pickup_date');
    await expect(readPartitioned(store, 'd', { filter: { VendorID: ['1'] } })).rejects.toThrow(DataError);
  });

  it('append mode adds the rows to each partition, still as its one object', async () => {
    const table = month();
    await writePartitioned(store, table, 'd', { partitionBy: 'tpep_pickup_date' });
    await writePartitioned(store, table, 'd', { partitionBy: 'tpep_pickup_date', mode: 'append' });
    expect(await parquetFiles('d')).toHaveLength(32);
    expect((await readPartitioned(store, 'd')).numRows).toBe(2 * table.numRows);
    await writePartitioned(store, table, 'd', { partitionBy: 'tpep_pickup_date', mode: 'append' }, { encoder: 'wasm' });
    expect((await readPartitioned(store, 'd')).numRows).toBe(3 * table.numRows);
  });

  it('escapes string values like Hive, puts nulls in the default partition, and partitions by several columns', async () => {
    const strings = (values: (string | null)[]) => vectorFromArray(values, new Utf8()).data[0];
    const ints = (values: (number | null)[]) => vectorFromArray(values, new Int32()).data[0];
    const t = tableOf({
      zone: [new Utf8(), strings(['a/b', 'a/b', null, 'x=y', ''])],
      year: [new Int32(), ints([2020, 2021, 2021, null, 2021])],
      v: [new Int32(), ints([1, 2, 3, 4, 5])],
    });
    const result = await writePartitioned(store, t, 'z', { partitionBy: ['zone', 'year'] });
    expect(result.partitions.map((p) => p.value)).toEqual([
      'zone=a%2Fb/year=2020',
      'zone=a%2Fb/year=2021',
      'zone=x%3Dy/year=__HIVE_DEFAULT_PARTITION__',
      'zone=__HIVE_DEFAULT_PARTITION__/year=2021',
    ]);
    const back = await readPartitioned(store, 'z');
    const rows = back
      .toArray()
      .map((r) => r.toJSON())
      .sort((a, b) => a.v - b.v);
    // Partition values come back as strings; null and '' both become null (as in Hive and pyarrow).
    expect(rows).toEqual([
      { v: 1, zone: 'a/b', year: '2020' },
      { v: 2, zone: 'a/b', year: '2021' },
      { v: 3, zone: null, year: '2021' },
      { v: 4, zone: 'x=y', year: null },
      { v: 5, zone: null, year: '2021' },
    ]);
    const filtered = await readPartitioned(store, 'z', { filter: { zone: ['a/b'], year: ['2021'] } });
    expect(filtered.numRows).toBe(1);
  });

  it('names the dataset when it is missing, the column when it is not in the table, and refuses another partitioning', async () => {
    await expect(readPartitioned(store, 'nothing')).rejects.toThrow(NotFoundError);
    await expect(readPartitioned(store, 'nothing')).rejects.toThrow(store.url('nothing/'));
    const table = month();
    await expect(writePartitioned(store, table, 'd', { partitionBy: 'pickup_day' })).rejects.toThrow(/pickup_day/);
    await writePartitioned(store, table, 'd', { partitionBy: 'tpep_pickup_date' });
    await expect(writePartitioned(store, table, 'd', { partitionBy: 'VendorID' })).rejects.toThrow(/partitioned by tpep_pickup_date/);
  });

  it('reads datasets written by other tools: every Parquet file counts', async () => {
    const table = month();
    await writePartitioned(store, table, 'd', { partitionBy: 'tpep_pickup_date' });
    // Simulate pyarrow's uuid-named files.
    for (const key of await store.list('d/')) {
      await store.write(key.replace(/part-[^/]+$/, 'c0ffee.parquet'), await store.read(key));
      await store.delete([key]);
    }
    expect((await readPartitioned(store, 'd')).numRows).toBe(table.numRows);
  });
});

function tableOf(columns: Record<string, [DataType, Data]>): Table {
  const fields = Object.entries(columns).map(([name, [type]]) => new Field(name, type, true));
  const children = Object.values(columns).map(([, data]) => data);
  return new Table([
    new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: children[0].length, nullCount: 0, children })),
  ]);
}
