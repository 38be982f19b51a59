/** Adds `tpep_pickup_date` (DateDay) derived from `tpep_pickup_datetime`, as the Zoomcamp exporter does. */
import { DateDay, Field, makeData, RecordBatch, Schema, Struct, Table, TimeUnit } from 'apache-arrow';
import type { Timestamp } from 'apache-arrow';

const PER_DAY: Record<TimeUnit, bigint> = {
  [TimeUnit.SECOND]: 86_400n,
  [TimeUnit.MILLISECOND]: 86_400_000n,
  [TimeUnit.MICROSECOND]: 86_400_000_000n,
  [TimeUnit.NANOSECOND]: 86_400_000_000_000n,
};

export function withPickupDate(table: Table): Table {
  const unit = (table.getChild('tpep_pickup_datetime')!.type as Timestamp).unit;
  const fields = [...table.schema.fields, new Field('tpep_pickup_date', new DateDay(), true)];
  const schema = new Schema(fields);
  return new Table(
    table.batches.map((b) => {
      const ts = b.getChild('tpep_pickup_datetime')!.data[0];
      const values = ts.values as BigInt64Array;
      const days = new Int32Array(b.numRows);
      for (let i = 0; i < days.length; i++) {
        const v = values[ts.offset + i];
        days[i] = Number(v / PER_DAY[unit]) - (v < 0n && v % PER_DAY[unit] !== 0n ? 1 : 0);
      }
      const day = makeData({ type: new DateDay(), length: b.numRows, data: days, nullCount: ts.nullCount, nullBitmap: ts.nullBitmap });
      return new RecordBatch(
        schema,
        makeData({ type: new Struct(fields), length: b.numRows, nullCount: 0, children: [...b.data.children, day] }),
      );
    }),
  );
}
