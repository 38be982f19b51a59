/**
 * Measures the Postgres export of a taxi month: 1,369,765 rows × 18 columns,
 * Zoomcamp dtypes (Int64 ids, float64 amounts, naive timestamps, one string),
 * with the null-vendor block at the end like the real January 2021 file.
 *
 *   node bin/run-ts.js scripts/measure-copy.ts [rows]
 *
 * Starts a throwaway PostgreSQL (Debian 15 when present, stock fsync) unless
 * PIPEKIT_TEST_PG_HOST/PORT/USER/PASSWORD point at one. Compare with the
 * `psql \copy` floor of the plain CSV (≈2.2 s on the reference machine).
 */
import { Field, Float64, Int64, RecordBatch, Schema, Struct, Table, TimestampMicrosecond, Utf8, makeData } from 'apache-arrow';
import { mkdtempSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { copyBinaryChunks } from '../src/io/postgres/copy-binary.ts';
import { exportTable } from '../src/io/postgres/export.ts';
import { TAXI_FLOAT_COLUMNS, TAXI_INT_COLUMNS } from '../test/support/taxi-columns.ts';
import { findPostgresBinaries } from '../src/services/postgres-binaries.ts';
import { initCluster, startCluster, stopCluster, type ClusterSpec } from '../src/services/postgres-cluster.ts';

const ROWS = Number(process.argv[2] ?? 1_369_765);
const NULL_VENDOR_ROWS = Math.round(ROWS * 0.071); // ≈ 98k of 1.37M in the real month

/** Columns that are empty in the null-vendor block. */
const NULL_IN_TAIL = new Set(['VendorID', 'passenger_count', 'RatecodeID', 'store_and_fwd_flag', 'payment_type', 'congestion_surcharge']);

function taxiTable(rows: number): Table {
  const sampleFile = resolve(import.meta.dirname, '../../shared/data/yellow_tripdata_2021-01.head.csv');
  let sample: string[][];
  try {
    sample = readFileSync(sampleFile, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(','));
  } catch {
    sample = [
      [
        '1',
        '2021-01-01 00:30:10',
        '2021-01-01 00:36:12',
        '1',
        '2.10',
        '1',
        'N',
        '142',
        '43',
        '2',
        '8',
        '3',
        '0.5',
        '0',
        '0',
        '0.3',
        '11.8',
        '2.5',
      ],
    ];
  }
  const header = [
    'VendorID',
    'tpep_pickup_datetime',
    'tpep_dropoff_datetime',
    'passenger_count',
    'trip_distance',
    'RatecodeID',
    'store_and_fwd_flag',
    'PULocationID',
    'DOLocationID',
    'payment_type',
    'fare_amount',
    'extra',
    'mta_tax',
    'tip_amount',
    'tolls_amount',
    'improvement_surcharge',
    'total_amount',
    'congestion_surcharge',
  ];
  const firstNull = rows - Math.min(NULL_VENDOR_ROWS, rows);
  const tailValid = new Uint8Array((rows + 7) >> 3).fill(0xff);
  for (let r = firstNull; r < rows; r++) tailValid[r >> 3] &= ~(1 << (r & 7));
  const tailNulls = rows - firstNull;
  const nulls = (name: string) =>
    NULL_IN_TAIL.has(name) && tailNulls > 0 ? { nullCount: tailNulls, nullBitmap: tailValid } : { nullCount: 0 };
  const january = Date.UTC(2021, 0, 1) * 1000;

  const fields: Field[] = [];
  const children = header.map((name, c) => {
    if (TAXI_INT_COLUMNS.includes(name)) {
      const out = new BigInt64Array(rows);
      const words = new Int32Array(out.buffer);
      for (let r = 0; r < rows; r++) words[2 * r] = Number(sample[r % sample.length][c]) || 0;
      fields.push(new Field(name, new Int64(), true));
      return makeData({ type: new Int64(), length: rows, data: out, ...nulls(name) });
    }
    if (TAXI_FLOAT_COLUMNS.includes(name)) {
      const out = new Float64Array(rows);
      for (let r = 0; r < rows; r++) out[r] = Number(sample[r % sample.length][c]) || 0;
      fields.push(new Field(name, new Float64(), true));
      return makeData({ type: new Float64(), length: rows, data: out, ...nulls(name) });
    }
    if (name === 'store_and_fwd_flag') {
      const offsets = Int32Array.from({ length: rows + 1 }, (_, i) => i);
      const bytes = new Uint8Array(rows).fill(78); // 'N'
      fields.push(new Field(name, new Utf8(), true));
      return makeData({ type: new Utf8(), length: rows, valueOffsets: offsets, data: bytes, ...nulls(name) });
    }
    // pickup/dropoff: spread over the month, dropoff ~12 min later, whole seconds like the source
    const out = new BigInt64Array(rows);
    const words = new Int32Array(out.buffer);
    const month = 31 * 86_400;
    for (let r = 0; r < rows; r++) {
      const seconds = Math.floor((r / rows) * month) + (c === 2 ? 720 : 0);
      const us = january + seconds * 1_000_000;
      const hi = Math.floor(us / 4_294_967_296);
      words[2 * r] = (us - hi * 4_294_967_296) | 0;
      words[2 * r + 1] = hi;
    }
    fields.push(new Field(name, new TimestampMicrosecond(), true));
    return makeData({ type: new TimestampMicrosecond(), length: rows, data: out, nullCount: 0 });
  });
  const schema = new Schema(fields);
  return new Table(new RecordBatch(schema, makeData({ type: new Struct(fields), length: rows, children, nullCount: 0 })));
}

async function server(): Promise<{ config: pg.PoolConfig; stop: () => Promise<void> }> {
  if (process.env.PIPEKIT_TEST_PG_HOST) {
    const e = process.env;
    return {
      config: {
        host: e.PIPEKIT_TEST_PG_HOST,
        port: Number(e.PIPEKIT_TEST_PG_PORT ?? 5432),
        user: e.PIPEKIT_TEST_PG_USER,
        password: e.PIPEKIT_TEST_PG_PASSWORD,
      },
      stop: async () => {},
    };
  }
  const root = mkdtempSync(join(tmpdir(), 'pipekit-measure-'));
  chmodSync(root, 0o711);
  const port = await new Promise<number>((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
  const spec: ClusterSpec = {
    binaries: await findPostgresBinaries({ preferSystem: true }),
    dataDir: join(root, 'data'),
    port,
    user: 'postgres',
    password: 'measure',
  };
  await initCluster(spec);
  await startCluster(spec);
  console.log(`server: ${spec.binaries.source} ${spec.binaries.dir}, stock settings (fsync on)`);
  return {
    config: { host: '127.0.0.1', port, user: 'postgres', password: 'measure' },
    stop: async () => {
      await stopCluster(spec.binaries, spec.dataDir);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

const seconds = (start: bigint) => (Number(process.hrtime.bigint() - start) / 1e9).toFixed(2);

const built = process.hrtime.bigint();
const table = taxiTable(ROWS);
console.log(`table: ${table.numRows.toLocaleString()} rows × ${table.numCols} columns, built in ${seconds(built)} s`);

let start = process.hrtime.bigint();
let bytes = 0;
let chunks = 0;
for (const chunk of copyBinaryChunks(table)) {
  bytes += chunk.length;
  chunks++;
}
console.log(`encode only: ${seconds(start)} s, ${(bytes / 1e6).toFixed(0)} MB in ${chunks} chunks`);

const pgServer = await server();
const pool = new pg.Pool({ ...pgServer.config, database: 'postgres' });
try {
  for (const [label, ifExists] of [
    ['create + COPY', 'replace'],
    ['replace (TRUNCATE + COPY)', 'replace'],
    ['append', 'append'],
  ] as const) {
    start = process.hrtime.bigint();
    const result = await exportTable(pool, table, { schema: 'ny_taxi', table: 'yellow_taxi_data', ifExists });
    const took = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(
      `${label}: ${took.toFixed(2)} s, ${result.rows.toLocaleString()} rows (${result.action}), ${Math.round(result.rows / took).toLocaleString()} rows/s`,
    );
  }
  console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
} finally {
  await pool.end();
  await pgServer.stop();
}
