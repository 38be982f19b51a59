/** The DuckDB warehouse (the laptop stand-in for BigQuery). */
export { createDuckDbWarehouse } from './warehouse.ts';
export type { DuckDbWarehouseOptions } from './warehouse.ts';
export { quoteIdent, quoteString, checkName } from './identifiers.ts';
export { placeholdersIn, replacePlaceholders, splitStatements } from '../sql-text.ts';
