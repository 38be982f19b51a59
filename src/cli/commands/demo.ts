import type { Command } from 'commander';
import pc from 'picocolors';
import { planRun } from '../../engine/run-plan.ts';
import type { Session } from '../../engine/session.ts';
import { parseDateArg } from '../../time/backfill-range.ts';
import { formatRows, formatSeconds, statusText } from '../format.ts';
import { dateOption } from '../options.ts';
import { runOutput } from '../run-output.ts';
import { runsTable } from '../runs-table.ts';
import { withSession } from '../session-command.ts';
import { ensureSamples } from './samples.ts';

/** The Zoomcamp module's pipelines, in the order the course builds them. */
export const DEMO_PIPELINES = ['example_pipeline', 'api_to_postgres', 'api_to_gcs', 'gcs_to_bigquery', 'api_to_gcs_parameterized'];

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('generate the sample data and run every example pipeline end to end (what `npm start` does)')
    .option('--execution-date <date>', 'execution date for the runs', dateOption, '2021-01-15')
    .action(async (flags: { executionDate: string }, command: Command) =>
      withSession(command, async (session) => {
        const written = await ensureSamples(session.project.root);
        if (written.length) process.stderr.write(pc.dim(`generated ${written.length} sample file(s) in .pipekit/samples\n`));
        let failed = 0;
        for (const name of DEMO_PIPELINES.filter((n) => session.project.pipelines.has(n))) {
          const ok = await runDemoPipeline(session, name, parseDateArg(flags.executionDate));
          if (!ok) failed++;
        }
        const runs = await session.store.listRuns({ limit: DEMO_PIPELINES.length });
        const rows = await session.store.rowsOut(runs.map((r) => r.id));
        process.stdout.write(
          `\n${pc.bold('pipekit runs')}\n${runsTable(runs, rows)}\n\nNext: pipekit runs · pipekit logs <run> · pipekit console · pipekit backfill api_to_gcs_parameterized --start 2021-01-01 --end 2021-01-07\n`,
        );
        return failed === 0 ? 0 : 1;
      }),
    );
}

async function runDemoPipeline(session: Session, name: string, executionDate: Date): Promise<boolean> {
  const pipeline = session.pipeline(name);
  const output = runOutput(session.store, pipeline, { quiet: true });
  const result = await session.runPipeline({
    pipeline,
    plan: planRun(pipeline, { executionDate }),
    sinks: output.sinks,
    onEvent: output.onEvent,
  });
  output.stop();
  const run = result.run!;
  process.stdout.write(
    `${statusText(run.status)}  ${pc.bold(name)}  ${formatSeconds(run.startedAt, run.finishedAt)}  ${result.blocks.map((b) => `${b.block}${b.rowsOut !== null ? `=${formatRows(b.rowsOut)}` : ''}`).join(' → ')}\n`,
  );
  if (run.error) process.stderr.write(`${pc.red(run.error)}\n`);
  return run.status === 'succeeded';
}
