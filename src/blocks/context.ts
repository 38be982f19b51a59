import type { Connectors } from '../io/types.ts';

/** Structured logging from inside a block; lines carry the run and block ids. */
export interface BlockLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * What every block function receives last. Mage passes these as `**kwargs`;
 * the names are camelCase here and snake_case in SQL templates
 * (`executionDate` ↔ `{{ execution_date }}`, `intervalStart` ↔ `{{ interval_start }}`).
 */
export interface BlockContext {
  /** Start of the interval this run covers (a schedule tick, a backfill slot, or now), in UTC. */
  readonly executionDate: Date;
  /** `execution_date` as `YYYY-MM-DD`. */
  readonly ds: string;
  /** `execution_date`'s hour, `HH`. */
  readonly hr: string;
  readonly intervalStart: Date;
  readonly intervalEnd: Date;
  /** The io_config profile the run uses (`local`, `cloud`, …). */
  readonly env: string;
  readonly pipeline: string;
  readonly block: string;
  readonly runId: string;
  /** The trigger that started the run, or `manual` / `backfill` / `api`. */
  readonly trigger: string;
  /** Pipeline variables, overridden by profile, trigger and run variables. */
  readonly variables: Readonly<Record<string, unknown>>;
  /** The event that started the run (a GCS object, an API payload), if any. */
  readonly event?: Readonly<Record<string, unknown>>;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly log: BlockLogger;
  /** Connectors of the active profile. */
  readonly io: Connectors;
  /** Aborted when the run is cancelled or the block times out: pass it to long waits. */
  readonly signal: AbortSignal;
}
