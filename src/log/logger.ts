import type { BlockLogger } from '../blocks/context.ts';
import type { LogRecord, LogSeverity } from '../runs/model.ts';

/** Somewhere log records go: the terminal, stdout as JSON, the run store. */
export interface LogSink {
  write(record: LogRecord & { readonly pipeline: string }): void;
  flush?(): Promise<void>;
}

/** Logs of one run; `forBlock` gives the logger a block sees as `ctx.log`. */
export class RunLogger {
  constructor(
    private readonly runId: string,
    private readonly pipeline: string,
    private readonly sinks: readonly LogSink[],
  ) {}

  log(severity: LogSeverity, message: string, block: string | null = null, fields?: Record<string, unknown>): void {
    const record = { runId: this.runId, pipeline: this.pipeline, block, time: new Date(), severity, message, fields };
    for (const sink of this.sinks) {
      try {
        sink.write(record);
      } catch {
        // A broken sink must not fail the run it reports on.
      }
    }
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.log('INFO', message, null, fields);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.log('WARNING', message, null, fields);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.log('ERROR', message, null, fields);
  }

  forBlock(block: string): BlockLogger {
    return {
      debug: (m, f) => this.log('DEBUG', m, block, f),
      info: (m, f) => this.log('INFO', m, block, f),
      warn: (m, f) => this.log('WARNING', m, block, f),
      error: (m, f) => this.log('ERROR', m, block, f),
    };
  }

  async flush(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.flush?.()));
  }
}

/**
 * One JSON object per line, the shape Cloud Logging parses from a Cloud Run
 * job's stdout: `severity` and `message` are recognised, the rest are labels.
 */
export function jsonLinesSink(out: NodeJS.WritableStream = process.stdout): LogSink {
  return {
    write(r) {
      out.write(
        `${JSON.stringify({
          severity: r.severity,
          message: r.message,
          time: r.time.toISOString(),
          'logging.googleapis.com/labels': { pipeline: r.pipeline, run_id: r.runId, ...(r.block ? { block: r.block } : {}) },
          ...(r.fields ?? {}),
        })}\n`,
      );
    },
  };
}

/** Keeps records in memory (tests, the in-process test harness). */
export function memorySink(): LogSink & { readonly records: (LogRecord & { pipeline: string })[] } {
  const records: (LogRecord & { pipeline: string })[] = [];
  return { records, write: (r) => records.push(r) };
}

/** True when logs should be JSON lines: on Cloud Run, or when asked. */
export function wantsJsonLogs(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.PIPEKIT_LOG_FORMAT) return env.PIPEKIT_LOG_FORMAT === 'json';
  return Boolean(env.CLOUD_RUN_JOB || env.K_SERVICE);
}
