/**
 * Kills during lake writes (issue 14 items 1-3, 11): SIGKILL, SIGINT and
 * SIGTERM at several points of the partitioned and the single-object
 * exporter, each checked with DuckDB globbing the lake's files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  csvRowsPerDay,
  faultProject,
  globbedRowsPerDay,
  leftovers,
  notOldNorNew,
  parquetRows,
  rawTraces,
  runCli,
  runningAfterReconcile,
  runStatuses,
  type CliRun,
  type FaultProject,
} from './harness.ts';
import { join } from 'node:path';

let project: FaultProject;
let small: Map<string, number>;
let big: Map<string, number>;
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

beforeAll(async () => {
  project = await faultProject('lake', { small: 40_000, big: 70_000 });
  [small, big] = await Promise.all([csvRowsPerDay(project.months.small), csvRowsPerDay(project.months.big)]);
});
afterAll(async () => project?.close());

function expectCleanEnd(run: CliRun, signal: NodeJS.Signals): void {
  expect(run.hung, `still running: ${run.stderr}`).toBe(false);
  expect(rawTraces(run.stdout + run.stderr), run.stderr).toEqual([]);
  if (signal === 'SIGKILL') expect(run.signal).toBe('SIGKILL');
  else {
    expect(run.code, run.stderr).toBe(130);
    expect(run.stdout).toMatch(/cancelled/);
    // Promptly after the summary, whatever was in flight.
    expect(run.afterSummaryMs).toBeLessThan(5_000);
  }
}

describe('the partitioned exporter, killed at every stage, as a glob reader sees it', () => {
  it('first write: the small month', async () => {
    const run = await runCli(project, 'to_partitioned', { vars: { url: project.months.small } });
    expect(run.code, run.stderr).toBe(0);
    expect(await globbedRowsPerDay(join(project.lake, 'trips'))).toEqual(small);
  });

  it.each([
    ['lake.partition.replaced@5:SIGKILL'],
    ['lake.temp.written@3:SIGKILL'],
    ['parquet.copy.started@3:SIGINT'],
    ['lake.partition.replaced@9:SIGTERM'],
  ])('%s: every partition holds its old rows or its new ones', async (failpoint) => {
    const signal = failpoint.split(':')[1] as NodeJS.Signals;
    const run = await runCli(project, 'to_partitioned', { vars: { url: project.months.big }, failpoint });
    expectCleanEnd(run, signal);
    const seen = await globbedRowsPerDay(join(project.lake, 'trips'));
    expect(notOldNorNew(seen, small, big)).toEqual([]);
    expect([...seen.keys()].sort()).toEqual([...small.keys()].sort());
    if (signal !== 'SIGKILL') {
      expect(leftovers(project.lake, project.tmp)).toEqual([]);
      const [latest] = await runStatuses(project.db);
      expect(latest.status).toBe('cancelled');
      expect(Object.values(latest.blocks)).not.toContain('running');
    }
  });

  it('a block timeout in the middle of the write ends the process too', async () => {
    const run = await runCli(project, 'to_partitioned_timeout', { vars: { url: project.months.small } });
    expect(run.hung, run.stderr).toBe(false);
    expect(run.code, run.stderr).toBe(1);
    expect(run.afterSummaryMs).toBeLessThan(5_000);
    expect(rawTraces(run.stdout + run.stderr)).toEqual([]);
    expect(notOldNorNew(await globbedRowsPerDay(join(project.lake, 'trips')), small, big)).toEqual([]);
  });

  it('the rerun converges: exactly the new rows, no temp file anywhere', async () => {
    const run = await runCli(project, 'to_partitioned', { vars: { url: project.months.big } });
    expect(run.code, run.stderr).toBe(0);
    const seen = await globbedRowsPerDay(join(project.lake, 'trips'));
    expect(seen).toEqual(big);
    expect(total(seen)).toBe(70_000);
    expect(leftovers(project.lake, project.tmp)).toEqual([]);
    // The killed runs' records: ended by reconciliation, none left running.
    expect(await runningAfterReconcile(project.db)).toEqual({ runs: 0, blocks: 0 });
  });

  it('a glob reader polling all through a rewrite only ever sees, per partition, the old rows or the new ones', async () => {
    const folder = join(project.lake, 'trips');
    const before = await globbedRowsPerDay(folder);
    const running = runCli(project, 'to_partitioned', { vars: { url: project.months.small } });
    let finished = false;
    void running.then(() => (finished = true));
    const snapshots: Map<string, number>[] = [];
    while (!finished) {
      snapshots.push(await globbedRowsPerDay(folder));
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await running).code).toBe(0);
    expect(snapshots.length).toBeGreaterThan(3);
    // Snapshots taken mid-write hold some partitions rewritten and some not: each whole.
    for (const seen of snapshots) {
      expect(notOldNorNew(seen, before, small)).toEqual([]);
      expect(seen.size).toBe(small.size);
    }
    expect(await globbedRowsPerDay(folder)).toEqual(small);
  });
});

describe('the single-object exporter', () => {
  const file = () => join(project.lake, 'single', 'trips.parquet');

  it('first write: the small month', async () => {
    const run = await runCli(project, 'to_single', { vars: { url: project.months.small } });
    expect(run.code, run.stderr).toBe(0);
    expect(await parquetRows(file())).toBe(40_000);
  });

  it.each([['lake.temp.written@1:SIGKILL'], ['parquet.copy.started@1:SIGINT'], ['parquet.copy.started@1:SIGTERM']])(
    '%s leaves the previous object or the new one, whole',
    async (failpoint) => {
      const signal = failpoint.split(':')[1] as NodeJS.Signals;
      const run = await runCli(project, 'to_single', { vars: { url: project.months.big }, failpoint });
      expectCleanEnd(run, signal);
      // Killed before the rename: the old object. Signalled, the rename may still have happened.
      expect(signal === 'SIGKILL' ? [40_000] : [40_000, 70_000]).toContain(await parquetRows(file()));
      if (signal !== 'SIGKILL') expect(leftovers(project.lake, project.tmp)).toEqual([]);
    },
  );

  it('SIGINT while DuckDB encodes a big file: the process ends promptly after the summary (no exit under the scan)', async () => {
    const run = await runCli(project, 'big_single', { failpoint: 'parquet.copy.started@1:SIGINT', hangMs: 40_000 });
    expectCleanEnd(run, 'SIGINT');
    expect(leftovers(project.lake, project.tmp)).toEqual([]);
  });

  it('a block timeout ends the process; the rerun leaves no temp file', async () => {
    const timedOut = await runCli(project, 'big_single_timeout');
    expect(timedOut.code, timedOut.stderr).toBe(1);
    expect(timedOut.stderr).toMatch(/timed out after 200ms/);
    expect(timedOut.afterSummaryMs).toBeLessThan(5_000);
    expect(timedOut.hung, timedOut.stderr).toBe(false);
    expect(rawTraces(timedOut.stdout + timedOut.stderr)).toEqual([]);
    const run = await runCli(project, 'to_single', { vars: { url: project.months.big } });
    expect(run.code, run.stderr).toBe(0);
    expect(await parquetRows(file())).toBe(70_000);
    expect(leftovers(project.lake, project.tmp)).toEqual([]);
  });
});
