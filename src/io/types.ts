/**
 * The connector seams. Blocks and the engine see only these interfaces; which
 * implementation stands behind them (local folder or GCS, DuckDB or BigQuery,
 * embedded Postgres or Cloud SQL) is decided by the io_config profile.
 */
import type { Table } from 'apache-arrow';
import type { Readable } from 'node:stream';

export type IfExists = 'replace' | 'append' | 'fail';

/** Arrow column types a loader can be told to produce. All are nullable. */
export type ColumnType = 'int64' | 'int32' | 'float64' | 'string' | 'bool' | 'timestamp' | 'date';

export interface ExportResult {
  /** Rows written. */
  readonly rows: number;
  /** Where they went, as a human reads it: `postgres://host/db "ny_taxi"."yellow_taxi_data"`, `gs://b/k`. */
  readonly target: string;
}

/**
 * The rows one write owns in a table: a partition-scoped write deletes the
 * table's rows in scope and inserts the new ones in one transaction, so
 * running the same interval again (a backfill re-run) converges to one copy
 * of every row, and a failure leaves the previous rows. Every new row must
 * lie in the scope (a row outside it would be duplicated by the next run).
 */
export interface PartitionScope {
  /** The column that says which partition a row belongs to. */
  readonly column: string;
  /**
   * Rows with `start <= column < end`: a run's interval (`ctx.intervalStart`,
   * `ctx.intervalEnd`). For a DATE column a date is its midnight, UTC.
   */
  readonly start?: Date;
  readonly end?: Date;
  /** Or rows whose column is one of these values (dates as `YYYY-MM-DD`). */
  readonly values?: readonly (string | number)[];
}

export interface PartitionedWriteResult extends ExportResult {
  /** Partition values written, e.g. `["2021-01-01", …]`, with rows per partition. */
  readonly partitions: readonly { readonly value: string; readonly rows: number; readonly files: readonly string[] }[];
}

// ---------------------------------------------------------------------------
// SQL blocks: what Postgres, DuckDB and BigQuery each implement

/** Where a SQL block's result goes: a Postgres or DuckDB schema, or a BigQuery dataset, and a table. */
export interface SqlTarget {
  readonly dataset: string;
  readonly table: string;
  /** Unset: the connection's own default for SQL blocks (Mage's). */
  readonly ifExists?: IfExists;
  /**
   * Replace only these rows (`ifExists` must be `replace` or unset): Postgres
   * and DuckDB delete and insert in one transaction, BigQuery in one
   * multi-statement transaction. See {@link PartitionScope}.
   */
  readonly partition?: PartitionScope;
}

/**
 * The seam a SQL block runs through. `inputs` are upstream tables by
 * placeholder name (`df_1`, a block uuid); each one the SQL names is made
 * queryable by the connection (a DuckDB view on the Arrow buffers, an
 * expiring BigQuery table, a Postgres staging table) and its placeholder
 * replaced by the quoted name.
 */
export interface SqlRunner {
  /**
   * Where a SQL block's table goes when the block names none: Postgres's
   * POSTGRES_SCHEMA, DuckDB's `main`, BigQuery's BIGQUERY_DATASET
   * (undefined when unset).
   */
  readonly defaultDataset: string | undefined;
  /** Runs the SQL; writes its result to `target` when given, and returns the result. */
  runSql(sql: string, inputs: Readonly<Record<string, Table>>, target?: SqlTarget): Promise<Table>;
  /**
   * Like `runSql` with a target, but returns only how many rows were written:
   * an exporter does not read a month of data back into memory (or, on
   * BigQuery, page it through the REST API) just to report a row count.
   */
  writeSql(sql: string, inputs: Readonly<Record<string, Table>>, target: SqlTarget): Promise<ExportResult>;
}

// ---------------------------------------------------------------------------
// Postgres

export interface PostgresExportOptions {
  /** Defaults to the profile's POSTGRES_SCHEMA, then `public`. */
  readonly schema?: string;
  readonly table: string;
  /** Default `replace`: the table's rows are swapped atomically; a failed export leaves the old rows. */
  readonly ifExists?: IfExists;
  /**
   * `clean` (default, as Mage's exporter): names lower-cased and cleaned —
   * `VendorID` → `vendorid`, `Trip Distance` → `trip_distance`, `Unnamed: 0` →
   * `unnamed__0`, reserved words prefixed (`order` → `_order`). `keep`: exactly as in the table.
   */
  readonly columnNames?: 'clean' | 'keep';
  /** Replace only these rows (`ifExists` must be `replace` or unset); see {@link PartitionScope}. */
  readonly partition?: PartitionScope;
}

/**
 * The one way a cancellation reaches a connector: a view of it whose work
 * stops when `signal` aborts. Inside a block, `ctx.io` hands out views bound
 * to the block's signal (cancel or timeout); outside, call it yourself.
 */
export interface Cancellable<Self> {
  withSignal(signal: AbortSignal): Self;
}

/** `withSignal`: an export stops (rolled back); a query or statement not yet started does not start. */
export interface PostgresConnector extends SqlRunner, Cancellable<PostgresConnector> {
  /** Runs a query and returns its rows as an Arrow table. */
  query(sql: string, params?: readonly unknown[]): Promise<Table>;
  /** Runs a statement that returns nothing useful (DDL, DML). */
  execute(sql: string, params?: readonly unknown[]): Promise<void>;
  /** Writes a table with `COPY FROM STDIN`, creating the schema and table when missing. */
  export(table: Table, options: PostgresExportOptions): Promise<ExportResult>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Object storage and the lake

/** Bytes by key: a local folder or a GCS bucket prefix. Keys use `/`. */
export interface ObjectStore {
  /** `file:///abs/folder` or `gs://bucket/prefix`. */
  readonly uri: string;
  /** The full URI of a key, for messages and for BigQuery load jobs. */
  url(key: string): string;
  read(key: string): Promise<Uint8Array>;
  /**
   * The object as a Blob, for readers that seek (Parquet footers, row groups).
   * A local store reads the file lazily in ranges; GCS downloads it once.
   */
  readBlob(key: string): Promise<Blob>;
  createReadStream(key: string): Readable;
  /**
   * Writes an object; readers never see a partially written one. Aborting
   * `signal` stops the write, leaves the previous object, and rejects with the signal's reason.
   */
  write(key: string, data: Uint8Array | Readable, options?: { contentType?: string; signal?: AbortSignal }): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** Keys under a prefix, recursively, sorted. */
  list(prefix: string): Promise<string[]>;
  delete(keys: readonly string[]): Promise<void>;
  /**
   * Removes temporary files under a prefix left by writers that died (a
   * killed process); returns how many. Absent where writes leave none (GCS).
   */
  sweep?(prefix: string, options?: { recursive?: boolean }): Promise<number>;
}

export interface PartitionedWriteOptions {
  /** Column(s) to partition by, Hive style: `<col>=<value>/part-0.parquet`. */
  readonly partitionBy: string | readonly string[];
  /**
   * `overwrite-partitions` (default): each partition written replaces that
   * partition's old files, others are kept. `append` adds files.
   */
  readonly mode?: 'overwrite-partitions' | 'append';
}

export interface PartitionedReadOptions {
  /** Keep only these partition values, e.g. `{ tpep_pickup_date: ['2021-01-01'] }`. */
  readonly filter?: Readonly<Record<string, readonly string[]>>;
}

export interface Lake {
  readonly uri: string;
  readonly store: ObjectStore;
  /** Writes one object; the format comes from the extension (.parquet, .csv, .csv.gz, .json). */
  write(table: Table, key: string): Promise<ExportResult>;
  /** Reads one object; a missing object is an error, never an empty table. */
  read(key: string, options?: { columns?: Readonly<Record<string, ColumnType>> }): Promise<Table>;
  writePartitioned(table: Table, prefix: string, options: PartitionedWriteOptions): Promise<PartitionedWriteResult>;
  readPartitioned(prefix: string, options?: PartitionedReadOptions): Promise<Table>;
  /**
   * This lake, with writes stopped when `signal` aborts (a cancelled or
   * timed-out block): the Parquet encoder is interrupted, the upload or temp
   * file dropped, and objects keep their previous content.
   */
  withSignal?(signal: AbortSignal): Lake;
}

// ---------------------------------------------------------------------------
// Warehouse: DuckDB on a laptop, BigQuery in the cloud

/** DuckDB schema or BigQuery dataset, and a table. */
export type WarehouseTarget = SqlTarget;

/** `withSignal`: DuckDB interrupts the running statement (its transaction rolls back); BigQuery jobs run to their end. */
export interface Warehouse extends SqlRunner, Cancellable<Warehouse> {
  readonly kind: 'duckdb' | 'bigquery';
  query(sql: string): Promise<Table>;
  export(table: Table, target: WarehouseTarget): Promise<ExportResult>;
  /**
   * Loads files already in the lake (e.g. a Hive-partitioned Parquet dataset
   * on GCS) straight into a table, without pulling them through this process.
   * BigQuery only; absent on DuckDB.
   */
  loadFromUri?(
    uris: string | readonly string[],
    target: WarehouseTarget,
    options?: { hivePartitioning?: { sourceUriPrefix: string } },
  ): Promise<ExportResult>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// HTTP and file sources

export interface CsvReadOptions {
  /** Declared column types (the Zoomcamp dtype map); other columns are inferred. */
  readonly columns?: Readonly<Record<string, ColumnType>>;
  /** Columns parsed as timestamps (pandas' `parse_dates`). */
  readonly parseDates?: readonly string[];
  /** `fail` (default): the first malformed row is an error naming line, column and value. `skip`: counted and logged. */
  readonly onBadRow?: 'fail' | 'skip';
  readonly delimiter?: string;
}

export interface ReadReport {
  readonly rows: number;
  readonly badRows: number;
  /** The first few bad rows, for the log. */
  readonly badRowSamples: readonly { readonly line: number; readonly reason: string }[];
}

export interface HttpLoadOptions extends CsvReadOptions {
  /** Stops the download. Inside a block `ctx.io.http` is already bound to the block's signal (`withSignal`). */
  readonly signal?: AbortSignal;
}

export interface HttpLoader {
  /**
   * Fetches a CSV (plain or .gz) or Parquet file and decodes it into Arrow,
   * streaming. A server that does not answer within HTTP_CONNECT_TIMEOUT, or
   * a transfer that stalls for HTTP_IDLE_TIMEOUT, is a (retriable) ConnectionError.
   */
  load(url: string, options?: HttpLoadOptions): Promise<Table>;
  /** Same as `load`, with the bad-row report. */
  loadWithReport(url: string, options?: HttpLoadOptions): Promise<{ table: Table; report: ReadReport }>;
  /** This loader, with downloads stopped when `signal` aborts (see {@link Cancellable}); absent on test doubles. */
  withSignal?(signal: AbortSignal): HttpLoader;
}

// ---------------------------------------------------------------------------

/** What a block gets as `ctx.io`: connectors for the active profile, opened on first use. */
export interface Connectors {
  readonly profile: string;
  postgres(): Promise<PostgresConnector>;
  lake(): Promise<Lake>;
  warehouse(): Promise<Warehouse>;
  readonly http: HttpLoader;
}
