import type { RunRecord } from '../runs/model.ts';
import { formatDate, formatRows, formatSeconds, statusText, table } from './format.ts';

/** The table `pipekit runs` prints (the demo's summary is the same table). */
export function runsTable(runs: readonly RunRecord[], rowsOut: ReadonlyMap<string, number | null>): string {
  return table(
    ['run', 'pipeline', 'trigger', 'execution date', 'status', 'time', 'rows'],
    runs.map((r) => [
      r.id,
      r.pipeline,
      r.trigger,
      formatDate(r.executionDate),
      statusText(r.status) + (r.attempt > 1 ? ` (attempt ${r.attempt})` : ''),
      formatSeconds(r.startedAt, r.finishedAt),
      formatRows(rowsOut.get(r.id)),
    ]),
  );
}
