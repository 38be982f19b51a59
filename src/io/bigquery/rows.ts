/**
 * Query results → Arrow. Rows arrive raw (`{ f: [{ v }] }`, values as
 * strings, TIMESTAMP as int64 microseconds) and are typed by the result
 * schema straight into typed arrays.
 */
import { Table, type Vector } from 'apache-arrow';
import { boolVector, dateVector, float64Vector, int64Vector, timestampVector, utf8Vector } from '../../table/make.ts';
import { normalizeType, type BigQueryField } from './schema.ts';

export type RawRow = { f: { v: unknown }[] };

/** Builds a table from raw rows; unknown types (NUMERIC, JSON, STRUCT…) come back as strings. */
export function tableFromRows(fields: readonly BigQueryField[], rows: readonly RawRow[]): Table {
  const n = rows.length;
  const columns: Record<string, Vector> = {};
  fields.forEach((field, c) => {
    const valid = new Uint8Array(Math.ceil(n / 8));
    const raw = (i: number) => {
      const v = rows[i].f[c]?.v;
      if (v === null || v === undefined) return undefined;
      valid[i >> 3] |= 1 << (i & 7);
      return typeof v === 'string' ? v : JSON.stringify(v);
    };
    const type = normalizeType(field.type);
    switch (type) {
      case 'INT64':
      case 'TIMESTAMP':
      case 'DATETIME': {
        const values = new BigInt64Array(n);
        for (let i = 0; i < n; i++) {
          const v = raw(i);
          if (v !== undefined) values[i] = type === 'DATETIME' ? datetimeMicros(v) : type === 'TIMESTAMP' ? timestampMicros(v) : BigInt(v);
        }
        columns[field.name] = type === 'INT64' ? int64Vector(values, valid) : timestampVector(values, valid);
        break;
      }
      case 'FLOAT64':
      case 'NUMERIC':
      case 'BIGNUMERIC': {
        const values = new Float64Array(n);
        for (let i = 0; i < n; i++) values[i] = Number(raw(i) ?? 0);
        columns[field.name] = float64Vector(values, valid);
        break;
      }
      case 'BOOL': {
        const bits = new Uint8Array(Math.ceil(n / 8));
        for (let i = 0; i < n; i++) if (raw(i) === 'true') bits[i >> 3] |= 1 << (i & 7);
        columns[field.name] = boolVector(bits, n, valid);
        break;
      }
      case 'DATE': {
        const days = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          const v = raw(i);
          if (v !== undefined) days[i] = Date.parse(`${v}T00:00:00Z`) / 86_400_000;
        }
        columns[field.name] = dateVector(days, valid);
        break;
      }
      default: {
        const encoder = new TextEncoder();
        const parts: Uint8Array[] = [];
        const offsets = new Int32Array(n + 1);
        for (let i = 0; i < n; i++) {
          const bytes = encoder.encode(raw(i) ?? '');
          parts.push(bytes);
          offsets[i + 1] = offsets[i] + bytes.length;
        }
        const data = new Uint8Array(offsets[n]);
        parts.forEach((p, i) => data.set(p, offsets[i]));
        columns[field.name] = utf8Vector(offsets, data, valid);
      }
    }
  });
  return new Table(columns);
}

/** TIMESTAMP values: int64 microseconds (useInt64Timestamp), or float seconds from older endpoints. */
function timestampMicros(v: string): bigint {
  if (/^-?\d+$/.test(v)) return BigInt(v);
  if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v)) return BigInt(Math.round(Number(v) * 1e6));
  return datetimeMicros(v);
}

/** `2021-01-01T00:30:10.123456` (DATETIME, naive) → microseconds, keeping all six digits. */
function datetimeMicros(v: string): bigint {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?/.exec(v);
  if (!m) return BigInt(Date.parse(v)) * 1000n;
  const seconds = BigInt(Date.parse(`${m[1]}T${m[2]}Z`) / 1000);
  return seconds * 1_000_000n + BigInt((m[3] ?? '').padEnd(6, '0') || '0');
}
