/**
 * Newline-delimited JSON records (`.json` in the lake, like pandas'
 * `to_json(orient='records', lines=True)`): one object per row.
 *
 * Values: Int64 as exact digits, timestamps as ISO 8601 text with
 * microseconds (`Z` only when the column has a time zone), dates as
 * `YYYY-MM-DD`, NaN/±Infinity and nulls as `null`.
 */
import { DateUnit, TimeUnit, Type, makeVector, Table } from 'apache-arrow';
import type { Data, DataType, DateDay, Timestamp, Vector } from 'apache-arrow';
import { DataError } from '../../errors.ts';
import { boolVector, dateVector, float64Vector, int32Vector, int64Vector, timestampVector, utf8Vector } from '../../table/make.ts';
import type { ColumnType } from '../types.ts';
import { formatEpochDay, parseEpochDay } from './hive-path.ts';

/** Encodes every row of `table` as one JSON object per line. */
export function encodeJsonLines(table: Table): Uint8Array {
  const names = table.schema.fields.map((f) => `${JSON.stringify(f.name)}:`);
  const lines: string[] = [];
  for (const batch of table.batches) {
    const cells = batch.data.children.map((data) => cellWriter(data));
    for (let r = 0; r < batch.numRows; r++) {
      lines.push(`{${cells.map((cell, c) => names[c] + cell(r)).join(',')}}`);
    }
  }
  return new TextEncoder().encode(lines.length ? `${lines.join('\n')}\n` : '');
}

function cellWriter(data: Data): (row: number) => string {
  const valid = (i: number) => {
    if (!data.nullBitmap || data.nullCount === 0) return true;
    const j = data.offset + i;
    return (data.nullBitmap[j >> 3] & (1 << (j & 7))) !== 0;
  };
  const raw = rawWriter(data);
  return (i) => (valid(i) ? raw(i) : 'null');
}

function rawWriter(data: Data): (row: number) => string {
  const type: DataType = data.type;
  const at = (i: number) => data.offset + i;
  switch (type.typeId) {
    case Type.Int:
      return (i) => String((data.values as ArrayLike<number | bigint>)[at(i)]);
    case Type.Float:
      return (i) => {
        const v = (data.values as Float64Array)[at(i)];
        return Number.isFinite(v) ? String(v) : 'null';
      };
    case Type.Date:
      return (type as DateDay).unit === DateUnit.DAY
        ? (i) => `"${formatEpochDay((data.values as Int32Array)[at(i)])}"`
        : (i) => `"${formatEpochDay(Math.floor(Number((data.values as unknown as BigInt64Array)[at(i)]) / 86_400_000))}"`;
    case Type.Timestamp: {
      const t = type as Timestamp;
      const perMicro = [1_000_000n, 1000n, 1n, 1n][t.unit];
      const zone = t.timezone ? 'Z' : '';
      return (i) => {
        let v = (data.values as BigInt64Array)[at(i)];
        v = t.unit === TimeUnit.NANOSECOND ? v / 1000n : v * perMicro;
        return `"${formatMicros(v)}${zone}"`;
      };
    }
    default: {
      const vector = makeVector(data);
      return (i) => JSON.stringify(toJsonValue(vector.get(i)));
    }
  }
}

function formatMicros(micros: bigint): string {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const sub = Number(micros - ms * 1000n);
  return `${new Date(Number(ms)).toISOString().slice(0, 23)}${String(sub).padStart(3, '0')}`;
}

function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value && typeof value === 'object' && 'toJSON' in value) return (value as { toJSON(): unknown }).toJSON();
  return value;
}

// ---------------------------------------------------------------------------

/**
 * Decodes JSON lines into a table. Declared `columns` are converted to their
 * type; others are inferred: integers → int64, other numbers → float64,
 * booleans → bool, anything else → string. Columns appear in first-seen order.
 */
export function decodeJsonLines(bytes: Uint8Array, source: string, columns: Readonly<Record<string, ColumnType>> = {}): Table {
  const text = new TextDecoder().decode(bytes);
  const rows: Record<string, unknown>[] = [];
  const names = new Set<string>();
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    if (raw.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(raw);
    } catch (error) {
      throw new DataError({
        source,
        row: line,
        value: raw,
        message: `is not valid JSON: ${(error as Error).message}`,
        hint: 'each line must be one JSON object (newline-delimited JSON)',
      });
    }
    if (!row || typeof row !== 'object' || Array.isArray(row)) {
      throw new DataError({
        source,
        row: line,
        value: raw,
        message: 'is not a JSON object',
        hint: 'each line must be one JSON object (newline-delimited JSON)',
      });
    }
    for (const k of Object.keys(row)) names.add(k);
    rows.push(row as Record<string, unknown>);
  }
  const vectors: Record<string, Vector> = {};
  for (const name of names) {
    const values = rows.map((r) => r[name] ?? null);
    vectors[name] = buildColumn(values, columns[name] ?? inferColumnType(values), source, name);
  }
  return new Table(vectors);
}

function inferColumnType(values: readonly unknown[]): ColumnType {
  const present = values.filter((v) => v !== null);
  if (present.length > 0 && present.every((v) => typeof v === 'number')) {
    return present.every((v) => Number.isSafeInteger(v)) ? 'int64' : 'float64';
  }
  if (present.length > 0 && present.every((v) => typeof v === 'boolean')) return 'bool';
  return 'string';
}

function buildColumn(values: readonly unknown[], type: ColumnType, source: string, column: string): Vector {
  const n = values.length;
  const valid = new Uint8Array(Math.ceil(n / 8));
  const bad = (i: number): never => {
    throw new DataError({
      source,
      column,
      value: JSON.stringify(values[i]),
      message: `is not a valid ${type}`,
      hint: `fix the data or declare the column with another type`,
    });
  };
  const fill = <A extends { [i: number]: unknown }>(out: A, convert: (v: unknown, i: number) => A[number]): A => {
    values.forEach((v, i) => {
      if (v === null) return;
      valid[i >> 3] |= 1 << (i & 7);
      out[i] = convert(v, i);
    });
    return out;
  };
  switch (type) {
    case 'int64':
    case 'int32':
      return int64Or32(
        type,
        fill(new BigInt64Array(n), (v, i) =>
          typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : typeof v === 'string' && /^-?\d+$/.test(v) ? BigInt(v) : bad(i),
        ),
        valid,
      );
    case 'float64':
      return float64Vector(
        fill(new Float64Array(n), (v, i) =>
          typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : bad(i),
        ),
        valid,
      );
    case 'bool': {
      const bits = new Uint8Array(Math.ceil(n / 8));
      fill([] as unknown[], (v, i) => {
        if (typeof v !== 'boolean') bad(i);
        if (v) bits[i >> 3] |= 1 << (i & 7);
        return v;
      });
      return boolVector(bits, n, valid);
    }
    case 'date':
      return dateVector(
        fill(new Int32Array(n), (v, i) => (typeof v === 'string' ? parseEpochDay(v.slice(0, 10)) : undefined) ?? bad(i)),
        valid,
      );
    case 'timestamp':
      return timestampVector(
        fill(
          new BigInt64Array(n),
          (v, i) =>
            (typeof v === 'number' ? BigInt(Math.round(v)) * 1000n : typeof v === 'string' ? parseIsoMicros(v) : undefined) ?? bad(i),
        ),
        valid,
      );
    case 'string': {
      const encoder = new TextEncoder();
      const parts = values.map((v) => (v === null ? new Uint8Array(0) : encoder.encode(typeof v === 'string' ? v : JSON.stringify(v))));
      const offsets = new Int32Array(n + 1);
      parts.forEach((p, i) => (offsets[i + 1] = offsets[i] + p.length));
      const bytes = new Uint8Array(offsets[n]);
      parts.forEach((p, i) => bytes.set(p, offsets[i]));
      values.forEach((v, i) => v !== null && (valid[i >> 3] |= 1 << (i & 7)));
      return utf8Vector(offsets, bytes, valid);
    }
  }
}

function int64Or32(type: 'int64' | 'int32', values: BigInt64Array, valid: Uint8Array): Vector {
  return type === 'int64'
    ? int64Vector(values, valid)
    : int32Vector(
        Int32Array.from(values, (v) => Number(v)),
        valid,
      );
}

const ISO = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

/** Microseconds since the epoch for an ISO 8601 timestamp; naive ones are taken as UTC wall time. */
export function parseIsoMicros(text: string): bigint | undefined {
  const m = ISO.exec(text.trim());
  if (!m) return undefined;
  const day = parseEpochDay(m[1]);
  if (day === undefined) return undefined;
  const [h, min, s] = [Number(m[2]), Number(m[3]), Number(m[4])];
  if (h > 23 || min > 59 || s > 59) return undefined;
  let micros =
    BigInt(day) * 86_400_000_000n + BigInt(h * 3600 + min * 60 + s) * 1_000_000n + BigInt((m[5] ?? '').padEnd(6, '0').slice(0, 6) || '0');
  if (m[6] && m[6] !== 'Z') {
    const sign = m[6][0] === '-' ? -1 : 1;
    const digits = m[6].slice(1).replace(':', '');
    micros -= BigInt(sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60) * 1_000_000n;
  }
  return micros;
}
