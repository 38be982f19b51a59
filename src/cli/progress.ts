import type { RunEvent } from '../engine/runner.ts';
import type { PipelineSpec } from '../project/model.ts';
import type { BlockStatus } from '../runs/model.ts';
import { formatRows, statusText } from './format.ts';

type LogUpdate = typeof import('log-update').logUpdateStderr;

/**
 * log-update and its terminal helpers (~50 ms of start-up) load only when a live view starts:
 * --quiet, pipes, CI and Cloud Run never draw one.
 */
let logUpdate: LogUpdate | undefined;

/**
 * A live view of the DAG in a terminal: one line per block with its status,
 * attempt, rows and time, redrawn in place. Log lines print above it.
 */
export class ProgressView {
  private readonly state = new Map<
    string,
    { status: BlockStatus; attempt?: number; rows?: number | null; started?: number; ms?: number }
  >();
  private readonly depth = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly pipeline: PipelineSpec,
    blocks?: readonly string[],
  ) {
    const selected = new Set(blocks ?? pipeline.blocks.map((b) => b.uuid));
    for (const b of pipeline.blocks) {
      if (!selected.has(b.uuid)) continue;
      this.state.set(b.uuid, { status: 'queued' });
      this.depth.set(b.uuid, Math.max(0, ...b.upstream.map((u) => (this.depth.get(u) ?? -1) + 1)));
    }
  }

  start(): void {
    void import('log-update').then((module) => {
      logUpdate = module.logUpdateStderr;
      if (!this.stopped) this.render();
    });
    this.timer = setInterval(() => this.render(), 250);
    this.timer.unref();
  }

  /** Prints a log line above the live view. */
  print(line: string): void {
    logUpdate?.clear();
    process.stderr.write(`${line}\n`);
    this.render();
  }

  update(event: RunEvent): void {
    if (event.type !== 'block') return;
    const s = this.state.get(event.block) ?? { status: 'queued' };
    if (event.status === 'running' && !s.started) s.started = Date.now();
    if (event.status !== 'running' && s.started) s.ms = Date.now() - s.started;
    s.status = event.status;
    if (event.attempt) s.attempt = event.attempt;
    if (event.rows !== undefined) s.rows = event.rows;
    this.state.set(event.block, s);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.render();
    logUpdate?.done();
  }

  private render(): void {
    if (!logUpdate) return;
    const lines = [...this.state].map(([block, s]) => {
      const indent = '  '.repeat(this.depth.get(block) ?? 0);
      const elapsed = s.ms ?? (s.started ? Date.now() - s.started : undefined);
      const extras = [
        s.attempt && s.attempt > 1 ? `attempt ${s.attempt}` : '',
        s.rows !== undefined && s.rows !== null ? `${formatRows(s.rows)} rows` : '',
        elapsed !== undefined ? `${(elapsed / 1000).toFixed(1)}s` : '',
      ].filter(Boolean);
      return `${indent}${statusText(s.status)}  ${block}${extras.length ? `  (${extras.join(', ')})` : ''}`;
    });
    logUpdate(`${this.pipeline.name}\n${lines.join('\n')}`);
  }
}
