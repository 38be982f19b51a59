import { type Field as ArrowField, RecordBatch, Schema, Struct, Table, makeData, Field } from 'apache-arrow';
import type pg from './pg.ts';
import { DataError } from '../../errors.ts';
import { exactMicros, parseDate, parseTimestamp, parseTimestamptz } from './text-values.ts';
import { type LoadKind, arrowTypeOfLoadKind, loadKindOf } from './types.ts';

/** Rows fetched per round trip and per Arrow record batch for SELECT-like queries. */
const DEFAULT_BATCH_ROWS = 100_000;
const TWO_32 = 4_294_967_296;

/** Every value arrives as PostgreSQL's text; we parse it once into the typed column (no Date objects). */
const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

/**
 * Runs a query and returns its rows as an Arrow table typed by the result's
 * column OIDs (see `loadKindOf`: bigint → Int64, integer → Int32, numeric and
 * floats → Float64, timestamp → Timestamp µs, timestamptz → Timestamp µs UTC,
 * date → DateDay, boolean → Bool, everything else → Utf8 text).
 *
 * SELECT/WITH/VALUES/TABLE queries are read through a server-side cursor in
 * batches of `batchRows`, so a big result is never held as one giant array of
 * JS rows; each batch becomes one Arrow record batch.
 */
export async function queryToTable(
  client: pg.ClientBase,
  sql: string,
  params: readonly unknown[] = [],
  options: { batchRows?: number } = {},
): Promise<Table> {
  if (!/^\s*(select|with|values|table)\b/i.test(sql)) return plainQuery(client, sql, params);
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  await client.query('BEGIN');
  try {
    // Our parsers read ISO dates, whatever the database's default DateStyle is.
    await client.query(`SET LOCAL DateStyle = 'ISO, YMD'`);
    try {
      await client.query({ text: `DECLARE pipekit_load NO SCROLL CURSOR FOR ${sql}`, values: params as unknown[] });
    } catch (error) {
      // Not cursor-able (a data-modifying WITH, SELECT INTO): run it as it is.
      const code = (error as { code?: string }).code;
      if (code !== '0A000' && code !== '42601') throw error;
      await client.query('ROLLBACK');
      return plainQuery(client, sql, params);
    }
    const batches: RecordBatch[] = [];
    for (;;) {
      const page = await client.query({ text: `FETCH FORWARD ${batchRows} FROM pipekit_load`, rowMode: 'array', types: RAW_TEXT });
      const rows = page.rows as unknown as (string | null)[][];
      if (rows.length > 0 || batches.length === 0) batches.push(toBatch(page.fields, rows, sql));
      if (rows.length < batchRows) break;
    }
    await client.query('COMMIT');
    return new Table(batches);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

async function plainQuery(client: pg.ClientBase, sql: string, params: readonly unknown[]): Promise<Table> {
  const result = await client.query({ text: sql, values: params as unknown[], rowMode: 'array', types: RAW_TEXT });
  const last = Array.isArray(result) ? (result as pg.QueryResult[]).at(-1)! : result;
  return new Table(toBatch(last.fields ?? [], last.rows as unknown as (string | null)[][], sql));
}

function toBatch(fields: readonly pg.FieldDef[], rows: (string | null)[][], sql: string): RecordBatch {
  const arrowFields: ArrowField[] = [];
  const children = fields.map((field, c) => {
    const kind = loadKindOf(field.dataTypeID);
    const type = arrowTypeOfLoadKind(kind);
    arrowFields.push(new Field(field.name, type, true));
    return column(kind, type, rows, c, field.name, sql);
  });
  const schema = new Schema(arrowFields);
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows.length, children, nullCount: 0 }));
}

function column(
  kind: LoadKind,
  type: ReturnType<typeof arrowTypeOfLoadKind>,
  rows: (string | null)[][],
  c: number,
  name: string,
  sql: string,
) {
  const n = rows.length;
  const valid = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  const isNull = (r: number, v: string | null): v is null => {
    if (v === null) {
      nulls++;
      return true;
    }
    valid[r >> 3] |= 1 << (r & 7);
    return false;
  };
  /** `infinity` timestamps and dates have no Arrow value: they load as null. */
  const setNull = (r: number) => {
    valid[r >> 3] &= ~(1 << (r & 7));
    nulls++;
  };
  const bad = (value: string) =>
    new DataError({ source: `query ${sql.slice(0, 60)}`, column: name, value, message: `cannot read this ${kind} value` });
  const finish = <T extends object>(extra: T) =>
    makeData({ type, length: n, nullCount: nulls, nullBitmap: nulls > 0 ? valid : undefined, ...extra } as never);

  switch (kind) {
    case 'int64':
    case 'timestamp':
    case 'timestamptz': {
      const out = new BigInt64Array(n);
      const words = new Int32Array(out.buffer);
      const parse = kind === 'int64' ? Number : kind === 'timestamp' ? parseTimestamp : parseTimestamptz;
      for (let r = 0; r < n; r++) {
        const v = rows[r][c];
        if (isNull(r, v)) continue;
        const x = parse(v);
        if (Number.isSafeInteger(x)) {
          const hi = Math.floor(x / TWO_32);
          words[2 * r] = (x - hi * TWO_32) | 0;
          words[2 * r + 1] = hi;
        } else if (/infinity/.test(v)) setNull(r);
        else {
          // Beyond 2^53: rare, so a BigInt here costs nothing overall.
          const exact = kind === 'int64' ? (/^-?\d+$/.test(v) ? BigInt(v) : undefined) : exactMicros(v, kind === 'timestamptz');
          if (exact === undefined) throw bad(v);
          out[r] = exact;
        }
      }
      return finish({ data: out });
    }
    case 'int32':
    case 'date': {
      const out = new Int32Array(n);
      for (let r = 0; r < n; r++) {
        const v = rows[r][c];
        if (isNull(r, v)) continue;
        const x = kind === 'int32' ? Number(v) : parseDate(v);
        if (Number.isInteger(x)) out[r] = x;
        else if (/infinity/.test(v)) setNull(r);
        else throw bad(v);
      }
      return finish({ data: out });
    }
    case 'float64': {
      const out = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        const v = rows[r][c];
        if (!isNull(r, v)) out[r] = Number(v);
      }
      return finish({ data: out });
    }
    case 'bool': {
      const out = new Uint8Array((n + 7) >> 3);
      for (let r = 0; r < n; r++) {
        const v = rows[r][c];
        if (!isNull(r, v) && v === 't') out[r >> 3] |= 1 << (r & 7);
      }
      return finish({ data: out });
    }
    case 'string': {
      const offsets = new Int32Array(n + 1);
      let total = 0;
      for (let r = 0; r < n; r++) {
        const v = rows[r][c];
        if (!isNull(r, v)) total += Buffer.byteLength(v, 'utf8');
        offsets[r + 1] = total;
      }
      const bytes = Buffer.allocUnsafe(total);
      for (let r = 0; r < n; r++) {
        const v = rows[r][c];
        if (v !== null) bytes.write(v, offsets[r], 'utf8');
      }
      return finish({ valueOffsets: offsets, data: new Uint8Array(bytes.buffer, bytes.byteOffset, total) });
    }
  }
}
