/** BigQuery: the cloud warehouse. */
export { createBigQueryWarehouse, type BigQueryWarehouse, type BigQueryWarehouseOptions } from './warehouse.ts';
export { exportTable, loadFromUri, WRITE_DISPOSITION, type LoadFromUriOptions } from './load.ts';
export { runQuery, type QueryOptions } from './query.ts';
export { runSqlBlock, placeholder } from './sql-block.ts';
export { awaitJob, runJob, type AwaitJobOptions } from './jobs.ts';
export { ensureDataset } from './dataset.ts';
export { bigQuerySchemaOf, bigQueryTypeOf, appendMismatches, type BigQueryField } from './schema.ts';
export { tableFromRows } from './rows.ts';
export { checkDataset, checkProject, checkTable, describeTable, quoteTable, tableRef, type TableRef } from './identifiers.ts';
export { bigQueryError, jobFailed } from './errors.ts';
