import type { LogRecord } from '../runs/model.ts';
import type { RunStore } from '../runs/store.ts';
import type { LogSink } from './logger.ts';

/**
 * Batches log lines into the run store: one INSERT per second or per 500
 * lines instead of a round trip per line on the run's hot path.
 */
export function runStoreSink(store: RunStore, options: { intervalMs?: number; maxBatch?: number } = {}): LogSink {
  const maxBatch = options.maxBatch ?? 500;
  let buffer: LogRecord[] = [];
  let pending: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  const drain = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (buffer.length === 0) return pending;
    const batch = buffer;
    buffer = [];
    pending = pending
      .then(() => store.appendLogs(batch))
      .catch((error) => {
        process.stderr.write(`pipekit: could not store ${batch.length} log lines: ${(error as Error).message}\n`);
      });
    return pending;
  };

  return {
    write(record) {
      const { pipeline: _pipeline, ...rest } = record;
      buffer.push(rest);
      if (buffer.length >= maxBatch) void drain();
      else if (!timer) {
        timer = setTimeout(() => void drain(), options.intervalMs ?? 1000);
        timer.unref();
      }
    },
    flush: async () => {
      await drain();
    },
  };
}
