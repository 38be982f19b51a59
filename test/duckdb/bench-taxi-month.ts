/** DuckDB export / query / runSql timings for a taxi-month-shaped table: `npx tsx test/duckdb/bench-taxi-month.ts`. Not a test. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { taxiLikeTable, TAXI_MONTH_ROWS } from '../parquet/taxi-like.ts';
import { createDuckDbWarehouse } from '../../src/io/duckdb/warehouse.ts';
const t = taxiLikeTable({ rows: TAXI_MONTH_ROWS, stragglers: 16 });
const dir = await mkdtemp(join(tmpdir(), 'pk-db-'));
const w = await createDuckDbWarehouse({ path: join(dir, 'w.duckdb'), tempDir: dir });
for (let k = 0; k < 2; k++) {
  let s = performance.now();
  await w.export(t, { dataset: 'ny_taxi', table: 'y' });
  const e = performance.now() - s;
  s = performance.now();
  const q = await w.query('SELECT * FROM ny_taxi.y');
  const r = performance.now() - s;
  s = performance.now();
  const x = await w.runSql(
    'SELECT * FROM {{ df_1 }} WHERE passenger_count > 0',
    { df_1: t },
    { dataset: 'ny_taxi', table: 'clean', ifExists: 'replace' },
  );
  const rs = performance.now() - s;
  console.log(`export ${e.toFixed(0)} ms, query all ${r.toFixed(0)} ms (${q.numRows}), runSql+target ${rs.toFixed(0)} ms (${x.numRows})`);
}
await w.close();
await rm(dir, { recursive: true });
