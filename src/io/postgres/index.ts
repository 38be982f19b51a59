export { createPostgresConnector, type PostgresConnectorOptions } from './connector.ts';
export { connect, connectionError, createPool, postgresTarget, type PostgresTarget } from './connection.ts';
export { copyBinaryChunks, encodeCopyBinary, type CopyBinaryOptions } from './copy-binary.ts';
export { exportTable, type ExportTableOptions, type ExportTableResult } from './export.ts';
export { qualified, quoteIdent } from './identifiers.ts';
export { queryToTable } from './load.ts';
export { loadKindOf, pgTypeOf, type LoadKind, type PgColumnType } from './types.ts';
