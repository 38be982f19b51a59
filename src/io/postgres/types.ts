import { type DataType, TimestampMicrosecond, Type, type Field } from 'apache-arrow';
import { DataError } from '../../errors.ts';
import { arrowType } from '../../table/make.ts';

/**
 * How each Arrow column is written with binary COPY: the PostgreSQL column
 * type (spelled as `format_type()` prints it, so an existing table's columns
 * compare by string) and the wire encoding the COPY encoder uses.
 */
export interface PgColumnType {
  /** `format_type()` spelling, also valid DDL: `bigint`, `timestamp without time zone`. */
  readonly sql: string;
  /** Binary wire encoding; see copy-binary.ts. */
  readonly wire: 'int2' | 'int4' | 'int8' | 'float4' | 'float8' | 'bool' | 'text' | 'timestamp' | 'date';
}

const T = {
  smallint: { sql: 'smallint', wire: 'int2' },
  integer: { sql: 'integer', wire: 'int4' },
  bigint: { sql: 'bigint', wire: 'int8' },
  real: { sql: 'real', wire: 'float4' },
  double: { sql: 'double precision', wire: 'float8' },
  boolean: { sql: 'boolean', wire: 'bool' },
  text: { sql: 'text', wire: 'text' },
  timestamp: { sql: 'timestamp without time zone', wire: 'timestamp' },
  timestamptz: { sql: 'timestamp with time zone', wire: 'timestamp' },
  date: { sql: 'date', wire: 'date' },
} as const satisfies Record<string, PgColumnType>;

/**
 * The PostgreSQL type for an Arrow field. Fixed by the Arrow type, never by
 * the data: Int64 is always `bigint` (Mage picks smallint when a sample's
 * values are small, and the next month's load then overflows).
 *
 * @throws DataError for types binary COPY cannot carry yet (lists, structs, decimals…).
 */
export function pgTypeOf(field: Field, source = 'postgres export'): PgColumnType {
  const type = field.type as DataType;
  switch (type.typeId) {
    case Type.Int: {
      const { bitWidth, isSigned } = type as unknown as { bitWidth: number; isSigned: boolean };
      // Widen unsigned types one step so every value fits.
      if (bitWidth === 8 || (bitWidth === 16 && isSigned)) return T.smallint;
      if (bitWidth === 16 || (bitWidth === 32 && isSigned)) return T.integer;
      if (bitWidth === 32 || (bitWidth === 64 && isSigned)) return T.bigint;
      break; // uint64 may not fit bigint
    }
    case Type.Float: {
      const { precision } = type as unknown as { precision: number };
      if (precision === 2) return T.double; // Precision.DOUBLE
      if (precision === 1) return T.real; // SINGLE; HALF floats are not supported
      break;
    }
    case Type.Bool:
      return T.boolean;
    case Type.Utf8:
    case Type.LargeUtf8:
      return T.text;
    case Type.Timestamp:
      return (type as unknown as { timezone?: string | null }).timezone ? T.timestamptz : T.timestamp;
    case Type.Date:
      return T.date;
    case Type.Dictionary: {
      const { dictionary } = type as unknown as { dictionary: DataType };
      if (dictionary.typeId === Type.Utf8) return T.text;
      break;
    }
  }
  throw new DataError({
    source,
    column: field.name,
    message: `Arrow type ${String(type)} has no PostgreSQL column type in pipekit`,
    hint: 'cast the column to int64, int32, float64, string, bool, timestamp or date before exporting',
  });
}

/** PostgreSQL type OIDs (pg_type.oid) that loads turn into typed Arrow columns. */
export const PG_OID = {
  bool: 16,
  int8: 20,
  int2: 21,
  int4: 23,
  oid: 26,
  float4: 700,
  float8: 701,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
} as const;

/** What a loaded column becomes; everything not listed is its text form (uuid, json, interval…). */
export type LoadKind = 'int64' | 'int32' | 'float64' | 'bool' | 'date' | 'timestamp' | 'timestamptz' | 'string';

/** The Arrow column kind for a result column's type OID. `numeric` becomes float64, as in pandas. */
export function loadKindOf(oid: number): LoadKind {
  switch (oid) {
    case PG_OID.int8:
      return 'int64';
    case PG_OID.int2:
    case PG_OID.int4:
      return 'int32';
    case PG_OID.oid:
      return 'int64';
    case PG_OID.float4:
    case PG_OID.float8:
    case PG_OID.numeric:
      return 'float64';
    case PG_OID.bool:
      return 'bool';
    case PG_OID.date:
      return 'date';
    case PG_OID.timestamp:
      return 'timestamp';
    case PG_OID.timestamptz:
      return 'timestamptz';
    default:
      return 'string';
  }
}

/** The Arrow type of a loaded column kind. Timestamps are microseconds (PostgreSQL's own precision). */
export function arrowTypeOfLoadKind(kind: LoadKind): DataType {
  return kind === 'timestamptz' ? new TimestampMicrosecond('UTC') : arrowType(kind);
}
