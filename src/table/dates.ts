/** Date parts of timestamps. */
import { type DateDay, TimeUnit, Type, type Vector } from 'apache-arrow';
import { dateVector } from './make.ts';
import { readInt64 } from './int64.ts';
import { bitmapBytes } from './bitmap.ts';
import { isValid } from './values.ts';

const PER_DAY: Record<number, number> = {
  [TimeUnit.SECOND]: 86_400,
  [TimeUnit.MILLISECOND]: 86_400_000,
  [TimeUnit.MICROSECOND]: 86_400_000_000,
  [TimeUnit.NANOSECOND]: 86_400_000_000_000,
};

/**
 * The calendar day of each timestamp, as a DateDay vector: the day of the
 * wall-clock time for naive timestamps (pandas' `.dt.date`), the UTC day for
 * zoned ones. Nulls stay null. Used to partition by pickup date.
 */
export function toDate(timestamps: Vector): Vector<DateDay> {
  const type = timestamps.type as { typeId: Type; unit?: TimeUnit };
  if (type.typeId === Type.Date && timestamps.data.every((d) => d.values instanceof Int32Array)) return timestamps as Vector<DateDay>;
  if (type.typeId !== Type.Timestamp && type.typeId !== Type.Date)
    throw new TypeError(`toDate: expected timestamps, got ${timestamps.type}`);
  const perDay = type.typeId === Type.Date ? 86_400_000 : PER_DAY[type.unit!];
  const n = timestamps.length;
  const days = new Int32Array(n);
  const valid = timestamps.nullCount > 0 ? new Uint8Array(bitmapBytes(n)) : null;
  let at = 0;
  for (const data of timestamps.data) {
    const v = data.values as BigInt64Array;
    const words = new Int32Array(v.buffer, v.byteOffset, data.length * 2);
    for (let i = 0; i < data.length; i++) days[at + i] = Math.floor(readInt64(words, i) / perDay);
    if (valid) for (let i = 0; i < data.length; i++) if (isValid(data, i)) valid[(at + i) >> 3] |= 1 << ((at + i) & 7);
    at += data.length;
  }
  return dateVector(days, valid);
}
