/**
 * Kills during the Postgres export: the table keeps every previous row and
 * nothing else, counted by SQL, and the rerun converges.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultProject, pgCount, rawTraces, runCli, runningAfterReconcile, runStatuses, type FaultProject } from './harness.ts';

let project: FaultProject;
beforeAll(async () => {
  project = await faultProject('pgkills', { small: 30_000, big: 60_000 });
});
afterAll(async () => project?.close());

describe('the Postgres exporter, killed mid-COPY', () => {
  it('killed while the table is first created: no table at all', async () => {
    const run = await runCli(project, 'to_postgres', { vars: { url: project.months.big }, failpoint: 'postgres.copy.chunk@2:SIGKILL' });
    expect(run.signal).toBe('SIGKILL');
    expect(await pgCount(project.db, 'ny_taxi.trips')).toBe(null);
  });

  it('first load: the small month', async () => {
    const run = await runCli(project, 'to_postgres', { vars: { url: project.months.small } });
    expect(run.code, run.stderr).toBe(0);
    expect(await pgCount(project.db, 'ny_taxi.trips')).toBe(30_000);
  });

  it.each(['postgres.copy.chunk@3:SIGKILL', 'postgres.copy.chunk@2:SIGINT', 'postgres.copy.chunk@4:SIGTERM'])(
    '%s: the previous rows, exactly',
    async (failpoint) => {
      const run = await runCli(project, 'to_postgres', { vars: { url: project.months.big }, failpoint });
      expect(run.hung, run.stderr).toBe(false);
      expect(rawTraces(run.stdout + run.stderr), run.stderr).toEqual([]);
      expect(await pgCount(project.db, 'ny_taxi.trips')).toBe(30_000);
      if (!failpoint.endsWith('SIGKILL')) {
        expect(run.code).toBe(130);
        const [latest] = await runStatuses(project.db);
        expect(latest).toMatchObject({ status: 'cancelled', blocks: { load: 'succeeded', export: 'cancelled' } });
      }
    },
  );

  it('the rerun converges', async () => {
    const run = await runCli(project, 'to_postgres', { vars: { url: project.months.big } });
    expect(run.code, run.stderr).toBe(0);
    expect(await pgCount(project.db, 'ny_taxi.trips')).toBe(60_000);
    expect(await runningAfterReconcile(project.db)).toEqual({ runs: 0, blocks: 0 });
  });
});
