import { afterAll, beforeAll } from 'vitest';
import { createDuckDbWarehouse } from '../../src/io/duckdb/warehouse.ts';
import type { Warehouse } from '../../src/io/types.ts';
import { tableWriterSuite } from './table-writer-suite.ts';
import { warehouseSuite } from './warehouse-suite.ts';

let warehouse: Warehouse;
beforeAll(async () => {
  warehouse = await createDuckDbWarehouse({ path: ':memory:' });
});
afterAll(() => warehouse?.close());

tableWriterSuite('DuckDB warehouse', () => ({
  write: (table, target) => warehouse.export(table, { dataset: 'conformance', ...target }),
  query: (sql) => warehouse.query(sql),
  t: (name) => `conformance.${name}`,
}));
warehouseSuite('DuckDB warehouse', () => ({
  warehouse,
  dataset: 'conformance_sql',
  read: (sql) => warehouse.query(sql),
  export: (table, target) => warehouse.export(table, target),
  exportedNames: ['VendorID', 'PULocationID'],
}));
