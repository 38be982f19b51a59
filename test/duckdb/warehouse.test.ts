import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Table as ArrowTable, Type, Utf8, makeData, makeVector, tableFromArrays } from 'apache-arrow';
import type { Table } from 'apache-arrow';
import { createDuckDbWarehouse } from '../../src/io/duckdb/warehouse.ts';
import { CancelledError, ConfigError, ConnectionError, NonRetriableError } from '../../src/errors.ts';
import type { Connectors, Warehouse } from '../../src/io/types.ts';
import { withSignal } from '../../src/io/connectors.ts';
import { taxiLikeTable } from '../parquet/taxi-like.ts';

let folder: string;
let path: string;
let warehouse: Warehouse;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'pipekit-duck-'));
  path = join(folder, 'warehouse.duckdb');
  warehouse = await createDuckDbWarehouse({ path, tempDir: folder });
});
afterEach(async () => {
  await warehouse.close();
  await rm(folder, { recursive: true, force: true });
});

const rows = (t: Table) => t.toArray().map((r) => r.toJSON());
const count = async (sql: string) => Number((await warehouse.query(sql)).getChildAt(0)!.get(0));

describe('createDuckDbWarehouse', () => {
  it('queries into Arrow with typed columns and nulls', async () => {
    const t = await warehouse.query(`
      SELECT 1::BIGINT AS i, NULL::INTEGER AS n, 'x' AS s, DATE '2021-01-01' AS d,
             TIMESTAMP '2021-01-01 00:15:56.123456' AS ts, 1.5::DOUBLE AS f, true AS b`);
    expect(t.schema.fields.map((f) => [f.name, f.type.typeId])).toEqual([
      ['i', Type.Int],
      ['n', Type.Int],
      ['s', Type.Utf8],
      ['d', Type.Date],
      ['ts', Type.Timestamp],
      ['f', Type.Float],
      ['b', Type.Bool],
    ]);
    const row = t.get(0)!.toJSON();
    expect(row.i).toBe(1n);
    expect(row.n).toBeNull();
    expect(row.d).toBe(Date.UTC(2021, 0, 1));
    expect((t.getChild('ts')!.data[0].values as BigInt64Array)[0]).toBe(1_609_460_156_123_456n);
  });

  it('runs scripts: statements before the last, and DDL returns an empty table', async () => {
    const t = await warehouse.query(`CREATE TABLE a(x INT); INSERT INTO a VALUES (1), (2); -- a comment; with a semicolon
      SELECT sum(x) AS total FROM a WHERE 'a;b' <> ''`);
    // sum(INT) is a HUGEINT, which DuckDB's Parquet writer stores as DOUBLE.
    expect(rows(t).map((r) => Number(r.total))).toEqual([3]);
    expect((await warehouse.query('DROP TABLE a')).numRows).toBe(0);
  });

  it('exports with replace (default), append and fail; creates the schema', async () => {
    const trips = taxiLikeTable({ rows: 1000, stragglers: 3 });
    const result = await warehouse.export(trips, { dataset: 'ny_taxi', table: 'yellow_taxi_data' });
    expect(result.rows).toBe(1000);
    expect(result.target).toContain('"ny_taxi"."yellow_taxi_data"');
    await warehouse.export(trips.slice(0, 10), { dataset: 'ny_taxi', table: 'yellow_taxi_data', ifExists: 'replace' });
    expect(await count('SELECT count(*) FROM ny_taxi.yellow_taxi_data')).toBe(10);
    const appended = await warehouse.export(trips.slice(0, 5), { dataset: 'ny_taxi', table: 'yellow_taxi_data', ifExists: 'append' });
    expect(appended.rows).toBe(5);
    expect(await count('SELECT count(*) FROM ny_taxi.yellow_taxi_data')).toBe(15);
    await expect(warehouse.export(trips, { dataset: 'ny_taxi', table: 'yellow_taxi_data', ifExists: 'fail' })).rejects.toThrow(ConfigError);
    expect(await count('SELECT count(*) FROM ny_taxi.yellow_taxi_data')).toBe(15);
    // Timestamps arrive as TIMESTAMP, nulls as NULL.
    const types = await warehouse.query(
      `SELECT data_type FROM information_schema.columns WHERE table_name = 'yellow_taxi_data' AND column_name = 'tpep_pickup_datetime'`,
    );
    expect(types.getChildAt(0)!.get(0)).toBe('TIMESTAMP');
    expect(await count('SELECT count(*) FROM ny_taxi.yellow_taxi_data WHERE VendorID IS NULL')).toBe(0);
  });

  it('rejects unsafe dataset and table names before any SQL runs', async () => {
    const t = tableFromArrays({ a: Int32Array.from([1]) });
    await expect(warehouse.export(t, { dataset: 'x"; DROP TABLE y; --', table: 't' })).rejects.toThrow(ConfigError);
    await expect(warehouse.export(t, { dataset: 'ok', table: '1bad' })).rejects.toThrow(/table/);
  });

  it('runSql stages {{ df_1 }} (any spacing), writes the target with a policy and returns the result', async () => {
    const trips = taxiLikeTable({ rows: 500 });
    const sql = 'SELECT * FROM {{ df_1 }} WHERE passenger_count > 0 AND VendorID IN (SELECT VendorID FROM {{df_1}})';
    const expected = await warehouse.runSql(sql, { df_1: trips });
    expect(expected.numRows).toBeGreaterThan(0);
    expect(expected.numRows).toBeLessThan(500);

    const target = { dataset: 'ny_taxi', table: 'clean' };
    const first = await warehouse.runSql(sql, { df_1: trips }, target);
    expect(first.numRows).toBe(expected.numRows);
    // Mage's default for SQL blocks is append.
    await warehouse.runSql(sql, { df_1: trips }, target);
    expect(await count('SELECT count(*) FROM ny_taxi.clean')).toBe(2 * expected.numRows);
    await warehouse.runSql(sql, { df_1: trips }, { ...target, ifExists: 'replace' });
    expect(await count('SELECT count(*) FROM ny_taxi.clean')).toBe(expected.numRows);
    await expect(warehouse.runSql(sql, { df_1: trips }, { ...target, ifExists: 'fail' })).rejects.toThrow(ConfigError);
    expect(await count('SELECT count(*) FROM ny_taxi.clean')).toBe(expected.numRows);
  });

  it('writeSql writes the target and reports the rows without reading them back', async () => {
    const trips = taxiLikeTable({ rows: 500 });
    const sql = 'SELECT * FROM {{ df_1 }} WHERE passenger_count > 0';
    const expected = (await warehouse.runSql(sql, { df_1: trips })).numRows;
    const result = await warehouse.writeSql(sql, { df_1: trips }, { dataset: 'ny_taxi', table: 'written', ifExists: 'replace' });
    expect(result.rows).toBe(expected);
    expect(result.target).toContain('ny_taxi');
    expect(await count('SELECT count(*) FROM ny_taxi.written')).toBe(expected);
  });

  it('writeSql runs a multi-statement script whose query ends in a comment, and a CTE', async () => {
    const trips = taxiLikeTable({ rows: 200 });
    const target = { dataset: 'ny_taxi', table: 'scripted', ifExists: 'replace' } as const;
    const script =
      'CREATE OR REPLACE TEMP TABLE vendors AS SELECT DISTINCT VendorID FROM {{ df_1 }};\nSELECT count(*) AS n FROM vendors -- one row';
    expect((await warehouse.writeSql(script, { df_1: trips }, target)).rows).toBe(1);
    const cte = 'WITH kept AS (SELECT * FROM {{ df_1 }} WHERE passenger_count > 0) SELECT count(*) AS n FROM kept';
    expect((await warehouse.writeSql(cte, { df_1: trips }, target)).rows).toBe(1);
    expect(await count('SELECT count(*) FROM ny_taxi.scripted')).toBe(1);
  });

  it('runSql names an unknown placeholder and lists the inputs', async () => {
    const t = tableFromArrays({ a: Int32Array.from([1]) });
    const error = (await warehouse.runSql('SELECT * FROM {{ df_2 }}', { df_1: t, load_taxi: t }).catch((e) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('df_2');
    expect(error.hint).toContain('{{ df_1 }}, {{ load_taxi }}');
    const byUuid = await warehouse.runSql('SELECT a + 1 AS b FROM {{load_taxi}}', { load_taxi: t });
    expect(rows(byUuid)).toEqual([{ b: 2 }]);
  });

  it('an input column that is not UTF-8 fails the SQL block with a message that blames the data, not the SQL', async () => {
    const name = makeVector(
      makeData({
        type: new Utf8(),
        length: 2,
        valueOffsets: Int32Array.from([0, 2, 6]),
        data: Uint8Array.from([...Buffer.from('okCaf'), 0xe9]),
      }),
    );
    const error = await warehouse.runSql('SELECT * FROM {{ df_1 }}', { df_1: new ArrowTable({ name }) }).catch((e) => e);
    expect(error).toBeInstanceOf(NonRetriableError);
    expect(error.message).toMatch(/column "name", row 1 of its batch: the text is not valid UTF-8/);
    expect(error.hint).toMatch(/input table .* not the SQL/);
  });

  it('a cancelled block interrupts its DuckDB statement: CancelledError, and the table it was replacing is unchanged', async () => {
    await warehouse.export(tableFromArrays({ n: Int32Array.from([1, 2, 3]) }), { dataset: 'main', table: 'kept' });
    const controller = new AbortController();
    const started = Date.now();
    const slow = warehouse.withSignal!(controller.signal).writeSql(
      'SELECT sum(a.range) AS n FROM range(100000000) a, range(100) b',
      {},
      { dataset: 'main', table: 'kept', ifExists: 'replace' },
    );
    setTimeout(() => controller.abort(), 300);
    const error = await slow.catch((e) => e);
    expect(error).toBeInstanceOf(CancelledError);
    expect(error.message).toMatch(/interrupted .* rolled back/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await count('SELECT count(*) FROM main.kept')).toBe(3);
    // The warehouse itself stays usable, and an already-aborted signal stops work before it starts.
    expect(await count('SELECT 41 + 1')).toBe(42);
    await expect(warehouse.withSignal!(controller.signal).query('SELECT 1')).rejects.toBeInstanceOf(CancelledError);
    // What a block gets as ctx.io.warehouse() is that view, bound to the block's signal.
    const io = withSignal({ warehouse: async () => warehouse } as unknown as Connectors, controller.signal);
    await expect((await io.warehouse()).query('SELECT 1')).rejects.toBeInstanceOf(CancelledError);
  });

  it('SQL errors are non-retriable and quote the statement', async () => {
    await expect(warehouse.query('SELEC 1')).rejects.toThrow(NonRetriableError);
    await expect(warehouse.query('SELECT * FROM missing_table')).rejects.toThrow(/missing_table/);
  });

  it('leaves the file free between calls, and explains a file locked by another process', async () => {
    await warehouse.export(tableFromArrays({ a: Int32Array.from([1, 2]) }), { dataset: 'main', table: 't' });
    // Another process can open the file now that the call is over …
    const holder = spawn(
      process.execPath,
      [
        '--expose-gc',
        '--input-type=module',
        '-e',
        `
      import { DuckDBInstance } from '@duckdb/node-api';
      const db = await DuckDBInstance.create(${JSON.stringify(path)});
      const c = await db.connect();
      const rows = (await c.runAndReadAll('SELECT count(*) FROM main.t')).getRows()[0][0];
      // Once this module has run, nothing refers to db: a garbage collection would close it and
      // free the lock with the process still alive (a third of CI runs saw that). Hold it, and
      // collect after the module has run, before saying so: a holder that lets go fails every time.
      globalThis.held = { db, c };
      setImmediate(() => {
        globalThis.gc();
        console.log('open', rows);
      });
      setTimeout(() => process.exit(0), 20000);
    `,
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((ok, fail) => {
        holder.stdout!.on('data', (d: Buffer) => d.toString().includes('open') && ok());
        holder.on('exit', (code) => fail(new Error(`holder exited ${code}`)));
      });
      // … and while it holds it, our call fails with a clear message.
      const error = await warehouse.query('SELECT 1').then(
        () => null,
        (e) => e,
      );
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toContain(path);
      expect(error.message).toMatch(/in use by another process \(PID \d+\)/);
      expect(error.hint).toMatch(/close/);
    } finally {
      holder.kill();
    }
  });
});

describe('createDuckDbWarehouse in memory', () => {
  it('keeps tables between calls until closed', async () => {
    const memory = await createDuckDbWarehouse({ path: ':memory:' });
    await memory.export(tableFromArrays({ a: Int32Array.from([1, 2, 3]) }), { dataset: 's', table: 't' });
    expect(Number((await memory.query('SELECT count(*) FROM s.t')).getChildAt(0)!.get(0))).toBe(3);
    await memory.close();
  });
});

describe('several warehouses of one process on one file', () => {
  it('keeps every write when they write at once (two DuckDB instances on one file would overwrite each other)', async () => {
    const others = await Promise.all([1, 2, 3].map(() => createDuckDbWarehouse({ path, tempDir: folder })));
    try {
      await Promise.all(
        [warehouse, ...others].flatMap((w, i) =>
          Array.from({ length: 5 }, (_, j) =>
            w.export(tableFromArrays({ n: Int32Array.of(i * 10 + j) }), { dataset: 'main', table: `t_${i}_${j}` }),
          ),
        ),
      );
      for (let i = 0; i < 4; i++) for (let j = 0; j < 5; j++) expect(await count(`SELECT n FROM main.t_${i}_${j}`)).toBe(i * 10 + j);
    } finally {
      await Promise.all(others.map((w) => w.close()));
    }
  });
});
