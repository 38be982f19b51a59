import { afterAll, beforeAll } from 'vitest';
import { IoProfile } from '../../src/config/io-profile.ts';
import { createPostgresConnector } from '../../src/io/postgres/index.ts';
import type { PostgresConnector } from '../../src/io/types.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { tableWriterSuite } from './table-writer-suite.ts';
import { warehouseSuite } from './warehouse-suite.ts';

let db: TestDatabase;
let postgres: PostgresConnector;
beforeAll(async () => {
  db = await createTestDatabase('conformance');
  postgres = createPostgresConnector(new IoProfile({ name: 'test', file: 'io_config.yaml', root: '.', values: db.profileValues }));
});
afterAll(async () => {
  await postgres?.close();
  await db?.drop();
});

tableWriterSuite('Postgres export', () => ({
  write: (table, target) => postgres.export(table, { schema: 'conformance', ...target }),
  query: (sql) => postgres.query(sql),
  t: (name) => `conformance.${name}`,
}));
warehouseSuite('Postgres', () => ({
  warehouse: postgres,
  dataset: 'conformance_sql',
  read: (sql) => postgres.query(sql),
  export: (table, target) => postgres.export(table, { schema: target.dataset, table: target.table }),
  exportedNames: ['vendorid', 'pulocationid'],
}));
