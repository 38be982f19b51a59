import {
  Bool,
  DateDay,
  Float64,
  Int32,
  Int64,
  Table,
  TimestampMicrosecond,
  TimestampNanosecond,
  TimestampMillisecond,
  Utf8,
  tableFromArrays,
  vectorFromArray,
  makeTable,
  makeData,
  makeVector,
} from 'apache-arrow';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoProfile } from '../../src/config/io-profile.ts';
import { DataError, NonRetriableError } from '../../src/errors.ts';
import { createPostgresConnector, exportTable } from '../../src/io/postgres/index.ts';
import type { PostgresConnector } from '../../src/io/types.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';

let db: TestDatabase;
let client: pg.Client;
let connector: PostgresConnector;

beforeAll(async () => {
  db = await createTestDatabase('export');
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  connector = createPostgresConnector(new IoProfile({ name: 'test', file: 'io_config.yaml', root: '.', values: db.profileValues }));
});
afterAll(async () => {
  await connector?.close();
  await client?.end();
  await db?.drop();
});

const rows = async (sql: string) => (await client.query(sql)).rows;

/** A column straight from typed values (Arrow's builders want ms numbers, not raw int64 micros). */
function raw(
  type: Int64 | TimestampMicrosecond | TimestampMillisecond | TimestampNanosecond | DateDay,
  values: (bigint | number | null)[],
) {
  const valid = new Uint8Array((values.length + 7) >> 3);
  values.forEach((v, i) => v !== null && (valid[i >> 3] |= 1 << (i & 7)));
  const nullCount = values.filter((v) => v === null).length;
  const data = type instanceof DateDay ? Int32Array.from(values, (v) => Number(v ?? 0)) : BigInt64Array.from(values, (v) => BigInt(v ?? 0));
  return makeVector(makeData({ type, length: values.length, data, nullCount, nullBitmap: nullCount ? valid : undefined } as never));
}

function trips(ids: number[]): Table {
  return tableFromArrays({
    id: BigInt64Array.from(ids.map(BigInt)),
    fare: Float64Array.from(ids.map((i) => i * 1.5)),
  });
}

describe('if_exists', () => {
  it('creates schema and table, then replace swaps rows, append adds, fail refuses', async () => {
    const created = await connector.export(trips([1, 2, 3]), { schema: 'ny_taxi', table: 'trips' });
    expect(created.rows).toBe(3);
    expect(created.target).toBe(`postgres://${db.user}@${db.host}:${db.port}/${db.database} "ny_taxi"."trips"`);
    expect(
      await rows(
        `SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'ny_taxi.trips'::regclass AND attnum > 0 ORDER BY attnum`,
      ),
    ).toEqual([{ t: 'bigint' }, { t: 'double precision' }]);

    await connector.export(trips([7, 8]), { schema: 'ny_taxi', table: 'trips', ifExists: 'replace' });
    expect(await rows('SELECT id::int FROM ny_taxi.trips ORDER BY id')).toEqual([{ id: 7 }, { id: 8 }]);

    await connector.export(trips([9]), { schema: 'ny_taxi', table: 'trips', ifExists: 'append' });
    expect(await rows('SELECT id::int FROM ny_taxi.trips ORDER BY id')).toEqual([{ id: 7 }, { id: 8 }, { id: 9 }]);

    const failed = connector.export(trips([10]), { schema: 'ny_taxi', table: 'trips', ifExists: 'fail' });
    await expect(failed).rejects.toBeInstanceOf(NonRetriableError);
    await expect(failed).rejects.toThrow(/"ny_taxi"."trips" already exists/);
    expect(await rows('SELECT count(*)::int AS n FROM ny_taxi.trips')).toEqual([{ n: 3 }]);
  });

  it('replace with the same columns truncates in place: grants, indexes and views survive', async () => {
    await connector.export(trips([1, 2]), { table: 'kept' });
    await client.query('CREATE INDEX kept_id ON public.kept (id); CREATE VIEW kept_view AS SELECT id FROM public.kept');
    await connector.export(trips([5, 6, 7]), { table: 'kept' });
    expect(await rows('SELECT count(*)::int AS n FROM kept_view')).toEqual([{ n: 3 }]);
    expect(await rows(`SELECT indexname FROM pg_indexes WHERE tablename = 'kept'`)).toEqual([{ indexname: 'kept_id' }]);
  });

  it('replace with new columns rebuilds the table; a dependent view gives an actionable error and keeps everything', async () => {
    await connector.export(trips([1]), { table: 'reshaped' });
    await connector.export(tableFromArrays({ name: ['a', 'b'] }), { table: 'reshaped' });
    expect(await rows('SELECT name FROM reshaped ORDER BY name')).toEqual([{ name: 'a' }, { name: 'b' }]);

    await client.query('CREATE VIEW reshaped_view AS SELECT name FROM reshaped');
    const err = await connector.export(trips([1]), { table: 'reshaped' }).catch((e) => e);
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toMatch(/depend/);
    expect(err.hint).toMatch(/drop the dependent views/);
    expect(await rows('SELECT name FROM reshaped_view ORDER BY name')).toEqual([{ name: 'a' }, { name: 'b' }]);
  });

  it('append casts into an existing table with other types and names a missing column', async () => {
    await client.query("CREATE TABLE narrow (id integer, fare numeric(10,2), extra text DEFAULT 'x')");
    const result = await connector.export(trips([1, 2]), { table: 'narrow', ifExists: 'append' });
    expect(result.rows).toBe(2);
    expect(await rows('SELECT id, fare::text, extra FROM narrow ORDER BY id')).toEqual([
      { id: 1, fare: '1.50', extra: 'x' },
      { id: 2, fare: '3.00', extra: 'x' },
    ]);
    const err = await connector
      .export(tableFromArrays({ other: Int32Array.of(1) }), { table: 'narrow', ifExists: 'append' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toMatch(/"other"/);
    expect(err.hint).toMatch(/ALTER TABLE "public"."narrow" ADD COLUMN "other" integer/);
  });

  it('append creates a missing table', async () => {
    expect((await connector.export(trips([1]), { table: 'fresh', ifExists: 'append' })).rows).toBe(1);
  });
});

describe('atomicity', () => {
  /** 30k rows whose last one holds a NUL byte, which PostgreSQL text rejects — long after the first chunk. */
  function poisoned(n = 30_000): Table {
    const names = Array.from({ length: n }, (_, i) => `name-${i}`);
    names[n - 1] = 'bad\u0000value';
    return tableFromArrays({ id: Int32Array.from({ length: n }, (_, i) => i), name: names });
  }

  it('a failure mid-replace leaves the previous table and rows', async () => {
    const pool = new pg.Pool({ connectionString: db.url });
    try {
      await exportTable(pool, tableFromArrays({ id: Int32Array.of(1, 2), name: ['old-1', 'old-2'] }), {
        schema: 'public',
        table: 'atomic',
      });
      // Same columns → the TRUNCATE path; small chunks so many reach the server before the bad row.
      const err = await exportTable(pool, poisoned(), { schema: 'public', table: 'atomic', chunkBytes: 16 * 1024 }).catch((e) => e);
      expect(err).toBeInstanceOf(DataError);
      expect(err.message).toMatch(/row 30000/);
      expect(err.column).toBe('name');
      expect(err.hint).toMatch(/NUL/);
      expect(await rows('SELECT id, name FROM atomic ORDER BY id')).toEqual([
        { id: 1, name: 'old-1' },
        { id: 2, name: 'old-2' },
      ]);

      // Different columns → the DROP + CREATE path, equally atomic.
      const reshaped = poisoned();
      const wider = new Table({
        ...Object.fromEntries(reshaped.schema.fields.map((f) => [f.name, reshaped.getChild(f.name)!])),
        more: vectorFromArray(new Array(reshaped.numRows).fill(1.5), new Float64()),
      });
      await expect(exportTable(pool, wider, { schema: 'public', table: 'atomic', chunkBytes: 16 * 1024 })).rejects.toBeInstanceOf(
        DataError,
      );
      expect(await rows('SELECT id, name FROM atomic ORDER BY id')).toEqual([
        { id: 1, name: 'old-1' },
        { id: 2, name: 'old-2' },
      ]);
    } finally {
      await pool.end();
    }
  });

  it('a failure mid-append adds no rows, and a failed create leaves no table', async () => {
    await expect(connector.export(poisoned(), { table: 'atomic_append', ifExists: 'append' })).rejects.toBeInstanceOf(DataError);
    expect(await rows(`SELECT to_regclass('public.atomic_append') AS t`)).toEqual([{ t: null }]);
    await connector.export(tableFromArrays({ id: Int32Array.of(1), name: ['first'] }), { table: 'atomic_append' });
    await expect(connector.export(poisoned(), { table: 'atomic_append', ifExists: 'append' })).rejects.toBeInstanceOf(DataError);
    expect(await rows('SELECT count(*)::int AS n FROM atomic_append')).toEqual([{ n: 1 }]);
    // The connector's pool still works after the failures.
    expect((await connector.query('SELECT 1 AS one')).getChild('one')!.get(0)).toBe(1);
  });
});

describe('identifiers', () => {
  it('names columns as Mage does by default: lower case, cleaned, reserved words prefixed', async () => {
    const table = tableFromArrays({
      VendorID: Int32Array.of(1),
      PULocationID: Int32Array.of(2),
      'Trip Distance': Float64Array.of(1.5),
      'Unnamed: 0': Int32Array.of(0),
      'Unnamed: 0.1': Int32Array.of(0),
      '2020 total': Int32Array.of(3),
      order: Int32Array.of(4),
      'say "$hi"': ['x'],
      Straße: ['s'],
    });
    await connector.export(table, { schema: 'ny_taxi', table: 'cleaned' });
    const back = await connector.query('SELECT * FROM ny_taxi.cleaned');
    expect(back.schema.fields.map((f) => f.name)).toEqual([
      'vendorid',
      'pulocationid',
      'trip_distance',
      'unnamed__0',
      'unnamed__0_1',
      'letter_2020_total',
      '_order',
      'say_hi',
      'straße',
    ]);
    // The Zoomcamp's lower-case SQL, unquoted.
    expect(await rows('SELECT vendorid, pulocationid, trip_distance FROM ny_taxi.cleaned')).toEqual([
      { vendorid: 1, pulocationid: 2, trip_distance: 1.5 },
    ]);
  });

  it('refuses columns that the cleaning makes equal, naming both, and writes nothing', async () => {
    const err = await connector
      .export(tableFromArrays({ VendorID: Int32Array.of(1), vendorid: Int32Array.of(2) }), { table: 'clash' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain('"vendorid" (column 1 "VendorID", column 2)');
    expect(err.hint).toContain('columnNames');
    expect(await rows(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'clash'`)).toEqual([{ n: 0 }]);
    await connector.export(tableFromArrays({ VendorID: Int32Array.of(1), vendorid: Int32Array.of(2) }), {
      table: 'clash',
      columnNames: 'keep',
    });
    expect(await rows('SELECT "VendorID", vendorid FROM public.clash')).toEqual([{ VendorID: 1, vendorid: 2 }]);
  });

  it('keeps mixed case, spaces and quotes in schema, table and column names with columnNames: keep', async () => {
    const table = tableFromArrays({ 'Pickup Time': Int32Array.of(1), 'say "hi"': ['x'], select: Int32Array.of(2) });
    const result = await connector.export(table, { schema: 'Mixed Case', table: 'it\'s "odd"', columnNames: 'keep' });
    expect(result.target).toMatch(/"Mixed Case"\."it's ""odd"""$/);
    expect(await rows(`SELECT "Pickup Time", "say ""hi""", "select" FROM "Mixed Case"."it's ""odd"""`)).toEqual([
      { 'Pickup Time': 1, 'say "hi"': 'x', select: 2 },
    ]);
    const back = await connector.query(`SELECT * FROM "Mixed Case"."it's ""odd"""`);
    expect(back.schema.fields.map((f) => f.name)).toEqual(['Pickup Time', 'say "hi"', 'select']);
  });
});

describe('round trip', () => {
  const micros = [
    1609459200123456n, // 2021-01-01 00:00:00.123456
    -1n, // 1969-12-31 23:59:59.999999
    946684800000000n, // PostgreSQL's epoch
    -62135596800000000n, // 0001-01-01
    253402300799999999n, // 9999-12-31 23:59:59.999999
  ];

  function allTypes(): Table {
    const n = 6;
    const big = [9223372036854775807n, -9223372036854775808n, 0n, -1n, 1n << 53n, null];
    return makeTable({
      i64: raw(new Int64(), big),
      i32: vectorFromArray([2147483647, -2147483648, 0, -7, null, 1], new Int32()),
      f64: vectorFromArray([1.5, -0.25, Number.MAX_VALUE, Number.NaN, Number.POSITIVE_INFINITY, null], new Float64()),
      s: vectorFromArray(['', 'plain', 'ünïcödé ✓ 🚕', null, 'x'.repeat(5000), 'tab\tnew\nline "q" \\'], new Utf8()),
      b: vectorFromArray([true, false, null, true, false, true], new Bool()),
      ts: raw(new TimestampMicrosecond(), [...micros, null]),
      tstz: raw(new TimestampMicrosecond('UTC'), [1609459200123456n, null, -1n, 0n, 1n, 2n]),
      d: raw(new DateDay(), [18628, -1, 10957, null, 0, -719162]),
    } as never).slice(0, n) as unknown as Table;
  }

  it('writes every column type exactly and reads it back with the same types', async () => {
    const original = allTypes();
    expect((await connector.export(original, { table: 'all_types' })).rows).toBe(6);
    expect(
      await rows(
        `SELECT attname, format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'all_types'::regclass AND attnum > 0 ORDER BY attnum`,
      ),
    ).toEqual([
      { attname: 'i64', t: 'bigint' },
      { attname: 'i32', t: 'integer' },
      { attname: 'f64', t: 'double precision' },
      { attname: 's', t: 'text' },
      { attname: 'b', t: 'boolean' },
      { attname: 'ts', t: 'timestamp without time zone' },
      { attname: 'tstz', t: 'timestamp with time zone' },
      { attname: 'd', t: 'date' },
    ]);
    // The server's own text for the tricky values.
    await client.query(`SET TimeZone = 'UTC'`);
    expect(await rows(`SELECT i64::text, ts::text, tstz::text, d::text, s = '' AS empty, s IS NULL AS null FROM all_types`)).toEqual([
      {
        i64: '9223372036854775807',
        ts: '2021-01-01 00:00:00.123456',
        tstz: '2021-01-01 00:00:00.123456+00',
        d: '2021-01-01',
        empty: true,
        null: false,
      },
      { i64: '-9223372036854775808', ts: '1969-12-31 23:59:59.999999', tstz: null, d: '1969-12-31', empty: false, null: false },
      { i64: '0', ts: '2000-01-01 00:00:00', tstz: '1969-12-31 23:59:59.999999+00', d: '2000-01-01', empty: false, null: false },
      { i64: '-1', ts: '0001-01-01 00:00:00', tstz: '1970-01-01 00:00:00+00', d: null, empty: null, null: true },
      {
        i64: '9007199254740992',
        ts: '9999-12-31 23:59:59.999999',
        tstz: '1970-01-01 00:00:00.000001+00',
        d: '1970-01-01',
        empty: false,
        null: false,
      },
      { i64: null, ts: null, tstz: '1970-01-01 00:00:00.000002+00', d: '0001-01-01', empty: false, null: false },
    ]);

    const back = await connector.query('SELECT * FROM all_types');
    expect(back.schema.fields.map((f) => String(f.type))).toEqual(original.schema.fields.map((f) => String(f.type)));
    for (const field of original.schema.fields) {
      expect([...back.getChild(field.name)!], field.name).toEqual([...original.getChild(field.name)!]);
    }
  });

  it('converts other timestamp units and sliced tables', async () => {
    const t = makeTable({
      ms: raw(new TimestampMillisecond(), [1609459200123n, null]),
      ns: raw(new TimestampNanosecond(), [1609459200123456789n, -1n]),
      n: vectorFromArray([1, 2], new Int32()),
    } as never) as unknown as Table;
    await connector.export(t, { table: 'units' });
    expect(await rows('SELECT ms::text, ns::text FROM units ORDER BY n')).toEqual([
      { ms: '2021-01-01 00:00:00.123', ns: '2021-01-01 00:00:00.123456' },
      { ms: null, ns: '1969-12-31 23:59:59.999999' },
    ]);
    const sliced = tableFromArrays({ v: Int32Array.of(1, 2, 3, 4, 5), s: ['a', 'b', null, 'd', 'e'] }).slice(2, 4);
    await connector.export(sliced, { table: 'sliced' });
    expect(await rows('SELECT v, s FROM sliced ORDER BY v')).toEqual([
      { v: 3, s: null },
      { v: 4, s: 'd' },
    ]);
  });

  it('loads query results typed by column OIDs, in batches', async () => {
    const t = await connector.query(
      `SELECT 1::smallint AS small, 2::int AS int, 3::bigint AS big, 1.25::numeric AS num, 2.5::real AS real,
              'x'::varchar AS v, true AS b, DATE '2021-01-02' AS d, TIMESTAMP '2021-01-02 03:04:05.6' AS ts,
              TIMESTAMPTZ '2021-01-02 03:04:05+02' AS tstz, '{"a":1}'::jsonb AS j, NULL::int AS nothing
         FROM generate_series(1, $1::int)`,
      [3],
    );
    expect(t.numRows).toBe(3);
    expect(Object.fromEntries(t.schema.fields.map((f) => [f.name, String(f.type)]))).toEqual({
      small: 'Int32',
      int: 'Int32',
      big: 'Int64',
      num: 'Float64',
      real: 'Float64',
      v: 'Utf8',
      b: 'Bool',
      d: 'Date32<DAY>',
      ts: 'Timestamp<MICROSECOND>',
      tstz: 'Timestamp<MICROSECOND, UTC>',
      j: 'Utf8',
      nothing: 'Int32',
    });
    const row = t.get(0)!.toJSON();
    expect(row).toMatchObject({ small: 1, int: 2, big: 3n, num: 1.25, real: 2.5, v: 'x', b: true, j: '{"a": 1}', nothing: null });
    expect(t.getChild('d')!.get(0)).toBe(Date.UTC(2021, 0, 2));
    expect((t.getChild('ts')!.data[0].values as BigInt64Array)[0]).toBe(BigInt(Date.UTC(2021, 0, 2, 3, 4, 5, 600)) * 1000n);
    expect((t.getChild('tstz')!.data[0].values as BigInt64Array)[0]).toBe(BigInt(Date.UTC(2021, 0, 2, 1, 4, 5)) * 1000n);

    const many = await connector.query('SELECT g AS n FROM generate_series(1, 250001) g');
    expect(many.numRows).toBe(250_001);
    expect(many.batches.length).toBe(3);
    expect(many.getChild('n')!.get(250_000)).toBe(250_001);

    const empty = await connector.query('SELECT 1::bigint AS a WHERE false');
    expect(empty.numRows).toBe(0);
    expect(String(empty.schema.fields[0].type)).toBe('Int64');

    // Statements that are not SELECT-like run without a cursor and still return their rows.
    await connector.execute('CREATE TABLE returning_rows (a int)');
    const inserted = await connector.query('INSERT INTO returning_rows VALUES (1), (2) RETURNING a');
    expect([...inserted.getChild('a')!]).toEqual([1, 2]);
    const viaWith = await connector.query('WITH ins AS (INSERT INTO returning_rows VALUES (3) RETURNING a) SELECT a FROM ins');
    expect([...viaWith.getChild('a')!]).toEqual([3]);
  });
});
