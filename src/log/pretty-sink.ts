import pc from 'picocolors';
import { storableText } from '../runs/safe-text.ts';
import type { LogSink } from './logger.ts';

const SEVERITY_COLOR = {
  DEBUG: pc.gray,
  INFO: pc.cyan,
  WARNING: pc.yellow,
  ERROR: pc.red,
} as const;

/** Human-readable, coloured lines for a terminal. */
export function prettySink(
  options: { out?: NodeJS.WritableStream; minSeverity?: 'DEBUG' | 'INFO'; print?: (line: string) => void } = {},
): LogSink {
  const out = options.out ?? process.stderr;
  const print = options.print ?? ((line: string) => out.write(`${line}\n`));
  const showDebug = options.minSeverity === 'DEBUG';
  return {
    write(r) {
      if (r.severity === 'DEBUG' && !showDebug) return;
      const time = pc.dim(r.time.toISOString().slice(11, 19));
      const where = r.block ? pc.bold(r.block) : pc.bold(r.pipeline);
      const color = SEVERITY_COLOR[r.severity];
      const fields = r.fields && Object.keys(r.fields).length ? pc.dim(` ${JSON.stringify(r.fields)}`) : '';
      // A block's text may hold anything (NUL, escape sequences, megabytes): shown as the run store keeps it.
      print(`${time} ${color(r.severity.padEnd(7))} ${where} ${storableText(r.message)}${fields}`);
    },
  };
}
