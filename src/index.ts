/**
 * pipekit's public API: what block files and tests import from 'pipekit'.
 *
 * ```ts
 * import { transformer, where, type Table } from 'pipekit';
 * export default transformer(async (trips: Table) => where(trips, 'passenger_count', (n) => n > 0));
 * ```
 */
export { loader, transformer, exporter, sensor, conditional, isBlockDefinition } from './blocks/define.ts';
export type { BlockDefinition, BlockHandler, BlockOptions, BlockTest, SensorOptions } from './blocks/define.ts';
export type { BlockContext, BlockLogger } from './blocks/context.ts';
export type {
  ColumnType,
  Connectors,
  CsvReadOptions,
  ExportResult,
  IfExists,
  Lake,
  PartitionedWriteResult,
  PartitionScope,
  PostgresConnector,
  PostgresExportOptions,
  Warehouse,
  WarehouseTarget,
} from './io/types.ts';
export { runInterval } from './io/partition-scope.ts';
export {
  BlockTestError,
  BlockTimeoutError,
  CancelledError,
  ConfigError,
  ConnectionError,
  DataError,
  NonRetriableError,
  PipekitError,
  RetryAfterError,
} from './errors.ts';
export * from './table/index.ts';
// Blocks pass Arrow tables around; re-exported so block files need one import.
export type { Table, Vector } from 'apache-arrow';
export { tableFromArrays } from 'apache-arrow';
export { runBlockForTest } from './testing/harness.ts';
