/**
 * Every error pipekit raises on purpose is a `PipekitError`: it says what
 * happened, where (file and key, row and column, or connection), and what to
 * do about it. The CLI prints `message` and `hint` and exits non-zero.
 */
export abstract class PipekitError extends Error {
  abstract readonly code: string;
  /** What the user can do about it; printed on its own line after the message. */
  readonly hint?: string;

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }

  /** The message and the hint, as the CLI prints them. */
  describe(): string {
    return this.hint ? `${this.message}\n  → ${this.hint}` : this.message;
  }
}

/** A project file (pipeline.yaml, io_config.yaml, a block file) is wrong. */
export class ConfigError extends PipekitError {
  readonly code = 'CONFIG';
  readonly file: string;
  readonly key?: string;

  constructor(args: { file: string; key?: string; message: string; hint?: string; cause?: unknown }) {
    super(`${args.file}${args.key ? ` (${args.key})` : ''}: ${args.message}`, args);
    this.file = args.file;
    this.key = args.key;
  }
}

/**
 * One field of a request is wrong: an HTTP body, a CLI flag. The console and
 * the functions answer 400 naming `field`; the CLI prints it.
 */
export class InvalidInputError extends PipekitError {
  readonly code = 'INVALID_INPUT';
  readonly field: string;

  constructor(field: string, message: string, options: { hint?: string } = {}) {
    super(`${field}: ${message}`, options);
    this.field = field;
  }
}

/** Input data does not match what a block declared (a malformed CSV row, a bad value). */
export class DataError extends PipekitError {
  readonly code = 'DATA';
  readonly source: string;
  /** 1-based line number in the source file, counting the header as line 1. */
  readonly row?: number;
  readonly column?: string;
  readonly value?: string;

  constructor(args: {
    source: string;
    row?: number;
    column?: string;
    value?: string;
    message: string;
    hint?: string;
  }) {
    const where = [
      args.row !== undefined ? `line ${args.row}` : undefined,
      args.column !== undefined ? `column ${args.column}` : undefined,
      args.value !== undefined ? `value ${JSON.stringify(truncate(args.value, 80))}` : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    super(`${args.source}${where ? ` (${where})` : ''}: ${args.message}`, { hint: args.hint });
    this.source = args.source;
    this.row = args.row;
    this.column = args.column;
    this.value = args.value;
  }
}

/** An external system (database, bucket, HTTP server, cloud API) could not be used. */
export class ConnectionError extends PipekitError {
  readonly code = 'CONNECTION';
  readonly target: string;
  /**
   * False when waiting will not help (missing credentials, a permission, a
   * bucket or database that does not exist): the block fails without retrying.
   */
  readonly retriable: boolean;

  constructor(args: { target: string; message: string; hint?: string; cause?: unknown; retriable?: boolean }) {
    super(`${args.target}: ${args.message}`, args);
    this.target = args.target;
    this.retriable = args.retriable ?? true;
  }
}

/** A pipeline or block name that does not exist, or a run id that is not in the run store. */
export class NotFoundError extends PipekitError {
  readonly code = 'NOT_FOUND';
}

/**
 * A command line asks for something that cannot be done: an end before its
 * start, resuming a run that needs no resuming, cancelling what has finished.
 */
export class UsageError extends PipekitError {
  readonly code = 'USAGE';
}

/**
 * Throw from a block to fail it without spending its remaining retries
 * (bad credentials, a 404 that will not go away).
 */
export class NonRetriableError extends PipekitError {
  readonly code = 'NON_RETRIABLE';
}

/** Throw from a block to retry after a given delay instead of the policy's backoff. */
export class RetryAfterError extends PipekitError {
  readonly code = 'RETRY_AFTER';
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number, options: { cause?: unknown } = {}) {
    super(message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

/** A block's tests failed on its output. Counts toward retries, like Mage's `@test`. */
export class BlockTestError extends PipekitError {
  readonly code = 'BLOCK_TEST';
  readonly failures: { test: string; message: string }[];

  constructor(block: string, failures: { test: string; message: string }[], total: number) {
    super(
      `${total - failures.length}/${total} tests passed for block ${block}: ${failures.map((f) => `${f.test}: ${f.message}`).join('; ')}`,
    );
    this.failures = failures;
  }
}

/** A block ran longer than its `timeout`. */
export class BlockTimeoutError extends PipekitError {
  readonly code = 'TIMEOUT';
}

/** The run was cancelled (Ctrl-C, the console, a backfill cancel). */
export class CancelledError extends PipekitError {
  readonly code = 'CANCELLED';
}

export function isPipekitError(error: unknown): error is PipekitError {
  return error instanceof PipekitError;
}

/** A one-line description of any thrown value, for run records and logs. */
export function describeError(error: unknown): string {
  if (error instanceof PipekitError) return error.describe();
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
