/**
 * The validated, immutable shape of a pipekit project, as read from
 * `pipelines/io_config.yaml` and `pipelines/<name>/pipeline.yaml`.
 * Everything downstream (engine, CLI, console, infra/) reads these types,
 * never the raw YAML.
 */

export type BlockKind = 'loader' | 'transformer' | 'exporter' | 'sensor' | 'conditional';

export const BLOCK_KINDS: readonly BlockKind[] = ['loader', 'transformer', 'exporter', 'sensor', 'conditional'];

export type Backoff = 'exponential' | 'fixed';

export interface RetryPolicy {
  /** Total attempts, the first included: 1 means no retry. */
  readonly attempts: number;
  /** Delay before the first retry, in milliseconds. */
  readonly delayMs: number;
  readonly backoff: Backoff;
  /** Upper bound of a single delay, in milliseconds. */
  readonly maxDelayMs: number;
}

export type WritePolicy = 'replace' | 'append' | 'fail';

/** Where a `.sql` block runs and where its result goes. */
export interface SqlBlockConfig {
  /** `warehouse` (DuckDB locally, BigQuery in the cloud) or `postgres`. */
  readonly connection: 'warehouse' | 'postgres';
  /** Schema (Postgres) or dataset (BigQuery, DuckDB schema) of the result table. */
  readonly schema?: string;
  /** Result table; without it the query result only becomes the block's output. */
  readonly table?: string;
  /** What to do when the result table exists. Mage's default for SQL blocks is append. */
  readonly write: WritePolicy;
  /**
   * A column of the result: each run replaces the table's rows whose value
   * lies in the run's interval (`interval_start` ≤ value < `interval_end`),
   * in one transaction, so backfills and re-runs converge. Implies `write: replace`.
   */
  readonly partition?: string;
}

export interface BlockSpec {
  readonly uuid: string;
  readonly kind: BlockKind;
  /** Path as written in pipeline.yaml, relative to the project root. */
  readonly file: string;
  /** Absolute path of the block file. */
  readonly path: string;
  readonly language: 'typescript' | 'sql';
  /** Upstream block uuids, in the order their outputs are passed. */
  readonly upstream: readonly string[];
  readonly retry: RetryPolicy;
  /** Per-attempt timeout in milliseconds; undefined means none. */
  readonly timeoutMs?: number;
  readonly sql?: SqlBlockConfig;
  readonly description?: string;
}

/** A cron expression or a preset, evaluated in a time zone. */
export type Schedule = '@once' | '@hourly' | '@daily' | '@weekly' | '@monthly' | (string & {});

export interface ScheduleTrigger {
  readonly type: 'schedule';
  readonly name: string;
  readonly schedule: Schedule;
  /** IANA time zone the schedule is evaluated in (default UTC). */
  readonly timezone: string;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly enabled: boolean;
  readonly description?: string;
}

export interface GcsEventTrigger {
  readonly type: 'gcs';
  readonly name: string;
  readonly bucket: string;
  /** Only objects whose name starts with this prefix fire the trigger. */
  readonly prefix: string;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly enabled: boolean;
  readonly description?: string;
}

export interface ApiTrigger {
  readonly type: 'api';
  readonly name: string;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly enabled: boolean;
  readonly description?: string;
}

export type Trigger = ScheduleTrigger | GcsEventTrigger | ApiTrigger;

/** What `infra/` gives the pipeline's Cloud Run job. */
export interface CloudRunResources {
  /** vCPUs as Cloud Run writes them: "1", "2", "4". */
  readonly cpu: string;
  /** Memory as Cloud Run writes it: "512Mi", "4Gi". */
  readonly memory: string;
  readonly taskTimeoutMs: number;
  /** Tasks run at once in a backfill fan-out (Cloud Run `parallelism`). */
  readonly parallelism: number;
  /** Cloud Run's own task retries; pipekit retries blocks itself, so 0 by default. */
  readonly maxRetries: number;
}

export interface PipelineSpec {
  readonly name: string;
  readonly description?: string;
  /** Absolute path of pipeline.yaml. */
  readonly file: string;
  readonly blocks: readonly BlockSpec[];
  /** Pipeline variables, before per-profile overrides. */
  readonly variables: Readonly<Record<string, unknown>>;
  /** Per-profile variable overrides, keyed by io_config profile name. */
  readonly profileVariables: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly triggers: readonly Trigger[];
  readonly retry: RetryPolicy;
  /** Blocks that may run at the same time within one run. */
  readonly concurrency: number;
  readonly resources: CloudRunResources;
  readonly tags: readonly string[];
}

export interface Project {
  /** Absolute path of the project root (the folder holding io_config.yaml). */
  readonly root: string;
  readonly ioConfigFile: string;
  readonly pipelines: ReadonlyMap<string, PipelineSpec>;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  attempts: 1,
  delayMs: 5_000,
  backoff: 'exponential',
  maxDelayMs: 60_000,
});

export const DEFAULT_RESOURCES: CloudRunResources = Object.freeze({
  cpu: '2',
  memory: '4Gi',
  taskTimeoutMs: 3_600_000,
  parallelism: 1,
  maxRetries: 0,
});
