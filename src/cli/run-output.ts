import type { RunEvent } from '../engine/runner.ts';
import { settleNativeWork } from '../process/in-flight.ts';
import { jsonLinesSink, wantsJsonLogs, type LogSink } from '../log/logger.ts';
import { prettySink } from '../log/pretty-sink.ts';
import { runStoreSink } from '../log/store-sink.ts';
import type { PipelineSpec } from '../project/model.ts';
import type { RunStore } from '../runs/store.ts';
import { ProgressView } from './progress.ts';

/** Where a command's run logs go: the run store always; JSON lines on Cloud Run; a live view in a terminal. */
export interface RunOutput {
  readonly sinks: LogSink[];
  readonly onEvent?: (event: RunEvent) => void;
  stop(): void;
}

export function runOutput(
  store: RunStore,
  pipeline: PipelineSpec,
  options: { blocks?: readonly string[]; quiet?: boolean; live?: boolean } = {},
): RunOutput {
  const sinks: LogSink[] = [runStoreSink(store)];
  if (wantsJsonLogs()) {
    sinks.push(jsonLinesSink());
    return { sinks, stop() {} };
  }
  const live = (options.live ?? true) && process.stderr.isTTY && !process.env.CI;
  if (!live) {
    if (!options.quiet) sinks.push(prettySink());
    return { sinks, stop() {} };
  }
  const view = new ProgressView(pipeline, options.blocks);
  if (!options.quiet) sinks.push(prettySink({ print: (line) => view.print(line) }));
  view.start();
  return { sinks, onEvent: (e) => view.update(e), stop: () => view.stop() };
}

/**
 * Ctrl-C cancels the run (blocks are aborted, exports roll back); a second
 * Ctrl-C exits at once.
 */
export function cancelOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let count = 0;
  const onSignal = (name: NodeJS.Signals) => {
    count++;
    // Still not at once under a DuckDB statement: exiting there deadlocks (process/in-flight.ts).
    if (count > 1) void settleNativeWork(2_000).finally(() => process.exit(130));
    process.stderr.write(`\n${name}: cancelling the run (press Ctrl-C again to exit now)…\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
