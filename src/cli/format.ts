import pc from 'picocolors';
import type { BlockStatus, RunStatus } from '../runs/model.ts';

const STATUS_STYLE: Record<RunStatus | BlockStatus | 'duplicate', (s: string) => string> = {
  queued: pc.gray,
  running: pc.cyan,
  succeeded: pc.green,
  failed: pc.red,
  upstream_failed: pc.red,
  skipped: pc.yellow,
  cancelled: pc.yellow,
  duplicate: pc.gray,
};

const STATUS_ICON: Record<RunStatus | BlockStatus | 'duplicate', string> = {
  queued: '·',
  running: '▶',
  succeeded: '✔',
  failed: '✖',
  upstream_failed: '⊘',
  skipped: '↷',
  cancelled: '■',
  duplicate: '=',
};

export function statusText(status: RunStatus | BlockStatus | 'duplicate'): string {
  return STATUS_STYLE[status](`${STATUS_ICON[status]} ${status}`);
}

/** A plain text table; colour codes are ignored when measuring widths. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const width = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c + ' '.repeat(widths[i]! - width(c)))
      .join('  ')
      .trimEnd();
  return [pc.bold(line(headers)), ...rows.map(line)].join('\n');
}

export function formatSeconds(start: Date | null, end: Date | null): string {
  if (!start) return '';
  const ms = (end ?? new Date()).getTime() - start.getTime();
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

export function formatRows(rows: number | null | undefined): string {
  return rows === null || rows === undefined ? '' : rows.toLocaleString('en-US');
}

export function formatDate(date: Date): string {
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.000Z$/, 'Z');
}

/** Cuts text to `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, Math.max(0, max - 1))}…` : text;
}
