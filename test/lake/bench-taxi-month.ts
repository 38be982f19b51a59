/** Timings for a taxi-month-shaped table (1,369,765 rows): `npx tsx test/lake/bench-taxi-month.ts`. Not a test. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, DateDay, makeData, RecordBatch, Schema, Struct, Table } from 'apache-arrow';
import { taxiLikeTable, TAXI_MONTH_ROWS } from '../parquet/taxi-like.ts';
import { writeParquet, readParquet } from '../../src/io/parquet/index.ts';
import { createLocalStore } from '../../src/io/lake/local-store.ts';
import { writePartitioned } from '../../src/io/lake/partitioned-write.ts';
import { readPartitioned } from '../../src/io/lake/partitioned-read.ts';
const t0 = taxiLikeTable({ rows: TAXI_MONTH_ROWS, stragglers: 16 });
const b = t0.batches[0];
const ts = b.getChild('tpep_pickup_datetime')!.data[0].values as BigInt64Array;
const days = new Int32Array(b.numRows);
for (let i = 0; i < days.length; i++) days[i] = Number(ts[i] / 86_400_000_000n);
const fields = [...t0.schema.fields, new Field('tpep_pickup_date', new DateDay(), true)];
const t = new Table([
  new RecordBatch(
    new Schema(fields),
    makeData({
      type: new Struct(fields),
      length: b.numRows,
      nullCount: 0,
      children: [...b.data.children, makeData({ type: new DateDay(), length: b.numRows, data: days })],
    }),
  ),
]);
const dir = await mkdtemp(join(tmpdir(), 'pk-bench-'));
const store = createLocalStore(dir);
for (let k = 0; k < 3; k++) {
  let s = performance.now();
  const bytes = writeParquet(t);
  const w = performance.now() - s;
  s = performance.now();
  readParquet(bytes);
  const r = performance.now() - s;
  s = performance.now();
  const res = await writePartitioned(store, t, 'nyc', { partitionBy: 'tpep_pickup_date' });
  const p = performance.now() - s;
  s = performance.now();
  const back = await readPartitioned(store, 'nyc');
  const pr = performance.now() - s;
  console.log(
    `single write ${w.toFixed(0)} ms, read ${r.toFixed(0)} ms; partitioned write ${p.toFixed(0)} ms (${res.partitions.length} parts), read ${pr.toFixed(0)} ms (${back.numRows})`,
  );
}
await rm(dir, { recursive: true });
